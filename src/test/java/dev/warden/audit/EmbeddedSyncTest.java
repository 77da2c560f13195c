package dev.warden.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded H2 store's file is forced to disk every {@code audit.syncInterval} while records are
 * written, and not while the gateway is idle; H2's retention time follows the interval (what it
 * assumes: everything older than the retention time is on the disk).
 */
class EmbeddedSyncTest {
    @TempDir
    Path dir;

    @Test
    void writtenRecordsAreSyncedWithinTheIntervalAndAnIdleStoreIsNot() throws Exception {
        AuditSettings s = AuditSettings.defaults(dir).withSyncInterval(Duration.ofMillis(100));
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC());
             Connection c = DriverManager.getConnection(s.store().url(), "sa", "")) {
            MVStore mv = EmbeddedCompaction.mvStore(c);
            assertThat(mv).as("an embedded file store").isNotNull();
            assertThat(mv.getRetentionTime()).as("H2's retention time: five sync intervals").isEqualTo(500);

            write(log, "SELECT 1");
            long first = awaitAbove(() -> log.health().syncs(), 0);
            // the start record and the statement may have been synced apart: wait until the count settles
            long[] last = {-1};
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(300)).until(() -> {
                long now = log.health().syncs();
                boolean settled = now == last[0];
                last[0] = now;
                return settled;
            });
            long idle = last[0];
            assertThat(idle - first).as("syncs after the first write's").isLessThanOrEqualTo(1);
            // nothing written: nothing to sync, however long it stays idle (five intervals here)
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
                    .until(() -> log.health().syncs() == idle);

            write(log, "SELECT 2");
            awaitAbove(() -> log.health().syncs(), idle);
            assertThat(log.health().available()).isTrue();
        }
    }

    @Test
    void syncingOffNeverSyncsAndLeavesH2sRetentionTime() throws Exception {
        AuditSettings s = AuditSettings.defaults(dir).withSyncInterval(Duration.ZERO);
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC());
             Connection c = DriverManager.getConnection(s.store().url(), "sa", "")) {
            MVStore mv = EmbeddedCompaction.mvStore(c);
            assertThat(mv.getRetentionTime()).isEqualTo(mv.getFileStore().getDefaultRetentionTime());
            write(log, "SELECT 1");
            assertThat(log.health().written()).isGreaterThan(0);
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> log.health().syncs() == 0);
        }
    }

    @Test
    void aShorterRetentionTimeFromTheUrlIsKept() throws Exception {
        AuditSettings d = AuditSettings.defaults(dir);
        AuditSettings s = d.withStore(new AuditSettings.Store(d.store().url() + ";RETENTION_TIME=100", "sa", "", null, null));
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC());
             Connection c = DriverManager.getConnection(s.store().url(), "sa", "")) {
            write(log, "SELECT 1");
            awaitAbove(() -> log.health().syncs(), 0);
            assertThat(EmbeddedCompaction.mvStore(c).getRetentionTime()).isEqualTo(100);
        }
    }

    @Test
    void anInMemoryStoreHasNothingToSync() throws Exception {
        AuditSettings s = AuditSettings.defaults(dir).withStore(TestStores.fresh(TestStores.Kind.H2))
                .withSyncInterval(Duration.ofMillis(50));
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            write(log, "SELECT 1");
            assertThat(log.health().written()).isGreaterThan(0);
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> log.health().syncs() == 0);
        }
    }

    private static void write(AuditLog log, String sql) throws Exception {
        log.statementReceived(TestStores.statement("s-1", Instant.now(), sql), true).durable().get(10, TimeUnit.SECONDS);
    }

    private static long awaitAbove(LongSupplier value, long floor) {
        await().atMost(Duration.ofSeconds(10)).until(() -> value.getAsLong() > floor);
        return value.getAsLong();
    }
}
