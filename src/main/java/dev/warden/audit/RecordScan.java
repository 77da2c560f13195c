package dev.warden.audit;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads audit records out of their blocks ({@code audit_block}, see {@link RecordBlock}): one chain
 * by position, or every chain by time. The one place that knows how records are stored; search,
 * verification, reports, bundles and the CLI read through it.
 */
public final class RecordScan {
    static final String BLOCK_COLUMNS = "instance_id, first_seq, last_seq, min_at, max_at, prune_to, records";

    /**
     * One stored block: its columns, and its records — or, when the bytes cannot be decoded, no
     * records and the problem.
     */
    public record Block(String instance, long firstSeq, long lastSeq, Instant minAt, Instant maxAt, Long pruneTo,
                        List<StoredRecord> records, String problem) {
    }

    @FunctionalInterface
    public interface BlockVisitor {
        /** Returns false to stop. */
        boolean visit(Block b) throws SQLException;
    }

    @FunctionalInterface
    public interface RecordVisitor {
        /** Returns false to stop. */
        boolean visit(StoredRecord r) throws SQLException;
    }

    private RecordScan() {
    }

    /** The blocks of one chain that hold positions {@code fromSeq..toSeq}, in position order. */
    public static void chainBlocks(Connection c, String instance, long fromSeq, long toSeq, BlockVisitor v)
            throws SQLException {
        pages(c, instance, fromSeq, toSeq, v);
    }

    /** The records of one chain at positions {@code fromSeq..toSeq}, in order; a malformed block is an error. */
    public static void chain(Connection c, String instance, long fromSeq, long toSeq, RecordVisitor v)
            throws SQLException {
        chainBlocks(c, instance, fromSeq, toSeq, b -> {
            for (StoredRecord r : records(b)) {
                if (r.seq() >= fromSeq && r.seq() <= toSeq && !v.visit(r)) {
                    return false;
                }
            }
            return true;
        });
    }

