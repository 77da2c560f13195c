package dev.warden.recording;

import com.github.luben.zstd.Zstd;
import dev.warden.audit.AuditLog;
import dev.warden.audit.AuditSettings;
import dev.warden.audit.RecordingEvent;
import dev.warden.identity.Identity;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Session recording for the whole gateway: hands out a {@link SessionTap} per recorded session and
 * runs the one writer thread that compresses pages (zstd, one frame per page), appends them to the
 * session's current chunk file, and seals chunks — fsync, SHA-256 into the audit chain as a
 * "recording" record, then a row in the index. Nothing here runs on an event loop except the
 * budget accounting the taps call.
 *
 * <p>Why a shared byte budget rather than a queue length: a page is 64 KiB whatever it holds, and
 * what must stay bounded is memory. The taps reserve pages before copying; the writer releases them
 * once written. Under {@code fail-closed} the gateway refuses new statements while the writer is
 * failing or stuck, and while a working writer is behind, sessions stop reading results from
 * PostgreSQL (backpressure) instead of having anything refused or dropped; statements are refused for
 * that only when the buffer is all but full anyway. Under {@code drop-and-mark} nothing is refused or
 * slowed, and what does not fit is dropped and marked.
 *
 * <p>One file on purpose: capture, the shared memory budget and the writer thread hand pages to each
 * other under one lock discipline; the index, chunk format, replay and export are separate classes.
 */
