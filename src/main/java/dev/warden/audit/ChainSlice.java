package dev.warden.audit;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A contiguous run of one chain's records, exactly as stored, for evidence that leaves the store
 * (a recording bundle): with the record before it known only by its hash, the run proves itself
 * by recomputing every link up to a signed checkpoint's head. Every record of the run must be
 * present — the chain hashes whole bodies — so a run also carries the records of other sessions
 * that were written in between.
 */
public final class ChainSlice {
    private ChainSlice() {
    }

    /** One stored record: position, canonical body, previous hash, own hash. */
    public record Row(long seq, byte[] body, byte[] prevHash, byte[] hash) {
        /** The record's type ("statement", "recording", ...). */
        public String type() {
            return (String) Canonical.decodeObject(body).get("type");
        }

        /** The record's payload (canonical tree). */
        public Map<String, Object> payload() {
            return AuditVerifier.payloadOf(Canonical.decodeObject(body));
        }
    }

    /** Records {@code from..to} of a chain, in order. */
    public static List<Row> read(Connection c, String instance, long from, long to) throws SQLException {
        List<Row> out = new ArrayList<>();
        RecordScan.chain(c, instance, from, to, r -> out.add(new Row(r.seq(), r.body(), r.prevHash(), r.hash())));
        return out;
    }

    /** The first checkpoint of the chain at or after record {@code seq}, or null when none covers it yet. */
    public static Checkpoint covering(Connection c, String instance, long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + StoreSql.CHECKPOINT_COLUMNS
                + " FROM audit_checkpoint WHERE instance_id = ? AND seq >= ? ORDER BY number")) {
            ps.setString(1, instance);
            ps.setLong(2, seq);
            ps.setMaxRows(1);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? StoreSql.checkpoint(rs) : null;
            }
        }
    }

    /**
     * Checks that the rows are one unbroken run of {@code instance}'s chain ending at the checkpoint's
     * head: each body names its instance and position, each hash is SHA-256(previous ‖ body). Returns
     * the first problem, or null. The checkpoint's signature is the caller's to check.
     */
    public static String verify(List<Row> rows, String instance, Checkpoint cp) {
        if (rows.isEmpty()) {
            return "the bundle holds no audit records";
        }
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] prev = rows.get(0).seq() == 1 ? AuditVerifier.genesis() : rows.get(0).prevHash();
        long expected = rows.get(0).seq();
        for (Row r : rows) {
            String where = "audit record " + r.seq();
            if (r.seq() != expected) {
                return "audit records " + expected + ".." + (r.seq() - 1) + ": missing from the bundle";
            }
            Map<String, Object> doc;
            try {
                doc = Canonical.decodeObject(r.body());
            } catch (RuntimeException e) {
                return where + ": body is not canonical JSON";
            }
            if (!instance.equals(doc.get("instance")) || !(doc.get("seq") instanceof Number n) || n.longValue() != r.seq()) {
                return where + ": body names another chain position — moved or replaced";
            }
            if (!Arrays.equals(prev, r.prevHash())) {
                return where + ": previous hash does not match record " + (r.seq() - 1) + " — modified";
            }
            sha.update(prev);
            byte[] h = sha.digest(r.body());
            if (!Arrays.equals(h, r.hash())) {
                return where + ": hash does not match its content — modified";
            }
            prev = h;
            expected++;
        }
        if (cp.seq() != expected - 1 || !instance.equals(cp.instanceId())) {
            return "the checkpoint covers record " + cp.seq() + " of " + cp.instanceId() + ", the records end at "
                    + (expected - 1);
        }
        if (!Arrays.equals(prev, cp.head())) {
            return "the records do not chain to the checkpoint's head — modified";
        }
        return null;
    }
}
