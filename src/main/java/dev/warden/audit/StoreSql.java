package dev.warden.audit;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The SQL the writer and the pruner run against the audit tables. */
final class StoreSql {
    static final String RECORD_COLUMNS = "instance_id, seq, " + String.join(", ", RecordCodec.Projection.COLUMNS)
            + ", body, prev_hash, hash";
    static final String CHECKPOINT_COLUMNS = "instance_id, number, seq, head_hash, created_at, key_id, body, signature";
    private static final String INSERT_RECORD = "INSERT INTO audit_record (" + RECORD_COLUMNS + ") VALUES ("
            + "?, ?, " + "?, ".repeat(RecordCodec.Projection.COLUMNS.size()) + "?, ?, ?)";
    private static final String INSERT_CHECKPOINT = "INSERT INTO audit_checkpoint (" + CHECKPOINT_COLUMNS
            + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

    private static final int REF_SEQ_PARAM = 3 + RecordCodec.Projection.COLUMNS.indexOf("ref_seq");

    /** Where a chain stands: its newest record and newest checkpoint. */
    record Head(long seq, byte[] hash, long checkpointNumber, long checkpointSeq, Checkpoint lastCheckpoint) {
    }

    private final AuditStore store;

    StoreSql(AuditStore store) {
        this.store = store;
    }

    AuditStore store() {
        return store;
    }

