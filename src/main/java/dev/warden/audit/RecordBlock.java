package dev.warden.audit;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The stored form of the records one commit of the writer appends: one row of {@code audit_block}
 * per block instead of one row per record (docs/audit.md, "Storage"). A block is a format byte
 * followed by frames, one per record, in chain order:
 *
 * <pre>
 *   seq        int64   the record's chain position
 *   atMicros   int64   the record's time, microseconds since the epoch (as in its body)
 *   type       uint8   1 statement, 2 outcome, 3 session, 4 lifecycle, 5 prune, 6 approval, 7 recording
 *   length     int32   length of the body
 *   body       bytes   the canonical JSON envelope that is hashed
 *   prevHash   32      the previous record's hash (genesis: 32 zero bytes)
 *   hash       32      SHA-256(prevHash ‖ body)
 * </pre>
 *
 * All integers big-endian. The header fields repeat what the body says so that readers can skip
 * records without parsing JSON; verification checks that they agree. Storing a batch as one row
 * is what makes the audit cheap: a row per record cost the embedded store ~13 µs of CPU each.
 *
 * <p>Format 2 (the embedded H2 store) is the same frames, zstd-compressed: the byte {@code 0x02}, the
 * frames' length (int32), then one zstd frame. Audit records are JSON that compresses several
 * times; compressing them here costs less CPU than writing them uncompressed or than H2's own page
 * compression (docs/performance.md). PostgreSQL stores format 1 and compresses it itself (TOAST), so
 * that plain SQL can unpack records there (view {@code audit_record_v}).
 */
final class RecordBlock {
    static final byte FORMAT = 1;
    static final byte FORMAT_ZSTD = 2;
    /**
     * zstd level for format 2. Level 1 stores the benchmark's blocks (120-260 records) 18-19 % smaller
     * than the first "fast" level (-1) and costs ~0.1 µs more per record to compress; the audit writer's
     * CPU per record came out the same with either (four alternating pairs, docs/performance.md 18.),
     * since H2 then writes and rewrites fewer bytes. The level is not part of the format: any decoder
     * reads blocks written at any level.
     */
    static final int ZSTD_LEVEL = 1;
    /** A decompressed block larger than this is refused (a tampered length must not exhaust memory). */
    static final int MAX_FRAMES_BYTES = 512 << 20;
    static final int HASH = 32;
    private static final int FRAME_OVERHEAD = 8 + 8 + 1 + 4 + HASH + HASH;
    private static final String[] TYPES = {null, RecordCodec.STATEMENT, RecordCodec.OUTCOME, RecordCodec.SESSION,
            RecordCodec.LIFECYCLE, RecordCodec.PRUNE, RecordCodec.APPROVAL, RecordCodec.RECORDING};

    private RecordBlock() {
    }

    static int typeCode(String type) {
        for (int i = 1; i < TYPES.length; i++) {
            if (TYPES[i].equals(type)) {
                return i;
            }
        }
        throw new IllegalArgumentException("unknown record type " + type);
    }

    static int frameSize(int bodyLength) {
        return FRAME_OVERHEAD + bodyLength;
    }

    /**
     * Encodes records {@code from..to-1} of the writer's list (positions and hashes assigned), using
     * the writer's scratch buffers (one writer thread per store; the result is a fresh array).
     */
    static byte[] encode(List<Pending> records, int from, int to, boolean compress, Scratch scratch) {
        int size = 1;
        for (int i = from; i < to; i++) {
            size += frameSize(records.get(i).body.length);
        }
        byte[] plain = scratch.plain(size);
        ByteBuffer b = ByteBuffer.wrap(plain, 0, size);
        b.put(FORMAT);
        for (int i = from; i < to; i++) {
            Pending p = records.get(i);
            b.putLong(p.seq);
            b.putLong(micros(p.at));
            b.put((byte) typeCode(p.type));
            b.putInt(p.body.length);
            b.put(p.body);
            b.put(p.prev);
            b.put(p.hash);
        }
        if (!compress) {
            return java.util.Arrays.copyOf(plain, size);
        }
        int n = size - 1;
        byte[] out = scratch.compressed(5 + (int) com.github.luben.zstd.Zstd.compressBound(n));
        int z;
        try {
            z = scratch.zstd().compressByteArray(out, 5, out.length - 5, plain, 1, n);
        } catch (com.github.luben.zstd.ZstdException e) {
            throw new IllegalStateException("zstd: " + e.getMessage(), e);
        }
        ByteBuffer.wrap(out).put(FORMAT_ZSTD).putInt(n);
        return java.util.Arrays.copyOf(out, 5 + z);
    }

    /** The writer's reusable buffers for encoding blocks (allocating ~100 KB twice per commit showed in GC). */
    static final class Scratch {
        private byte[] plain = new byte[1 << 16];
        private byte[] compressed = new byte[1 << 16];
        /**
         * The writer's zstd context, kept: the one-shot call made a new context per block, 12 % of a
         * strict writer's samples (one record per block) and 6 % of a batched one's at 1 client.
         */
        private com.github.luben.zstd.ZstdCompressCtx zstd;

