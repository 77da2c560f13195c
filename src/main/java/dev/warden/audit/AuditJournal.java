package dev.warden.audit;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded H2 store's write-ahead journal: an append-only file next to the store
 * ({@code audit.journal} beside {@code audit.mv.db}) that makes each batch window durable with one
 * {@code write} instead of one H2 commit.
 *
 * <p>Why: every H2 commit writes a new chunk holding the changed leaf and the whole right-most path
 * of each of the table's three B-trees plus H2's layout map (~20 pages, ~8 KB of its own pages per
 * commit, measured with {@code MVStoreTool -dump}), which at 1 client and a 5 ms window was most of
 * the writer's CPU (docs/performance.md, "22."). With the journal the writer appends each window's
 * encoded blocks and checkpoints here (the same bytes the table will hold) and inserts them into H2
 * in one transaction per {@code audit.syncInterval}, right before it forces H2's file to disk; then
 * the journal is emptied. A journal write reaches the operating system before the batch counts as
 * durable, exactly as an H2 commit with {@code WRITE_DELAY=0} did, so a killed process loses nothing
 * that was reported durable, and a power loss at most the last sync interval, as before.
 *
 * <p>Entry: {@code magic(4) length(4) crc32c(4) body(length)}; the body holds the blocks
 * (instance, first and last position, earliest and latest time, prune mark, block bytes) and the
 * checkpoints (all their fields). {@link #replay} runs before the store is used (Warden's start and
 * the CLI's tools): it inserts what the store does not hold yet, and only where it continues the
 * chain, so a stale or torn tail (a crash inside a write) is never applied; the records themselves
 * are verified by {@code audit verify} like any other.
 *
 * <p>One file on purpose: the entry format is written ({@link #append}) and read ({@link #replay})
 * here and nowhere else, so that the two cannot drift apart.
 */
final class AuditJournal implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AuditJournal.class);
    static final int MAGIC = 0x574a4e31; // "WJN1"
    private static final int HEADER = 12;
    /** Largest body accepted when reading (a longer stated length is a torn or foreign entry). */
    static final int MAX_ENTRY = 256 << 20;

    private final Path path;
    private final FileChannel channel;
    /** Held while the writer uses the journal: {@link #replay} leaves a journal in use alone. */
    private final java.nio.channels.FileLock lock;
    private final CRC32C crc = new CRC32C();
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(1 << 14);
    private long size;

    private AuditJournal(Path path, FileChannel channel, java.nio.channels.FileLock lock) throws IOException {
        this.path = path;
        this.channel = channel;
        this.lock = lock;
        this.size = channel.size();
    }

    /** The journal file of an embedded H2 file store ({@code <file>.journal}), or null for other stores. */
    static Path pathFor(AuditSettings.Store store) {
        String prefix = "jdbc:h2:file:";
        if (!store.url().startsWith(prefix)) {
            return null;
        }
        String rest = store.url().substring(prefix.length());
        int semi = rest.indexOf(';');
        return Path.of((semi < 0 ? rest : rest.substring(0, semi)) + ".journal");
    }

    /** Opens (creating) the journal for appending; call {@link #replay} first. */
    static AuditJournal open(Path path) throws IOException {
        if (!Files.exists(path)) {
            try { // records are in it: readable by Warden's user only (where the file system has POSIX modes)
                Files.createFile(path, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                Files.createFile(path);
            }
        }
        FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        java.nio.channels.FileLock lock = tryLock(ch);
        if (lock == null) {
            ch.close();
            throw new IOException("the audit journal " + path + " is in use by another Warden");
        }
        AuditJournal j = new AuditJournal(path, ch, lock);
        ch.position(j.size);
        return j;
    }

    /** An exclusive lock on the whole file, or null when another holder (this process or another) has one. */
    private static java.nio.channels.FileLock tryLock(FileChannel ch) throws IOException {
        try {
            return ch.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            return null;
        }
    }

    Path path() {
        return path;
    }

    /**
     * Appends one entry. On failure the file is cut back to where it was, so that a later entry is
     * not hidden behind a torn one; if even that fails the journal is unusable and this throws
     * {@link Broken}.
     */
    void append(List<StoreSql.BlockRow> rows, List<Checkpoint> cps) throws IOException {
        bytes.reset();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(MAGIC);
        out.writeInt(0);
        out.writeInt(0);
        out.writeInt(rows.size());
        for (StoreSql.BlockRow r : rows) {
            out.writeUTF(r.instance());
            out.writeLong(r.firstSeq());
            out.writeLong(r.lastSeq());
            writeInstant(out, r.minAt());
            writeInstant(out, r.maxAt());
            out.writeBoolean(r.pruneTo() != null);
            out.writeLong(r.pruneTo() == null ? 0 : r.pruneTo());
            writeBytes(out, r.records());
        }
        out.writeInt(cps.size());
        for (Checkpoint cp : cps) {
            out.writeUTF(cp.instanceId());
            out.writeLong(cp.number());
            out.writeLong(cp.seq());
            writeBytes(out, cp.head());
            writeInstant(out, cp.time());
            out.writeUTF(cp.keyId());
            writeBytes(out, cp.body());
            writeBytes(out, cp.signature());
        }
        out.flush();
        ByteBuffer b = ByteBuffer.wrap(bytes.toByteArray());
        int bodyLen = b.limit() - HEADER;
        crc.reset();
        crc.update(b.array(), HEADER, bodyLen);
        b.putInt(4, bodyLen).putInt(8, (int) crc.getValue());
        long before = size;
        try {
            while (b.hasRemaining()) {
                channel.write(b);
            }
            size = before + b.limit();
        } catch (IOException e) {
            try {
                channel.truncate(before);
                channel.position(before);
            } catch (IOException again) {
                e.addSuppressed(again);
                throw new Broken("the audit journal " + path + " could not be written nor cut back", e);
            }
            throw e;
        }
        if (bytes.size() > (4 << 20)) {
            bytes.reset();
        }
    }

    /** Empties the journal: everything in it is in the store and the store's file is on disk. */
    void reset() throws IOException {
        channel.truncate(0);
        channel.position(0);
        size = 0;
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            LOG.warn("audit journal {}: close failed: {}", path, e.toString());
        }
    }

    /** The journal cannot be written and could not be cut back after a failed write. */
    static final class Broken extends IOException {
        Broken(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static void writeInstant(DataOutputStream out, Instant t) throws IOException {
        out.writeLong(t.getEpochSecond());
        out.writeInt(t.getNano());
    }

    private static Instant readInstant(DataInputStream in) throws IOException {
        return Instant.ofEpochSecond(in.readLong(), in.readInt());
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    private static byte[] readBytes(DataInputStream in, int limit) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > limit) {
            throw new IOException("a field states " + n + " bytes");
        }
        return in.readNBytes(n);
    }

    /** What a replay did. */
    record Replay(int entries, int blocksApplied, long recordsApplied, int checkpointsApplied, long tornBytes,
                  String rejected) {
    }

    /**
     * Applies the journal at {@code path} to the store behind {@code c} (its own transaction), forces
     * the store's file to disk and empties the journal. Applies a block only where it continues its
     * chain (the next position, and its first record links to the stored head's hash) and a
     * checkpoint only as the next number at a stored position; entries the store holds already are
     * skipped. Replay stops at a torn entry (a crash inside a write: expected, those records were
     * never reported durable) and at anything that does not continue the chain; in that last case
     * the journal is kept beside the store as {@code <journal>.rejected-<millis>} for inspection.
     * A missing or empty journal does nothing.
     */
    static Replay replay(Connection c, Path path, StoreSql sql) throws IOException, SQLException {
        if (path == null || !Files.exists(path) || Files.size(path) == 0) {
            return null;
        }
        try (FileChannel held = FileChannel.open(path, StandardOpenOption.WRITE)) {
            java.nio.channels.FileLock lock = tryLock(held);
            if (lock == null) {
                // a running Warden's (a tool reaching its store through H2's server mode): its writer stores
                // what it journaled within its sync interval, and only it may empty the journal
                LOG.info("audit journal {} is in use by a running Warden; not applied", path);
                return null;
            }
            try {
                return replayLocked(c, path, sql, held);
            } finally {
                lock.release();
            }
        }
    }

    private static Replay replayLocked(Connection c, Path path, StoreSql sql, FileChannel held)
            throws IOException, SQLException {
        long fileSize = Files.size(path);
        Map<String, long[]> seqs = new HashMap<>();       // instance -> {seq, checkpoint number}
        Map<String, byte[]> hashes = new HashMap<>();
        int entries = 0;
        int blocks = 0;
        long records = 0;
        int cpsApplied = 0;
        long consumed = 0;
        String rejected = null;
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(path), 1 << 16)) {
            DataInputStream in = new DataInputStream(raw);
            CRC32C check = new CRC32C();
            outer:
            while (true) {
                byte[] header = in.readNBytes(HEADER);
                if (header.length < HEADER) {
                    break;
                }
                ByteBuffer h = ByteBuffer.wrap(header);
                int magic = h.getInt();
                int len = h.getInt();
                int sum = h.getInt();
                if (magic != MAGIC || len < 8 || len > MAX_ENTRY || len > fileSize - consumed - HEADER) {
                    break;
                }
                byte[] body = in.readNBytes(len);
                check.reset();
                check.update(body, 0, body.length);
                if (body.length < len || (int) check.getValue() != sum) {
                    break;
                }
                consumed += HEADER + len;
                entries++;
                List<StoreSql.BlockRow> rows = new ArrayList<>();
                List<Checkpoint> cps = new ArrayList<>();
                try {
                    parse(body, rows, cps);
                } catch (IOException | RuntimeException bad) {
                    // its checksum matched, so it was written so: not a torn write but a foreign or changed entry
                    rejected = "entry " + entries + " is malformed (" + bad + ")";
                    break;
                }
                List<StoreSql.BlockRow> apply = new ArrayList<>();
                for (StoreSql.BlockRow r : rows) {
                    long[] head = head(c, sql, r.instance(), seqs, hashes);
                    if (r.lastSeq() <= head[0]) {
                        continue; // stored already
                    }
                    List<StoredRecord> rs;
                    try {
                        rs = RecordBlock.decode(r.instance(), r.records());
                    } catch (IllegalArgumentException bad) {
                        rejected = "block " + r.firstSeq() + ".." + r.lastSeq() + " of " + r.instance() + ": " + bad.getMessage();
                        break outer;
                    }
                    StoredRecord first = rs.get(0);
                    StoredRecord last = rs.get(rs.size() - 1);
                    if (r.firstSeq() != head[0] + 1 || first.seq() != r.firstSeq() || last.seq() != r.lastSeq()
                            || !Arrays.equals(first.prevHash(), hashes.get(r.instance()))) {
                        rejected = "block " + r.firstSeq() + ".." + r.lastSeq() + " of " + r.instance()
                                + " does not continue the stored chain, which ends at record " + head[0];
                        break outer;
                    }
                    apply.add(r);
                    head[0] = r.lastSeq();
                    hashes.put(r.instance(), last.hash());
                    blocks++;
                    records += rs.size();
                }
                List<Checkpoint> applyCps = new ArrayList<>();
                for (Checkpoint cp : cps) {
                    long[] head = head(c, sql, cp.instanceId(), seqs, hashes);
                    if (cp.number() <= head[1]) {
                        continue;
                    }
                    if (cp.number() != head[1] + 1 || cp.seq() > head[0]) {
                        rejected = "checkpoint " + cp.number() + " of " + cp.instanceId() + " does not follow the stored "
                                + "checkpoint " + head[1];
                        break outer;
                    }
                    applyCps.add(cp);
                    head[1] = cp.number();
                    cpsApplied++;
                }
                StoreSql.insertRows(c, apply, applyCps);
            }
            c.commit();
        } catch (SQLException | IOException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
        MVStore mv = EmbeddedCompaction.mvStore(c);
        if (mv != null) {
            mv.sync(); // what was applied is on disk before the journal goes
        }
        long torn = fileSize - consumed;
        if (rejected != null) {
            Path aside = path.resolveSibling(path.getFileName() + ".rejected-" + System.currentTimeMillis());
            Files.move(path, aside, StandardCopyOption.REPLACE_EXISTING);
            LOG.error("audit journal {}: replay stopped: {}; {} entries applied before it; the journal is kept as {} "
                    + "(run ./warden audit verify)", path, rejected, entries, aside);
            rejected = rejected + " (kept as " + aside + ")";
        } else {
            held.truncate(0);
            held.force(true);
            if (torn > 0) {
                LOG.warn("audit journal {}: {} bytes at its end were a partly written entry (the process stopped "
                        + "inside a write; those records were never reported durable) and were dropped", path, torn);
            }
        }
        if (blocks > 0 || cpsApplied > 0) {
            LOG.warn("audit journal {}: the previous run stopped before storing its last records; applied {} records "
                    + "in {} blocks and {} checkpoints from the journal", path, records, blocks, cpsApplied);
        }
        return new Replay(entries, blocks, records, cpsApplied, rejected != null ? 0 : torn, rejected);
    }

    private static void parse(byte[] body, List<StoreSql.BlockRow> rows, List<Checkpoint> cps) throws IOException {
        DataInputStream e = new DataInputStream(new java.io.ByteArrayInputStream(body));
        int nRows = e.readInt();
        for (int i = 0; i < nRows; i++) {
            rows.add(new StoreSql.BlockRow(e.readUTF(), e.readLong(), e.readLong(), readInstant(e),
                    readInstant(e), e.readBoolean() ? Long.valueOf(e.readLong()) : skipLong(e),
                    readBytes(e, MAX_ENTRY)));
        }
        int nCps = e.readInt();
        for (int i = 0; i < nCps; i++) {
            cps.add(new Checkpoint(e.readUTF(), e.readLong(), e.readLong(), readBytes(e, 64),
                    readInstant(e), e.readUTF(), readBytes(e, MAX_ENTRY), readBytes(e, 1024)));
        }
        if (e.available() > 0) {
            throw new IOException(e.available() + " bytes after the entry's last field");
        }
    }

    private static Long skipLong(DataInputStream e) throws IOException {
        e.readLong();
        return null;
    }

    private static long[] head(Connection c, StoreSql sql, String instance, Map<String, long[]> seqs,
                               Map<String, byte[]> hashes) throws SQLException {
        long[] h = seqs.get(instance);
        if (h == null) {
            StoreSql.Head head = sql.head(c, instance);
            h = new long[] {head.seq(), head.checkpointNumber()};
            seqs.put(instance, h);
            hashes.put(instance, head.hash());
        }
        return h;
    }
}
