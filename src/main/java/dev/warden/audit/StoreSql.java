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
import java.util.Map;

/**
 * The SQL the writer and the pruner run against the audit tables.
 *
 * <p>One file on purpose: appending blocks, finding a chain's head after a restart (and refusing a
 * planted or holed tail), recognising an unclean stop, and pruning are the writer's side of one
 * storage layout; they change together when the layout does. Readers go through {@link RecordScan}.
 */
final class StoreSql {
    static final String CHECKPOINT_COLUMNS = "instance_id, number, seq, head_hash, created_at, key_id, body, signature";
    private static final String INSERT_BLOCK = "INSERT INTO audit_block (" + RecordScan.BLOCK_COLUMNS
            + ") VALUES (?, ?, ?, ?, ?, ?, ?)";
    private static final String INSERT_CHECKPOINT = "INSERT INTO audit_checkpoint (" + CHECKPOINT_COLUMNS
            + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    /** A block is closed at this size (a single larger record gets a block of its own). */
    static final int BLOCK_BYTES = 4 << 20;

    /** Where a chain stands: its newest record and newest checkpoint. */
    record Head(long seq, byte[] hash, long checkpointNumber, long checkpointSeq, Checkpoint lastCheckpoint) {
    }

    private final AuditStore store;
    /** Buffers for encoding blocks; {@link #insert} runs on the writer thread only. */
    private final RecordBlock.Scratch scratch = new RecordBlock.Scratch();

    StoreSql(AuditStore store) {
        this.store = store;
    }

    AuditStore store() {
        return store;
    }

    /**
     * One encoded {@code audit_block} row. The journal ({@link AuditJournal}) holds these until the
     * writer inserts them.
     */
    record BlockRow(String instance, long firstSeq, long lastSeq, Instant minAt, Instant maxAt, Long pruneTo,
                    byte[] records) {
    }

    /**
     * Encodes the records as blocks. A block ends where a checkpoint falls, so that retention (which
     * removes whole blocks up to a checkpoint) removes exactly the records before it. On the writer
     * thread only (it shares one set of buffers).
     */
    List<BlockRow> blocks(String instance, List<Pending> records, List<Checkpoint> cps) {
        if (records.isEmpty()) {
            return List.of();
        }
        java.util.Set<Long> cut = new java.util.HashSet<>();
        for (Checkpoint cp : cps) {
            cut.add(cp.seq());
        }
        List<BlockRow> rows = new ArrayList<>(1);
        int from = 0;
        int bytes = 0;
        for (int i = 0; i < records.size(); i++) {
            Pending p = records.get(i);
            bytes += RecordBlock.frameSize(p.body.length);
            boolean end = i == records.size() - 1 || cut.contains(p.seq)
                    || bytes + RecordBlock.frameSize(records.get(i + 1).body.length) > BLOCK_BYTES;
            if (end) {
                rows.add(block(instance, records, from, i + 1, !store.postgres(), scratch));
                from = i + 1;
                bytes = 0;
            }
        }
        scratch.trim();
        return rows;
    }

    static long storedBytes(List<BlockRow> rows) {
        long n = 0;
        for (BlockRow r : rows) {
            n += r.records().length;
        }
        return n;
    }