        com.github.luben.zstd.ZstdCompressCtx zstd() {
            if (zstd == null) {
                zstd = new com.github.luben.zstd.ZstdCompressCtx().setLevel(ZSTD_LEVEL).setContentSize(true);
            }
            return zstd;
        }

        byte[] plain(int size) {
            if (plain.length < size) {
                plain = new byte[Math.max(size, plain.length * 2)];
            }
            return plain;
        }

        byte[] compressed(int size) {
            if (compressed.length < size) {
                compressed = new byte[Math.max(size, compressed.length * 2)];
            }
            return compressed;
        }

        /** Drops buffers grown by an unusually large block, so one huge statement does not pin memory. */
        void trim() {
            if (plain.length > (8 << 20)) {
                plain = new byte[1 << 16];
            }
            if (compressed.length > (8 << 20)) {
                compressed = new byte[1 << 16];
            }
        }
    }

    /** Format 2 from format 1. */
    static byte[] compress(byte[] plain) {
        int n = plain.length - 1;
        byte[] out = new byte[5 + (int) com.github.luben.zstd.Zstd.compressBound(n)];
        long z = com.github.luben.zstd.Zstd.compressByteArray(out, 5, out.length - 5, plain, 1, n, ZSTD_LEVEL);
        if (com.github.luben.zstd.Zstd.isError(z)) {
            throw new IllegalStateException("zstd: " + com.github.luben.zstd.Zstd.getErrorName(z));
        }
        ByteBuffer.wrap(out).put(FORMAT_ZSTD).putInt(n);
        return java.util.Arrays.copyOf(out, 5 + (int) z);
    }

    /** Encodes stored records (migration, tests), compressed for the embedded store. */
    static byte[] encodeStored(List<StoredRecord> records, boolean compress) {
        byte[] plain = encodeStored(records);
        return compress ? compress(plain) : plain;
    }

    static byte[] encodeStored(List<StoredRecord> records) {
        int size = 1;
        for (StoredRecord r : records) {
            size += frameSize(r.body().length);
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        b.put(FORMAT);
        for (StoredRecord r : records) {
            b.putLong(r.seq());
            b.putLong(micros(r.at()));
            b.put((byte) typeCode(r.type()));
            b.putInt(r.body().length);
            b.put(r.body());
            b.put(r.prevHash());
            b.put(r.hash());
        }
        return b.array();
    }

    /** Decodes a block; throws {@link IllegalArgumentException} saying what is wrong when it is malformed. */
    static List<StoredRecord> decode(String instance, byte[] block) {
        if (block == null || block.length == 0 || (block[0] != FORMAT && block[0] != FORMAT_ZSTD)) {
            throw new IllegalArgumentException("unknown block format");
        }
        ByteBuffer b;
        if (block[0] == FORMAT_ZSTD) {
            if (block.length < 5) {
                throw new IllegalArgumentException("compressed block ends inside its header");
            }
            int n = ByteBuffer.wrap(block, 1, 4).getInt();
            if (n < 0 || n > MAX_FRAMES_BYTES) {
                throw new IllegalArgumentException("compressed block claims " + n + " bytes");
            }
            long stated = com.github.luben.zstd.Zstd.decompressedSize(block, 5, block.length - 5);
            if (stated != n) { // checked before allocating: a tampered length must not cost memory
                throw new IllegalArgumentException("compressed block's frame does not state its stated length");
            }
            byte[] frames = new byte[n];
            long got = com.github.luben.zstd.Zstd.decompressByteArray(frames, 0, n, block, 5, block.length - 5);
            if (com.github.luben.zstd.Zstd.isError(got) || got != n) {
                throw new IllegalArgumentException("compressed block does not decompress to its stated length");
            }
            b = ByteBuffer.wrap(frames);
        } else {
            b = ByteBuffer.wrap(block);
            b.get();
        }
        List<StoredRecord> out = new ArrayList<>();
        while (b.hasRemaining()) {
            if (b.remaining() < FRAME_OVERHEAD) {
                throw new IllegalArgumentException("block ends inside a record header");
            }
            long seq = b.getLong();
            long at = b.getLong();
            int type = b.get() & 0xff;
            int len = b.getInt();
            if (type < 1 || type >= TYPES.length) {
                throw new IllegalArgumentException("record " + seq + " has an unknown type code " + type);
            }
            if (len < 0 || len > b.remaining() - 2 * HASH) {
                throw new IllegalArgumentException("record " + seq + " has a length beyond the block");
            }
            byte[] body = new byte[len];
            b.get(body);
            byte[] prev = new byte[HASH];
            b.get(prev);
            byte[] hash = new byte[HASH];
            b.get(hash);
            out.add(new StoredRecord(instance, seq, instant(at), TYPES[type], body, prev, hash));
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("block holds no records");
        }
        return out;
    }

    static long micros(Instant t) {
        return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1000);
    }

    static Instant instant(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
    }
}
