package dev.warden.report;

import dev.warden.audit.AuditVerifier;
import dev.warden.audit.Canonical;
import dev.warden.audit.Checkpoint;
import dev.warden.audit.RecordScan;
import dev.warden.audit.SigningKeys;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Produces an {@link EvidenceReport} from the audit store: finds, per chain, the records whose time
 * is in the period, streams them in chain order with a forward-only cursor (a fetch size, inside a
 * transaction so that PostgreSQL really streams), folds them with a {@link ReportAggregator}, then
 * verifies the chain over the period and quotes the signed checkpoints that bound it.
 */
public final class ReportGenerator {
    static final int FETCH_SIZE = 500;
    private static final DateTimeFormatter ID_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    /**
     * @param from   start of the period (inclusive)
     * @param to     end of the period (exclusive)
     * @param target one target, or null for every target
     * @param kind   daily, monthly or adhoc (names the report)
     */
    public record Request(Instant from, Instant to, String target, String kind) {
        public Request {
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(to, "to");
            if (!to.isAfter(from)) {
                throw new IllegalArgumentException("the period is empty: 'to' (" + to + ") must be after 'from' (" + from + ")");
            }
            kind = kind == null ? "adhoc" : kind;
            if (target != null && !target.matches("[A-Za-z0-9._-]{1,64}")) {
                throw new IllegalArgumentException("target names may use A-Z a-z 0-9 . _ - only, got '" + target + "'");
            }
        }

        /** A stable id for scheduled reports (the same period, target and kind always get the same id). */
        public String id() {
            return kind + "-" + (target == null ? "all" : target) + "-" + ID_TIME.format(from) + "-" + ID_TIME.format(to);
        }
    }

    /** Called now and then while records are read: processed so far, and the total to read. */
    public interface Progress {
        void update(long processed, long total);

        Progress NONE = (p, t) -> {
        };
    }

    private ReportGenerator() {
    }

