package dev.warden.audit;

import java.io.IOException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tamper-evident audit trail of one Warden instance. Producers (the proxy's event loops) only
 * enqueue, never block: {@link #statementReceived} queues the immutable record as it is (the writer
 * encodes it), {@link #sessionEvent} encodes its small record on the caller's thread; a single writer
 * thread encodes statements, chains, group-commits and signs.
 * Fail closed: when the queue is full or the store is unavailable, statements are refused through
 * their ticket ({@link AuditUnavailableException}, SQLSTATE 53400); service resumes by itself once
 * the store answers again.
 *
 * <p>One file on purpose: it is the audit's public surface (open, record, checkpoint, prune, search,
 * verify, close) over the writer, store and codec classes.
 */
public final class AuditLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
    private static final long PRUNE_EVERY_HOURS = 6;
    /**
     * Benchmark mode: {@code -Dwarden.benchmark.unrecordedStatements=true} lets statements run without
     * a record, so that bench/pgbench.sh can measure what recording them costs against the same build.
     * Never for real use: Warden logs an error at start and /health says so.
     */
    static final boolean UNRECORDED = Boolean.getBoolean("warden.benchmark.unrecordedStatements");

    private final AuditSettings settings;
    private final Clock clock;
    private final String instanceId;
    private final KeyPair keys;
    private final String keyId;
    private final BindParameterCodec binds;
    private final LinkedBlockingQueue<Pending> queue;
    private final ScheduledThreadPoolExecutor notifier;
    private final ChainWriter writer;
    private final Pruner pruner;
    private final AuditStore store;
    private final Thread writerThread;
    private final long stallNanos;
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean closed;

    private AuditLog(AuditSettings settings, Clock clock, String instanceId, KeyPair keys, BindParameterCodec binds,
                     StoreSql sql, StoreSql.Head head, AuditJournal journal) {
        this.settings = settings;
        this.clock = clock;
        this.instanceId = instanceId;
        this.keys = keys;
        this.keyId = SigningKeys.keyId(keys.getPublic());
        this.binds = binds;
        this.stallNanos = settings.strictTimeout().toNanos();
        // statements are admitted up to queueCapacity; outcomes and session events may use the rest
        this.queue = new LinkedBlockingQueue<>(settings.queueCapacity() * 2 + 1024);
        this.notifier = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "warden-audit-notify");
            t.setDaemon(true);
            return t;
        });
        notifier.setRemoveOnCancelPolicy(true);
        this.store = sql.store();
        this.pruner = new Pruner(sql, instanceId, settings.retention(), clock);
        this.writer = new ChainWriter(sql, instanceId, keys.getPrivate(), keyId, settings, clock, queue, notifier,
                pruner, head, journal);
        pruner.attach(writer);
        this.writerThread = new Thread(writer, "warden-audit-writer");
        writerThread.setDaemon(true);
    }

    /**
     * Opens the store (running migrations), loads or generates the keys and the instance id, starts
     * the writer and appends a "start" record. Blocks until that record is durable; throws if the
     * store cannot be used.
     */
    public static AuditLog open(AuditSettings settings, Clock clock) throws IOException, SQLException {
        String instance = settings.instanceId() != null ? settings.instanceId()
                : KeyFiles.instanceId(settings.instanceIdFile());
        KeyPair keys = SigningKeys.loadOrGenerate(settings.signingKeyFile(), settings.generateSigningKey());
        byte[] bindKey = switch (settings.bindParameters()) {
            case HASH -> KeyFiles.hashKey(settings.hashKeyFile());
            case SEALED -> settings.sealKey();
            case PLAIN -> null;
        };
        AuditStore store = new AuditStore(settings.store());
        store.migrate();
        StoreSql sql = new StoreSql(store);
        StoreSql.Head head;
        StoreSql.UncleanStop unclean;
        java.nio.file.Path journalPath = AuditJournal.pathFor(settings.store());
        try (Connection c = store.connect()) {
            // whatever a stopped run left journaled goes into the store first (also with the journal off now)
            AuditJournal.replay(c, journalPath, sql);
            head = sql.head(c, instance);
            unclean = sql.uncleanStop(c, instance);
        }
        AuditJournal journal = settings.journalled() ? AuditJournal.open(journalPath) : null;
        AuditLog log = new AuditLog(settings, clock, instance, keys,
                new BindParameterCodec(settings.bindParameters(), bindKey), sql, head, journal);
        log.writerThread.start();
        CompletableFuture<Object> started = new CompletableFuture<>();
        Map<String, Object> payload = RecordCodec.lifecycle(log.nextId(), "start", clock.instant(),
                log.keyId);
        log.enqueueAlways(Pending.checkpointed(RecordCodec.LIFECYCLE, Canonical.encode(payload),
                RecordCodec.project(RecordCodec.LIFECYCLE, payload), false, started));
        try {
            started.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            log.close();
            throw new SQLException("the audit store did not accept the start record: " + log.writer.problem, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.close();
            throw new SQLException("interrupted while opening the audit log", e);
        }
        if (unclean != null) {
            log.recordUncleanStop(unclean);
        }
        log.prune(); // queued behind the start record, ahead of anything a caller adds
        log.notifier.scheduleWithFixedDelay(log::prune, PRUNE_EVERY_HOURS, PRUNE_EVERY_HOURS, TimeUnit.HOURS);
        LOG.info("audit trail open: instance {}, store {}, chain at record {}, signing key {}", instance,
                settings.store(), head.seq() + 1, log.keyId);
        if (UNRECORDED) {
            LOG.error("BENCHMARK MODE (-Dwarden.benchmark.unrecordedStatements=true): statements run WITHOUT audit "
                    + "records; never use this outside bench/pgbench.sh");
        }
        return log;
    }

    /**
     * The previous run ended without its "stop" record (killed, power loss): records a "recovered"
     * lifecycle record stating where the chain ended and which durability window may have lost
     * records, and marks every session that was open then as interrupted, so the gap shows in
     * verification and reports.
     */
    private void recordUncleanStop(StoreSql.UncleanStop u) {
        String window = settings.durability() == AuditSettings.Durability.STRICT ? "none (strict durability)"
                : settings.batchWindow().toMillis() + " ms (batched durability)";
        Map<String, Object> detail = new java.util.TreeMap<>();
        detail.put("lastSeq", u.lastSeq());
        detail.put("lastRecordAt", u.lastAt());
        detail.put("durabilityWindow", window);
        detail.put("interruptedSessions", (long) u.openSessions().size());
        Instant now = clock.instant();
        Map<String, Object> payload = RecordCodec.lifecycle(nextId(), "recovered", now, keyId, detail);
        enqueueAlways(Pending.checkpointed(RecordCodec.LIFECYCLE, Canonical.encode(payload),
                RecordCodec.project(RecordCodec.LIFECYCLE, payload), false, null));
        String gap = "Warden stopped without shutting down; its last record was #" + u.lastSeq() + " at "
                + u.lastAt() + "; statements received within the durability window before that (" + window
                + ") may have no record";
        for (String session : u.openSessions()) {
            sessionEvent(SessionEvent.interrupted(session, now, gap));
        }
        LOG.warn("audit: the previous run of instance {} ended without a stop record at record {} ({}); "
                + "{} sessions marked interrupted", instanceId, u.lastSeq(), u.lastAt(), u.openSessions().size());
    }

    private final String idPrefix = String.format("%012x-%08x-", System.currentTimeMillis(),
            new java.security.SecureRandom().nextInt());
    private final java.util.concurrent.atomic.AtomicLong idCounter = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Record ids that grow with time within an instance (start time, a random part, a counter): unique
     * like UUIDs, but inserted at the end of the store's id indexes instead of at random places,
     * which measured several times faster with H2 (random keys evicted index pages constantly).
     */
    String nextId() {
        long n = idCounter.incrementAndGet();
        if (n >= 1_000_000_000_000L) {
            return idPrefix + n;
        }
        char[] c = new char[idPrefix.length() + 12];
        idPrefix.getChars(0, idPrefix.length(), c, 0);
        for (int i = c.length - 1; i >= idPrefix.length(); i--) { // %012d without a Formatter: this runs per statement
            c[i] = (char) ('0' + n % 10);
            n /= 10;
        }
        return new String(c);
    }

    public String instanceId() {
        return instanceId;
    }

    public PublicKey publicKey() {
        return keys.getPublic();
    }

    /** The signing key's id as checkpoints name it. */
    public String keyId() {
        return keyId;
    }

    /**
     * Queues a session event. Never blocks; returns false when it could not be queued (queue full or
     * log closed) — then it is counted in {@link AuditHealth#dropped()} and logged.
     */
    public boolean sessionEvent(SessionEvent e) {
        Map<String, Object> payload = RecordCodec.session(nextId(), e);
        return offerOrDrop(RecordCodec.SESSION, payload, "session event " + e.kind() + " of " + e.sessionId());
    }

    /**
     * Queues a step of an approval request. The future completes with the record's chain position once
     * it is durable (approval decisions are privileged: callers release a held statement only then),
     * or fails with {@link AuditUnavailableException} when it could not be recorded.
     */
    public CompletableFuture<Long> approvalEvent(ApprovalEvent e) {
        String problem = admissionProblem();
        if (problem != null) {
            refused.incrementAndGet();
            return CompletableFuture.failedFuture(new AuditUnavailableException(problem));
        }
        Map<String, Object> payload = RecordCodec.approval(nextId(), e);
        CompletableFuture<Object> done = new CompletableFuture<>();
        Pending p = Pending.durable(RecordCodec.APPROVAL, Canonical.encode(payload),
                RecordCodec.project(RecordCodec.APPROVAL, payload), done);
        if (!enqueue(p)) {
            refused.incrementAndGet();
            return CompletableFuture.failedFuture(new AuditUnavailableException(AuditUnavailableException.FULL));
        }
        return done.thenApply(Long.class::cast);
    }

    /**
     * Queues a recording step (a sealed chunk and its hash, or a pruning). The future completes with the
     * record's chain position once it is durable, or fails with {@link AuditUnavailableException}.
     */
    public CompletableFuture<Long> recordingEvent(RecordingEvent e) {
        String problem = admissionProblem();
        if (problem != null) {
            return CompletableFuture.failedFuture(new AuditUnavailableException(problem));
        }
        Map<String, Object> payload = RecordCodec.recording(nextId(), e);
        CompletableFuture<Object> done = new CompletableFuture<>();
        Pending p = Pending.durable(RecordCodec.RECORDING, Canonical.encode(payload),
                RecordCodec.project(RecordCodec.RECORDING, payload), done);
        if (!enqueue(p)) {
            return CompletableFuture.failedFuture(new AuditUnavailableException(AuditUnavailableException.FULL));
        }
        return done.thenApply(Long.class::cast);
    }

    /**
     * Queues a statement's record before the statement is forwarded. Never blocks. The record is
     * strict — {@link AuditTicket#durable()} completes only once it is committed — when
     * {@code strict} is true (privileged statements: DDL, DCL, writes to classified tables, anything
     * approved) or {@code audit.durability} is strict; otherwise it completes at once. The ticket
     * fails with {@link AuditUnavailableException} when the statement must be refused.
     */
    public AuditTicket statementReceived(StatementRecord r, boolean strict) {
        if (UNRECORDED) {
            return AuditTicket.unrecorded();
        }
        boolean s = strict || settings.durability() == AuditSettings.Durability.STRICT;
        String problem = admissionProblem();
        if (problem != null) {
            refused.incrementAndGet();
            return AuditTicket.refused(new AuditUnavailableException(problem));
        }
        String id = nextId();
        AuditTicket ticket = new AuditTicket(this, id, r.sessionId(), r.received(), s);
        // queued unencoded: the writer writes the payload (the same bytes as
        // Canonical.encode(RecordCodec.statement(id, r, s, binds))) when it takes the record, so the event loop
        // only allocates and queues here (StatementRecord is immutable)
        Pending p = Pending.statement(RecordCodec.statementAt(r),
                () -> encodeStatement(id, r, s), s ? ticket : null);
        if (!s) {
            ticket.pending = p;
        }
        if (!enqueue(p)) {
            refused.incrementAndGet();
            return AuditTicket.refused(new AuditUnavailableException(AuditUnavailableException.FULL));
        }
        if (s) {
            ticket.armTimeout(notifier.schedule(() -> ticket.fail(AuditUnavailableException.TOO_SLOW),
                    stallNanos, TimeUnit.NANOSECONDS));
        } else {
            ticket.markDurable();
        }
        return ticket;
    }

    /**
     * The statement's canonical payload, on the writer thread. The direct encoder writes the same bytes as
     * the map-based path (StatementEncoderTest); should it ever throw, the record is still written through
     * the map-based path rather than lost.
     */
    private Canonical.Bytes encodeStatement(String id, StatementRecord r, boolean strict) {
        try {
            return StatementEncoder.statementView(id, r, strict, binds);
        } catch (RuntimeException e) {
            LOG.error("audit: the direct encoder failed on record {}; writing it through the map-based encoder", id, e);
            return Canonical.Bytes.wrap(Canonical.encode(RecordCodec.statement(id, r, strict, binds)));
        }
    }

    private String admissionProblem() {
        if (closed) {
            return AuditUnavailableException.CLOSED;
        }
        if (!writer.available) {
            return AuditUnavailableException.STORE_DOWN;
        }
        long busy = writer.busySince;
        if (busy != 0 && System.nanoTime() - busy > stallNanos) {
            return AuditUnavailableException.TOO_SLOW;
        }
        if (queue.size() >= settings.queueCapacity()) {
            return AuditUnavailableException.FULL;
        }
        return null;
    }

    /** Folds the outcome into the statement's queued record; false when the writer has taken it already. */
    boolean fold(AuditTicket t, Pending p, StatementOutcome o) {
        if (p.fold == null || p.fold.get() != null) {
            return false;
        }
        // encoded by the writer: the bytes of Canonical.encode(RecordCodec.folded(t.received(), o))
        return p.tryFold(new Pending.Folded(t.received(), o));
    }

    boolean outcome(AuditTicket t, StatementOutcome o) {
        Map<String, Object> payload = RecordCodec.outcome(nextId(), t.recordId(), t.sessionId(),
                t.received(), o);
        return offerOrDrop(RecordCodec.OUTCOME, payload, "outcome of statement " + t.recordId());
    }

    /** A strict ticket failed: record that its statement was not run. */
    void notRun(AuditTicket t, String message) {
        refused.incrementAndGet();
        outcome(t, StatementOutcome.notRun(clock.instant(), AuditUnavailableException.SQLSTATE, message));
    }

    private boolean offerOrDrop(String type, Map<String, Object> payload, String what) {
        if (!closed && enqueue(Pending.record(type, Canonical.encode(payload), RecordCodec.project(type, payload),
                null))) {
            return true;
        }
        if (dropped.incrementAndGet() % 1000 == 1) {
            LOG.error("audit queue full or closed: {} was not recorded ({} dropped so far)", what, dropped.get());
        }
        return false;
    }

    /** Signs a checkpoint now (if there are records since the last one); completes with the newest checkpoint. */
    public CompletableFuture<Checkpoint> checkpoint() {
        CompletableFuture<Object> f = new CompletableFuture<>();
        if (closed || !enqueue(Pending.control(Pending.Op.CHECKPOINT, f))) {
            return CompletableFuture.failedFuture(new AuditUnavailableException(AuditUnavailableException.CLOSED));
        }
        return f.thenApply(Checkpoint.class::cast);
    }

    /** Applies the retention now (it also runs at start and every 6 hours); completes with the records removed. */
    public CompletableFuture<Long> prune() {
        CompletableFuture<Object> f = new CompletableFuture<>();
        Pending request = Pending.control(Pending.Op.PRUNE, f);
        request.requestedAt = clock.instant();
        if (closed || !enqueue(request)) {
            return CompletableFuture.failedFuture(new AuditUnavailableException(AuditUnavailableException.CLOSED));
        }
        return f.thenApply(Long.class::cast);
    }

    /**
     * Searches the store (every instance's records) on a connection of its own. Blocking I/O: call it
     * from a worker thread, never from an event loop. For {@code GET /api/audit}.
     */
    public AuditSearch.Page search(AuditSearch.Query query) throws SQLException {
        storeJournaled();
        try (Connection c = store.connect()) {
            try {
                return AuditSearch.search(c, query);
            } finally {
                c.rollback();
            }
        }
    }

    /** Verifies the store against this instance's own public key (and {@code moreKeys}). Blocking, like search. */
    public AuditVerifier.Report verify(AuditVerifier.Options options, List<PublicKey> moreKeys) throws SQLException {
        List<PublicKey> keyList = new ArrayList<>(moreKeys);
        keyList.add(0, keys.getPublic());
        storeJournaled();
        try (Connection c = store.connect()) {
            return AuditVerifier.verify(c, keyList, options);
        }
    }

    /**
     * Has the writer put journaled records into the store before a reader in this process looks
     * (records are journaled for up to {@code audit.syncInterval} first). Waits up to the strict
     * timeout; if the writer cannot, the reader sees what the store holds.
     */
    private void storeJournaled() {
        if (!settings.journalled() || closed) {
            return;
        }
        try {
            flushToStore().get(stallNanos, TimeUnit.NANOSECONDS);
        } catch (ExecutionException | TimeoutException e) {
            LOG.debug("audit: journaled records not yet in the store for a reader: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Puts every durable record into the store now (with the embedded store's journal they otherwise
     * reach it once per {@code audit.syncInterval}), for code in this process that reads the store
     * with its own connection. Completes with the chain position durable then.
     */
    public CompletableFuture<Long> flushToStore() {
        CompletableFuture<Object> f = new CompletableFuture<>();
        if (closed || !enqueue(Pending.control(Pending.Op.FLUSH, f))) {
            return CompletableFuture.failedFuture(new AuditUnavailableException(AuditUnavailableException.CLOSED));
        }
        return f.thenApply(Long.class::cast);
    }

    /** Queues an entry for the writer; an urgent one wakes it from its batch window. */
    private boolean enqueue(Pending p) {
        if (!queue.offer(p)) {
            return false;
        }
        if (p.urgent) {
            writer.wake();
        }
        return true;
    }

    /** Queues an entry that must not be dropped (lifecycle records at start); throws when the queue is full. */
    private void enqueueAlways(Pending p) {
        queue.add(p);
        if (p.urgent) {
            writer.wake();
        }
    }

    /** Records waiting for the writer (cheap: for backpressure on the hot path). */
    public int queued() {
        return queue.size();
    }

    /** The queue size from which producers should slow down rather than have statements refused. */
    public int backpressureThreshold() {
        return settings.queueCapacity() / 2;
    }

    /** How long a producer may wait for the queue to drain before the statement is refused. */
    public java.time.Duration strictTimeout() {
        return settings.strictTimeout();
    }

    public AuditHealth health() {
        return new AuditHealth(writer.available && !closed, closed ? "closed" : UNRECORDED
                ? "benchmark mode: statements are not recorded" : writer.problem, queue.size(),
                writer.written.get(), writer.commits.get(), writer.syncs.get(), refused.get(), dropped.get(), writer.outages.get(),
                writer.durableSeq, writer.lastCheckpoint);
    }

    /** Tests only: the writer's journal as it was opened (null without one). */
    AuditJournal journalForTest() {
        return writer.journalForTest();
    }

    /**
     * Tests only: stops the writer where it is, as a killed process would (no "stop" record, journaled
     * records not put into the store). Call it once every record of interest is durable.
     */
    void haltForTest() throws InterruptedException {
        closed = true;
        writerThread.interrupt();
        writerThread.join(10_000);
        notifier.shutdownNow();
        pruner.close();
    }

    /**
     * Stops accepting records, writes what is queued, a "stop" record and a final signed checkpoint.
     * Waits up to the strict timeout plus 10 s for an unavailable store, then gives up (logging how
     * many records were lost).
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Map<String, Object> payload = RecordCodec.lifecycle(nextId(), "stop", clock.instant(), keyId);
        writer.stopDeadline = System.nanoTime() + stallNanos + TimeUnit.SECONDS.toNanos(10);
        try {
            Pending stop = Pending.checkpointed(RecordCodec.LIFECYCLE, Canonical.encode(payload),
                    RecordCodec.project(RecordCodec.LIFECYCLE, payload), true, null);
            boolean queued = queue.offer(stop, 5, TimeUnit.SECONDS);
            if (queued) {
                writer.wake();
            }
            if (!queued) {
                LOG.error("audit queue full at shutdown: no stop record");
                writer.stopDeadline = System.nanoTime();
            }
            writerThread.join(TimeUnit.NANOSECONDS.toMillis(stallNanos) + 15_000);
            if (writerThread.isAlive()) {
                writerThread.interrupt();
                writerThread.join(5000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        notifier.shutdown();
        pruner.close();
        Checkpoint cp = writer.lastCheckpoint;
        LOG.info("audit trail closed: instance {}, {} records written, last checkpoint {}", instanceId,
                writer.written.get(), cp);
    }
}
