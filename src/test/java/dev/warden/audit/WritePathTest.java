package dev.warden.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.warden.audit.TestStores.Kind;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Group commit under concurrent producers, and what strict and batched durability promise. */
class WritePathTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Kind.class)
    void anOutcomeThatArrivesWhileItsStatementWaitsIsFoldedIntoTheSameRecord(Kind kind) throws Exception {
        AuditSettings.Store store = TestStores.fresh(kind);
        // a one-second window: the statement's record waits in the queue long after its outcome arrives
        AuditSettings s = TestStores.settings(dir, store).withDurability(AuditSettings.Durability.BATCHED,
                Duration.ofSeconds(1));
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            log.checkpoint().get(); // the start-up prune request is done: the writer now waits for the first record
            AuditTicket folded = log.statementReceived(TestStores.statement("s1", Instant.now(), "SELECT 1"), false);
            assertThat(folded.completed(StatementOutcome.error(Instant.now(), Instant.now(), "22012",
                    "division by zero", 0))).isTrue();
            log.checkpoint().get(); // writes the batch now
            AuditTicket late = log.statementReceived(TestStores.statement("s1", Instant.now(), "SELECT 2"), false);
            log.checkpoint().get(); // the record is written before the outcome arrives
            assertThat(late.completed(StatementOutcome.success(Instant.now(), Instant.now(), "SELECT 1", 1, 9)))
                    .isTrue();
            log.checkpoint().get();

            AuditSearch.Page page = log.search(new AuditSearch.Query(null, null, null, null, "all", null, null, null,
                    100, null));
            assertThat(page.entries()).filteredOn(e -> e.kind().equals("outcome")).hasSize(1)
                    .allSatisfy(e -> assertThat(e.record()).containsEntry("statement", late.recordId()));
            AuditSearch.Page statements = log.search(AuditSearch.Query.statements(10));
            assertThat(statements.entries()).extracting(e -> e.outcome().get("sqlState"))
                    .containsExactly("22012", null);
            assertThat(statements.entries()).extracting(e -> e.outcome().get("tag")).containsExactly(null, "SELECT 1");
            assertThat(log.verify(AuditVerifier.Options.all(), List.of()).firstProblem()).isNull();
        }
        try (Connection c = TestStores.admin(store)) {
            List<StoredRecord> stmts = TestStores.records(c, "statement");
            assertThat(stmts).hasSize(2);
            assertThat(stmts.get(0).projection().sqlState()).isEqualTo("22012"); // the folded outcome's SQLSTATE is searchable
            assertThat(new String(stmts.get(0).body(), java.nio.charset.StandardCharsets.UTF_8))
                    .contains("\"outcome\":{").contains("\"sqlState\":\"22012\"");
            assertThat(new String(stmts.get(1).body(), java.nio.charset.StandardCharsets.UTF_8)).doesNotContain("\"outcome\"");
            // the frame header repeats the body's time: changing it alone is caught
            new Tamper(c, "i-test").modifyHeader(stmts.get(0).seq(), true);
            AuditVerifier.Report r = AuditVerifier.verify(c, List.of(SigningKeys.readPublic(s.signingKeyFile())),
                    AuditVerifier.Options.all());
            assertThat(r.firstProblem()).contains("the record's header (type, time) differs from the hashed content");
        }
    }


    @ParameterizedTest
    @EnumSource(Kind.class)
    void concurrentProducersAreGroupCommittedIntoOneIntactChain(Kind kind) throws Exception {
        int threads = 8;
        int perThread = 5000;
        AuditSettings.Store store = TestStores.fresh(kind);
        AuditSettings s = TestStores.settings(dir, store).withQueue(100_000, Duration.ofSeconds(30));
        Set<String> ids = ConcurrentHashMap.newKeySet();
        AuditHealth health;
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            List<Thread> producers = new ArrayList<>();
            List<CompletableFuture<Void>> strict = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                CompletableFuture<Void> lastStrict = new CompletableFuture<>();
                strict.add(lastStrict);
                Thread th = new Thread(() -> {
                    for (int i = 0; i < perThread; i++) {
                        boolean isStrict = i % 100 == 0 || i == perThread - 1;
                        AuditTicket tk = log.statementReceived(TestStores.statement("p" + id, Instant.now(),
                                "INSERT INTO t VALUES (" + i + ")"), isStrict);
                        while (tk.durable().isCompletedExceptionally()) {
                            Thread.yield(); // queue full: a real client would be refused; here we retry
                            tk = log.statementReceived(TestStores.statement("p" + id, Instant.now(),
                                    "INSERT INTO t VALUES (" + i + ")"), isStrict);
                        }
                        ids.add(tk.recordId());
                        if (i == perThread - 1) {
                            tk.durable().whenComplete((v, e) -> lastStrict.complete(null));
                        }
                    }
                }, "producer-" + t);
                producers.add(th);
                th.start();
            }
            for (Thread th : producers) {
                th.join();
            }
            CompletableFuture.allOf(strict.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
            health = log.health();
        }
        assertThat(ids).hasSize(threads * perThread);
        // group commit: far fewer transactions than records
        assertThat(health.commits()).isLessThan(threads * perThread / 4);
        try (Connection c = TestStores.admin(store)) {
            Set<String> stored = ConcurrentHashMap.newKeySet();
            for (StoredRecord r : TestStores.records(c, "statement")) {
                stored.add(r.projection().recordId());
            }
            assertThat(stored).isEqualTo(ids);
            AuditVerifier.Report r = AuditVerifier.verify(c, List.of(SigningKeys.readPublic(s.signingKeyFile())),
                    AuditVerifier.Options.all());
            assertThat(r.firstProblem()).isNull();
            assertThat(r.chains().get(0).recordsChecked()).isEqualTo(threads * perThread + 2L);
        }
        System.out.printf("group commit on %s: %d records in %d transactions%n", kind, health.written(),
                health.commits());
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void strictWaitsForTheCommitAndBatchedDoesNot(Kind kind) throws Exception {
        AuditSettings.Store store = TestStores.fresh(kind);
        AuditSettings s = TestStores.settings(dir, store).withQueue(1000, Duration.ofSeconds(30));
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC());
             Connection blocker = TestStores.admin(store);
             Connection reader = TestStores.admin(store)) {
            block(kind, blocker);
            AuditTicket batched = log.statementReceived(TestStores.statement("s", Instant.now(), "SELECT 1"), false);
            assertThat(batched.durable()).isCompleted();
            AuditTicket strict = log.statementReceived(TestStores.statement("s", Instant.now(), "DROP TABLE t"), true);
            CompletableFuture<Boolean> visibleWhenDurable = strict.durable().thenApply(v -> exists(reader, strict.recordId()));
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> !strict.durable().isDone());
            if (kind == Kind.POSTGRES) { // (H2's exclusive mode pauses the reader too)
                assertThat(exists(reader, strict.recordId())).isFalse();
            }
            unblock(kind, blocker);
            assertThat(visibleWhenDurable.get(10, TimeUnit.SECONDS)).as("committed before durable() completed").isTrue();
            assertThat(exists(reader, batched.recordId())).isTrue();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void strictDurabilitySettingMakesEveryStatementStrict(Kind kind) throws Exception {
        AuditSettings s = TestStores.settings(dir, TestStores.fresh(kind))
                .withDurability(AuditSettings.Durability.STRICT, Duration.ofMillis(5));
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            AuditTicket t = log.statementReceived(TestStores.statement("s", Instant.now(), "SELECT 1"), false);
            assertThat(t.strict()).isTrue();
            t.durable().get(10, TimeUnit.SECONDS);
        }
    }

    /** Makes the writer's next insert wait: H2 exclusive mode, or a PostgreSQL table lock. */
    static void block(Kind kind, Connection c) throws Exception {
        try (Statement st = c.createStatement()) {
            if (kind == Kind.H2) {
                st.execute("SET EXCLUSIVE 1");
            } else {
                c.setAutoCommit(false);
                st.execute("LOCK TABLE audit_block IN EXCLUSIVE MODE");
            }
        }
    }

    static void unblock(Kind kind, Connection c) throws Exception {
        if (kind == Kind.H2) {
            try (Statement st = c.createStatement()) {
                st.execute("SET EXCLUSIVE 0");
            }
        } else {
            c.commit();
            c.setAutoCommit(true);
        }
    }

    static boolean exists(Connection c, String recordId) {
        try {
            boolean found = TestStores.records(c).stream().anyMatch(r -> RecordScan.mentions(r, recordId)
                    && recordId.equals(r.projection().recordId()));
            if (!c.getAutoCommit()) {
                c.commit();
            }
            return found;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
