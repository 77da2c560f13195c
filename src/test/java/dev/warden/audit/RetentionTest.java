package dev.warden.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.audit.TestStores.Kind;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Retention pruning is a recorded, checkpointed event; verification accepts exactly what it removed. */
class RetentionTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Kind.class)
    void pruningIsRecordedAndTheChainStillVerifies(Kind kind) throws Exception {
        AuditSettings.Store store = TestStores.fresh(kind);
        AuditSettings s = TestStores.settings(dir, store).withCheckpoints(10, Duration.ofHours(1))
                .withRetention(Duration.ofDays(30));
        TestStores.TestClock clock = new TestStores.TestClock(Instant.parse("2025-01-01T00:00:00Z"));
        long removed;
        try (AuditLog log = AuditLog.open(s, clock)) {
            if (kind == Kind.POSTGRES) { // the records are from 2025: let the store's own floor allow removing them
                try (Connection c = TestStores.admin(store); Statement st = c.createStatement()) {
                    st.execute("UPDATE audit_policy SET min_retention = interval '1 day'");
                }
            }
            for (int i = 0; i < 55; i++) {
                clock.advance(Duration.ofMinutes(1));
                log.statementReceived(TestStores.statement("old", clock.instant(), "SELECT " + i), false);
            }
            clock.advance(Duration.ofDays(40));
            for (int i = 0; i < 15; i++) {
                clock.advance(Duration.ofMinutes(1));
                log.statementReceived(TestStores.statement("new", clock.instant(), "SELECT " + i), false);
            }
            log.checkpoint().get(10, TimeUnit.SECONDS);
            removed = log.prune().get(10, TimeUnit.SECONDS);
            assertThat(log.prune().get(10, TimeUnit.SECONDS)).as("nothing more is old enough").isZero();
        }
        // the start record (1, checkpointed) and 55 old statements (2..56); checkpoints every 10 records
        // after that: 11, 21, ..., 51 — the newest one among the old records anchors the cut
        assertThat(removed).isEqualTo(51);
        try (Connection c = TestStores.admin(store)) {
            AuditVerifier.Report r = AuditVerifier.verify(c, List.of(SigningKeys.readPublic(s.signingKeyFile())),
                    AuditVerifier.Options.all());
            assertThat(r.firstProblem()).isNull();
            assertThat(r.chains().get(0).firstSeq()).isEqualTo(52);
            assertThat(TestStores.records(c, "prune")).extracting(rec -> rec.projection().refSeq()).containsExactly(52L);
            Tamper t = new Tamper(c, "i-test");
            // removing one more old record, or the prune record itself, is caught
            t.delete(52);
            assertThat(TamperTrialsTest.verify(c, List.of(), SigningKeys.readPublic(s.signingKeyFile())))
                    .startsWith("records 1..52 (instance i-test): missing — deleted");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void deletingOldRecordsWithoutAPruneRecordIsCaught(Kind kind) throws Exception {
        AuditSettings.Store store = TestStores.fresh(kind);
        AuditSettings s = TestStores.settings(dir, store).withCheckpoints(10, Duration.ofHours(1));
        try (AuditLog log = AuditLog.open(s, new TestStores.TestClock(Instant.parse("2025-01-01T00:00:00Z")))) {
            for (int i = 0; i < 30; i++) {
                log.statementReceived(TestStores.statement("s", Instant.parse("2025-01-01T00:00:00Z"), "SELECT 1"), false);
            }
        }
        try (Connection c = TestStores.admin(store)) {
            // cut exactly at a checkpoint (1, 11, 21, ...), so that the first remaining record links to a signed head
            new Tamper(c, "i-test").update("DELETE FROM audit_block WHERE last_seq <= 21");
            assertThat(TamperTrialsTest.verify(c, List.of(), SigningKeys.readPublic(s.signingKeyFile())))
                    .isEqualTo("records 1..21 (instance i-test): missing — deleted (no prune record in the chain removed them)");
        }
    }

    @org.junit.jupiter.api.Test
    void postgresRefusesToPruneRecordsYoungerThanItsPolicy() throws Exception {
        AuditSettings.Store store = TestStores.fresh(Kind.POSTGRES);
        AuditSettings s = TestStores.settings(dir, store).withCheckpoints(5, Duration.ofHours(1))
                .withRetention(Duration.ofDays(1));
        TestStores.TestClock clock = new TestStores.TestClock(Instant.now());
        try (AuditLog log = AuditLog.open(s, clock)) {
            for (int i = 0; i < 12; i++) {
                log.statementReceived(TestStores.statement("s", clock.instant(), "SELECT 1"), false);
            }
            clock.advance(Duration.ofDays(3)); // Warden's clock says they are old; the database's says they are not
            log.statementReceived(TestStores.statement("s", clock.instant(), "SELECT 2"), false);
            log.checkpoint().get(10, TimeUnit.SECONDS);
            ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> log.prune().get(10, TimeUnit.SECONDS));
            assertThat(e.getCause()).hasMessageContaining("younger than the minimum retention");
            // and the store is still in service
            log.statementReceived(TestStores.statement("s", clock.instant(), "SELECT 3"), true).durable()
                    .get(10, TimeUnit.SECONDS);
        }
        try (Connection c = TestStores.admin(store)) {
            assertThat(TamperTrialsTest.verify(c, List.of(), SigningKeys.readPublic(s.signingKeyFile()))).isNull();
        }
    }
}