    void insert(Connection c, String instance, List<Pending> records, List<Checkpoint> cps) throws SQLException {
        if (!records.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement(INSERT_RECORD)) {
                for (Pending p : records) {
                    int i = 1;
                    ps.setString(i++, instance);
                    ps.setLong(i++, p.seq);
                    for (Object v : p.projection.values()) {
                        setValue(ps, i, v, i == REF_SEQ_PARAM ? Types.BIGINT : Types.VARCHAR);
                        i++;
                    }
                    ps.setBytes(i++, p.body);
                    ps.setBytes(i++, p.prev);
                    ps.setBytes(i, p.hash);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
        if (!cps.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement(INSERT_CHECKPOINT)) {
                for (Checkpoint cp : cps) {
                    ps.setString(1, cp.instanceId());
                    ps.setLong(2, cp.number());
                    ps.setLong(3, cp.seq());
                    ps.setBytes(4, cp.head());
                    ps.setObject(5, utc(cp.time()));
                    ps.setString(6, cp.keyId());
                    ps.setBytes(7, cp.body());
                    ps.setBytes(8, cp.signature());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
    }

    private static void setValue(PreparedStatement ps, int i, Object v, int nullType) throws SQLException {
        if (v == null) {
            ps.setNull(i, nullType);
        } else if (v instanceof Instant t) {
            ps.setObject(i, utc(t));
        } else if (v instanceof Long l) {
            ps.setLong(i, l);
        } else {
            ps.setString(i, v.toString());
        }
    }

    static OffsetDateTime utc(Instant t) {
        return OffsetDateTime.ofInstant(t, ZoneOffset.UTC);
    }

    static Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    /**
     * What a run that ended without its "stop" record left behind: the position and time of the last
     * record it wrote, and the sessions it had open (connected, never disconnected).
     */
    record UncleanStop(long lastSeq, Instant lastAt, long runStartSeq, List<String> openSessions) {
    }

    /** Null when the chain is empty or its previous run ended with a "stop" record. */
    UncleanStop uncleanStop(Connection c, String instance) throws SQLException {
        long lastSeq = lastKey(c, "audit_record", "seq", instance);
        if (lastSeq == 0) {
            c.commit();
            return null;
        }
        String[] last = lifecycleAt(c, instance, lastSeq);
        if (last != null && "stop".equals(last[1])) {
            c.commit();
            return null;
        }
        Instant lastAt;
        try (PreparedStatement ps = c.prepareStatement("SELECT at FROM audit_record WHERE instance_id = ? AND seq = ?")) {
            ps.setString(1, instance);
            ps.setLong(2, lastSeq);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                lastAt = instant(rs, "at");
            }
        }
        // the run began with a lifecycle record (start or recovered), which is always followed by a
        // checkpoint: walk the checkpoints back, by number, to the newest one that sits on such a record
        long runStart = 0;
        long cpNumber = lastKey(c, "audit_checkpoint", "number", instance);
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT seq FROM audit_checkpoint WHERE instance_id = ? AND number = ?")) {
            ps.setString(1, instance);
            for (long n = cpNumber; n > 0 && runStart == 0; n--) {
                ps.setLong(2, n);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        break; // pruned
                    }
                    long seq = rs.getLong(1);
                    String[] lc = lifecycleAt(c, instance, seq);
                    if (lc != null && !"stop".equals(lc[1])) {
                        runStart = seq;
                    }
                }
            }
        }
        java.util.LinkedHashMap<String, Boolean> open = new java.util.LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT session_id, event FROM audit_record WHERE instance_id = ? "
                + "AND seq > ? AND kind = 'session' AND event IN ('connect', 'disconnect') ORDER BY seq")) {
            ps.setString(1, instance);
            ps.setLong(2, runStart);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if ("connect".equals(rs.getString(2))) {
                        open.put(rs.getString(1), Boolean.TRUE);
                    } else {
                        open.remove(rs.getString(1));
                    }
                }
            }
        }
        c.commit();
        return new UncleanStop(lastSeq, lastAt, runStart, new ArrayList<>(open.keySet()));
    }

    /** {kind, event} of the record at {@code seq} when it is a lifecycle record, else null. */
    private static String[] lifecycleAt(Connection c, String instance, long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT kind, event FROM audit_record WHERE instance_id = ? AND seq = ?")) {
            ps.setString(1, instance);
            ps.setLong(2, seq);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && RecordCodec.LIFECYCLE.equals(rs.getString(1))
                        ? new String[] {rs.getString(1), rs.getString(2)} : null;
            }
        }
    }

    /**
     * The highest key of an instance's contiguous sequence (records by seq, checkpoints by number), or
     * 0 when it has none. Point lookups only — first the lowest key (an ascending index read), then
     * galloping and bisection — because H2 reads a whole index to answer MAX or ORDER BY … DESC,
     * which took seconds on a store of a few million records. Keys are contiguous from the lowest
     * one (pruning only removes a prefix; verification reports any hole).
     */
    static long lastKey(Connection c, String table, String column, String instance) throws SQLException {
        long lo;
        try (PreparedStatement ps = c.prepareStatement("SELECT " + column + " FROM " + table
                + " WHERE instance_id = ? ORDER BY " + column + " FETCH FIRST 1 ROWS ONLY")) {
            ps.setString(1, instance);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return 0;
                }
                lo = rs.getLong(1);
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + table + " WHERE instance_id = ? AND "
                + column + " = ?")) {
            ps.setString(1, instance);
            long step = 1;
            while (exists(ps, lo + step)) {
                lo += step;
                step *= 2;
            }
            long hi = lo + step; // lo exists, hi does not
            while (hi - lo > 1) {
                long mid = (lo + hi) >>> 1;
                if (exists(ps, mid)) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
        }
        // nothing may lie beyond a hole: a deleted or planted row would otherwise make Warden resume the
        // chain at a position an intruder chose (an ascending index read that stops at the first row)
        try (PreparedStatement ps = c.prepareStatement("SELECT " + column + " FROM " + table + " WHERE instance_id = ? AND "
                + column + " > ? ORDER BY " + column + " FETCH FIRST 1 ROWS ONLY")) {
            ps.setString(1, instance);
            ps.setLong(2, lo);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    throw new SQLException(table + " of instance " + instance + " has " + column + " " + rs.getLong(1)
                            + " after a hole at " + (lo + 1) + ": the store was changed outside Warden; run "
                            + "./warden audit verify and restore the store before starting Warden", "55000");
                }
            }
        }
        return lo;
    }

    private static boolean exists(PreparedStatement ps, long key) throws SQLException {
        ps.setLong(2, key);
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next();
        }
    }

    Head head(Connection c, String instance) throws SQLException {
        long seq = lastKey(c, "audit_record", "seq", instance);
        byte[] hash = new byte[32];
        if (seq > 0) {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT hash FROM audit_record WHERE instance_id = ? AND seq = ?")) {
                ps.setString(1, instance);
                ps.setLong(2, seq);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    hash = rs.getBytes(1);
                }
            }
        }
        Checkpoint last = null;
        long number = lastKey(c, "audit_checkpoint", "number", instance);
        if (number > 0) {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + CHECKPOINT_COLUMNS
                    + " FROM audit_checkpoint WHERE instance_id = ? AND number = ?")) {
                ps.setString(1, instance);
                ps.setLong(2, number);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        last = checkpoint(rs);
                    }
                }
            }
        }
        c.commit();
        return new Head(seq, hash, last == null ? 0 : last.number(), last == null ? 0 : Math.min(last.seq(), seq), last);
    }

    static Checkpoint checkpoint(ResultSet rs) throws SQLException {
        return new Checkpoint(rs.getString("instance_id"), rs.getLong("number"), rs.getLong("seq"),
                rs.getBytes("head_hash"), instant(rs, "created_at"), rs.getString("key_id"), rs.getBytes("body"),
                rs.getBytes("signature"));
    }

    /** After a failure: true if the kept batch did commit, false if not, null if someone else wrote there. */
    Boolean alreadyCommitted(Connection c, String instance, List<Pending> records, List<Checkpoint> cps)
            throws SQLException {
        Boolean out;
        if (!records.isEmpty()) {
            Pending last = records.get(records.size() - 1);
            byte[] stored = null;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT hash FROM audit_record WHERE instance_id = ? AND seq = ?")) {
                ps.setString(1, instance);
                ps.setLong(2, last.seq);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        stored = rs.getBytes(1);
                    }
                }
            }
            out = stored == null ? Boolean.FALSE : Arrays.equals(stored, last.hash) ? Boolean.TRUE : null;
        } else {
            Checkpoint cp = cps.get(cps.size() - 1);
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT body FROM audit_checkpoint WHERE instance_id = ? AND number = ?")) {
                ps.setString(1, instance);
                ps.setLong(2, cp.number());
                try (ResultSet rs = ps.executeQuery()) {
                    out = !rs.next() ? Boolean.FALSE : Arrays.equals(rs.getBytes(1), cp.body()) ? Boolean.TRUE : null;
                }
            }
        }
        c.commit();
        return out;
    }

    /** The smallest position of the chain, 0 when it is empty. */
    static long firstSeq(Connection c, String instance) throws SQLException {
        return scalar(c, "SELECT COALESCE(MIN(seq), 0) FROM audit_record WHERE instance_id = ?", instance, null);
    }

    /** The first position whose record is at or after {@code cutoff}, 0 if none is. */
    static long firstSeqAtOrAfter(Connection c, String instance, Instant cutoff) throws SQLException {
        return scalar(c, "SELECT COALESCE(MIN(seq), 0) FROM audit_record WHERE instance_id = ? AND at >= ?", instance,
                cutoff);
    }

    /** The newest checkpoint of the chain at a position below {@code seqBelow}, or null. */
    static Checkpoint checkpointBelow(Connection c, String instance, long seqBelow) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + CHECKPOINT_COLUMNS + " FROM audit_checkpoint "
                + "WHERE instance_id = ? AND seq < ? ORDER BY seq DESC, number DESC FETCH FIRST 1 ROWS ONLY")) {
            ps.setString(1, instance);
            ps.setLong(2, seqBelow);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? checkpoint(rs) : null;
            }
        }
    }

    /** Removes the chain's records before {@code firstKept} (PostgreSQL: through audit_prune()). */
    long deleteBefore(Connection c, String instance, long firstKept) throws SQLException {
        String q = store.postgres() ? "SELECT audit_prune(?, ?)"
                : "DELETE FROM audit_record WHERE instance_id = ? AND seq < ?";
        try (PreparedStatement ps = c.prepareStatement(q)) {
            ps.setString(1, instance);
            ps.setLong(2, firstKept);
            long n;
            if (store.postgres()) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    n = rs.getLong(1);
                }
            } else {
                n = ps.executeUpdate();
            }
            c.commit();
            return n;
        } catch (SQLException e) {
            c.rollback();
            throw e;
        }
    }

    private static long scalar(Connection c, String q, String instance, Instant t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(q)) {
            ps.setString(1, instance);
            if (t != null) {
                ps.setObject(2, utc(t));
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
