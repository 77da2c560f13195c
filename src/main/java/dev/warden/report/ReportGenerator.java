package dev.warden.report;

import dev.warden.audit.AuditVerifier;
import dev.warden.audit.Canonical;
import dev.warden.audit.Checkpoint;
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
            List<EvidenceReport.Coverage> coverage = coverage(c, req);
            long total = 0;
            for (EvidenceReport.Coverage cv : coverage) {
                total += cv.lastSeq() - cv.firstSeq() + 1;
            }
            long processed = 0;
            List<EvidenceReport.Coverage> withTarget = new ArrayList<>();
            for (EvidenceReport.Coverage cv : coverage) {
                long forTarget = 0;
                try (PreparedStatement ps = c.prepareStatement("SELECT seq, kind, at, body FROM audit_record "
                        + "WHERE instance_id = ? AND seq >= ? AND seq <= ? ORDER BY seq")) {
                    ps.setFetchSize(FETCH_SIZE);
                    ps.setString(1, cv.instance());
                    ps.setLong(2, cv.firstSeq());
                    ps.setLong(3, cv.lastSeq());
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            processed++;
                            if (processed % 10_000 == 0) {
                                progress.update(processed, total);
                            }
                            Instant at = instant(rs, 3);
                            if (at.isBefore(req.from()) || !at.isBefore(req.to())) {
                                continue; // in the chain's range, but written with a time outside the period
                            }
                            Map<String, Object> envelope;
                            try {
                                envelope = Canonical.decodeObject(rs.getBytes(4));
                            } catch (IllegalArgumentException unreadable) {
                                continue; // verification below names the record
                            }
                            if (agg.accept(cv.instance(), rs.getLong(1), rs.getString(2), at, envelope)) {
                                forTarget++;
                            }
                        }
                    }
                }
                withTarget.add(new EvidenceReport.Coverage(cv.instance(), cv.firstSeq(), cv.lastSeq(), cv.records(),
                        forTarget));
            }
            progress.update(processed, total);
            lateOutcomes(c, agg);
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
        List<EvidenceReport.Coverage> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT instance_id, MIN(seq), MAX(seq), COUNT(*) FROM audit_record "
                + "WHERE at >= ? AND at < ? GROUP BY instance_id ORDER BY instance_id")) {
            ps.setObject(1, utc(req.from()));
            ps.setObject(2, utc(req.to()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new EvidenceReport.Coverage(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), 0));
                }
            }
        }
        return out;
    }

    /** Statements near the end of the period whose separate outcome record came after it. */
    private static void lateOutcomes(Connection c, ReportAggregator agg) throws SQLException {
        List<String> ids = agg.pendingStatementIds();
        for (int from = 0; from < ids.size(); from += 500) {
            List<String> part = ids.subList(from, Math.min(ids.size(), from + 500));
            try (PreparedStatement ps = c.prepareStatement("SELECT ref_id, body FROM audit_record WHERE kind = 'outcome' "
                    + "AND ref_id IN (" + "?, ".repeat(part.size() - 1) + "?)")) {
                for (int i = 0; i < part.size(); i++) {
                    ps.setString(i + 1, part.get(i));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        try {
                            Object p = Canonical.decodeObject(rs.getBytes(2)).get("payload");
                            if (p instanceof Map<?, ?> m) {
                                @SuppressWarnings("unchecked")
                                Map<String, Object> typed = (Map<String, Object>) m;
                                agg.lateOutcome(rs.getString(1), typed);
                            }
                        } catch (IllegalArgumentException unreadable) {
                            // verification names it
                        }
                    }
                }
            }
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
