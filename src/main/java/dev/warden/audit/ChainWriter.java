package dev.warden.audit;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single writer of one instance's chain: takes records off the queue in order, gives each its
 * position and hash, and group-commits them with any checkpoints due. A batch that fails is kept,
 * with its positions and hashes, and written again once the store answers; meanwhile the store
 * counts as unavailable and new statements are refused.
 *
 * <p>One file on purpose: chaining, group commit, checkpoint signing and retry after failure all act
 * on the same head position and hash, owned by this one thread.
 */
final class ChainWriter implements Runnable {
    static final int MAX_BATCH = 2000;
    private static final Logger LOG = LoggerFactory.getLogger(ChainWriter.class);
    private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final StoreSql sql;
    private final String instanceId;
    private final PrivateKey key;
    private final String keyId;
    private final AuditSettings settings;
    private final Clock clock;
    private final BlockingQueue<Pending> queue;
    private final Executor notifier;
    private final Consumer<Pending> pruner;
    private final MessageDigest sha;
    private final byte[] envelopeHead;
    private static final byte[] OUTCOME_KEY = "\"outcome\":".getBytes(StandardCharsets.UTF_8);
    private static final byte[] PAYLOAD_KEY = ",\"payload\":".getBytes(StandardCharsets.UTF_8);

    // chain state, touched by the writer thread only
    private long headSeq;
    private byte[] headHash;
    private long cpNumber;
    private long recordsSinceCp;
    private long lastCpNanos = System.nanoTime();
    private Connection conn;
    /** Compaction of an embedded H2 store through {@link #conn}, or null. */
    private EmbeddedCompaction compaction;
    /** Periodic fsync of an embedded H2 store through {@link #conn}, or null. */
    private EmbeddedSync sync;
    /** The embedded store's journal, or null: then each batch is one store commit. */
    private AuditJournal journal;
    /** Journaled but not yet in the store: inserted in one transaction per sync, or sooner when large or old. */
    private final List<StoreSql.BlockRow> deferredRows = new ArrayList<>();
    private final List<Checkpoint> deferredCps = new ArrayList<>();
    private long deferredBytes;
    /**
     * Blocks and checkpoints inserted into the embedded store since its file was last forced to disk
     * (journaled or, without the journal, committed directly). A sync that fails puts them back with
     * the deferred ones: H2 may have lost them with the file it gives up (a reopened store was seen
     * without the last commit before a failed sync), so {@link #recover} inserts whatever of them the
     * reopened store lacks.
     */
    private List<StoreSql.BlockRow> unsyncedRows = new ArrayList<>();
    private List<Checkpoint> unsyncedCps = new ArrayList<>();
    /**
     * The same for the interval before the last good sync: kept one interval longer, because a reopened
     * store was also seen to lack blocks that a sync had covered (once in ~10 runs of {@code
     * SyncFailureTest} under load: H2's own handling of the failing file, not understood yet).
     */
    private List<StoreSql.BlockRow> syncedRows = new ArrayList<>();
    private List<Checkpoint> syncedCps = new ArrayList<>();
    private long deferredSince;
    /** Journaled blocks wait at most this long, and this many bytes, before they are inserted into the store. */
    static final long DEFERRED_NANOS = TimeUnit.SECONDS.toNanos(1);
    static final long DEFERRED_BYTES = 8 << 20;
    private List<Pending> retry = List.of();
    private List<Checkpoint> retryCps = List.of();
    private boolean finished;

    // shared with producers
    volatile boolean available = true;
    volatile String problem;
    volatile long busySince;
    volatile long durableSeq;
    volatile Checkpoint lastCheckpoint;
    volatile long stopDeadline = Long.MAX_VALUE;
    final AtomicLong written = new AtomicLong();
    final AtomicLong commits = new AtomicLong();
    /** Times the embedded store's file was forced to disk ({@link EmbeddedSync}). */
    final AtomicLong syncs = new AtomicLong();
    /** Times the store became unavailable (a failed commit, write or sync; a stopped writer) since start. */
    final AtomicLong outages = new AtomicLong();

