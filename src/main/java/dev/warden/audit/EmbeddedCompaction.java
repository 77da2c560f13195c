package dev.warden.audit;

import java.sql.Connection;
import java.sql.SQLException;
import org.h2.engine.Session;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.db.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the embedded H2 store's chunk count and file bounded while Warden runs.
 *
 * <p>Why it is needed: H2's MVStore writes every commit as a new chunk, and a chunk's space is
 * freed only when nothing in it is live. Each audit commit's chunk holds a live leaf (a block row),
 * so without help no chunk is ever freed: H2 keeps one chunk descriptor in memory per commit
 * (~250 bytes of heap; 720,000 an hour at 200 commits a second) and the file grows to 2.4–3.6
 * times the data. H2's own background compaction only runs when commits are not written at once
 * ({@code WRITE_DELAY > 0}), which the audit cannot allow (a commit must reach the file before it
 * returns). So the writer thread does it: every {@link #EVERY_COMMITS} commits it asks H2 to move
 * the live pages of old, sparse chunks into a new chunk, bounded by a byte budget, and commits
 * that move right away, between batches. The emptied chunks are dropped once H2's retention time
 * (45 s by default) has passed, and their space is reused.
 *
 * <p>Only an embedded store opened in this JVM can be compacted; for other URLs (H2 server mode,
 * PostgreSQL) {@link #of} returns null.
 */
final class EmbeddedCompaction {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedCompaction.class);
    /** Commits between two compaction steps. */
    static final int EVERY_COMMITS = 32;
    /** Compact while the live share of the chunks' bytes is below this (percent). */
    static final int TARGET_FILL_RATE = 80;
    /**
     * Smallest budget of one step, bytes of live pages moved (as H2 estimates them). With small
     * commits (one record each) a 256 KB floor left 948 chunks after 9,000 commits, 1 MB 281.
     */
    static final int MIN_BUDGET = 1 << 20;
    /**
     * Largest budget of one step. A step's move is written as one chunk, and H2 reuses its write
     * buffer only up to 4 MB: with 5 MB steps the gateway spent ~3 µs more CPU per statement,
     * mostly in the garbage collector.
     */
    static final int MAX_BUDGET = 2 << 20;

    private final MVStore mv;
    private int commits;
    private long bytesSince;
    private boolean failed;

    private EmbeddedCompaction(MVStore mv) {
        this.mv = mv;
    }

    /** Compaction for the store behind {@code c}, or null when it is not an embedded H2 store. */
    static EmbeddedCompaction of(Connection c) {
        try {
            if (!c.isWrapperFor(JdbcConnection.class)) {
                return null;
            }
            Session s = c.unwrap(JdbcConnection.class).getSession();
            if (!(s instanceof SessionLocal local)) {
                return null;
            }
            Store store = local.getDatabase().getStore();
            MVStore mv = store == null ? null : store.getMvStore();
            return mv == null || mv.getFileStore() == null ? null : new EmbeddedCompaction(mv);
        } catch (SQLException | RuntimeException e) {
            LOG.warn("audit store: cannot reach H2's storage layer, the embedded store will not be compacted "
                    + "while running ({}); `warden audit compact` still works with Warden stopped", e.toString());
            return null;
        }
    }

    /**
     * Counts a commit that stored {@code blockBytes} of audit blocks; true when a compaction step is
     * due ({@link #step}). False for good once a step has failed.
     */
    boolean committed(long blockBytes) {
        bytesSince += blockBytes;
        return !failed && ++commits >= EVERY_COMMITS;
    }

    /**
     * One compaction step, on the writer thread after the commit's tickets are released. A failing
     * step is logged and compaction stops for this connection; the records are already committed.
     */
    void step() {
        // what becomes live per commit is about its block (H2 counts it rounded up to a page length
        // class); four times the new blocks keeps up and leaves room to catch up on older chunks
        int budget = (int) Math.max(MIN_BUDGET, Math.min(MAX_BUDGET, 4 * bytesSince));
        commits = 0;
        bytesSince = 0;
        try {
            if (mv.compact(TARGET_FILL_RATE, budget)) {
                mv.commit();
            }
        } catch (RuntimeException e) {
            failed = true;
            LOG.warn("audit store: compacting the embedded store failed, no further compaction while running "
                    + "(`warden audit compact` with Warden stopped reclaims the space): {}", e.toString());
        }
    }
}
