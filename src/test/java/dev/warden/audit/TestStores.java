package dev.warden.audit;

import dev.warden.audit.AuditSettings.Store;
import dev.warden.cli.demo.EmbeddedTarget;
import dev.warden.identity.Identity;
import dev.warden.it.SharedPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/** Fresh audit stores for the tests: an in-memory H2 database, or a new schema in the shared embedded PostgreSQL. */
final class TestStores {
    enum Kind { H2, POSTGRES }

    static final String PG_DB = "audit_test";
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static boolean pgReady;

    private TestStores() {
    }

    static Stream<Kind> both() {
        return Stream.of(Kind.H2, Kind.POSTGRES);
    }

    static Store fresh(Kind kind) throws SQLException {
        int n = COUNTER.incrementAndGet();
        if (kind == Kind.H2) {
            return new Store("jdbc:h2:mem:audit" + n + "_" + System.nanoTime() + ";DB_CLOSE_DELAY=-1", "sa", "", null,
                    null);
        }
        String schema = "s" + n + "_" + Long.toHexString(System.nanoTime());
        try (Connection c = pgSuperuser(); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        return new Store(pgUrl() + "?currentSchema=" + schema, "postgres", "", null, null);
    }

    static synchronized String pgUrl() throws SQLException {
        EmbeddedTarget pg = SharedPostgres.get();
        if (!pgReady) {
            try (Connection c = pg.superuser("postgres"); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + PG_DB);
                s.execute("CREATE DATABASE " + PG_DB);
            }
            pgReady = true;
        }
        return "jdbc:postgresql://127.0.0.1:" + pg.port() + "/" + PG_DB;
    }

    static Connection pgSuperuser() throws SQLException {
        return DriverManager.getConnection(pgUrl(), "postgres", "");
    }

    /** A connection that may change anything, the append-only triggers notwithstanding (for tampering). */
    static Connection admin(Store store) throws SQLException {
        Connection c = DriverManager.getConnection(store.url(), store.user(), store.password());
        if (store.isPostgres()) {
            try (Statement s = c.createStatement()) {
                s.execute("SET session_replication_role = replica");
            }
        }
        return c;
    }

    static AuditSettings settings(Path dir, Store store) {
        return AuditSettings.defaults(dir).withStore(store).withInstanceId("i-test");
    }

    static StatementRecord statement(String session, Instant at, String text) {
        Identity id = new Identity(Identity.Kind.OIDC, "repo:acme/app:ref:refs/heads/main",
                "https://token.actions.githubusercontent.com", "ci_deploy", "github-main",
                Map.of("repository", "acme/app", "workflow", "deploy", "runId", "42", "job", "migrate", "actor", "alice"),
                Map.of());
        return new StatementRecord(session, at, id, "127.0.0.1:50000", "bank", "warden_bank", text,
                text.replaceAll("\\d+", "?"), List.of("42", "o'brien"),
                new StatementRecord.Verdict("allow", List.of("default-allow"), "rules-v1"), null, List.of());
    }

    /** A clock the test moves. */
    static final class TestClock extends Clock {
        private volatile Instant now;

        TestClock(Instant start) {
            this.now = start;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    /** Every stored record of every chain, by chain and position. */
    static java.util.List<StoredRecord> records(java.sql.Connection c) throws java.sql.SQLException {
        java.util.List<StoredRecord> out = new java.util.ArrayList<>();
        RecordScan.byTime(c, null, null, null, null, 0, out::add);
        return out;
    }

    /** The stored records of one kind (statement, outcome, session, ...). */
    static java.util.List<StoredRecord> records(java.sql.Connection c, String kind) throws java.sql.SQLException {
        return records(c).stream().filter(r -> r.type().equals(kind)).toList();
    }
}
