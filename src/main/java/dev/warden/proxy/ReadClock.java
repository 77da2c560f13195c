package dev.warden.proxy;

import java.time.Instant;

/**
 * A session's clock, read at most once per network read: every message and event handled while one
 * read is processed (the client's messages of one receive buffer, or the server's answers of one) gets
 * the same time. Outside a read (a timer, the audit writer's callback after a strict wait, an
 * approval) it reads the clock afresh.
 *
 * <p>Why: a {@code pgbench -S} transaction is some fifteen messages and events, and reading the clock
 * for each cost ~10 % of the event loop's own CPU on the benchmark VM (docs/performance.md, "17.").
 * PgBouncer does the same with its per-loop cached time. What it costs: times within one read are
 * equal, so a statement forwarded in the read that received it shows forwarded = received; a wait
 * before forwarding (strict durability, an approval) is still measured, because the forward then
 * happens outside the read.
 *
 * <p>Event loop only, like the session it belongs to.
 */
final class ReadClock {
    private boolean inRead;
    private long nanos;
    private boolean haveNanos;
    private Instant instant;

    /** A read starts (the first message of it). Idempotent within one read. */
    void readStarted() {
        if (!inRead) {
            inRead = true;
            haveNanos = false;
            instant = null;
        }
    }

    /** The channel's read is complete: the next time asked for is read afresh. */
    void readFinished() {
        inRead = false;
    }

    /** Wall-clock time: the read's, or now outside a read. */
    Instant instant() {
        if (!inRead) {
            return Instant.now();
        }
        Instant i = instant;
        if (i == null) {
            i = Instant.now();
            instant = i;
        }
        return i;
    }

    /** {@link System#nanoTime()}: the read's, or now outside a read. */
    long nanos() {
        if (!inRead) {
            return System.nanoTime();
        }
        if (!haveNanos) {
            nanos = System.nanoTime();
            haveNanos = true;
        }
        return nanos;
    }
}
