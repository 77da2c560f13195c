package dev.warden.audit;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retention: removes the oldest records of this instance's chain, always up to a signed checkpoint
 * (the anchor) whose records are all older than the retention period. First a "prune" record naming
 * the anchor is appended and checkpointed, then the records before the anchor's successor are
 * deleted — so the chain itself says what was removed, and verification checks the first remaining
 * record against the anchor's signed head hash. Runs on the writer thread.
 */
final class Pruner implements Consumer<Pending> {
    private static final Logger LOG = LoggerFactory.getLogger(Pruner.class);

    private final StoreSql sql;
    private final String instanceId;
    private final Duration retention;
    private final Clock clock;
    private final ExecutorService deleter = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "warden-audit-prune");
        t.setDaemon(true);
        return t;
    });
    private ChainWriter writer;

    Pruner(StoreSql sql, String instanceId, Duration retention, Clock clock) {
        this.sql = sql;
        this.instanceId = instanceId;
        this.retention = retention;
        this.clock = clock;
    }

    void attach(ChainWriter w) {
        this.writer = w;
    }

    @Override
    public void accept(Pending request) {
        try {
            Checkpoint anchor = appendPruneRecord(request.requestedAt);
            if (anchor == null) {
                request.done.complete(0L);
                return;
            }
            // the removal itself may take long on a big store: not on the writer's thread
            deleter.execute(() -> {
                try (Connection c = sql.store().connect()) {
                    long deleted = sql.deleteBefore(c, instanceId, anchor.seq() + 1);
                    LOG.info("audit retention: removed {} records of chain {} (those before record {}, anchored by {})",
                            deleted, instanceId, anchor.seq() + 1, anchor);
                    request.done.complete(deleted);
                } catch (SQLException | RuntimeException e) {
                    LOG.warn("audit retention: removing records before {} failed (tried again later): {}",
                            anchor.seq() + 1, e.getMessage());
                    request.done.completeExceptionally(e);
                }
            });
        } catch (SQLException | RuntimeException e) {
            writer.closeConnection();
            LOG.warn("audit retention pruning failed (it is tried again later): {}", e.getMessage());
            request.done.completeExceptionally(e);
        }
    }

    /** Appends and checkpoints the prune record; returns the anchor, or null when nothing is old enough. */
    private Checkpoint appendPruneRecord(Instant asOf) throws SQLException {
        Instant now = clock.instant();
        Instant cutoff = (asOf != null ? asOf : now).minus(retention);
        Connection c = writer.connection();
        long first;
        Checkpoint anchor;
        try {
            first = StoreSql.firstSeq(c, instanceId);
            long young = StoreSql.firstSeqAtOrAfter(c, instanceId, cutoff);
            anchor = StoreSql.checkpointBelow(c, instanceId, young == 0 ? Long.MAX_VALUE : young);
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        }
        if (first == 0 || anchor == null || anchor.seq() < first) {
            return null;
        }
        String id = UUID.randomUUID().toString();
        Map<String, Object> payload = RecordCodec.prune(id, now, anchor.seq() + 1, anchor, cutoff, retention,
                anchor.seq() - first + 1);
        Pending record = Pending.checkpointed(RecordCodec.PRUNE, Canonical.encode(payload),
                RecordCodec.project(RecordCodec.PRUNE, payload), false, null);
        if (!writer.appendNow(record)) {
            throw new SQLException("could not append the prune record (the store is unavailable)");
        }
        return anchor;
    }

    /** Lets a removal under way finish (up to 30 s). */
    void close() {
        deleter.shutdown();
        try {
            deleter.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
