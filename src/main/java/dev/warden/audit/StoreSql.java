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
        long lastSeq = 0;
        Instant lastAt = null;
        try (PreparedStatement ps = c.prepareStatement("SELECT seq, at FROM audit_record WHERE instance_id = ? "
                + "ORDER BY seq DESC FETCH FIRST 1 ROWS ONLY")) {
            ps.setString(1, instance);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    c.commit();
                    return null;
                }
                lastSeq = rs.getLong(1);
                lastAt = instant(rs, "at");
            }
        }
        long runStart = 0;
        String lastEvent = null;
        // the newest lifecycle record: "stop" when the previous run shut down cleanly
        try (PreparedStatement ps = c.prepareStatement("SELECT seq, event FROM audit_record WHERE instance_id = ? "
                + "AND kind = 'lifecycle' ORDER BY seq DESC FETCH FIRST 1 ROWS ONLY")) {
            ps.setString(1, instance);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    runStart = rs.getLong(1);
                    lastEvent = rs.getString(2);
                }
            }
        }
        if ("stop".equals(lastEvent)) {
            c.commit();
            return null;
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

    Head head(Connection c, String instance) throws SQLException {
        long seq = 0;
        byte[] hash = new byte[32];
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT seq, hash FROM audit_record WHERE instance_id = ? ORDER BY seq DESC FETCH FIRST 1 ROWS ONLY")) {
            ps.setString(1, instance);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    seq = rs.getLong(1);
                    hash = rs.getBytes(2);
                }
            }
        }
        Checkpoint last = null;
        try (PreparedStatement ps = c.prepareStatement("SELECT " + CHECKPOINT_COLUMNS
                + " FROM audit_checkpoint WHERE instance_id = ? ORDER BY number DESC FETCH FIRST 1 ROWS ONLY")) {
            ps.setString(1, instance);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    last = checkpoint(rs);
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
