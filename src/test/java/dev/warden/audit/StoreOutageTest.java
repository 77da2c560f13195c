package dev.warden.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.warden.audit.TestStores.Kind;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.h2.tools.Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The store goes away and comes back: statements are refused (53400) while it is away, none runs
 * without its record, and service resumes by itself. H2 is served over TCP so that the test can stop
 * and restart it; PostgreSQL loses the audit role's CONNECT right and its sessions, then gets it back.
 */
class StoreOutageTest {
    static final String PG_ROLE = "audit_outage";
    static final String PG_PASSWORD = "outage-pw-1";
    static final AtomicInteger DBS = new AtomicInteger();

    @TempDir
    Path dir;

    /** A store the test can take away and bring back. */
    interface Outage extends AutoCloseable {
        AuditSettings.Store store();

        void down() throws Exception;

        void up() throws Exception;
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void statementsAreRefusedWhileTheStoreIsDownAndServiceResumes(Kind kind) throws Exception {
        try (Outage outage = kind == Kind.H2 ? h2Outage() : pgOutage()) {
            AuditSettings s = TestStores.settings(dir, outage.store()).withQueue(1000, Duration.ofSeconds(2));
            Set<String> executed = new HashSet<>();
            Set<String> refusedStrict = new HashSet<>();
            try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
                for (int i = 0; i < 20; i++) {
                    executed.add(run(log, i % 5 == 0, "before " + i, refusedStrict));
                }
                outage.down();
                // keep the proxy busy until the writer notices; batched statements admitted meanwhile did run
                await().atMost(Duration.ofSeconds(20)).until(() -> {
                    String id = run(log, false, "during", refusedStrict);
                    if (id != null) {
                        executed.add(id);
                    }
                    return id == null;
                });
                assertThat(log.health().available()).isFalse();
                assertThat(log.health().problem()).isNotBlank();
                // while it is down, every new statement is refused at once, strict or not, with a client-safe message
                for (int i = 0; i < 10; i++) {
                    AuditTicket t = log.statementReceived(TestStores.statement("s", Instant.now(), "SELECT 2"), i % 2 == 0);
                    assertThat(t.durable()).isCompletedExceptionally();
                    assertThat(t.durable().handle((v, e) -> unwrap(e)).join())
                            .isInstanceOf(AuditUnavailableException.class)
                            .hasMessage("auditing is unavailable: the audit store cannot be reached; the statement was not run");
                    assertThat(t.completed(StatementOutcome.success(Instant.now(), Instant.now(), "SELECT 1", 1, 0)))
                            .isFalse();
                }
                assertThat(log.sessionEvent(SessionEvent.connect("s", Instant.now(), "127.0.0.1:1"))).isTrue();
                outage.up();
                // service resumes by itself: a strict statement is accepted and durable again
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    AuditTicket t = log.statementReceived(TestStores.statement("s", Instant.now(), "SELECT 3"), true);
                    if (t.durable().handle((v, e) -> e == null).join()) {
                        executed.add(t.recordId());
                        return true;
                    }
                    return false;
                });
                assertThat(log.health().available()).isTrue();
                executed.add(run(log, false, "after", refusedStrict));
            }
            executed.remove(null);
            try (Connection c = DriverManager.getConnection(outage.store().url(), outage.store().user(),
                    outage.store().password())) {
                Set<String> stored = new java.util.HashSet<>();
                Set<String> notRun = new java.util.HashSet<>();
                for (StoredRecord r : TestStores.records(c)) {
                    RecordCodec.Projection p = r.projection();
                    if (r.type().equals("statement")) {
                        stored.add(p.recordId());
                    } else if (r.type().equals("outcome") && "not_run".equals(p.event())) {
                        notRun.add(p.refId());
                    }
                }
                assertThat(stored).as("every statement that ran has its record").containsAll(executed);
                assertThat(notRun).as("refused strict statements are recorded as not run").containsAll(refusedStrict);
                AuditVerifier.Report r = AuditVerifier.verify(c, List.of(SigningKeys.readPublic(s.signingKeyFile())),
                        AuditVerifier.Options.all());
                assertThat(r.firstProblem()).isNull();
            }
        }
    }

    @Test
    void aStoreThatHangsRefusesStrictStatementsAfterTheTimeout() throws Exception {
        AuditSettings.Store store = TestStores.fresh(Kind.POSTGRES);
        AuditSettings s = TestStores.settings(dir, store).withQueue(1000, Duration.ofMillis(500));
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC()); Connection blocker = TestStores.admin(store)) {
            WritePathTest.block(Kind.POSTGRES, blocker);
            AuditTicket strict = log.statementReceived(TestStores.statement("s", Instant.now(), "DROP TABLE t"), true);
            await().atMost(Duration.ofSeconds(5)).until(() -> strict.durable().isCompletedExceptionally());
            assertThat(strict.durable().handle((v, e) -> unwrap(e).getMessage()).join())
                    .isEqualTo("auditing is unavailable: the audit store did not confirm the record in time; the statement was not run");
            // the writer is stuck in that insert: once it has been for strictTimeout, new statements are refused
            // at once (the strict ticket's timer started when it was queued, a moment before the writer took it)
            await().atMost(Duration.ofSeconds(2)).until(() -> log.statementReceived(
                    TestStores.statement("s", Instant.now(), "SELECT 1"), false).durable().isCompletedExceptionally());
            AuditTicket next = log.statementReceived(TestStores.statement("s", Instant.now(), "SELECT 1"), false);
            assertThat(next.durable()).isCompletedExceptionally();
            WritePathTest.unblock(Kind.POSTGRES, blocker);
            await().atMost(Duration.ofSeconds(10)).until(() -> log.statementReceived(
                    TestStores.statement("s", Instant.now(), "SELECT 1"), true).durable().handle((v, e) -> e == null).join());
        }
    }

    /** Submits a statement as the proxy would; returns its record id if it may run, null if refused. */
    static String run(AuditLog log, boolean strict, String text, Set<String> refusedStrict) {
        AuditTicket t = log.statementReceived(TestStores.statement("s", Instant.now(), text), strict);
        try {
            t.durable().join();
        } catch (CompletionException e) {
            if (t.recordId() != null) {
                refusedStrict.add(t.recordId());
            }
            return null;
        }
        t.completed(StatementOutcome.success(Instant.now(), Instant.now(), "SELECT 1", 1, 10));
        return t.recordId();
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }


    private Outage h2Outage() throws Exception {
        int port;
        try (ServerSocket ss = new ServerSocket(0)) {
            port = ss.getLocalPort();
        }
        String[] args = {"-tcpPort", Integer.toString(port), "-baseDir", dir.toString(), "-ifNotExists"};
        Server[] server = {Server.createTcpServer(args).start()};
        AuditSettings.Store store = new AuditSettings.Store("jdbc:h2:tcp://127.0.0.1:" + port + "/audit", "sa", "",
                null, null);
        return new Outage() {
            public AuditSettings.Store store() {
                return store;
            }

            public void down() {
                server[0].stop();
            }

            public void up() throws Exception {
                server[0] = Server.createTcpServer(args).start();
            }

            public void close() {
                server[0].stop();
            }
        };
    }

    private Outage pgOutage() throws Exception {
        String db = "audit_outage_" + DBS.incrementAndGet();
        try (Connection c = TestStores.pgSuperuser(); Statement st = c.createStatement()) {
            st.execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + PG_ROLE + "') THEN "
                    + "CREATE ROLE " + PG_ROLE + " LOGIN PASSWORD '" + PG_PASSWORD + "'; END IF; END $$");
            st.execute("CREATE DATABASE " + db + " OWNER " + PG_ROLE);
            st.execute("REVOKE CONNECT ON DATABASE " + db + " FROM PUBLIC");
            st.execute("GRANT CONNECT ON DATABASE " + db + " TO " + PG_ROLE);
        }
        String url = TestStores.pgUrl().replace("/" + TestStores.PG_DB, "/" + db);
        AuditSettings.Store store = new AuditSettings.Store(url, PG_ROLE, PG_PASSWORD, null, null);
        return new Outage() {
            public AuditSettings.Store store() {
                return store;
            }

            public void down() throws Exception {
                try (Connection c = TestStores.pgSuperuser(); Statement st = c.createStatement()) {
                    st.execute("REVOKE CONNECT ON DATABASE " + db + " FROM " + PG_ROLE + ", PUBLIC");
                    st.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + PG_ROLE + "'");
                }
            }

            public void up() throws Exception {
                try (Connection c = TestStores.pgSuperuser(); Statement st = c.createStatement()) {
                    st.execute("GRANT CONNECT ON DATABASE " + db + " TO " + PG_ROLE);
                }
            }

            public void close() {
            }
        };
    }
}
