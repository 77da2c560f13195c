package dev.warden.recording;

import com.zaxxer.hikari.HikariDataSource;
import dev.warden.audit.AuditSettings;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The recordings' index in the control store (the audit's JDBC store, H2 or PostgreSQL), with its own
 * schema-version table so that it migrates on its own. The index is for finding sessions quickly;
 * it is not trusted: what a recording contains and that it is whole is proved by the chunk hashes in
 * the audit chain ({@link RecordingVerifier}). Blocking JDBC: the writer thread, the CLI and the HTTP
 * API's worker threads call it, never an event loop.
 */
public final class RecordingIndex implements AutoCloseable {
    static final int LATEST_VERSION = 1;
    private static final Logger LOG = LoggerFactory.getLogger(RecordingIndex.class);
    private static final long MIGRATION_LOCK = 0x5741524452454331L; // "WARDREC1"
    static final String SESSION_COLUMNS = "instance_id, session_id, target, user_name, identity_kind, identity_subject, "
            + "ci_repository, ci_run_id, client_address, started_at, ended_at, statements, chunks, messages, raw_bytes, "
            + "dropped_messages";
    static final String CHUNK_COLUMNS = "instance_id, session_id, chunk, path, first_at, last_at, raw_from, raw_to, "
            + "messages, bytes, sha256, audit_seq, gaps, dropped_messages, pruned_at";

    /** A recorded session as the index lists it. */
    public record SessionRow(String instance, String session, String target, String user, String identityKind,
                             String subject, String ciRepository, String ciRun, String client, Instant started,
                             Instant ended, long statements, int chunks, long messages, long rawBytes,
                             long droppedMessages) {
    }

    /** A chunk as the index lists it. */
    public record ChunkRow(String instance, String session, int chunk, String path, Instant first, Instant last,
                           long rawFrom, long rawTo, long messages, long bytes, String sha256, long auditSeq, long gaps,
                           long droppedMessages, Instant pruned) {
    }

    /** Filters for {@link #sessions}; null members match everything. */
    public record Filter(String identity, String ciRun, String target, Instant since, Instant until, int limit) {
    }

    private final AuditSettings.Store settings;
    private final HikariDataSource pool;

    public RecordingIndex(AuditSettings.Store settings, String poolName) {
        this.settings = settings;
        this.pool = dev.warden.audit.ComponentSchema.pool(settings, poolName, 3, true, "warden-recording");
    }

    boolean postgres() {
        return settings.isPostgres();
    }

    public Connection connect() throws SQLException {
        return pool.getConnection();
    }

    /** Brings the recording tables to the latest version (advisory lock on PostgreSQL: instances may start together). */
    public void migrate() throws SQLException {
        new dev.warden.audit.ComponentSchema("recording", MIGRATION_LOCK, LATEST_VERSION, RecordingIndex::statements,
                java.util.List.of("recording_session", "recording_chunk")).migrate(settings, LOG);
    }

    private static List<String> statements(int version) {
        String ts = "TIMESTAMP WITH TIME ZONE";
        if (version == 1) {
            return List.of(
                    "CREATE TABLE recording_session ("
                            + "instance_id VARCHAR(64) NOT NULL, "
                            + "session_id VARCHAR(128) NOT NULL, "
                            + "target VARCHAR(256), "
                            + "user_name VARCHAR(256), "
                            + "identity_kind VARCHAR(16), "
                            + "identity_subject VARCHAR(1024), "
                            + "ci_repository VARCHAR(256), "
                            + "ci_run_id VARCHAR(128), "
                            + "client_address VARCHAR(256), "
                            + "started_at " + ts + " NOT NULL, "
                            + "ended_at " + ts + ", "
                            + "statements BIGINT DEFAULT 0 NOT NULL, "
                            + "chunks INT DEFAULT 0 NOT NULL, "
                            + "messages BIGINT DEFAULT 0 NOT NULL, "
                            + "raw_bytes BIGINT DEFAULT 0 NOT NULL, "
                            + "dropped_messages BIGINT DEFAULT 0 NOT NULL, "
                            + "PRIMARY KEY (instance_id, session_id))",
                    "CREATE INDEX recording_session_started ON recording_session (started_at)",
                    "CREATE TABLE recording_chunk ("
                            + "instance_id VARCHAR(64) NOT NULL, "
                            + "session_id VARCHAR(128) NOT NULL, "
                            + "chunk INT NOT NULL, "
                            + "path VARCHAR(1024) NOT NULL, "
                            + "first_at " + ts + ", "
                            + "last_at " + ts + ", "
                            + "raw_from BIGINT NOT NULL, "
                            + "raw_to BIGINT NOT NULL, "
                            + "messages BIGINT NOT NULL, "
                            + "bytes BIGINT NOT NULL, "
                            + "sha256 VARCHAR(64) NOT NULL, "
                            + "audit_seq BIGINT, "
                            + "gaps BIGINT DEFAULT 0 NOT NULL, "
                            + "dropped_messages BIGINT DEFAULT 0 NOT NULL, "
                            + "pruned_at " + ts + ", "
                            + "PRIMARY KEY (instance_id, session_id, chunk))",
                    "CREATE INDEX recording_chunk_last ON recording_chunk (last_at)");
        }
        throw new IllegalStateException("no recording schema version " + version);
    }

