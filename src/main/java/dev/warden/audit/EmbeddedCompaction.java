package dev.warden.audit;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.Callable;
import org.h2.engine.Session;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.mvstore.FileStore;
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
 * that move right away, between batches. Only chunks older than H2's retention time are moved (5 s
 * while {@link EmbeddedSync} forces the file to disk every second, else H2's 45 s); the emptied
 * chunks are dropped once that time has passed too, and their space is reused.
 *
 * <p>Why the steps call H2's chunk rewrite directly (by reflection: {@code FileStore.rewriteChunks}
 * under {@code MVStore.tryExecuteUnderStoreLock}, what {@link MVStore#compact} runs): in H2 2.5.252
 * {@code compact(target, budget)} does nothing while the fill rate of all chunks together is at or
 * above {@code target}. The chunks a step writes are ~97 % live and soon hold nearly all the data,
 * so that average stayed above 80 % until a backlog of sparse one-commit chunks a quarter the size
 * of everything had piled up: with one record per commit, 122 chunks after 3,000 commits, 281 after
 * 9,000, ~1,000 after 27,000, most of them that backlog; under batched load the backlog grew with the
 * file (see {@link #SMALL_STEP_BYTES}). Small commits (less than {@link #SMALL_STEP_BYTES} of blocks
 * since the last step) need one more thing: a step's own chunk (~100 KB,
 * 77–91 % live, since it also holds inner pages that later commits replace) is above the 80 % a
 * regular step takes, so it would stay for good, one chunk per step. Every {@link #MERGE_EVERY}th
 * small-commit step therefore merges those (into ~700 KB, ~97 % live), and every {@link #MERGE2_EVERY}th merges
 * the merged ones (~2.7 MB, ~99 % live; below the 4 MB up to which H2 reuses its write buffer). The
 * chunks still hold audit rows that stay live, so the count grows with the data, but by about one
 * chunk per 2,000 one-record commits instead of one per 30 (37 / 22 / 47 chunks after 3,000 / 9,000
 * / 27,000). If an H2 upgrade removes either method, the steps fall back to {@code compact} and log
 * a warning at start; {@code EmbeddedCompactionTest} fails on such an H2.
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
    /**
     * Blocks committed since the last step below which the step is a small-commit one (records of one
     * or a few statements per commit: strict durability, a quiet gateway). Those steps also merge their
     * own output every {@link #MERGE_EVERY} and {@link #MERGE2_EVERY} steps. Larger steps rewrite the
     * sparse chunks only. Both rewrite directly. With H2's {@code compact} for the larger steps (as
     * until session 12) a quarter of the file stayed in sparse chunks and their number grew with the
     * file: two instances side by side, each under 10 minutes of {@code pgbench -c 4 -M prepared}
     * (~5 million records), had 8,957 chunks and a 921 MB file with {@code compact} against 2,742 and
     * 679 MB with the direct rewrite, whose writer then spent 0.6–1.8 µs less CPU per record (H2 scans
     * its chunk list on every commit): docs/performance.md, "21.".
     */
    static final int SMALL_STEP_BYTES = 128 << 10;
    /** Every this many small-commit steps, a step merges the output of the steps before it. */
    static final int MERGE_EVERY = 16;
    /**
     * Fill rate of a merge step, as H2 rounds it: takes step outputs (77–91% live), leaves merged
     * chunks (~97%, H2 says 96) alone.
     */
    static final int MERGE_FILL_RATE = 92;
    /** Budget of a merge step: the ~16 step outputs since the last one (H2's estimate, ~3x the bytes). */
    static final int MERGE_BUDGET = 2 << 20;
    /** Every this many steps (a multiple of {@link #MERGE_EVERY}), a step merges merged chunks. */
    static final int MERGE2_EVERY = 64;
    /** Takes merged chunks (H2 says 96), leaves their merge (~99%, H2 says 98) alone. */
    static final int MERGE2_FILL_RATE = 97;
    /** About four merged chunks and what is left of the rest, ~2.7 MB written. */
    static final int MERGE2_BUDGET = 16 << 20;
    /**
     * H2's {@code FileStore.rewriteChunks(writeLimit, targetFillRate)}: what {@link MVStore#compact}
     * runs once the fill rate of all chunks is below the target. Null when this H2 has no such
     * method; then {@code compact} is used.
     */
    private static final Method REWRITE = declared(FileStore.class, "rewriteChunks", boolean.class, int.class, int.class);
    /** H2's {@code MVStore.tryExecuteUnderStoreLock(Callable)}, which {@code compact} runs the rewrite under. */
    private static final Method UNDER_STORE_LOCK = declared(MVStore.class, "tryExecuteUnderStoreLock", Object.class,
            Callable.class);

    private final MVStore mv;
    private int commits;
    /** Steps taken in small-commit mode (they count the merge steps). */
    private int smallSteps;
    private long bytesSince;
    private boolean failed;

    private EmbeddedCompaction(MVStore mv) {
        this.mv = mv;
    }

    /** Compaction for the store behind {@code c}, or null when it is not an embedded H2 store. */
    static EmbeddedCompaction of(Connection c) {
        try {
            MVStore mv = mvStore(c);
            if (mv == null) {
                return null;
            }
            if (!direct()) {
                LOG.warn("audit store: this H2 has no FileStore.rewriteChunks(int, int); compaction falls back to "
                        + "MVStore.compact, with which chunks pile up under small commits (docs/audit.md)");
            }
            return new EmbeddedCompaction(mv);
        } catch (SQLException | RuntimeException e) {
            LOG.warn("audit store: cannot reach H2's storage layer, the embedded store will not be compacted "
                    + "while running ({}); `warden audit compact` still works with Warden stopped", e.toString());
            return null;
        }
    }

    /**
     * The MVStore of the embedded H2 file store behind {@code c}, or null when {@code c} is not one
     * (H2 server mode, an H2 without a file, PostgreSQL).
     */
    static MVStore mvStore(Connection c) throws SQLException {
        if (!c.isWrapperFor(JdbcConnection.class)) {
            return null;
        }
        Session s = c.unwrap(JdbcConnection.class).getSession();
        if (!(s instanceof SessionLocal local)) {
            return null;
        }
        Store store = local.getDatabase().getStore();
        MVStore mv = store == null ? null : store.getMvStore();
        return mv == null || mv.getFileStore() == null ? null : mv;
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
        boolean small = bytesSince < SMALL_STEP_BYTES;
        commits = 0;
        bytesSince = 0;
        try {
            boolean moved;
            if (small) {
                smallSteps++;
                moved = smallSteps % MERGE2_EVERY == 0 ? rewrite(MERGE2_BUDGET, MERGE2_FILL_RATE)
                        : smallSteps % MERGE_EVERY == 0 ? rewrite(MERGE_BUDGET, MERGE_FILL_RATE)
                        : rewrite(budget, TARGET_FILL_RATE);
            } else {
                moved = rewrite(budget, TARGET_FILL_RATE);
            }
            if (moved) {
                mv.commit();
            }
        } catch (RuntimeException e) {
            failed = true;
            LOG.warn("audit store: compacting the embedded store failed, no further compaction while running "
                    + "(`warden audit compact` with Warden stopped reclaims the space): {}", e.toString());
        }
    }

    /**
     * Moves the live pages of chunks at or below {@code fillRate} into a new chunk, up to
     * {@code budget}; true when something was moved (and needs a commit).
     */
    private boolean rewrite(int budget, int fillRate) {
        if (!direct()) {
            // without the merge steps' chunk selection this falls back to what H2 offers publicly
            return fillRate == TARGET_FILL_RATE && mv.compact(fillRate, budget);
        }
        FileStore<?> fs = mv.getFileStore();
        Callable<Boolean> rewrite = () -> {
            try {
                return (Boolean) REWRITE.invoke(fs, budget, fillRate);
            } catch (InvocationTargetException e) {
                // let H2 see its own exception, as with compact
                if (e.getCause() instanceof Error err) {
                    throw err;
                }
                throw e.getCause() instanceof Exception x ? x : e;
            }
        };
        try {
            return Boolean.TRUE.equals(UNDER_STORE_LOCK.invoke(mv, rewrite));
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether this H2 has the chunk rewrite the steps call directly (else they fall back to {@code compact}). */
    static boolean direct() {
        return REWRITE != null && UNDER_STORE_LOCK != null;
    }

    /** {@code owner}'s method, made accessible, or null when this H2 has no such method. */
    private static Method declared(Class<?> owner, String name, Class<?> returns, Class<?>... parameters) {
        try {
            Method m = owner.getDeclaredMethod(name, parameters);
            if (m.getReturnType() != returns) {
                return null;
            }
            m.setAccessible(true);
            return m;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