    /** Inserts encoded blocks and checkpoints, in the caller's transaction. */
    static void insertRows(Connection c, List<BlockRow> rows, List<Checkpoint> cps) throws SQLException {
        if (!rows.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement(INSERT_BLOCK)) {
                for (BlockRow r : rows) {
                    ps.setString(1, r.instance());
                    ps.setLong(2, r.firstSeq());
                    ps.setLong(3, r.lastSeq());
                    ps.setObject(4, utc(r.minAt()));
                    ps.setObject(5, utc(r.maxAt()));
                    if (r.pruneTo() == null) {
                        ps.setNull(6, Types.BIGINT);
                    } else {
                        ps.setLong(6, r.pruneTo());
                    }
                    ps.setBytes(7, r.records());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
        insertCheckpoints(c, cps);
    }

    /** Encodes one block of {@code records[from, to)}. */
    private static BlockRow block(String instance, List<Pending> records, int from, int to, boolean compress,
                                  RecordBlock.Scratch scratch) {
        Instant min = records.get(from).at;
        Instant max = min;
        Long pruneTo = null;
        for (int i = from; i < to; i++) {
            Pending p = records.get(i);
            if (p.at.isBefore(min)) {
                min = p.at;
            } else if (p.at.isAfter(max)) {
                max = p.at;
            }
            if (RecordCodec.PRUNE.equals(p.type)) {
                pruneTo = p.projection.refSeq();
            }
        }
        return new BlockRow(instance, records.get(from).seq, records.get(to - 1).seq, min, max, pruneTo,
                RecordBlock.encode(records, from, to, compress, scratch));
    }

    /** Appends already stored records as one block (the v1 migration). */
    static void insertStored(Connection c, String instance, List<StoredRecord> records, Long pruneTo)
            throws SQLException {
        Instant min = records.get(0).at();
        Instant max = min;
        for (StoredRecord r : records) {
            min = r.at().isBefore(min) ? r.at() : min;
            max = r.at().isAfter(max) ? r.at() : max;
        }
        try (PreparedStatement ps = c.prepareStatement(INSERT_BLOCK)) {
            ps.setString(1, instance);
            ps.setLong(2, records.get(0).seq());
            ps.setLong(3, records.get(records.size() - 1).seq());
            ps.setObject(4, utc(min));
            ps.setObject(5, utc(max));
            if (pruneTo == null) {
                ps.setNull(6, Types.BIGINT);
            } else {
                ps.setLong(6, pruneTo);
            }
            ps.setBytes(7, RecordBlock.encodeStored(records,
                    !c.getMetaData().getDatabaseProductName().toLowerCase().contains("postgres")));
            ps.executeUpdate();
        }
    }

    private static void insertCheckpoints(Connection c, List<Checkpoint> cps) throws SQLException {
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
        RecordScan.Block lastBlock = lastBlock(c, instance);
        if (lastBlock == null) {
            c.commit();
            return null;
        }
        List<StoredRecord> rs = RecordScan.records(lastBlock);
        StoredRecord lastRecord = rs.get(rs.size() - 1);
        long lastSeq = lastRecord.seq();
        String[] last = lifecycle(lastRecord);
        if (last != null && "stop".equals(last[1])) {
            c.commit();
            return null;
        }
        Instant lastAt = lastRecord.at();
        // the run began with a lifecycle record (start or recovered), which is always followed by a
        // checkpoint: walk the checkpoints back, by number, to the newest one that sits on such a record
        long runStart = 0;
        long cpNumber = lastKey(c, "audit_checkpoint", "number", instance);
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT seq FROM audit_checkpoint WHERE instance_id = ? AND number = ?")) {
            ps.setString(1, instance);
            for (long n = cpNumber; n > 0 && runStart == 0; n--) {
                ps.setLong(2, n);
                long seq;
                try (ResultSet r = ps.executeQuery()) {
                    if (!r.next()) {
                        break; // pruned
                    }
                    seq = r.getLong(1);
                }
                StoredRecord at = RecordScan.at(c, instance, seq);
                String[] lc = at == null ? null : lifecycle(at);
                if (lc != null && !"stop".equals(lc[1])) {
                    runStart = seq;
                }
            }
        }
        java.util.LinkedHashMap<String, Boolean> open = new java.util.LinkedHashMap<>();
        RecordScan.chain(c, instance, runStart + 1, lastSeq, r -> {
            if (RecordCodec.SESSION.equals(r.type())) {
                Map<String, Object> p = r.payload();
                Object session = p.get("session");
                if ("connect".equals(p.get("event")) && session != null) {
                    open.put(session.toString(), Boolean.TRUE);
                } else if ("disconnect".equals(p.get("event")) && session != null) {
                    open.remove(session.toString());
                }
            }
            return true;
        });
        c.commit();
        return new UncleanStop(lastSeq, lastAt, runStart, new ArrayList<>(open.keySet()));
    }

    /** {kind, event} of a lifecycle record, else null. */
    private static String[] lifecycle(StoredRecord r) {
        if (!RecordCodec.LIFECYCLE.equals(r.type())) {
            return null;
        }
        Object event = r.payload().get("event");
        return new String[] {r.type(), event == null ? null : event.toString()};
    }

    /**
     * The chain's newest block, or null when it has none. Found by point lookups (galloping then
     * bisection over "is there a block starting after x?", each an ascending index read that stops at
     * the first row), because H2 reads a whole index to answer MAX or ORDER BY … DESC.
     */
    static RecordScan.Block lastBlock(Connection c, String instance) throws SQLException {
        long lo;
        try (PreparedStatement ps = c.prepareStatement("SELECT first_seq FROM audit_block "
                + "WHERE instance_id = ? AND first_seq > ? ORDER BY first_seq FETCH FIRST 1 ROWS ONLY")) {
            ps.setString(1, instance);
            long first = startAfter(ps, Long.MIN_VALUE);
            if (first == Long.MIN_VALUE) {
                return null;
            }
            lo = first; // a block starts here
            long step = 1;
            while (true) {
                long n = startAfter(ps, lo + step - 1);
                if (n == Long.MIN_VALUE) {
                    break;
                }
                lo = n;
                step *= 2;
            }
            // no block starts after lo + step - 1: the newest starts in [lo, lo + step - 1]
            long hi = lo + step - 1;
            while (hi > lo) {
                long mid = lo + (hi - lo + 1) / 2;
                long n = startAfter(ps, mid - 1);
                if (n != Long.MIN_VALUE) {
                    lo = n;
                } else {
                    hi = mid - 1;
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT " + RecordScan.BLOCK_COLUMNS + " FROM audit_block "
                + "WHERE instance_id = ? AND first_seq = ?")) {
            ps.setString(1, instance);
            ps.setLong(2, lo);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return RecordScan.block(rs);
            }
        }
    }

    /** The first block start after {@code seq}, or Long.MIN_VALUE when there is none. */
    private static long startAfter(PreparedStatement ps, long seq) throws SQLException {
        ps.setLong(2, seq);
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getLong(1) : Long.MIN_VALUE;
        }
    }

