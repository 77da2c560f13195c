package dev.warden.audit;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import org.h2.mvstore.MVStore;

/**
 * Forces the embedded H2 store's file to disk every {@code audit.syncInterval} while records are
 * written, on the writer thread.
 *
 * <p>H2 writes each commit to the file ({@code WRITE_DELAY=0}) but never calls {@code fsync} while
 * it runs, so what survives a power loss is whatever the operating system had written back (Linux:
 * up to ~30 s old). With a sync every interval a power loss takes at most the last interval's
 * records (plus the sync's own duration). An idle store is not synced: nothing waits for it.
 *
 * <p>H2 guards its own file against a power loss with its retention time: it moves or reuses the
 * space of a chunk only once the chunk is older than that (45 s by default), assuming that the file
 * system has written everything older by then. Syncing every interval makes that assumption true by
 * construction, so the retention time drops to {@link #RETENTION_INTERVALS} intervals (5 s for the
 * default 1 s; a shorter one from the store's URL is kept). {@link EmbeddedCompaction} then moves
 * one-commit chunks after 5 s instead of 45, which keeps their number at about the last 5 s of
 * commits (docs/performance.md, "20.").
 *
 * <p>A sync that fails means records already reported durable may not be on the disk: the writer
 * then treats the store as unavailable (statements are refused) until it has reopened the store and
 * a sync succeeds again.
 */
final class EmbeddedSync {
    /** H2's retention time in sync intervals. */
    static final int RETENTION_INTERVALS = 5;
    private final MVStore mv;
    private final long intervalNanos;
    private long lastSync = System.nanoTime();
    private boolean dirty;

    private EmbeddedSync(MVStore mv, Duration interval) {
        this.mv = mv;
        this.intervalNanos = interval.toNanos();
        long retention = Math.min(Integer.MAX_VALUE, interval.toMillis() * RETENTION_INTERVALS);
        if (mv.getRetentionTime() > retention) {
            mv.setRetentionTime((int) retention);
        }
    }

    /**
     * Syncing for the embedded store behind {@code c}; null when {@code c} is not an embedded H2 file
     * store or {@code interval} is zero (syncing off: H2 keeps its own retention time).
     */
    static EmbeddedSync of(Connection c, Duration interval) throws SQLException {
        if (interval.isZero()) {
            return null;
        }
        MVStore mv = EmbeddedCompaction.mvStore(c);
        return mv == null ? null : new EmbeddedSync(mv, interval);
    }

    /** Something was committed (a batch, a compaction step): it is synced within the interval. */
    void wrote() {
        dirty = true;
    }

    /** Nanoseconds until a sync is due, or {@code Long.MAX_VALUE} when nothing waits for one. */
    long nanosUntilDue() {
        return dirty ? Math.max(0, lastSync + intervalNanos - System.nanoTime()) : Long.MAX_VALUE;
    }

    /** Forces the file to disk now; an H2 exception (an I/O error) propagates. */
    void sync() {
        dirty = false;
        mv.sync();
        lastSync = System.nanoTime();
    }
}