public final class Recorder implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("dev.warden.recording");
    public static final String UNAVAILABLE_WRITE = "recording is unavailable: session recordings cannot be written "
            + "right now; the statement was not run";
    public static final String UNAVAILABLE_STUCK = "recording is unavailable: the recording writer is not making "
            + "progress; the statement was not run";
    public static final String UNAVAILABLE_BEHIND = "recording is unavailable: the recording writer cannot keep up; "
            + "the statement was not run";
    public static final String UNAVAILABLE_CLOSED = "recording is unavailable: Warden is shutting down; the statement "
            + "was not run";

    /** Pages and session starts/ends, in the order the taps produced them. */
    sealed interface Item permits Page, Start, End {
    }

    /** A page of entries; {@code budget} bytes go back to the budget once it is written. */
    record Page(SessionState s, byte[] data, int len, int messages, long first, long last, boolean boundary,
                long gapMessages, long gapBytes, long budget) implements Item {
    }

    record Start(SessionState s, RecordingIndex.SessionRow row) implements Item {
    }

    record End(SessionState s, long statements, long dropped, Instant at) implements Item {
    }

    /** What the writer knows about one session (writer thread only, apart from the final fields). */
    static final class SessionState {
        final String instance;
        final String session;
        final String target;
        int chunk = 1;
        long fileLength;
        long rawFrom;
        long rawBytes;
        long storedBytes;
        long messages;
        long first;
        long last;
        long gaps;
        long gapMessages;
        long gapBytes;
        boolean boundary = true;
        long openedNanos;
        MessageDigest sha;
        Seal pending;
        int sealed;
        long totalMessages;
        boolean started;
        /** The session's chunk directory, and whether the writer has made sure it exists. */
        Path dir;
        boolean dirMade;
        /** The current chunk's file was created by the writer (later pages append to it). */
        boolean fileCreated;

        SessionState(String instance, String session, String target) {
            this.instance = instance;
            this.session = session;
            this.target = target;
        }

        boolean hasData() {
            return rawBytes > 0;
        }
    }

    /** A chunk that is closed on disk and whose audit record and index row may still be missing. */
    static final class Seal {
        final RecordingIndex.ChunkRow row;
        final Map<String, Object> detail;
        long auditSeq;
        boolean indexed;

        Seal(RecordingIndex.ChunkRow row, Map<String, Object> detail) {
            this.row = row;
            this.detail = detail;
        }
    }

    /** For health checks and tests. */
    public record Health(boolean available, String problem, long bufferedBytes, long droppedMessages,
                         long chunksSealed) {
    }

    private final RecordingSettings settings;
    private final RecordingIndex index;
    private final AuditLog audit;
    private final String instance;
    private final Clock clock;
    private final long baseMicros;
    private final long baseNanos;
    private final AtomicLong buffered = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong chunksSealed = new AtomicLong();
    private final LinkedBlockingQueue<Item> queue = new LinkedBlockingQueue<>();
    private final Set<SessionTap> congested = ConcurrentHashMap.newKeySet();
    private final Map<String, SessionState> open = new HashMap<>();
    private final ScheduledExecutorService retention;
    private final Thread writer;
    private final byte[] ioBuffer;
    private volatile String failure;
    private volatile long busySince;
    private volatile boolean closing;
    private volatile boolean stopped;

    private Recorder(RecordingSettings settings, RecordingIndex index, AuditLog audit, Clock clock) {
        this.settings = settings;
        this.index = index;
        this.audit = audit;
        this.instance = audit.instanceId();
        this.clock = clock;
        Instant now = clock.instant();
        this.baseMicros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
        this.baseNanos = System.nanoTime();
        this.ioBuffer = new byte[(int) Zstd.compressBound(SessionTap.PAGE)];
        this.writer = new Thread(this::writeLoop, "warden-recording-writer");
        this.writer.setDaemon(true);
        this.retention = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "warden-recording-retention");
            t.setDaemon(true);
            return t;
        });
    }

    /** Opens the index (migrating it) in the audit's control store and starts the writer and retention. */
    public static Recorder start(RecordingSettings settings, AuditSettings.Store store, AuditLog audit, Clock clock)
            throws SQLException, IOException {
        Files.createDirectories(settings.directory());
        RecordingIndex index = new RecordingIndex(store, "warden-recording-" + audit.instanceId());
        try {
            index.migrate();
        } catch (SQLException | RuntimeException e) {
            index.close();
            throw e;
        }
        Recorder r = new Recorder(settings, index, audit, clock);
        r.writer.start();
        r.retention.scheduleWithFixedDelay(r::pruneQuietly, 30, 6 * 3600, TimeUnit.SECONDS);
        LOG.info("recording sessions to {} (overflow {}, buffer {} MiB)", settings.directory(),
                settings.overflow().name().toLowerCase().replace('_', '-'), settings.bufferBytes() >> 20);
        return r;
    }

    public RecordingSettings settings() {
        return settings;
    }

    public RecordingIndex index() {
        return index;
    }

    public String instanceId() {
        return instance;
    }

    /**
     * A tap for a session that just logged in, or null when its target is not recorded (the relay then
     * pays one null check per message). {@code resume} runs on {@code loop} when a congested writer has
     * caught up. {@code nanoClock} times the entries: the session's {@link System#nanoTime()} reading for
     * the network read in progress, so the messages of one read share one clock read.
     */
    public SessionTap open(String sessionId, EventExecutor loop, Identity who, String target, String client,
                           Runnable resume, java.util.function.LongSupplier nanoClock) {
        if (!settings.records(target) || stopped) {
            return null;
        }
        SessionState s = new SessionState(instance, sessionId, target);
        RecordingIndex.SessionRow row = new RecordingIndex.SessionRow(instance, sessionId, target,
                who == null ? null : who.grant(), who == null ? null : who.kind().name().toLowerCase(),
                who == null ? null : who.subject(), who == null ? null : who.ci("repository"),
                who == null ? null : who.ci("runId"), client, clock.instant(), null, 0, 0, 0, 0, 0);
        queue.add(new Start(s, row));
        return new SessionTap(this, s, loop, resume, nanoClock);
    }

    /** Microseconds since the epoch at {@code nanoTime} (a {@link System#nanoTime()} reading). */
    long micros(long nanoTime) {
        return baseMicros + (nanoTime - baseNanos) / 1000;
    }

    boolean reserve(long bytes) {
        while (true) {
            long b = buffered.get();
            if (b + bytes > settings.bufferBytes()) {
                return false;
            }
            if (buffered.compareAndSet(b, b + bytes)) {
                return true;
            }
        }
    }

    void releaseReserved(long bytes) {
        if (bytes > 0) {
            release(bytes);
        }
    }

    private void release(long bytes) {
        long now = buffered.addAndGet(-bytes);
        if (now <= settings.bufferBytes() / 2 && !congested.isEmpty()) {
            for (Iterator<SessionTap> it = congested.iterator(); it.hasNext(); ) {
                SessionTap t = it.next();
                it.remove();
                t.resume();
            }
        }
    }

    void dropped() {
        if (dropped.incrementAndGet() % 10_000 == 1) {
            LOG.warn("recording buffer full: messages are dropped and marked as gaps ({} so far; overflow {})",
                    dropped.get(), settings.overflow().name().toLowerCase().replace('_', '-'));
        }
    }

    void submit(Item item) {
        queue.add(item);
    }

    void ended(SessionState s, long statements, long droppedMessages) {
        queue.add(new End(s, statements, droppedMessages, clock.instant()));
    }

    boolean congested(SessionTap tap) {
        if (settings.overflow() != RecordingSettings.Overflow.FAIL_CLOSED) {
            return false;
        }
        // only a writer that is making progress is waited for: with a failed writer a paused session would
        // hang until an operator repairs the storage; it was admitted before the failure, so its results
        // flow on (marked as a gap if the buffer runs out) while new statements are refused
        if (failure == null && buffered.get() > settings.bufferBytes() * 3 / 4) {
            congested.add(tap);
            // the writer may have caught up between the check and the add
            if (buffered.get() <= settings.bufferBytes() / 2 && congested.remove(tap)) {
                return false;
            }
            return true;
        }
        return false;
    }

    /** Why new statements must be refused (fail-closed only), or null when recording is keeping up. */
    public String unavailable() {
        if (settings.overflow() != RecordingSettings.Overflow.FAIL_CLOSED) {
            return null;
        }
        return problem();
    }

    private String problem() {
        if (closing) {
            return UNAVAILABLE_CLOSED;
        }
        if (failure != null) {
            return UNAVAILABLE_WRITE;
        }
        long busy = busySince;
        if (busy != 0 && System.nanoTime() - busy > settings.stallTimeout().toNanos()) {
            return UNAVAILABLE_STUCK;
        }
        // merely behind is handled by backpressure (sessions stop reading results); refuse only when that
        // has not held the buffer (messages from clients, many sessions at once)
        if (buffered.get() > settings.bufferBytes() - settings.bufferBytes() / 16) {
            return UNAVAILABLE_BEHIND;
        }
        return null;
    }

    public Health health() {
        String p = problem();
        return new Health(p == null, failure != null ? failure : p, buffered.get(), dropped.get(), chunksSealed.get());
    }

    // ---------------------------------------------------------------- writer thread

    private void writeLoop() {
        Item current = null;
        long backoff = 50;
        while (true) {
            try {
                if (current == null) {
                    if (closing && queue.isEmpty()) {
                        sealAll();
                        break;
                    }
                    current = queue.poll(100, TimeUnit.MILLISECONDS);
                }
                busySince = System.nanoTime();
                if (current != null) {
                    process(current);
                    current = null;
                }
                sealOld();
                busySince = 0;
                if (failure != null) {
                    LOG.info("recording writer recovered");
                    failure = null;
                    for (SessionTap t : List.copyOf(congested)) {
                        congested.remove(t);
                        t.resume();
                    }
                }
                backoff = 50;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (Exception e) {
                busySince = 0;
                String why = e.getClass().getSimpleName() + ": " + e.getMessage();
                if (failure == null) {
                    LOG.error("recording writer failed, retrying: {}", why);
                }
                failure = why;
                if (closing && System.nanoTime() - closeStarted > TimeUnit.SECONDS.toNanos(10)) {
                    LOG.error("recording writer gives up at shutdown: {} item(s) not written", queue.size() + 1);
                    break;
                }
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
                backoff = Math.min(1000, backoff * 2);
            }
        }
        stopped = true;
    }

    private void process(Item item) throws IOException, SQLException {
        if (item instanceof Start st) {
            if (!st.s().started) {
                index.sessionStarted(st.row());
                st.s().started = true;
                open.put(st.s().session, st.s());
            }
        } else if (item instanceof Page p) {
            writePage(p);
        } else if (item instanceof End e) {
            SessionState s = e.s();
            finishPending(s);
            if (s.hasData()) {
                seal(s);
            }
            index.sessionProgress(s.instance, s.session, e.at(), e.statements(), s.sealed, s.totalMessages,
                    s.rawFrom, e.dropped());
            open.remove(s.session);
        }
    }

    private void writePage(Page p) throws IOException, SQLException {
        SessionState s = p.s();
        finishPending(s);
        if (p.data() != null && p.len() > 0 && !written.containsKey(p)) {
            int n = (int) Zstd.compressByteArray(ioBuffer, 0, ioBuffer.length, p.data(), 0, p.len(), settings.level());
            if (Zstd.isError(n)) {
                throw new IOException("zstd: " + Zstd.getErrorName(n));
            }
            if (s.dir == null) {
                s.dir = ChunkFiles.sessionDir(settings.directory(), s.instance, s.session);
            }
            if (!s.dirMade) { // once per session, not per page: it was a mkdir and a thrown exception each time
                realDirectory(s.dir.getParent());
                realDirectory(s.dir);
                s.dirMade = true;
            }
            Path file = s.dir.resolve(ChunkFiles.chunkName(s.chunk));
            try {
                append(file, s, n);
            } catch (java.nio.file.NoSuchFileException gone) { // the directory was removed meanwhile
                realDirectory(s.dir.getParent());
                realDirectory(s.dir);
                s.fileCreated = false;
                append(file, s, n);
            }
            if (s.sha == null) {
                s.sha = sha();
                s.openedNanos = System.nanoTime();
                s.first = p.first();
            }
            s.sha.update(ioBuffer, 0, n);
            s.fileLength += n;
            s.storedBytes += n;
            s.rawBytes += p.len();
            s.messages += p.messages();
            s.totalMessages += p.messages();
            s.last = p.last();
            if (p.gapMessages() > 0) {
                s.gaps++;
                s.gapMessages += p.gapMessages();
                s.gapBytes += p.gapBytes();
            }
            s.boundary = p.boundary();
            written.put(p, Boolean.TRUE);
        }
        if (s.boundary && s.rawBytes >= settings.chunkBytes()) {
            seal(s);
        }
        if (written.remove(p) != null || p.data() == null) {
            release(p.budget());
        }
    }

    /**
     * Writes the first {@code n} bytes of the I/O buffer to the session's current chunk file at its
     * length. The chunk's first write creates the file (never opens one that exists: see
     * {@link #createChunk}); no open follows a symbolic link.
     */
    private void append(Path file, SessionState s, int n) throws IOException {
        long at = s.fileLength;
        FileChannel opened;
        if (s.fileCreated) {
            opened = FileChannel.open(file, StandardOpenOption.WRITE, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        } else {
            opened = createChunk(file);
            s.fileCreated = true;
        }
        try (FileChannel ch = opened) {
            if (ch.size() != at) {
                ch.truncate(at); // a write that failed half-way is written again from its start
            }
            ch.position(at);
            ByteBuffer b = ByteBuffer.wrap(ioBuffer, 0, n);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }
    }

    /**
     * Creates a chunk file that must not exist yet. Session ids are predictable, so someone who can
     * write the recordings directory could have put a file or a symbolic link (to the audit store, say)
     * where the next chunk goes; opening it would truncate and overwrite its target. What is there is
     * moved aside ({@code <name>.foreign-<millis>}, the link itself, not what it points to), logged, and
     * left for {@code audit verify} to report; the chunk is then created anew.
     */
    private static FileChannel createChunk(Path file) throws IOException {
        try {
            return FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.FileAlreadyExistsException planted) {
            setAside(file);
            return FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS);
        }
    }

    /**
     * Makes sure {@code dir} is a directory and not a symbolic link (anything else there is moved aside
     * as in {@link #createChunk}), creating it if needed.
     */
    private static void realDirectory(Path dir) throws IOException {
        if (Files.isSymbolicLink(dir) || (Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                && !Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS))) {
            setAside(dir);
        }
        Files.createDirectories(dir);
        if (!Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("recording directory " + dir + " is not a plain directory (replaced while Warden "
                    + "created it?)");
        }
    }

    private static Path setAside(Path p) throws IOException {
        Path aside = p.resolveSibling(p.getFileName() + ".foreign-" + System.currentTimeMillis());
        Files.move(p, aside, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        LOG.error("recording: {} was there before Warden wrote it ({}); it is not written through and is kept as {} — "
                + "someone with write access to the recordings directory planted it, or another process uses the "
                + "directory; run ./warden audit verify and find out who", p,
                Files.isSymbolicLink(aside) ? "a symbolic link to " + Files.readSymbolicLink(aside) : "not made by Warden",
                aside);
        return aside;
    }

    /** Pages already appended whose item failed later (sealing): not written twice when retried. */
    private final Map<Page, Boolean> written = new java.util.IdentityHashMap<>();

    private void sealOld() throws IOException, SQLException {
        long limit = settings.chunkInterval().toNanos();
        for (SessionState s : List.copyOf(open.values())) {
            finishPending(s);
            if (s.hasData() && s.boundary && System.nanoTime() - s.openedNanos >= limit) {
                seal(s);
            }
        }
    }

    private void sealAll() throws IOException, SQLException {
        for (SessionState s : List.copyOf(open.values())) {
            finishPending(s);
            if (s.hasData() && s.boundary) {
                seal(s);
            }
        }
    }

    private void seal(SessionState s) throws IOException, SQLException {
        Path file = ChunkFiles.path(settings.directory(), s.instance, s.session, s.chunk);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            ch.force(true);
        }
        String hash = HexFormat.of().formatHex(s.sha.digest());
        Instant first = instant(s.first);
        Instant last = instant(s.last);
        long rawTo = s.rawFrom + s.rawBytes;
        Map<String, Object> d = new TreeMap<>();
        d.put("chunk", (long) s.chunk);
        d.put("rawFrom", s.rawFrom);
        d.put("rawTo", rawTo);
        d.put("messages", s.messages);
        d.put("bytes", s.storedBytes);
        d.put("sha256", hash);
        d.put("first", first);
        d.put("last", last);
        if (s.gaps > 0) {
            d.put("gaps", s.gaps);
            d.put("droppedMessages", s.gapMessages);
            d.put("droppedBytes", s.gapBytes);
        }
        RecordingIndex.ChunkRow row = new RecordingIndex.ChunkRow(s.instance, s.session, s.chunk,
                settings.directory().relativize(file).toString(), first, last, s.rawFrom, rawTo, s.messages,
                s.storedBytes, hash, 0, s.gaps, s.gapMessages, null);
        s.pending = new Seal(row, d);
        s.sealed = s.chunk;
        s.chunk++;
        s.fileCreated = false;
        s.fileLength = 0;
        s.rawFrom = rawTo;
        s.rawBytes = 0;
        s.storedBytes = 0;
        s.messages = 0;
        s.gaps = 0;
        s.gapMessages = 0;
        s.gapBytes = 0;
        s.sha = null;
        chunksSealed.incrementAndGet();
        finishPending(s);
    }

    /** The audit record and the index row of a sealed chunk, retried until both are in. */
    private void finishPending(SessionState s) throws SQLException, IOException {
        Seal seal = s.pending;
        if (seal == null) {
            return;
        }
        if (seal.auditSeq == 0) {
            try {
                seal.auditSeq = audit.recordingEvent(new RecordingEvent("chunk", clock.instant(), s.session, s.target,
                        seal.detail)).get(settings.stallTimeout().toMillis() + 5000, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while recording chunk " + seal.row.chunk() + " in the audit");
            } catch (Exception e) {
                Throwable c = e.getCause() != null ? e.getCause() : e;
                throw new IOException("the audit did not take the hash of chunk " + seal.row.chunk() + " of session "
                        + s.session + ": " + c.getMessage(), e);
            }
        }
        if (!seal.indexed) {
            RecordingIndex.ChunkRow r = seal.row;
            index.chunkSealed(new RecordingIndex.ChunkRow(r.instance(), r.session(), r.chunk(), r.path(), r.first(),
                    r.last(), r.rawFrom(), r.rawTo(), r.messages(), r.bytes(), r.sha256(), seal.auditSeq, r.gaps(),
                    r.droppedMessages(), null));
            seal.indexed = true;
            index.sessionProgress(s.instance, s.session, null, 0, s.sealed, s.totalMessages, s.rawFrom, 0);
        }
        s.pending = null;
    }

    private Instant instant(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
    }

    private static MessageDigest sha() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------- retention

    private void pruneQuietly() {
        try {
            prune();
        } catch (Exception e) {
            LOG.warn("recording retention failed (retried in 6 h): {}", e.toString());
        }
    }

    /**
     * Deletes the chunks whose last message is older than their target's retention. Each session's
     * pruning is an audit record (durable before any file goes), so verification can tell a pruned
     * chunk from a deleted one. Returns how many chunks were pruned.
     */
    public synchronized int prune() throws SQLException, IOException {
        int pruned = 0;
        Instant now = clock.instant();
        for (String target : index.targets()) {
            Duration keep = settings.retentionOf(target);
            Instant cutoff = now.minus(keep);
            List<RecordingIndex.ChunkRow> expired = index.expired(target, cutoff, 10_000);
            Map<String, List<RecordingIndex.ChunkRow>> bySession = new LinkedHashMap<>();
            for (RecordingIndex.ChunkRow c : expired) {
                if (c.instance().equals(instance)) {
                    bySession.computeIfAbsent(c.session(), k -> new ArrayList<>()).add(c);
                }
            }
            for (Map.Entry<String, List<RecordingIndex.ChunkRow>> e : bySession.entrySet()) {
                List<Long> numbers = e.getValue().stream().map(c -> (long) c.chunk()).toList();
                Map<String, Object> d = new TreeMap<>();
                d.put("chunks", numbers);
                d.put("retention", keep.toString());
                d.put("cutoff", cutoff);
                try {
                    audit.recordingEvent(new RecordingEvent("prune", now, e.getKey(), target, d))
                            .get(settings.stallTimeout().toMillis() + 5000, TimeUnit.MILLISECONDS);
                } catch (Exception ex) {
                    throw new IOException("the audit did not take the pruning of session " + e.getKey() + ": "
                            + ex.getMessage(), ex);
                }
                for (RecordingIndex.ChunkRow c : e.getValue()) {
                    // the path is Warden's own naming, not the index's stored path (the index is not trusted)
                    Files.deleteIfExists(ChunkFiles.path(settings.directory(), c.instance(), c.session(), c.chunk()));
                    index.chunkPruned(c.instance(), c.session(), c.chunk(), now);
                    pruned++;
                }
                LOG.info("recording retention: pruned {} chunk(s) of session {} (target {}, older than {})",
                        numbers.size(), e.getKey(), target, keep);
            }
        }
        return pruned;
    }

    // ---------------------------------------------------------------- shutdown

    private volatile long closeStarted;

    /** Waits until everything queued so far is written and sealed (tests, shutdown). */
    public boolean drain(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (queue.isEmpty() && busySince == 0 && failure == null) {
                // one more round so that an item taken just now is done
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
                if (queue.isEmpty() && busySince == 0 && failure == null) {
                    return true;
                }
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    /** Writes what is queued, seals every open chunk (sessions are closed before this), stops. Before the audit closes. */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        closeStarted = System.nanoTime();
        closing = true;
        retention.shutdownNow();
        try {
            writer.join(TimeUnit.SECONDS.toMillis(15));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (writer.isAlive()) {
            writer.interrupt();
        }
        index.close();
    }
}
