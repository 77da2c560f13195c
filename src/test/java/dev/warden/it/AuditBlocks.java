package dev.warden.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * The tests' own reading and writing of the audit store's blocks ({@code audit_block}): a decoder
 * and encoder written from the documented format (docs/audit.md, "Storage"; RecordBlock's comment)
 * with a ByteBuffer, independent of the production reader ({@code RecordScan}), so that tests which
 * check the production code against the store — figures of a report, verification of a tampered
 * chain — do not check it against itself. Bodies are parsed with Jackson, not the audit's own codec.
 *
 * <p>A block: format byte 1 (format 2, the embedded store's, is the same after zstd), then per record {@code int64 seq, int64 atMicros, uint8 type, int32
 * length, body, 32-byte prevHash, 32-byte hash}, big-endian.
 */
public final class AuditBlocks {
    static final byte FORMAT = 1;
    static final int HASH = 32;
    /** Type codes 1..7 of the format. */
    static final List<String> TYPES = List.of("statement", "outcome", "session", "lifecycle", "prune", "approval",
            "recording");
    private static final ObjectMapper JSON = new ObjectMapper();

    private AuditBlocks() {
    }

    /** One record as stored in a block. */
    public record Frame(long seq, Instant at, String type, byte[] body, byte[] prevHash, byte[] hash) {
        public Frame withBody(byte[] newBody) {
            return new Frame(seq, at, type, newBody, prevHash, hash);
        }

        /** The body (the canonical envelope), parsed with Jackson. */
        @SuppressWarnings("unchecked")
        public Map<String, Object> envelope() {
            try {
                return JSON.readValue(body, Map.class);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @SuppressWarnings("unchecked")
        public Map<String, Object> payload() {
            Object p = envelope().get("payload");
            return p instanceof Map ? (Map<String, Object>) p : Map.of();
        }
    }

    /** One row of {@code audit_block} with its records. */
    public record Block(String instance, long firstSeq, long lastSeq, Instant minAt, Instant maxAt, Long pruneTo,
                        byte[] bytes, List<Frame> frames) {
    }

    /** A record with the chain it is in. */
    public record Rec(String instance, Frame frame) {
        public long seq() {
            return frame.seq();
        }

        public Instant at() {
            return frame.at();
        }

        public String type() {
            return frame.type();
        }

        public byte[] body() {
            return frame.body();
        }
    }

    // ---- the format ----

    public static List<Frame> decode(byte[] block) {
        if (block != null && block.length > 5 && block[0] == 2) {
            // format 2 (embedded store): int32 length of the frames, then the frames as one zstd frame
            byte[] frames = new byte[ByteBuffer.wrap(block, 1, 4).getInt()];
            long n = com.github.luben.zstd.Zstd.decompressByteArray(frames, 0, frames.length, block, 5, block.length - 5);
            if (n != frames.length) {
                throw new IllegalArgumentException("format-2 block does not decompress to its stated length");
            }
            byte[] plain = new byte[frames.length + 1];
            plain[0] = FORMAT;
            System.arraycopy(frames, 0, plain, 1, frames.length);
            block = plain;
        }
        if (block == null || block.length == 0 || block[0] != FORMAT) {
            throw new IllegalArgumentException("not a format-1 block");
        }
        ByteBuffer b = ByteBuffer.wrap(block);
        b.get();
        List<Frame> out = new ArrayList<>();
        while (b.hasRemaining()) {
            long seq = b.getLong();
            long micros = b.getLong();
            int code = b.get() & 0xff;
            int len = b.getInt();
            byte[] body = new byte[len];
            b.get(body);
            byte[] prev = new byte[HASH];
            b.get(prev);
            byte[] hash = new byte[HASH];
            b.get(hash);
            out.add(new Frame(seq, instant(micros), TYPES.get(code - 1), body, prev, hash));
        }
        return out;
    }

    public static byte[] encode(List<Frame> frames) {
        int size = 1;
        for (Frame f : frames) {
            size += 8 + 8 + 1 + 4 + f.body().length + 2 * HASH;
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        b.put(FORMAT);
        for (Frame f : frames) {
            if (f.prevHash().length != HASH || f.hash().length != HASH) {
                throw new IllegalArgumentException("hashes are 32 bytes");
            }
            b.putLong(f.seq());
            b.putLong(micros(f.at()));
            b.put((byte) (TYPES.indexOf(f.type()) + 1));
            b.putInt(f.body().length);
            b.put(f.body());
            b.put(f.prevHash());
            b.put(f.hash());
        }
        return b.array();
    }

    public static long micros(Instant t) {
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
    }

    public static Instant instant(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
    }

    // ---- the table ----

    /** Every block of the store (or of one chain), by chain then position. */
    public static List<Block> blocks(Connection c, String instance) throws SQLException {
        List<Block> out = new ArrayList<>();
        forEachBlock(c, instance, out::add);
        return out;
    }

    /** Streams every block of the store (or of one chain), by chain then position. */
    public static void forEachBlock(Connection c, String instance, Consumer<Block> v) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT instance_id, first_seq, last_seq, min_at, max_at, "
                + "prune_to, records FROM audit_block" + (instance == null ? "" : " WHERE instance_id = ?")
                + " ORDER BY instance_id, first_seq")) {
            if (instance != null) {
                ps.setString(1, instance);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long pt = rs.getLong(6);
                    Long pruneTo = rs.wasNull() ? null : pt;
                    byte[] bytes = rs.getBytes(7);
                    v.accept(new Block(rs.getString(1), rs.getLong(2), rs.getLong(3),
                            rs.getObject(4, OffsetDateTime.class).toInstant(), rs.getObject(5, OffsetDateTime.class).toInstant(),
                            pruneTo, bytes, decode(bytes)));
                }
            }
        }
    }

    /** Streams every record of the store, by chain then position. */
    public static void forEach(Connection c, Consumer<Rec> v) throws SQLException {
        forEachBlock(c, null, b -> b.frames().forEach(f -> v.accept(new Rec(b.instance(), f))));
    }

    /** Every record of the store, by chain then position. */
    public static List<Rec> records(Connection c) throws SQLException {
        List<Rec> out = new ArrayList<>();
        forEach(c, out::add);
        return out;
    }

    /** How many records of the store satisfy the condition. */
    public static long count(Connection c, Predicate<Rec> p) throws SQLException {
        long[] n = {0};
        forEach(c, r -> {
            if (p.test(r)) {
                n[0]++;
            }
        });
        return n[0];
    }

    /** The block of a chain that holds {@code seq}. */
    public static Block blockOf(Connection c, String instance, long seq) throws SQLException {
        for (Block b : blocks(c, instance)) {
            if (b.firstSeq() <= seq && seq <= b.lastSeq()) {
                return b;
            }
        }
        throw new IllegalArgumentException("no block of " + instance + " holds record " + seq);
    }

    /**
     * Tampering: changes a record's body inside its block (its header and hashes stay), re-encodes
     * the block and writes it back. Returns the block's bytes before the change.
     */
    public static byte[] rewriteBody(Connection c, String instance, long seq, UnaryOperator<byte[]> change)
            throws SQLException {
        Block b = blockOf(c, instance, seq);
        List<Frame> frames = new ArrayList<>();
        for (Frame f : b.frames()) {
            frames.add(f.seq() == seq ? f.withBody(change.apply(f.body())) : f);
        }
        setRecords(c, instance, b.firstSeq(), encode(frames));
        return b.bytes();
    }

    /** Tampering: changes the bodies of every record the test selects, block by block. Returns how many. */
    public static int rewriteBodies(Connection c, Predicate<Rec> which, UnaryOperator<byte[]> change)
            throws SQLException {
        int n = 0;
        for (Block b : blocks(c, null)) {
            List<Frame> frames = new ArrayList<>();
            boolean changed = false;
            for (Frame f : b.frames()) {
                if (which.test(new Rec(b.instance(), f))) {
                    byte[] body = change.apply(f.body());
                    if (!java.util.Arrays.equals(body, f.body())) {
                        changed = true;
                        n++;
                    }
                    frames.add(f.withBody(body));
                } else {
                    frames.add(f);
                }
            }
            if (changed) {
                setRecords(c, b.instance(), b.firstSeq(), encode(frames));
            }
        }
        return n;
    }

    /** Replaces the {@code records} of one block, nothing else (an H2 store: PostgreSQL rejects UPDATE). */
    public static void setRecords(Connection c, String instance, long firstSeq, byte[] records) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE audit_block SET records = ? WHERE instance_id = ? AND first_seq = ?")) {
            ps.setBytes(1, records);
            ps.setString(2, instance);
            ps.setLong(3, firstSeq);
            if (ps.executeUpdate() != 1) {
                throw new IllegalStateException("no block " + instance + "#" + firstSeq);
            }
        }
    }

    /**
     * Tampering: removes the records of a chain after {@code lastKept} — whole blocks, and the tail of
     * the block that holds {@code lastKept}, whose columns are set to agree with what is left.
     */
    public static void truncateAfter(Connection c, String instance, long lastKept) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "DELETE FROM audit_block WHERE instance_id = ? AND first_seq > ?")) {
            ps.setString(1, instance);
            ps.setLong(2, lastKept);
            ps.executeUpdate();
        }
        for (Block b : blocks(c, instance)) {
            if (b.lastSeq() <= lastKept) {
                continue;
            }
            List<Frame> kept = b.frames().stream().filter(f -> f.seq() <= lastKept).toList();
            Instant min = kept.stream().map(Frame::at).min(Instant::compareTo).orElseThrow();
            Instant max = kept.stream().map(Frame::at).max(Instant::compareTo).orElseThrow();
            Long pruneTo = null;
            for (Frame f : kept) {
                if ("prune".equals(f.type()) && f.payload().get("firstKept") instanceof Number n) {
                    pruneTo = n.longValue();
                }
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE audit_block SET last_seq = ?, min_at = ?, "
                    + "max_at = ?, prune_to = ?, records = ? WHERE instance_id = ? AND first_seq = ?")) {
                ps.setLong(1, kept.get(kept.size() - 1).seq());
                ps.setObject(2, utc(min));
                ps.setObject(3, utc(max));
                if (pruneTo == null) {
                    ps.setNull(4, Types.BIGINT);
                } else {
                    ps.setLong(4, pruneTo);
                }
                ps.setBytes(5, encode(kept));
                ps.setString(6, instance);
                ps.setLong(7, b.firstSeq());
                ps.executeUpdate();
            }
        }
    }

    /**
     * Appends a block whose columns agree with its records (tests that fill a store directly; the
     * hashes are whatever the caller gives).
     */
    public static void addBlock(PreparedStatement insert, String instance, List<Frame> frames) throws SQLException {
        Instant min = frames.get(0).at();
        Instant max = min;
        for (Frame f : frames) {
            min = f.at().isBefore(min) ? f.at() : min;
            max = f.at().isAfter(max) ? f.at() : max;
        }
        insert.setString(1, instance);
        insert.setLong(2, frames.get(0).seq());
        insert.setLong(3, frames.get(frames.size() - 1).seq());
        insert.setObject(4, utc(min));
        insert.setObject(5, utc(max));
        insert.setNull(6, Types.BIGINT);
        insert.setBytes(7, encode(frames));
        insert.addBatch();
    }

    /** The INSERT that {@link #addBlock} fills. */
    public static final String INSERT = "INSERT INTO audit_block (instance_id, first_seq, last_seq, min_at, max_at, "
            + "prune_to, records) VALUES (?, ?, ?, ?, ?, ?, ?)";

    static OffsetDateTime utc(Instant t) {
        return OffsetDateTime.ofInstant(t, ZoneOffset.UTC);
    }
}
