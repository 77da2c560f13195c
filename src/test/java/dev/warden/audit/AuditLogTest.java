package dev.warden.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.audit.TestStores.Kind;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class AuditLogTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Kind.class)
    void writesChainsAndVerifies(Kind kind) throws Exception {
        AuditSettings.Store store = TestStores.fresh(kind);
        AuditSettings s = TestStores.settings(dir, store);
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            log.sessionEvent(SessionEvent.connect("s1", Instant.now(), "127.0.0.1:5000"));
            AuditTicket t = log.statementReceived(TestStores.statement("s1", Instant.now(), "SELECT 1"), false);
            assertThat(t.durable()).isDone();
            t.completed(StatementOutcome.success(Instant.now(), Instant.now(), "SELECT 1", 1, 20));
            AuditTicket strict = log.statementReceived(TestStores.statement("s1", Instant.now(), "DROP TABLE x"), true);
            strict.durable().get();
        }
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) { // reopened: the chain continues
            AuditSearch.Page page = log.search(AuditSearch.Query.statements(1));
            assertThat(page.entries()).hasSize(1);
            assertThat(page.entries().get(0).record().get("text")).isEqualTo("SELECT 1");
            assertThat(page.entries().get(0).outcome().get("tag")).isEqualTo("SELECT 1");
            AuditSearch.Page next = log.search(new AuditSearch.Query(null, null, null, null, null, null, null, null, 10,
                    page.nextCursor()));
            assertThat(next.entries()).extracting(e -> e.record().get("text")).containsExactly("DROP TABLE x");
            assertThat(next.nextCursor()).isNull();
            assertThat(log.verify(AuditVerifier.Options.all(), List.of()).ok()).isTrue();
        }
        try (Connection c = TestStores.admin(store)) {
            AuditVerifier.Report r = AuditVerifier.verify(c, List.of(SigningKeys.readPublic(s.signingKeyFile())),
                    AuditVerifier.Options.all());
            assertThat(r.firstProblem()).isNull();
            assertThat(r.chains()).hasSize(1);
            // start, connect, SELECT (its outcome folded in, or a record of its own if the writer was quicker),
            // DROP (strict, so its record was written first), stop, start, stop
            assertThat(r.chains().get(0).recordsChecked()).isBetween(7L, 8L);
            assertThat(r.chains().get(0).unsignedTail()).isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void approvalStepsAreDurableChainedAndSearchable(Kind kind) throws Exception {
        AuditSettings.Store store = TestStores.fresh(kind);
        AuditSettings s = TestStores.settings(dir, store);
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            long seq = log.approvalEvent(new ApprovalEvent("AR-1", "approved", Instant.now(), "s1", "r-1", null,
                    "bank", "dba@bank.example", "10.0.0.9", java.util.Map.of("reason", "reviewed", "approvals", 1L)))
                    .get();
            assertThat(seq).isPositive();
            assertThat(log.health().headSeq()).isGreaterThanOrEqualTo(seq);
            AuditSearch.Page page = log.search(new AuditSearch.Query(null, null, null, null, "approval", null, null,
                    null, 10, null));
            assertThat(page.entries()).hasSize(1);
            assertThat(page.entries().get(0).record()).containsEntry("approval", "AR-1")
                    .containsEntry("event", "approved").containsEntry("reviewer", "dba@bank.example");
            assertThat(log.verify(AuditVerifier.Options.all(), List.of()).firstProblem()).isNull();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void verifyingATimeRangeStartsAtTheCheckpointBeforeIt(Kind kind) throws Exception {
        AuditSettings.Store store = TestStores.fresh(kind);
        AuditSettings s = TestStores.settings(dir, store).withCheckpoints(10, java.time.Duration.ofHours(1));
        TestStores.TestClock clock = new TestStores.TestClock(Instant.parse("2025-01-01T00:00:00Z"));
        try (AuditLog log = AuditLog.open(s, clock)) {
            for (int i = 0; i < 60; i++) {
                clock.advance(java.time.Duration.ofMinutes(1));
                log.statementReceived(TestStores.statement("s", clock.instant(), "SELECT " + i), false);
            }
        }
        List<java.security.PublicKey> keys = List.of(SigningKeys.readPublic(s.signingKeyFile()));
        Instant from = Instant.parse("2025-01-01T00:35:00Z"); // record 36; the checkpoint before it is at 31
        Instant to = Instant.parse("2025-01-01T00:45:00Z");   // record 46; the checkpoint after it is at 51
        try (Connection c = TestStores.admin(store)) {
            new Tamper(c, "i-test").modifyBody(5);
            new Tamper(c, "i-test").modifyBody(55);
            assertThat(AuditVerifier.verify(c, keys, AuditVerifier.Options.all()).firstProblem())
                    .startsWith("record 5 (instance i-test): hash mismatch");
            AuditVerifier.Report r = AuditVerifier.verify(c, keys, new AuditVerifier.Options(from, to, List.of(), null));
            assertThat(r.firstProblem()).isNull();
            assertThat(r.chains().get(0).firstSeq()).isEqualTo(32);
            assertThat(r.chains().get(0).lastSeq()).isEqualTo(51);
            new Tamper(c, "i-test").modifyBody(40);
            assertThat(AuditVerifier.verify(c, keys, new AuditVerifier.Options(from, to, List.of(), null)).firstProblem())
                    .startsWith("record 40 (instance i-test): hash mismatch");
            assertThat(AuditVerifier.verify(c, keys, new AuditVerifier.Options(null, null, List.of(), "i-gone"))
                    .firstProblem()).isEqualTo("instance i-gone: the store holds no records and no checkpoints of this chain");
        }
    }
}