    /**
     * The records whose time is in {@code [from, to)} (null: unbounded), of one chain or of all
     * ({@code instance} null), by chain then position, starting after {@code afterInstance}/{@code afterSeq}
     * when given (keyset pagination).
     */
    public static void byTime(Connection c, String instance, Instant from, Instant to, String afterInstance,
                              long afterSeq, RecordVisitor v) throws SQLException {
        // first the position range per chain from the blocks' times (one index pass), then each chain
        // by position: a keyset scan in primary-key order, never a sort of all matching blocks
        StringBuilder q = new StringBuilder("SELECT instance_id, MIN(first_seq), MAX(last_seq) FROM audit_block WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (instance != null) {
            q.append(" AND instance_id = ?");
            args.add(instance);
        }
        if (from != null) {
            q.append(" AND max_at >= ?");
            args.add(StoreSql.utc(from));
        }
        if (to != null) {
            q.append(" AND min_at < ?");
            args.add(StoreSql.utc(to));
        }
        if (afterInstance != null) {
            q.append(" AND instance_id >= ?");
            args.add(afterInstance);
        }
        q.append(" GROUP BY instance_id ORDER BY instance_id");
        List<Object[]> ranges = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(q.toString())) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ranges.add(new Object[] {rs.getString(1), rs.getLong(2), rs.getLong(3)});
                }
            }
        }
        for (Object[] range : ranges) {
            String chain = (String) range[0];
            long lo = (Long) range[1];
            if (chain.equals(afterInstance)) {
                lo = Math.max(lo, afterSeq + 1);
            }
            boolean[] stopped = {false};
            chain(c, chain, lo, (Long) range[2], r -> {
                if ((from == null || !r.at().isBefore(from)) && (to == null || r.at().isBefore(to)) && !v.visit(r)) {
                    stopped[0] = true;
                    return false;
                }
                return true;
            });
            if (stopped[0]) {
                return;
            }
        }
    }

    /** The record at {@code seq} of a chain, or null. */
    public static StoredRecord at(Connection c, String instance, long seq) throws SQLException {
        StoredRecord[] found = new StoredRecord[1];
        chain(c, instance, seq, seq, r -> {
            found[0] = r;
            return false;
        });
        return found[0];
    }

    /** How far past a statement its separate outcome record is looked for. */
    public static final int OUTCOME_LOOKAHEAD = 200_000;

    /**
     * True when the record's body may mention {@code text} (as a JSON string value, unescaped ASCII
     * or not): a cheap byte test before parsing. False only when it certainly does not.
     */
    public static boolean mentions(StoredRecord r, String text) {
        byte[] needle = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        for (byte x : needle) {
            if (x < 0x20 || x == '"' || x == '\\' || x < 0) {
                return true; // escaped in the body: parse to know
            }
        }
        byte[] hay = r.body();
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /** The record whose payload id is {@code id}, in any chain, or null (scans the store). */
    public static StoredRecord byId(Connection c, String id) throws SQLException {
        StoredRecord[] found = {null};
        byTime(c, null, null, null, null, 0, r -> {
            if (mentions(r, id) && id.equals(r.payload().get("id"))) {
                found[0] = r;
                return false;
            }
            return true;
        });
        return found[0];
    }

    /** The separate outcome record of a statement record (looked for after it in its chain), or null. */
    public static StoredRecord outcomeOf(Connection c, StoredRecord statement) throws SQLException {
        Object id = statement.payload().get("id");
        if (id == null) {
            return null;
        }
        StoredRecord[] found = {null};
        chain(c, statement.instance(), statement.seq() + 1, statement.seq() + OUTCOME_LOOKAHEAD, r -> {
            if (RecordCodec.OUTCOME.equals(r.type()) && mentions(r, id.toString())
                    && id.equals(r.payload().get("statement"))) {
                found[0] = r;
                return false;
            }
            return true;
        });
        return found[0];
    }

    /** Every chain that has blocks. */
    public static List<String> instances(Connection c) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT instance_id FROM audit_block");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /** The block's records, or an error naming the block when it is malformed. */
    static List<StoredRecord> records(Block b) throws SQLException {
        if (b.problem() != null) {
            throw new SQLException("audit block " + b.firstSeq() + ".." + b.lastSeq() + " of instance " + b.instance()
                    + " is malformed (" + b.problem() + "); run ./warden audit verify", "XX001");
        }
        return b.records();
    }

    /** Bytes of blocks read per query (at least one block): what a scan holds in memory at a time. */
    static final long PAGE_BYTES = 2L << 20;
    /** How many block sizes are looked at to plan a page. */
    private static final int PLAN_ROWS = 64;

    /**
     * The blocks of a chain holding positions {@code fromSeq..toSeq}, in position order, read a page at
     * a time: first the next blocks' sizes (no contents), then as many blocks as fit in
     * {@link #PAGE_BYTES} (at least one), by key. Memory stays bounded by the page whatever the
     * blocks' sizes and whatever the driver does with fetch sizes (the PostgreSQL driver holds a
     * fetched bytea as hex text, twice its size).
     */
    private static void pages(Connection c, String instance, long fromSeq, long toSeq, BlockVisitor v)
            throws SQLException {
        long after = Long.MIN_VALUE;
        // the block holding fromSeq may start before it: begin at the last block start <= fromSeq
        try (PreparedStatement start = c.prepareStatement("SELECT MAX(first_seq) FROM audit_block "
                + "WHERE instance_id = ? AND first_seq <= ?")) {
            start.setString(1, instance);
            start.setLong(2, fromSeq);
            try (ResultSet rs = start.executeQuery()) {
                if (rs.next()) {
                    long s = rs.getLong(1);
                    if (!rs.wasNull()) {
                        after = s - 1;
                    }
                }
            }
        }
        try (PreparedStatement plan = c.prepareStatement("SELECT first_seq, OCTET_LENGTH(records) FROM audit_block "
                + "WHERE instance_id = ? AND first_seq > ? AND first_seq <= ? ORDER BY first_seq FETCH FIRST "
                + PLAN_ROWS + " ROWS ONLY");
             PreparedStatement read = c.prepareStatement("SELECT " + BLOCK_COLUMNS + " FROM audit_block "
                + "WHERE instance_id = ? AND first_seq > ? AND first_seq <= ? ORDER BY first_seq")) {
            plan.setString(1, instance);
            plan.setLong(3, toSeq);
            read.setString(1, instance);
            while (true) {
                plan.setLong(2, after);
                long upTo = Long.MIN_VALUE;
                long bytes = 0;
                int planned = 0;
                try (ResultSet rs = plan.executeQuery()) {
                    while (rs.next()) {
                        long size = rs.getLong(2);
                        if (planned > 0 && bytes + size > PAGE_BYTES) {
                            break;
                        }
                        upTo = rs.getLong(1);
                        bytes += size;
                        planned++;
                    }
                }
                if (planned == 0) {
                    return;
                }
                read.setLong(2, after);
                read.setLong(3, upTo);
                try (ResultSet rs = read.executeQuery()) {
                    while (rs.next()) {
                        Block b = block(rs);
                        after = b.firstSeq();
                        if (b.lastSeq() >= fromSeq && !v.visit(b)) {
                            return;
                        }
                    }
                }
                after = Math.max(after, upTo);
            }
        }
    }

    static Block block(ResultSet rs) throws SQLException {
        String instance = rs.getString(1);
        long first = rs.getLong(2);
        long last = rs.getLong(3);
        Instant minAt = StoreSql.instant(rs, "min_at");
        Instant maxAt = StoreSql.instant(rs, "max_at");
        long pt = rs.getLong(6);
        Long pruneTo = rs.wasNull() ? null : pt;
        byte[] bytes = rs.getBytes(7);
        try {
            return new Block(instance, first, last, minAt, maxAt, pruneTo, RecordBlock.decode(instance, bytes), null);
        } catch (RuntimeException e) {
            return new Block(instance, first, last, minAt, maxAt, pruneTo, List.of(), e.getMessage());
        }
    }
}
