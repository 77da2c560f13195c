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
        try (PreparedStatement ps = c.prepareStatement("SELECT " + BLOCK_COLUMNS + " FROM audit_block "
                + "WHERE instance_id = ? AND last_seq >= ? AND first_seq <= ? ORDER BY first_seq")) {
            ps.setString(1, instance);
            ps.setLong(2, fromSeq);
            ps.setLong(3, toSeq);
            blocks(ps, v);
        }
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
        StringBuilder q = new StringBuilder("SELECT " + BLOCK_COLUMNS + " FROM audit_block WHERE 1 = 1");
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
            q.append(" AND (instance_id > ? OR (instance_id = ? AND last_seq > ?))");
            args.add(afterInstance);
            args.add(afterInstance);
            args.add(afterSeq);
        }
        q.append(" ORDER BY instance_id, first_seq");
        try (PreparedStatement ps = c.prepareStatement(q.toString())) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            blocks(ps, b -> {
                for (StoredRecord r : records(b)) {
                    if (afterInstance != null && r.instance().equals(afterInstance) && r.seq() <= afterSeq) {
                        continue;
                    }
                    if ((from == null || !r.at().isBefore(from)) && (to == null || r.at().isBefore(to))
                            && !v.visit(r)) {
                        return false;
                    }
                }
                return true;
            });
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

    /** The lowest and highest position of a chain's stored records ({0, 0} when it has none). */
    public static long[] bounds(Connection c, String instance) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT MIN(first_seq), MAX(last_seq) FROM audit_block WHERE instance_id = ?")) {
            ps.setString(1, instance);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new long[] {rs.getLong(1), rs.getLong(2)};
            }
        }
    }

    /** The block's records, or an error naming the block when it is malformed. */
    static List<StoredRecord> records(Block b) throws SQLException {
        if (b.problem() != null) {
            throw new SQLException("audit block " + b.firstSeq() + ".." + b.lastSeq() + " of instance " + b.instance()
                    + " is malformed (" + b.problem() + "); run ./warden audit verify", "XX001");
        }
        return b.records();
    }

    /**
     * About how many bytes of blocks one fetch brings into the heap. Blocks run up to 4 MB
     * ({@code StoreSql.BLOCK_BYTES}) and the PostgreSQL driver holds a whole fetch as hex text (twice
     * the bytes), so a fixed number of blocks per fetch makes a scan's memory depend on how full the
     * writer's commits were: 16 blocks of 1000 records of 600 bytes kept ~66 MB live (ReportMemoryIT).
     * The fetch size starts at one block and follows the largest block seen so far; a run of small
     * blocks followed by large ones can still bring up to {@link #MAX_FETCH} large ones at once.
     */
    static final int FETCH_BYTES = 2 << 20;
    /** Most blocks per fetch (small blocks: few round trips). */
    static final int MAX_FETCH = 16;

    private static void blocks(PreparedStatement ps, BlockVisitor v) throws SQLException {
        ps.setFetchSize(1);
        try (ResultSet rs = ps.executeQuery()) {
            int largest = 1;
            int fetch = 1;
            while (rs.next()) {
                Block b = block(rs);
                largest = Math.max(largest, size(b));
                int next = Math.max(1, Math.min(MAX_FETCH, FETCH_BYTES / largest));
                if (next != fetch) {
                    rs.setFetchSize(next);
                    fetch = next;
                }
                if (!v.visit(b)) {
                    return;
                }
            }
        }
    }

    /** The stored size of a block (a malformed one counts as large: keep fetching one at a time). */
    private static int size(Block b) {
        if (b.problem() != null) {
            return FETCH_BYTES;
        }
        int size = 1;
        for (StoredRecord r : b.records()) {
            size += RecordBlock.frameSize(r.body().length);
        }
        return size;
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