    /**
     * The highest key of an instance's contiguous checkpoint numbers, or 0 when it has none. Point
     * lookups only — first the lowest key (an ascending index read), then galloping and bisection —
     * because H2 reads a whole index to answer MAX or ORDER BY … DESC. Numbers are contiguous from
     * the lowest one (verification reports any hole).
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
        RecordScan.Block lastBlock = lastBlock(c, instance);
        long seq = 0;
        byte[] hash = new byte[32];
        if (lastBlock != null) {
            List<StoredRecord> rs = RecordScan.records(lastBlock);
            StoredRecord last = rs.get(rs.size() - 1);
            if (last.seq() != lastBlock.lastSeq()) {
                throw new SQLException("the newest audit block of instance " + instance + " ends at record "
                        + last.seq() + " but says " + lastBlock.lastSeq() + ": the store was changed outside Warden; "
                        + "run ./warden audit verify and restore the store before starting Warden", "55000");
            }
            seq = last.seq();
            hash = last.hash();
            // a planted block would make Warden resume the chain where an intruder chose: the newest
            // block must continue the one before it
            if (lastBlock.firstSeq() > 1) {
                StoredRecord before = RecordScan.at(c, instance, lastBlock.firstSeq() - 1);
                if (before != null && !java.util.Arrays.equals(before.hash(), rs.get(0).prevHash())) {
                    throw new SQLException("the newest audit block of instance " + instance + " (records "
                            + lastBlock.firstSeq() + "..) does not continue the chain: the store was changed outside "
                            + "Warden; run ./warden audit verify and restore the store before starting Warden", "55000");
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
            StoredRecord stored = RecordScan.at(c, instance, last.seq);
            out = stored == null ? Boolean.FALSE : Arrays.equals(stored.hash(), last.hash) ? Boolean.TRUE : null;
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
        return scalar(c, "SELECT COALESCE(MIN(first_seq), 0) FROM audit_block WHERE instance_id = ?", instance, null);
    }

    /** The first position whose record is at or after {@code cutoff}, 0 if none is. */
    static long firstSeqAtOrAfter(Connection c, String instance, Instant cutoff) throws SQLException {
        long[] found = {0};
        RecordScan.byTime(c, instance, cutoff, null, null, 0, r -> {
            found[0] = r.seq();
            return false;
        });
        return found[0];
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
        if (!store.postgres()) {
            long n = scalar(c, "SELECT COALESCE(SUM(last_seq - first_seq + 1), 0) FROM audit_block WHERE instance_id = ? "
                    + "AND last_seq < " + firstKept, instance, null);
            try (PreparedStatement ps = c.prepareStatement(
                    "DELETE FROM audit_block WHERE instance_id = ? AND last_seq < ?")) {
                ps.setString(1, instance);
                ps.setLong(2, firstKept);
                ps.executeUpdate();
                c.commit();
                return n;
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT audit_prune(?, ?)")) {
            ps.setString(1, instance);
            ps.setLong(2, firstKept);
            long n;
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                n = rs.getLong(1);
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