    /**
     * @param keys        public keys trusted to have signed the checkpoints (the audit signing key's)
     * @param recipients  who the report goes to (printed in the sign-off block)
     * @param generatedBy who made it ("Warden instance i-1", "./warden report")
     */
    public static EvidenceReport generate(Connection c, Request req, String id, ReportSettings settings,
                                          List<PublicKey> keys, List<String> recipients, String generatedBy,
                                          Progress progress) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false); // PostgreSQL streams with a fetch size only inside a transaction
        try {
            ReportAggregator agg = new ReportAggregator(req.target(), settings.timeZone(), settings.classifiedTables());
            long total = estimate(c, req);
            long[] processed = {0};
            // per chain: first and last position with a time in the period, records, records for the target
            Map<String, long[]> cover = new java.util.TreeMap<>();
            RecordScan.byTime(c, null, req.from(), req.to(), null, 0, r -> {
                if (++processed[0] % 10_000 == 0) {
                    progress.update(processed[0], total);
                }
                long[] cv = cover.computeIfAbsent(r.instance(), k -> new long[] {r.seq(), r.seq(), 0, 0});
                cv[0] = Math.min(cv[0], r.seq());
                cv[1] = Math.max(cv[1], r.seq());
                cv[2]++;
                Map<String, Object> envelope;
                try {
                    envelope = r.envelope();
                } catch (IllegalArgumentException unreadable) {
                    return true; // verification below names the record
                }
                if (agg.accept(r.instance(), r.seq(), r.type(), r.at(), envelope)) {
                    cv[3]++;
                }
                return true;
            });
            List<EvidenceReport.Coverage> withTarget = new ArrayList<>();
            cover.forEach((instance, cv) -> withTarget.add(new EvidenceReport.Coverage(instance, cv[0], cv[1], cv[2],
                    cv[3])));
            progress.update(processed[0], Math.max(total, processed[0]));
            lateOutcomes(c, agg, withTarget);
            EvidenceReport.Integrity integrity = integrity(c, req, keys, withTarget, agg);
            String target = req.target() == null ? "all targets" : "target " + req.target();
            return new EvidenceReport(id, "Warden evidence report — " + target + ", " + req.from() + " to " + req.to(),
                    Instant.now().toString(), generatedBy,
                    new EvidenceReport.Scope(req.from().toString(), req.to().toString(), settings.timeZone().getId(),
                            req.target(), req.kind(), EvidenceReport.FORMAT_VERSION),
                    withTarget, agg.activity(agg.logins), agg.identities(), agg.classifiedAccess(), agg.privileged(),
                    agg.exceptions(), integrity, agg.effectiveness(),
                    new EvidenceReport.SignOff(Guidance.SIGN_OFF, List.copyOf(recipients),
                            "I have reviewed this report and the exceptions it lists, and followed up where needed."));
        } finally {
            c.rollback();
            c.setAutoCommit(auto);
        }
    }

    /** Per chain: the first and last position of a record with a time in the period, and how many there are. */
    static List<EvidenceReport.Coverage> coverage(Connection c, Request req) throws SQLException {
        Map<String, long[]> cover = new java.util.TreeMap<>();
        RecordScan.byTime(c, null, req.from(), req.to(), null, 0, r -> {
            long[] cv = cover.computeIfAbsent(r.instance(), k -> new long[] {r.seq(), r.seq(), 0});
            cv[0] = Math.min(cv[0], r.seq());
            cv[1] = Math.max(cv[1], r.seq());
            cv[2]++;
            return true;
        });
        List<EvidenceReport.Coverage> out = new ArrayList<>();
        cover.forEach((instance, cv) -> out.add(new EvidenceReport.Coverage(instance, cv[0], cv[1], cv[2], 0)));
        return out;
    }

    /** Roughly how many records the period's blocks hold (for progress). */
    private static long estimate(Connection c, Request req) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT COALESCE(SUM(last_seq - first_seq + 1), 0) "
                + "FROM audit_block WHERE max_at >= ? AND min_at < ?")) {
            ps.setObject(1, utc(req.from()));
            ps.setObject(2, utc(req.to()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** How far past the period a statement's separate outcome record is looked for. */
    private static final int OUTCOME_LOOKAHEAD = 200_000;

    /** Statements near the end of the period whose separate outcome record came after it. */
    private static void lateOutcomes(Connection c, ReportAggregator agg, List<EvidenceReport.Coverage> coverage)
            throws SQLException {
        java.util.Set<String> ids = new java.util.HashSet<>(agg.pendingStatementIds());
        for (EvidenceReport.Coverage cv : coverage) {
            if (ids.isEmpty()) {
                return;
            }
            RecordScan.chain(c, cv.instance(), cv.lastSeq() + 1, cv.lastSeq() + OUTCOME_LOOKAHEAD, r -> {
                if ("outcome".equals(r.type())) {
                    try {
                        Map<String, Object> p = r.payload();
                        Object ref = p.get("statement");
                        if (ref != null && ids.remove(ref.toString())) {
                            agg.lateOutcome(ref.toString(), p);
                        }
                    } catch (IllegalArgumentException unreadable) {
                        // verification names it
                    }
                }
                return !ids.isEmpty();
            });
        }
    }

    private static EvidenceReport.Integrity integrity(Connection c, Request req, List<PublicKey> keys,
                                                      List<EvidenceReport.Coverage> coverage, ReportAggregator agg)
            throws SQLException {
        AuditVerifier.Report verified = AuditVerifier.verify(c, keys,
                new AuditVerifier.Options(req.from(), req.to(), List.of(), null));
        c.setAutoCommit(false);
        List<EvidenceReport.Chain> chains = new ArrayList<>();
        List<EvidenceReport.Gap> gaps = new ArrayList<>(agg.gaps);
        boolean ok = verified.ok();
        List<String> unsigned = new ArrayList<>();
        for (AuditVerifier.ChainReport r : verified.chains()) {
            EvidenceReport.Coverage cv = coverage.stream().filter(x -> x.instance().equals(r.instanceId())).findFirst()
                    .orElse(null);
            if (cv == null && r.ok()) {
                continue; // a chain with no records in the period, and nothing wrong with it
            }
            EvidenceReport.CheckpointRef before = null;
            EvidenceReport.CheckpointRef after = null;
            if (cv != null) {
                before = checkpoint(c, keys, "SELECT body, signature FROM audit_checkpoint WHERE instance_id = ? AND seq < ? "
                        + "ORDER BY number DESC FETCH FIRST 1 ROWS ONLY", r.instanceId(), cv.firstSeq());
                after = checkpoint(c, keys, "SELECT body, signature FROM audit_checkpoint WHERE instance_id = ? AND seq >= ? "
                        + "ORDER BY number FETCH FIRST 1 ROWS ONLY", r.instanceId(), cv.lastSeq());
                if (after == null) {
                    unsigned.add(r.instanceId() + " (records " + cv.firstSeq() + ".." + cv.lastSeq() + ")");
                }
            }
            for (String g : r.gaps()) {
                gaps.add(new EvidenceReport.Gap(r.instanceId(), null, null, g));
            }
            chains.add(new EvidenceReport.Chain(r.instanceId(), r.ok(), r.summary(), r.recordsChecked(), before, after,
                    r.unsignedTail()));
        }
        String verdict;
        if (!ok) {
            verdict = "FAILED: the audit trail does not verify — " + verified.firstProblem()
                    + ". The numbers in this report come from records that may have been altered; do not rely on them "
                    + "before the store is investigated.";
        } else if (!unsigned.isEmpty()) {
            ok = false;
            verdict = "INCOMPLETE: the records verify, but no signed checkpoint covers the end of the period yet for "
                    + String.join(", ", unsigned) + "; regenerate the report after the next checkpoint.";
        } else if (coverage.isEmpty()) {
            verdict = "VERIFIED: the audit store holds no records in this period; every chain verifies.";
        } else {
            verdict = "VERIFIED: every record in the period is in an unbroken hash chain, closed by a signed checkpoint.";
        }
        return new EvidenceReport.Integrity(Guidance.INTEGRITY, ok, verdict, chains, gaps,
                keys.stream().map(SigningKeys::keyId).toList());
    }

    private static EvidenceReport.CheckpointRef checkpoint(Connection c, List<PublicKey> keys, String sql, String instance,
                                                           long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, instance);
            ps.setLong(2, seq);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                Checkpoint cp = Checkpoint.parse(rs.getBytes(1), rs.getBytes(2));
                return new EvidenceReport.CheckpointRef(cp.number(), cp.seq(), cp.time().toString(), cp.headHex(),
                        cp.keyId(), new String(cp.body(), java.nio.charset.StandardCharsets.UTF_8),
                        Base64.getEncoder().encodeToString(cp.signature()));
            } catch (IllegalArgumentException e) {
                return null; // verification reports the malformed checkpoint
            }
        }
    }

    static Object utc(Instant t) {
        return OffsetDateTime.ofInstant(t, ZoneOffset.UTC);
    }

    static Instant instant(ResultSet rs, int col) throws SQLException {
        return rs.getObject(col, OffsetDateTime.class).toInstant();
    }
}
