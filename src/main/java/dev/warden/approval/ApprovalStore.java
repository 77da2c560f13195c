package dev.warden.approval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariDataSource;
import dev.warden.approval.ApprovalRequest.State;
import dev.warden.approval.ApprovalRequest.Vote;
import dev.warden.audit.AuditSettings;
import dev.warden.identity.Identity;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The approval tables in the control store (the audit's JDBC URL and credentials; H2 or PostgreSQL),
 * with their own schema version table so that they migrate independently of the audit tables.
 * Unlike the audit tables they are updated (a request changes state), so with a separate schema
 * owner the application role gets SELECT, INSERT and UPDATE on them. Every method is blocking JDBC:
 * {@link Approvals} calls them on its own threads only.
 *
 * <p>One file on purpose: it is the SQL of the approval tables and nothing else.
 */
final class ApprovalStore implements AutoCloseable {
    static final int LATEST_VERSION = 1;
    private static final Logger LOG = LoggerFactory.getLogger(ApprovalStore.class);
    private static final long MIGRATION_LOCK = 0x5741524441505052L; // "WARDAPPR"
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String COLUMNS = "id, state, created_at, expires_at, decided_at, session_id, statement_record_id, "
            + "requester_subject, requester_email, identity_json, client_address, target, statement_text, fingerprint, "
            + "statement_hash, reviewer_group, required_approvals, risk, reason, rules_json, rules_version, mode, "
            + "owner_instance, ci_repository, ci_run_id";

    private final AuditSettings.Store settings;
    private final HikariDataSource pool;

    ApprovalStore(AuditSettings.Store settings, String poolName) {
        this.settings = settings;
        this.pool = dev.warden.audit.ComponentSchema.pool(settings, poolName, 4, false, "warden-approvals");
    }

    boolean postgres() {
        return settings.isPostgres();
    }

    /** A pooled connection, autocommit off. */
    Connection connect() throws SQLException {
        return pool.getConnection();
    }

    /** Brings the approval tables to the latest version (advisory lock on PostgreSQL: instances may start together). */
    void migrate() throws SQLException {
        new dev.warden.audit.ComponentSchema("approval", MIGRATION_LOCK, LATEST_VERSION, this::statements,
                java.util.List.of("approval_request", "approval_decision", "approval_link_nonce")).migrate(settings, LOG);
    }

    private List<String> statements(int version) {
        String text = postgres() ? "TEXT" : "CHARACTER LARGE OBJECT";
        String ts = "TIMESTAMP WITH TIME ZONE";
        if (version == 1) {
            return List.of(
                    "CREATE TABLE approval_request ("
                            + "id VARCHAR(32) PRIMARY KEY, "
                            + "state VARCHAR(16) NOT NULL, "
                            + "created_at " + ts + " NOT NULL, "
                            + "expires_at " + ts + " NOT NULL, "
                            + "decided_at " + ts + ", "
                            + "session_id VARCHAR(128), "
                            + "statement_record_id VARCHAR(128), "
                            + "requester_subject VARCHAR(1024) NOT NULL, "
                            + "requester_email VARCHAR(320), "
                            + "identity_json " + text + " NOT NULL, "
                            + "client_address VARCHAR(256), "
                            + "target VARCHAR(256) NOT NULL, "
                            + "statement_text " + text + " NOT NULL, "
                            + "fingerprint " + text + ", "
                            + "statement_hash VARCHAR(64) NOT NULL, "
                            + "reviewer_group VARCHAR(64) NOT NULL, "
                            + "required_approvals INT NOT NULL, "
                            + "risk VARCHAR(64), "
                            + "reason " + text + ", "
                            + "rules_json " + text + " NOT NULL, "
                            + "rules_version VARCHAR(128), "
                            + "mode VARCHAR(16) NOT NULL, "
                            + "owner_instance VARCHAR(64) NOT NULL, "
                            + "ci_repository VARCHAR(256), "
                            + "ci_run_id VARCHAR(128), "
                            + "used_at " + ts + ")",
                    "CREATE INDEX approval_request_state ON approval_request (state, expires_at)",
                    "CREATE INDEX approval_request_hash ON approval_request (statement_hash)",
                    "CREATE TABLE approval_decision ("
                            + "request_id VARCHAR(32) NOT NULL REFERENCES approval_request (id), "
                            + "reviewer VARCHAR(320) NOT NULL, "
                            + "decision VARCHAR(8) NOT NULL, "
                            + "reason " + text + ", "
                            + "decided_at " + ts + " NOT NULL, "
                            + "from_address VARCHAR(256), "
                            + "via VARCHAR(64), "
                            + "PRIMARY KEY (request_id, reviewer))",
                    "CREATE TABLE approval_link_nonce ("
                            + "nonce VARCHAR(64) PRIMARY KEY, "
                            + "request_id VARCHAR(32) NOT NULL REFERENCES approval_request (id), "
                            + "used_at " + ts + " NOT NULL)");
        }
        throw new IllegalStateException("no approval schema version " + version);
    }

    void insert(Connection c, ApprovalRequest r) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO approval_request (" + COLUMNS
                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            int i = 1;
            ps.setString(i++, r.id());
            ps.setString(i++, r.state().db());
            ps.setObject(i++, utc(r.created()));
            ps.setObject(i++, utc(r.expires()));
            ps.setObject(i++, utc(r.decidedAt()));
            ps.setString(i++, r.sessionId());
            ps.setString(i++, r.statementRecordId());
            ps.setString(i++, r.identity().subject());
            ps.setString(i++, r.identity().claims().get("email"));
            ps.setString(i++, json(identityMap(r.identity())));
            ps.setString(i++, r.clientAddress());
            ps.setString(i++, r.target());
            ps.setString(i++, r.text());
            ps.setString(i++, r.fingerprint());
            ps.setString(i++, r.statementHash());
            ps.setString(i++, r.reviewerGroup());
            ps.setInt(i++, r.requiredApprovals());
            ps.setString(i++, r.risk());
            ps.setString(i++, r.reason());
            ps.setString(i++, json(r.rules()));
            ps.setString(i++, r.rulesVersion());
            ps.setString(i++, r.mode() == Approvals.Mode.FAIL_FAST ? "fail-fast" : "wait");
            ps.setString(i++, r.ownerInstance());
            ps.setString(i++, r.identity().ci("repository"));
            ps.setString(i, r.identity().ci("runId"));
            ps.executeUpdate();
        }
    }

    /** The request and its decisions; with {@code lock} its row stays locked until the transaction ends. */
    Optional<ApprovalRequest> load(Connection c, String id, boolean lock) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM approval_request WHERE id = ?"
                + (lock ? " FOR UPDATE" : ""))) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(row(rs, votes(c, id)));
            }
        }
    }

    /** Requests in {@code state} (null: all), newest first. */
    List<ApprovalRequest> list(Connection c, State state, int limit) throws SQLException {
        List<ApprovalRequest> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM approval_request"
                + (state == null ? "" : " WHERE state = ?") + " ORDER BY created_at DESC, id DESC")) {
            ps.setMaxRows(limit);
            if (state != null) {
                ps.setString(1, state.db());
            }
            List<ApprovalRequest> bare = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    bare.add(row(rs, List.of()));
                }
            }
            for (ApprovalRequest r : bare) {
                out.add(withVotes(r, votes(c, r.id())));
            }
        }
        return out;
    }

    private static ApprovalRequest withVotes(ApprovalRequest r, List<Vote> votes) {
        return new ApprovalRequest(r.id(), r.state(), r.created(), r.expires(), r.decidedAt(), r.sessionId(),
                r.statementRecordId(), r.identity(), r.clientAddress(), r.target(), r.text(), r.fingerprint(),
                r.statementHash(), r.reviewerGroup(), r.requiredApprovals(), r.risk(), r.reason(), r.rules(),
                r.rulesVersion(), r.mode(), r.ownerInstance(), votes);
    }

    List<Vote> votes(Connection c, String id) throws SQLException {
        List<Vote> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT reviewer, decision, reason, decided_at, from_address, via "
                + "FROM approval_decision WHERE request_id = ? ORDER BY decided_at, reviewer")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Vote(rs.getString(1), "approve".equals(rs.getString(2)), rs.getString(3),
                            instant(rs, 4), rs.getString(5), rs.getString(6)));
                }
            }
        }
        return out;
    }

    void insertVote(Connection c, String id, Vote v) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO approval_decision (request_id, reviewer, decision, "
                + "reason, decided_at, from_address, via) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, id);
            ps.setString(2, v.reviewer());
            ps.setString(3, v.approve() ? "approve" : "deny");
            ps.setString(4, v.reason());
            ps.setObject(5, utc(v.at()));
            ps.setString(6, v.from());
            ps.setString(7, v.via());
            ps.executeUpdate();
        }
    }

    /** Whether a link nonce was used already (call with the request's row locked: nonces belong to one request). */
    boolean nonceUsed(Connection c, String nonce) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM approval_link_nonce WHERE nonce = ?")) {
            ps.setString(1, nonce);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    void useNonce(Connection c, String nonce, String id, Instant at) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO approval_link_nonce (nonce, request_id, used_at) "
                + "VALUES (?, ?, ?)")) {
            ps.setString(1, nonce);
            ps.setString(2, id);
            ps.setObject(3, utc(at));
            ps.executeUpdate();
        }
    }

    /** Moves a request from one of {@code from} to {@code to}; false when it was in none of them. */
    boolean transition(Connection c, String id, Collection<State> from, State to, Instant decidedAt, Instant usedAt)
            throws SQLException {
        StringBuilder in = new StringBuilder();
        for (int i = 0; i < from.size(); i++) {
            in.append(i == 0 ? "?" : ", ?");
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE approval_request SET state = ?, "
                + "decided_at = COALESCE(?, decided_at), used_at = COALESCE(?, used_at) WHERE id = ? AND state IN (" + in + ")")) {
            int i = 1;
            ps.setString(i++, to.db());
            ps.setObject(i++, utc(decidedAt));
            ps.setObject(i++, utc(usedAt));
            ps.setString(i++, id);
            for (State s : from) {
                ps.setString(i++, s.db());
            }
            return ps.executeUpdate() == 1;
        }
    }

    /** Pending requests whose time is up at {@code now} (any instance's). */
    List<String> dueForExpiry(Connection c, Instant now) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM approval_request WHERE state = 'pending' "
                + "AND expires_at <= ? ORDER BY expires_at")) {
            ps.setMaxRows(500);
            ps.setObject(1, utc(now));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    /** The states of {@code ids} (those that exist). */
    Map<String, State> states(Connection c, Collection<String> ids) throws SQLException {
        Map<String, State> out = new HashMap<>();
        List<String> all = new ArrayList<>(ids);
        for (int from = 0; from < all.size(); from += 100) {
            List<String> chunk = all.subList(from, Math.min(all.size(), from + 100));
            String marks = String.join(", ", chunk.stream().map(x -> "?").toList());
            try (PreparedStatement ps = c.prepareStatement("SELECT id, state FROM approval_request WHERE id IN (" + marks + ")")) {
                for (int i = 0; i < chunk.size(); i++) {
                    ps.setString(i + 1, chunk.get(i));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.put(rs.getString(1), State.of(rs.getString(2)));
                    }
                }
            }
        }
        return out;
    }

    /** The newest approved, unused fail-fast request of this requester for this exact statement, locked. */
    Optional<String> failFastCandidate(Connection c, String subject, String target, String hash, Instant approvedSince)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM approval_request WHERE statement_hash = ? "
                + "AND requester_subject = ? AND target = ? AND state = 'approved' AND mode = 'fail-fast' "
                + "AND decided_at >= ? ORDER BY decided_at DESC FETCH FIRST 1 ROWS ONLY FOR UPDATE")) {
            ps.setString(1, hash);
            ps.setString(2, subject);
            ps.setString(3, target);
            ps.setObject(4, utc(approvedSince));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        }
    }

    private static ApprovalRequest row(ResultSet rs, List<Vote> votes) throws SQLException {
        Identity identity = identity(rs.getString("identity_json"));
        List<String> rules;
        try {
            rules = JSON.readValue(rs.getString("rules_json"), new TypeReference<List<String>>() { });
        } catch (JsonProcessingException e) {
            throw new SQLException("approval " + rs.getString("id") + ": unreadable rules_json", e);
        }
        return new ApprovalRequest(rs.getString("id"), State.of(rs.getString("state")), instant(rs, "created_at"),
                instant(rs, "expires_at"), instant(rs, "decided_at"), rs.getString("session_id"),
                rs.getString("statement_record_id"), identity, rs.getString("client_address"), rs.getString("target"),
                rs.getString("statement_text"), rs.getString("fingerprint"), rs.getString("statement_hash"),
                rs.getString("reviewer_group"), rs.getInt("required_approvals"), rs.getString("risk"),
                rs.getString("reason"), rules, rs.getString("rules_version"),
                "fail-fast".equals(rs.getString("mode")) ? Approvals.Mode.FAIL_FAST : Approvals.Mode.WAIT,
                rs.getString("owner_instance"), votes);
    }

    private static Map<String, Object> identityMap(Identity i) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", i.kind().name());
        m.put("subject", i.subject());
        m.put("issuer", i.issuer());
        m.put("grant", i.grant());
        m.put("mappingRule", i.mappingRule());
        m.put("ci", i.ci());
        m.put("claims", i.claims());
        return m;
    }

    @SuppressWarnings("unchecked")
    private static Identity identity(String json) throws SQLException {
        try {
            Map<String, Object> m = JSON.readValue(json, new TypeReference<Map<String, Object>>() { });
            return new Identity(Identity.Kind.valueOf((String) m.get("kind")), (String) m.get("subject"),
                    (String) m.get("issuer"), (String) m.get("grant"), (String) m.get("mappingRule"),
                    (Map<String, String>) m.getOrDefault("ci", Map.of()),
                    (Map<String, String>) m.getOrDefault("claims", Map.of()));
        } catch (JsonProcessingException | RuntimeException e) {
            throw new SQLException("unreadable identity_json", e);
        }
    }

    private static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static OffsetDateTime utc(Instant t) {
        return t == null ? null : t.atOffset(ZoneOffset.UTC);
    }

    private static Instant instant(ResultSet rs, String col) throws SQLException {
        OffsetDateTime t = rs.getObject(col, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    private static Instant instant(ResultSet rs, int col) throws SQLException {
        OffsetDateTime t = rs.getObject(col, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    @Override
    public void close() {
        pool.close();
    }
}