    void sessionStarted(SessionRow r) throws SQLException {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("INSERT INTO recording_session ("
                + SESSION_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            int i = 1;
            ps.setString(i++, r.instance());
            ps.setString(i++, r.session());
            ps.setString(i++, cut(r.target(), 256));
            ps.setString(i++, cut(r.user(), 256));
            ps.setString(i++, r.identityKind());
            ps.setString(i++, cut(r.subject(), 1024));
            ps.setString(i++, cut(r.ciRepository(), 256));
            ps.setString(i++, cut(r.ciRun(), 128));
            ps.setString(i++, cut(r.client(), 256));
            ps.setObject(i++, utc(r.started()));
            ps.setObject(i++, null, Types.TIMESTAMP_WITH_TIMEZONE);
            ps.setLong(i++, 0);
            ps.setInt(i++, 0);
            ps.setLong(i++, 0);
            ps.setLong(i++, 0);
            ps.setLong(i, 0);
            ps.executeUpdate();
        }
    }

    void sessionProgress(String instance, String session, Instant ended, long statements, int chunks, long messages,
                         long rawBytes, long dropped) throws SQLException {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("UPDATE recording_session SET "
                + "ended_at = COALESCE(?, ended_at), statements = ?, chunks = ?, messages = ?, raw_bytes = ?, "
                + "dropped_messages = ? WHERE instance_id = ? AND session_id = ?")) {
            if (ended == null) {
                ps.setNull(1, Types.TIMESTAMP_WITH_TIMEZONE);
            } else {
                ps.setObject(1, utc(ended));
            }
            ps.setLong(2, statements);
            ps.setInt(3, chunks);
            ps.setLong(4, messages);
            ps.setLong(5, rawBytes);
            ps.setLong(6, dropped);
            ps.setString(7, instance);
            ps.setString(8, session);
            ps.executeUpdate();
        }
    }

    void chunkSealed(ChunkRow r) throws SQLException {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("INSERT INTO recording_chunk ("
                + CHUNK_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            int i = 1;
            ps.setString(i++, r.instance());
            ps.setString(i++, r.session());
            ps.setInt(i++, r.chunk());
            ps.setString(i++, r.path());
            ps.setObject(i++, utc(r.first()));
            ps.setObject(i++, utc(r.last()));
            ps.setLong(i++, r.rawFrom());
            ps.setLong(i++, r.rawTo());
            ps.setLong(i++, r.messages());
            ps.setLong(i++, r.bytes());
            ps.setString(i++, r.sha256());
            ps.setLong(i++, r.auditSeq());
            ps.setLong(i++, r.gaps());
            ps.setLong(i++, r.droppedMessages());
            ps.setNull(i, Types.TIMESTAMP_WITH_TIMEZONE);
            ps.executeUpdate();
        }
    }

    void chunkPruned(String instance, String session, int chunk, Instant at) throws SQLException {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(
                "UPDATE recording_chunk SET pruned_at = ? WHERE instance_id = ? AND session_id = ? AND chunk = ?")) {
            ps.setObject(1, utc(at));
            ps.setString(2, instance);
            ps.setString(3, session);
            ps.setInt(4, chunk);
            ps.executeUpdate();
        }
    }

    /** Sessions, newest first. */
    public List<SessionRow> sessions(Filter f) throws SQLException {
        StringBuilder q = new StringBuilder("SELECT " + SESSION_COLUMNS + " FROM recording_session WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (f.identity() != null && !f.identity().isBlank()) {
            String like = f.identity().endsWith("*") ? f.identity().substring(0, f.identity().length() - 1) + "%" : f.identity();
            q.append(" AND (identity_subject LIKE ? OR ci_repository LIKE ? OR user_name LIKE ?)");
            args.add(like);
            args.add(like);
            args.add(like);
        }
        if (f.ciRun() != null && !f.ciRun().isBlank()) {
            q.append(" AND ci_run_id = ?");
            args.add(f.ciRun());
        }
        if (f.target() != null && !f.target().isBlank()) {
            q.append(" AND target = ?");
            args.add(f.target());
        }
        if (f.since() != null) {
            q.append(" AND started_at >= ?");
            args.add(utc(f.since()));
        }
        if (f.until() != null) {
            q.append(" AND started_at <= ?");
            args.add(utc(f.until()));
        }
        q.append(" ORDER BY started_at DESC, session_id");
        List<SessionRow> out = new ArrayList<>();
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(q.toString())) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            ps.setMaxRows(f.limit() <= 0 ? 1000 : f.limit());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(session(rs));
                }
            }
        }
        return out;
    }

    /** The session with this id (any instance), or null. */
    public SessionRow session(String sessionId) throws SQLException {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("SELECT " + SESSION_COLUMNS
                + " FROM recording_session WHERE session_id = ? ORDER BY started_at")) {
            ps.setString(1, sessionId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? session(rs) : null;
            }
        }
    }

    /** A session's chunks in order (pruned ones included, with their pruning time). */
    public List<ChunkRow> chunks(String instance, String sessionId) throws SQLException {
        List<ChunkRow> out = new ArrayList<>();
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("SELECT " + CHUNK_COLUMNS
                + " FROM recording_chunk WHERE instance_id = ? AND session_id = ? ORDER BY chunk")) {
            ps.setString(1, instance);
            ps.setString(2, sessionId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(chunk(rs));
                }
            }
        }
        return out;
    }

    /** Unpruned chunks whose last message is older than {@code cutoff}, of one target. */
    List<ChunkRow> expired(String target, Instant cutoff, int limit) throws SQLException {
        List<ChunkRow> out = new ArrayList<>();
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("SELECT " + prefixed("c", CHUNK_COLUMNS)
                + " FROM recording_chunk c JOIN recording_session s ON s.instance_id = c.instance_id AND "
                + "s.session_id = c.session_id WHERE c.pruned_at IS NULL AND c.last_at < ? AND s.target = ? "
                + "ORDER BY c.instance_id, c.session_id, c.chunk")) {
            ps.setObject(1, utc(cutoff));
            ps.setString(2, target);
            ps.setMaxRows(limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(chunk(rs));
                }
            }
        }
        return out;
    }

    /** Distinct targets that have recordings. */
    List<String> targets() throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT DISTINCT target FROM recording_session WHERE target IS NOT NULL")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static String prefixed(String alias, String columns) {
        StringBuilder b = new StringBuilder();
        for (String col : columns.split(",\\s*")) {
            b.append(b.isEmpty() ? "" : ", ").append(alias).append('.').append(col);
        }
        return b.toString();
    }

    private static SessionRow session(ResultSet rs) throws SQLException {
        return new SessionRow(rs.getString("instance_id"), rs.getString("session_id"), rs.getString("target"),
                rs.getString("user_name"), rs.getString("identity_kind"), rs.getString("identity_subject"),
                rs.getString("ci_repository"), rs.getString("ci_run_id"), rs.getString("client_address"),
                instant(rs, "started_at"), instant(rs, "ended_at"), rs.getLong("statements"), rs.getInt("chunks"),
                rs.getLong("messages"), rs.getLong("raw_bytes"), rs.getLong("dropped_messages"));
    }

    private static ChunkRow chunk(ResultSet rs) throws SQLException {
        return new ChunkRow(rs.getString("instance_id"), rs.getString("session_id"), rs.getInt("chunk"),
                rs.getString("path"), instant(rs, "first_at"), instant(rs, "last_at"), rs.getLong("raw_from"),
                rs.getLong("raw_to"), rs.getLong("messages"), rs.getLong("bytes"), rs.getString("sha256"),
                rs.getLong("audit_seq"), rs.getLong("gaps"), rs.getLong("dropped_messages"), instant(rs, "pruned_at"));
    }

    static OffsetDateTime utc(Instant t) {
        return t == null ? null : t.atOffset(ZoneOffset.UTC);
    }

    static Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    private static String cut(String s, int n) {
        return s == null || s.length() <= n ? s : s.substring(0, n);
    }

    @Override
    public void close() {
        pool.close();
    }

}