    ChainWriter(StoreSql sql, String instanceId, PrivateKey key, String keyId, AuditSettings settings, Clock clock,
                BlockingQueue<Pending> queue, Executor notifier, Consumer<Pending> pruner, StoreSql.Head head,
                AuditJournal journal) {
        this.sql = sql;
        this.journal = journal;
        this.instanceId = instanceId;
        this.key = key;
        this.keyId = keyId;
        this.settings = settings;
        this.clock = clock;
        this.queue = queue;
        this.notifier = notifier;
        this.pruner = pruner;
        try {
            this.sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        StringBuilder sb = new StringBuilder("{\"instance\":");
        Canonical.writeString(sb, instanceId);
        sb.append(',');
        this.envelopeHead = sb.toString().getBytes(StandardCharsets.UTF_8);
        this.headSeq = head.seq();
        this.headHash = head.hash();
        this.cpNumber = head.checkpointNumber();
        this.recordsSinceCp = head.seq() - head.checkpointSeq();
        this.lastCheckpoint = head.lastCheckpoint();
        this.durableSeq = head.seq();
    }

    @Override
    public void run() {
        thread = Thread.currentThread();
        long backoff = 50;
        try {
            while (!finished) {
                if (!retry.isEmpty() || !available) {
                    if (!recover()) {
                        if (System.nanoTime() - stopDeadline > 0) {
                            break;
                        }
                        Thread.sleep(backoff);
                        backoff = Math.min(backoff * 2, 1000);
                        continue;
                    }
                    backoff = 50;
                }
                process(gather());
                storeIfDue();
                syncIfDue();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            unavailable("the audit writer stopped: " + e);
            LOG.error("audit writer stopped unexpectedly; statements are refused", e);
        } finally {
            int lost = retry.size() + queue.size();
            if (lost > 0) {
                LOG.error("audit writer stopped with {} records not written (the store was unavailable: {})", lost, problem);
            }
            closeConnection();
            if (journal != null) {
                journal.close();
            }
        }
    }

    /**
     * Waits for the first entry, then gathers more: at once for urgent ones, else for up to the batch
     * window. Within the window the writer sleeps rather than waiting on the queue, so producers do not
     * wake it once per record (that cost a futex call per statement on both sides); a producer of an
     * urgent record wakes it ({@link #wake}).
     */
    private List<Pending> gather() throws InterruptedException {
        List<Pending> batch = new ArrayList<>();
        long wait = recordsSinceCp > 0
                ? Math.max(0, lastCpNanos + settings.checkpointInterval().toNanos() - System.nanoTime()) : IDLE_NANOS;
        if (sync != null) {
            wait = Math.min(wait, sync.nanosUntilDue());
        }
        if (!deferredRows.isEmpty() || !deferredCps.isEmpty()) {
            wait = Math.min(wait, Math.max(0, deferredSince + DEFERRED_NANOS - System.nanoTime()));
        }
        Pending first = queue.poll(wait, TimeUnit.NANOSECONDS);
        if (first == null) {
            return batch;
        }
        batch.add(first);
        long window = settings.batchWindow().toNanos();
        long deadline = System.nanoTime() + window;
        boolean urgent = first.urgent || window <= 0;
        while (batch.size() < MAX_BATCH) {
            int from = batch.size();
            queue.drainTo(batch, MAX_BATCH - batch.size());
            for (int i = from; i < batch.size() && !urgent; i++) {
                urgent = batch.get(i).urgent;
            }
            long left = deadline - System.nanoTime();
            if (urgent || left <= 0 || batch.size() >= MAX_BATCH) {
                break;
            }
            sleeping = true;
            if (!urgentQueued) {
                java.util.concurrent.locks.LockSupport.parkNanos(this, left);
            }
            sleeping = false;
            urgentQueued = false;
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
        return batch;
    }

    /** Set while the writer sleeps out a batch window. */
    private volatile boolean sleeping;
    /** An urgent record was queued since the writer last looked. */
    private volatile boolean urgentQueued;
    private volatile Thread thread;

    /** Producers call this after queueing an urgent record (strict statement, checkpoint, approval step). */
    void wake() {
        urgentQueued = true;
        Thread t = thread;
        if (sleeping && t != null) {
            java.util.concurrent.locks.LockSupport.unpark(t);
        }
    }

    /**
     * Commits the batch in order: records up to a request (checkpoint, prune) are committed before the
     * request runs, so that a request sees exactly the records queued before it.
     */
    private void process(List<Pending> batch) {
        int i = 0;
        do {
            List<Pending> records = new ArrayList<>();
            while (i < batch.size() && batch.get(i).op == Pending.Op.RECORD) {
                records.add(batch.get(i++));
            }
            Pending control = i < batch.size() ? batch.get(i++) : null;
            List<Checkpoint> cps = new ArrayList<>();
            boolean last = false;
            for (Pending p : records) {
                assign(p, cps);
                last |= p.last;
                if (p.forceCheckpoint && recordsSinceCp > 0) {
                    cps.add(sign());
                }
            }
            boolean force = control != null && control.op == Pending.Op.CHECKPOINT;
            boolean due = System.nanoTime() - lastCpNanos >= settings.checkpointInterval().toNanos();
            if ((force || due) && recordsSinceCp > 0) {
                cps.add(sign());
            }
            if (!records.isEmpty() || !cps.isEmpty()) {
                long stored;
                try {
                    stored = write(records, cps);
                } catch (SQLException e) {
                    // the rest of the batch waits with the failed part; requests in it fail
                    List<Pending> controls = new ArrayList<>();
                    if (control != null) {
                        controls.add(control);
                    }
                    for (Pending p : batch.subList(i, batch.size())) {
                        if (p.op == Pending.Op.RECORD) {
                            assign(p, cps);
                            records.add(p);
                            if (p.forceCheckpoint && recordsSinceCp > 0) {
                                cps.add(sign());
                            }
                        } else {
                            controls.add(p);
                        }
                    }
                    failed(e, records, cps, controls);
                    return;
                }
                committed(records, cps);
                compactIfDue(stored);
            }
            finished = last;
            if (last && journal != null) {
                drainJournal(); // a clean stop leaves the journal empty and everything in the store
            }
            if (control != null && !storeNow()) {
                // readers (checkpoint export, retention, search) need the journaled records in the store
                control.done.completeExceptionally(new AuditUnavailableException(AuditUnavailableException.STORE_DOWN));
                continue;
            }
            if (control != null && control.op == Pending.Op.FLUSH) {
                control.done.complete(durableSeq);
            } else if (control != null && control.op == Pending.Op.CHECKPOINT) {
                control.done.complete(lastCheckpoint);
            } else if (control != null) {
                pruner.accept(control);
            }
        } while (i < batch.size() && !finished);
    }

    private void assign(Pending p, List<Checkpoint> cps) {
        p.seq = ++headSeq;
        p.prev = headHash;
        // envelope keys in canonical order: instance, [outcome], payload, seq, type, v — assembled in one array
        byte[] seqDigits = Long.toString(p.seq).getBytes(StandardCharsets.US_ASCII);
        byte[] typeTail = TYPE_TAILS.computeIfAbsent(p.type, t -> (",\"type\":\"" + t + "\",\"v\":1}")
                .getBytes(StandardCharsets.UTF_8));
        Pending.Folded claimed = p.claim();
        // both views are in the writer's own buffers (statement and outcome apart): copied, not kept
        Canonical.Bytes folded = claimed == null ? null : claimed.payload();
        Canonical.Bytes payload = p.payload();
        int len = envelopeHead.length + (folded == null ? PAYLOAD_KEY.length - 1
                : OUTCOME_KEY.length + folded.len + PAYLOAD_KEY.length)
                + payload.len + SEQ_KEY.length + seqDigits.length + typeTail.length;
        byte[] body = new byte[len];
        int at = put(body, 0, envelopeHead, 0);
        if (folded != null) {
            at = put(body, at, OUTCOME_KEY, 0);
            at = put(body, at, folded);
            at = put(body, at, PAYLOAD_KEY, 0);
        } else {
            at = put(body, at, PAYLOAD_KEY, 1);
        }
        at = put(body, at, payload);
        at = put(body, at, SEQ_KEY, 0);
        at = put(body, at, seqDigits, 0);
        put(body, at, typeTail, 0);
        p.body = body;
        sha.update(p.prev);
        p.hash = sha.digest(body);
        headHash = p.hash;
        if (++recordsSinceCp >= settings.checkpointEvery()) {
            cps.add(sign());
        }
    }

    private static final byte[] SEQ_KEY = ",\"seq\":".getBytes(StandardCharsets.UTF_8);
    /** Per type: {@code ,"type":"<type>","v":1}}, the envelope's end. */
    private static final java.util.concurrent.ConcurrentHashMap<String, byte[]> TYPE_TAILS =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static int put(byte[] dst, int at, Canonical.Bytes src) {
        System.arraycopy(src.buf, 0, dst, at, src.len);
        return at + src.len;
    }

    private static int put(byte[] dst, int at, byte[] src, int from) {
        System.arraycopy(src, from, dst, at, src.length - from);
        return at + src.length - from;
    }

    private Checkpoint sign() {
        Checkpoint cp = Checkpoint.sign(instanceId, ++cpNumber, headSeq, headHash, clock.instant(), key, keyId);
        recordsSinceCp = 0;
        lastCpNanos = System.nanoTime();
        return cp;
    }

    /**
     * Makes the batch durable: appends it to the journal, or (without one) writes and commits it in
     * one transaction. Returns the bytes of blocks committed to the store by this call (0 when
     * journaled), for compaction.
     */
    private long write(List<Pending> records, List<Checkpoint> cps) throws SQLException {
        busySince = System.nanoTime() | 1;
        try {
            connection();
            if (journal != null) {
                List<StoreSql.BlockRow> rows = sql.blocks(instanceId, records, cps);
                if (journalAppend(rows, cps)) {
                    if (deferredRows.isEmpty() && deferredCps.isEmpty()) {
                        deferredSince = System.nanoTime();
                    }
                    deferredRows.addAll(rows);
                    deferredCps.addAll(cps);
                    deferredBytes += StoreSql.storedBytes(rows);
                    if (sync != null) {
                        sync.wrote();
                    }
                    return 0;
                }
                // the journal is gone: what it held and this batch go to the store in one transaction; if
                // that fails this batch is kept for a retry like any failed commit, and only the journaled
                // blocks stay deferred (they are durable)
                int rowMark = deferredRows.size();
                int cpMark = deferredCps.size();
                long bytesMark = deferredBytes;
                deferredRows.addAll(rows);
                deferredCps.addAll(cps);
                deferredBytes += StoreSql.storedBytes(rows);
                try {
                    return flushDeferred();
                } catch (SQLException e) {
                    deferredRows.subList(rowMark, deferredRows.size()).clear();
                    deferredCps.subList(cpMark, deferredCps.size()).clear();
                    deferredBytes = bytesMark;
                    throw e;
                }
            }
            List<StoreSql.BlockRow> rows = sql.blocks(instanceId, records, cps);
            StoreSql.insertRows(conn, rows, cps);
            conn.commit();
            commits.incrementAndGet();
            long stored = StoreSql.storedBytes(rows);
            if (sync != null) { // kept until the next good sync, as the journaled ones are
                unsyncedRows.addAll(rows);
                unsyncedCps.addAll(cps);
                sync.wrote();
            }
            return stored;
        } catch (SQLException e) {
            closeConnection();
            throw e;
        } finally {
            busySince = 0;
        }
    }

    /**
     * Appends to the journal; false when the journal became unusable (a failed write could not be cut
     * back), after which the writer commits to the store directly. A write that failed cleanly throws,
     * so the batch is kept and written again like a failed commit.
     */
    private boolean journalAppend(List<StoreSql.BlockRow> rows, List<Checkpoint> cps) throws SQLException {
        try {
            journal.append(rows, cps);
            return true;
        } catch (AuditJournal.Broken e) {
            LOG.error("audit journal {} is unusable ({}); committing every batch to the store from now on", journal.path(),
                    e.getMessage());
            journal.close();
            journal = null;
            return false;
        } catch (java.io.IOException e) {
            throw new SQLException("the audit journal " + journal.path() + " could not be written: " + e, "58030", e);
        }
    }

    /** Inserts the journaled blocks into the store in one transaction; returns their bytes. */
    private long flushDeferred() throws SQLException {
        if (deferredRows.isEmpty() && deferredCps.isEmpty()) {
            return 0;
        }
        connection();
        StoreSql.insertRows(conn, deferredRows, deferredCps);
        conn.commit();
        commits.incrementAndGet();
        long stored = deferredBytes;
        if (sync != null) {
            unsyncedRows.addAll(deferredRows);
            unsyncedCps.addAll(deferredCps);
        }
        deferredRows.clear();
        deferredCps.clear();
        deferredBytes = 0;
        if (sync != null) {
            sync.wrote();
        }
        return stored;
    }

    /**
     * Puts the journaled blocks into the store now (a control request, a prune, a reader). A failure
     * marks the store unavailable, as a failed commit does; the blocks stay journaled and are inserted
     * once it answers ({@link #recover}). False on failure.
     */
    private boolean storeNow() {
        if (deferredRows.isEmpty() && deferredCps.isEmpty()) {
            return true;
        }
        busySince = System.nanoTime() | 1;
        try {
            compactIfDue(flushDeferred());
            return true;
        } catch (SQLException e) {
            storeFailed(e);
            return false;
        } finally {
            busySince = 0;
        }
    }

    /** Inserts journaled blocks that have waited long enough or grown large (a long sync interval). */
    private void storeIfDue() {
        if ((!deferredRows.isEmpty() || !deferredCps.isEmpty()) && available
                && (deferredBytes >= DEFERRED_BYTES || System.nanoTime() - deferredSince >= DEFERRED_NANOS)) {
            storeNow();
        }
    }

    /** Stores the journaled blocks, forces the store's file to disk and empties the journal (a clean stop). */
    private void drainJournal() {
        if (storeNow() && sync != null) {
            busySince = System.nanoTime() | 1;
            try {
                syncNow();
                resetJournal();
            } catch (RuntimeException e) {
                LOG.error("audit store: {}; the journal keeps the last records for the next start", syncProblem(e));
            } finally {
                busySince = 0;
            }
        }
    }

    /** Empties the journal once the store holds everything in it and its file is on disk. */
    private void resetJournal() {
        if (journal == null || !deferredRows.isEmpty() || !deferredCps.isEmpty()) {
            return;
        }
        try {
            journal.reset();
        } catch (java.io.IOException e) {
            LOG.error("audit journal {} could not be emptied ({}); committing every batch to the store from now on",
                    journal.path(), e.toString());
            journal.close();
            journal = null;
        }
    }

    private void storeFailed(SQLException e) {
        unavailable(describe(e));
        LOG.error("audit store unavailable, refusing statements until it answers again: {}", problem);
        closeConnection();
    }

    private void compactIfDue(long stored) {
        if (compaction != null && stored > 0 && compaction.committed(stored)) {
            // a step that hangs counts as a stuck writer: statements are refused after strictTimeout
            busySince = System.nanoTime() | 1;
            try {
                compaction.step();
            } finally {
                busySince = 0;
            }
            if (sync != null) {
                sync.wrote();
            }
        }
    }

    private void committed(List<Pending> records, List<Checkpoint> cps) {
        written.addAndGet(records.size());
        if (!records.isEmpty()) {
            durableSeq = records.get(records.size() - 1).seq;
        }
        if (!cps.isEmpty()) {
            lastCheckpoint = cps.get(cps.size() - 1);
        }
        // released here, on the writer: what depends on them only hops to its own thread (the session's
        // event loop, a waiting caller), so a hop through the notifier thread first cost a wake-up and a
        // thread switch per strict batch (docs/performance.md, "22.")
        for (Pending p : records) {
            if (p.ticket != null) {
                p.ticket.markDurable();
            }
            if (p.done != null) {
                p.done.complete(p.seq);
            }
        }
    }

    private void failed(SQLException e, List<Pending> records, List<Checkpoint> cps, List<Pending> controls) {
        unavailable(describe(e));
        LOG.error("audit store unavailable, refusing statements until it answers again: {}", problem);
        retry = records;
        retryCps = cps;
        notifier.execute(() -> {
            for (Pending p : records) {
                if (p.ticket != null) {
                    p.ticket.fail(AuditUnavailableException.STORE_DOWN);
                }
                if (p.done != null) {
                    p.done.completeExceptionally(new AuditUnavailableException(AuditUnavailableException.STORE_DOWN));
                }
            }
            for (Pending c : controls) {
                c.done.completeExceptionally(new AuditUnavailableException(AuditUnavailableException.STORE_DOWN));
            }
        });
    }

    /** Reconnects and writes the kept batch; true when the store is usable again. */
    private boolean recover() {
        busySince = 0;
        try {
            connection();
            if (sync != null) {
                try {
                    syncNow(); // after a failed sync, service resumes only once the disk takes one again
                } catch (RuntimeException e) {
                    throw new SQLException(syncProblem(e), e);
                }
            }
            if (!deferredRows.isEmpty() || !deferredCps.isEmpty()) {
                // what the store holds already (a commit that failed late, or survived a failed sync) is
                // dropped; the rest continues the stored chain
                StoreSql.Head head = sql.head(conn, instanceId);
                conn.commit();
                deferredRows.removeIf(r -> r.lastSeq() <= head.seq());
                deferredCps.removeIf(cp -> cp.number() <= head.checkpointNumber());
                deferredBytes = StoreSql.storedBytes(deferredRows);
                flushDeferred();
            }
            if (!retry.isEmpty() || !retryCps.isEmpty()) {
                Boolean done = sql.alreadyCommitted(conn, instanceId, retry, retryCps);
                if (done == null) {
                    problem = "chain " + instanceId + " holds records this writer did not write: another Warden "
                            + "instance uses the same instance id";
                    LOG.error("audit store: {}", problem);
                    closeConnection();
                    return false;
                }
                if (!done) {
                    write(retry, retryCps);
                }
                committed(retry, retryCps);
                finished = retry.stream().anyMatch(p -> p.last);
                retry = List.of();
                retryCps = List.of();
            } else if (!conn.isValid(2)) {
                throw new SQLException("connection is not valid");
            }
            if (!available) {
                LOG.info("audit store available again; accepting statements");
            }
            problem = null;
            available = true;
            return true;
        } catch (SQLException e) {
            closeConnection();
            problem = describe(e);
            return false;
        }
    }

    /** Runs a writer-thread task with the connection (prune); failures mark the store unavailable. */
    Connection connection() throws SQLException {
        if (conn == null) {
            conn = sql.store().connect();
            compaction = sql.store().postgres() ? null : EmbeddedCompaction.of(conn);
            sync = sql.store().postgres() ? null : EmbeddedSync.of(conn, settings.syncInterval());
        }
        return conn;
    }

    /**
     * Forces an embedded store's file to disk when a sync is due. A failure counts as the store being
     * unavailable: records reported durable since the last sync may not be on the disk, so statements
     * are refused until the writer has reconnected and a sync succeeds ({@link #recover}). A sync that
     * hangs counts as a stuck writer, as a commit does.
     */
    private void syncIfDue() {
        if (sync == null || sync.nanosUntilDue() > 0) {
            return;
        }
        if (!storeNow()) {
            return;
        }
        busySince = System.nanoTime() | 1;
        try {
            syncNow();
            resetJournal();
        } catch (RuntimeException e) {
            unavailable(syncProblem(e));
            LOG.error("audit store: {}; refusing statements until a sync succeeds", problem, e);
            closeConnection();
        } finally {
            busySince = 0;
        }
    }

    /** Statements are refused from now on, for {@code why}, until {@link #recover} succeeds. */
    private void unavailable(String why) {
        if (available) {
            outages.incrementAndGet();
        }
        available = false;
        problem = why;
    }

    /**
     * Forces the store's file to disk. On failure the blocks inserted over the last two sync intervals go
     * back to the deferred ones, to be inserted again where the reopened store lacks them ({@link #recover}).
     */
    private void syncNow() {
        try {
            sync.sync();
        } catch (RuntimeException e) {
            // oldest first: the interval before the last good sync, the one since, then what waits
            deferredRows.addAll(0, unsyncedRows);
            deferredRows.addAll(0, syncedRows);
            deferredCps.addAll(0, unsyncedCps);
            deferredCps.addAll(0, syncedCps);
            deferredBytes += StoreSql.storedBytes(unsyncedRows) + StoreSql.storedBytes(syncedRows);
            unsyncedRows.clear();
            unsyncedCps.clear();
            syncedRows.clear();
            syncedCps.clear();
            throw e;
        }
        List<StoreSql.BlockRow> rows = syncedRows;
        List<Checkpoint> cps = syncedCps;
        syncedRows = unsyncedRows;
        syncedCps = unsyncedCps;
        rows.clear();
        cps.clear();
        unsyncedRows = rows;
        unsyncedCps = cps;
        syncs.incrementAndGet();
    }

    private static String syncProblem(RuntimeException e) {
        Throwable root = e.getCause() != null ? e.getCause() : e;
        return "the audit store's file could not be forced to disk (" + root + ")";
    }

    /** Tests only (read from another thread: the journal as opened, or null once given up). */
    AuditJournal journalForTest() {
        return journal;
    }

    /** Appends one record followed by a checkpoint now, on the writer thread (prune). */
    boolean appendNow(Pending p) {
        process(List.of(p));
        return retry.isEmpty() && storeNow();
    }

    void closeConnection() {
        if (conn != null) {
            try {
                conn.close();
            } catch (SQLException ignored) {
                // already broken
            }
            conn = null;
            compaction = null;
            sync = null;
        }
    }

    /** A one-line reason for logs and health (a failed batch's own message would repeat the whole batch). */
    static String describe(SQLException e) {
        SQLException root = e.getNextException() != null ? e.getNextException() : e;
        String msg = String.valueOf(root.getMessage());
        int nl = msg.indexOf('\n');
        if (nl > 0) {
            msg = msg.substring(0, nl);
        }
        if (msg.length() > 300) {
            msg = msg.substring(0, 300) + "…";
        }
        return root.getSQLState() == null ? msg : msg + " [" + root.getSQLState() + "]";
    }
}
