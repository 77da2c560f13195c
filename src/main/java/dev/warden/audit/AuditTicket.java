package dev.warden.audit;

import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The audit's receipt for one statement, from {@link AuditLog#statementReceived}.
 * <p>
 * Contract for the proxy: forward the statement only after {@link #durable()} completed normally.
 * If it completes exceptionally (always with an {@link AuditUnavailableException}; callbacks on this
 * future see it unwrapped, {@code join()} wraps it in a CompletionException), refuse the
 * statement with that exception's SQLSTATE and message; the audit has then recorded by itself that
 * the statement was not run, and {@link #completed} is ignored. After a forwarded statement ends,
 * call {@link #completed} once with its outcome.
 * <p>
 * {@code durable()} completes on an audit thread, the writer itself when the record became durable;
 * never block or do work there — hop back to the event loop (e.g.
 * {@code durable().whenCompleteAsync(fn, channel.eventLoop())}): the writer commits the next batch only
 * after the callbacks of this one have returned.
 * The future is the ticket's own: complete it only through the audit (never call {@code complete} on it).
 */
public final class AuditTicket {
    private static final int PENDING = 0;
    private static final int DURABLE = 1;
    private static final int FAILED = 2;

    private final AuditLog log;
    private final String recordId;
    private final String sessionId;
    private final Instant received;
    private final boolean strict;
    private final CompletableFuture<Void> durable = new CompletableFuture<>();
    private final AtomicInteger state = new AtomicInteger(PENDING);
    private final AtomicInteger outcomes = new AtomicInteger();
    private volatile ScheduledFuture<?> timeout;
    /** Batched records: the queued record, so the outcome can be folded into it while it waits. */
    volatile Pending pending;

    AuditTicket(AuditLog log, String recordId, String sessionId, Instant received, boolean strict) {
        this.log = log;
        this.recordId = recordId;
        this.sessionId = sessionId;
        this.received = received;
        this.strict = strict;
    }

    static AuditTicket refused(AuditUnavailableException e) {
        AuditTicket t = new AuditTicket(null, null, null, null, false);
        t.state.set(FAILED);
        t.durable.completeExceptionally(e);
        return t;
    }

    /** Benchmark mode only ({@link AuditLog#UNRECORDED}): a ticket that lets the statement run without a record. */
    static AuditTicket unrecorded() {
        AuditTicket t = new AuditTicket(null, null, null, null, false);
        t.state.set(DURABLE);
        t.durable.complete(null);
        return t;
    }

    /** The statement record's id (a UUID), which its outcome record names; null if it was refused outright. */
    public String recordId() {
        return recordId;
    }

    /** Whether the statement waited for its record to be durable (strict) rather than only queued. */
    public boolean strict() {
        return strict;
    }

    /**
     * Completes when the statement may be forwarded: strict — once its record is committed to the
     * store; batched — at once, the record being queued. Fails with {@link AuditUnavailableException}
     * when the statement must be refused.
     */
    public CompletableFuture<Void> durable() {
        return durable;
    }

    /**
     * Records how the forwarded statement ended: folded into the statement's own record when that is
     * still queued (batched mode), otherwise as a new chained record that names the statement's record. Call it once. Returns false (and does nothing) if the ticket failed, if an outcome was
     * already recorded, or if the queue is full (counted in {@link AuditHealth#dropped()}).
     */
    public boolean completed(StatementOutcome outcome) {
        if (state.get() == FAILED || log == null || !outcomes.compareAndSet(0, 1)) {
            return false;
        }
        Pending p = pending;
        if (p != null) {
            pending = null;
            if (log.fold(this, p, outcome)) {
                return true;
            }
        }
        return log.outcome(this, outcome);
    }

    String sessionId() {
        return sessionId;
    }

    Instant received() {
        return received;
    }

    void armTimeout(ScheduledFuture<?> t) {
        timeout = t;
        if (state.get() != PENDING) {
            t.cancel(false);
        }
    }

    void markDurable() {
        if (state.compareAndSet(PENDING, DURABLE)) {
            ScheduledFuture<?> t = timeout;
            if (t != null) {
                t.cancel(false);
            }
            durable.complete(null);
        }
    }

    /** Fails a pending strict ticket; the audit then records that the statement was not run. */
    boolean fail(String clientMessage) {
        if (!state.compareAndSet(PENDING, FAILED)) {
            return false;
        }
        ScheduledFuture<?> t = timeout;
        if (t != null) {
            t.cancel(false);
        }
        durable.completeExceptionally(new AuditUnavailableException(clientMessage));
        log.notRun(this, clientMessage);
        return true;
    }
}
