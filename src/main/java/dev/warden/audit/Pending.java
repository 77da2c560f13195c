package dev.warden.audit;

import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/** One entry of the writer's queue: a record to chain, or a request (checkpoint, prune) in order with them. */
final class Pending {
    enum Op {
        RECORD, CHECKPOINT, PRUNE,
        /** Puts journaled records into the store (readers in this process); completes with the durable position. */
        FLUSH
    }

    final Op op;
    final String type;
    /** The canonical payload; for a statement, encoded by the writer when it takes the record ({@link #payload()}). */
    private byte[] payload;
    /** A statement record not encoded yet: the event loop only queues it, the writer encodes it. */
    private Deferred deferred;
    /** The searchable fields (the block header takes the time; a prune block its firstKept). */
    final RecordCodec.Projection projection;
    /** The record's time, as its body states it (micros). */
    Instant at;
    /** Strict statements: the ticket to mark durable once committed. */
    final AuditTicket ticket;
    /** Commit at once instead of waiting for the batch window. */
    final boolean urgent;
    /** Sign a checkpoint right after this record. */
    final boolean forceCheckpoint;
    /** The last record the writer writes before it stops. */
    final boolean last;
    final CompletableFuture<Object> done;
    /** For a prune request: the time it was asked at (its cutoff is computed from it). */
    Instant requestedAt;

    /**
     * Batched statement records: the statement's outcome, folded into the same record when it arrives
     * before the writer takes the record (see {@link #claim}); null while open.
     */
    final java.util.concurrent.atomic.AtomicReference<Object> fold;
    static final Object CLAIMED = new Object();

    /**
     * A payload the writer thread encodes when it takes the record, off the producer's event loop. It
     * returns the bytes in a buffer of the writer's ({@link StatementEncoder#statementView}), valid until the
     * writer encodes the next one: the writer copies them into the record's envelope at once.
     */
    interface Deferred {
        Canonical.Bytes encode();
    }

    /** An outcome folded into its statement's record, encoded by the writer ({@link StatementEncoder#foldedView}). */
    record Folded(java.time.Instant received, StatementOutcome outcome) {
        /** In the writer's outcome buffer, valid until it encodes the next outcome. */
        Canonical.Bytes payload() {
            return StatementEncoder.foldedView(received, outcome);
        }
    }

    // assigned by the writer
    long seq;
    byte[] prev;
    byte[] body;
    byte[] hash;

    private Pending(Op op, String type, byte[] payload, RecordCodec.Projection projection, AuditTicket ticket,
                    boolean urgent, boolean forceCheckpoint, boolean last, CompletableFuture<Object> done) {
        this.op = op;
        this.type = type;
        this.payload = payload;
        this.projection = projection;
        this.at = projection == null ? null : projection.at();
        this.ticket = ticket;
        this.urgent = urgent;
        this.forceCheckpoint = forceCheckpoint;
        this.last = last;
        this.done = done;
        this.fold = RecordCodec.STATEMENT.equals(type) && ticket == null ? new java.util.concurrent.atomic.AtomicReference<>()
                : null;
    }

    /** Producer side: folds the outcome in if the writer has not taken the record yet. */
    boolean tryFold(Folded f) {
        return fold != null && fold.compareAndSet(null, f);
    }

    /** Writer side: closes the record to folding; returns the folded outcome, if one came in time. */
    Folded claim() {
        if (fold == null) {
            return null;
        }
        return fold.getAndSet(CLAIMED) instanceof Folded f ? f : null;
    }

    /**
     * A statement record queued unencoded: {@code at} is its received time (micros), {@code encoder}
     * writes its canonical payload on the writer thread.
     */
    static Pending statement(Instant at, Deferred encoder, AuditTicket strictTicket) {
        Pending p = new Pending(Op.RECORD, RecordCodec.STATEMENT, null, null, strictTicket, strictTicket != null, false,
                false, null);
        p.at = at;
        p.deferred = encoder;
        return p;
    }

    /**
     * The canonical payload, for the writer to copy into the envelope once: a deferred statement is
     * encoded into the writer's buffer (valid until its next encoding), any other record's bytes are
     * wrapped as they are.
     */
    Canonical.Bytes payload() {
        if (deferred != null) {
            Canonical.Bytes b = deferred.encode();
            deferred = null;
            return b;
        }
        if (payload == null) {
            throw new IllegalStateException("the payload of a " + type + " record was already taken");
        }
        Canonical.Bytes b = Canonical.Bytes.wrap(payload);
        payload = null;
        return b;
    }

    static Pending record(String type, byte[] payload, RecordCodec.Projection projection, AuditTicket strictTicket) {
        return new Pending(Op.RECORD, type, payload, projection, strictTicket, strictTicket != null, false, false, null);
    }

    /** A record written at once (urgent); {@code done} completes with its position when durable. */
    static Pending durable(String type, byte[] payload, RecordCodec.Projection projection,
                           CompletableFuture<Object> done) {
        return new Pending(Op.RECORD, type, payload, projection, null, true, false, false, done);
    }

    /** A record written at once and followed by a checkpoint (start, stop, prune). */
    static Pending checkpointed(String type, byte[] payload, RecordCodec.Projection projection, boolean last,
                                CompletableFuture<Object> done) {
        return new Pending(Op.RECORD, type, payload, projection, null, true, true, last, done);
    }

    static Pending control(Op op, CompletableFuture<Object> done) {
        return new Pending(op, null, null, null, null, true, op == Op.CHECKPOINT, false, done);
    }
}
