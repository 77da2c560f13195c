package dev.warden.approval;

import dev.warden.audit.AuditLog;
import dev.warden.audit.AuditSearch;
import dev.warden.audit.AuditSettings;
import dev.warden.audit.AuditSettings.Store;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real approval service on a real control store (in-memory H2, or a fresh schema in the shared
 * embedded PostgreSQL) with a real audit log; notifications are collected in a list.
 */
final class ApprovalFixture implements AutoCloseable {
    enum Kind { H2, POSTGRES }

    static final String PG_DB = "approval_test";
    static final String ALICE = "alice@example.com";
    static final String BOB = "bob@example.com";
    static final String CAROL = "carol@example.com";
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static boolean pgReady;

    final AuditLog audit;
    final Approvals approvals;
    final TestClock clock;
    final List<Approvals.Notification> sent = new CopyOnWriteArrayList<>();

    private ApprovalFixture(AuditLog audit, Approvals approvals, TestClock clock) {
        this.audit = audit;
        this.approvals = approvals;
        this.clock = clock;
    }

    /** Groups: dba (alice, bob, carol; 1 approval), pair (alice, bob, carol; 2 approvals). */
    static ApprovalSettings settings(Path dir) {
        return ApprovalSettings.defaults(dir.resolve("data"), "https://warden.example.com/").withGroups(Map.of(
                "dba", new ApprovalSettings.Group("dba", List.of(ALICE, BOB, CAROL), 1),
                "pair", new ApprovalSettings.Group("pair", List.of(ALICE, BOB, CAROL), 2)));
    }

    static ApprovalFixture open(Path dir, Store store, String instance, ApprovalSettings settings) throws Exception {
        AuditSettings as = AuditSettings.defaults(dir.resolve("data-" + instance)).withStore(store).withInstanceId(instance);
        AuditLog audit = AuditLog.open(as, Clock.systemUTC());
        TestClock clock = new TestClock(Instant.now());
        Approvals a = Approvals.start(settings, store, audit, clock, instance);
        ApprovalFixture f = new ApprovalFixture(audit, a, clock);
        a.notifyWith(f.sent::add);
        return f;
    }

    static Store fresh(Kind kind) throws SQLException {
        int n = COUNTER.incrementAndGet();
        if (kind == Kind.H2) {
            return new Store("jdbc:h2:mem:approval" + n + "_" + System.nanoTime() + ";DB_CLOSE_DELAY=-1", "sa", "", null, null);
        }
        String schema = "a" + n + "_" + Long.toHexString(System.nanoTime());
        try (Connection c = DriverManager.getConnection(pgUrl(), "postgres", ""); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        return new Store(pgUrl() + "?currentSchema=" + schema, "postgres", "", null, null);
    }

    private static synchronized String pgUrl() throws SQLException {
        var pg = SharedPostgres.get();
        if (!pgReady) {
            try (Connection c = pg.superuser("postgres"); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + PG_DB);
                s.execute("CREATE DATABASE " + PG_DB);
            }
            pgReady = true;
        }
        return "jdbc:postgresql://127.0.0.1:" + pg.port() + "/" + PG_DB;
    }

    /** A CI job of acme/app whose token carries dave's address. */
    static Identity requester() {
        return new Identity(Identity.Kind.OIDC, "repo:acme/app:ref:refs/heads/main",
                "https://token.actions.githubusercontent.com", "ci_deploy", "github-main",
                Map.of("repository", "acme/app", "workflow", "deploy", "runId", "4711", "actor", "dave"),
                Map.of("email", "dave@example.com"));
    }

    static Approvals.HoldRequest hold(String group, String text, String hash, Approvals.Mode mode) {
        return hold(requester(), group, text, hash, mode);
    }

    static Approvals.HoldRequest hold(Identity who, String group, String text, String hash, Approvals.Mode mode) {
        return new Approvals.HoldRequest("sess-1", "rec-1", who, "10.0.0.5:50432", "bank", text,
                text.replaceAll("\\d+", "?"), hash, group, "high", "DDL on production needs approval",
                List.of("DDL on production is held"), "rules-v1", mode);
    }

    /** The audit's approval records of one request, as event names in order. */
    List<String> events(String approvalId) throws SQLException {
        List<String> out = new ArrayList<>();
        for (AuditSearch.Entry e : audit.search(new AuditSearch.Query(null, null, null, null, "approval", null, null,
                null, AuditSearch.MAX_LIMIT, null)).entries()) {
            if (approvalId.equals(e.record().get("approval"))) {
                out.add(String.valueOf(e.record().get("event")));
            }
        }
        return out;
    }

    List<AuditSearch.Entry> records(String approvalId, String event) throws SQLException {
        return audit.search(new AuditSearch.Query(null, null, null, null, "approval", null, null, null,
                AuditSearch.MAX_LIMIT, null)).entries().stream()
                .filter(e -> approvalId.equals(e.record().get("approval")) && event.equals(e.record().get("event")))
                .toList();
    }

    @Override
    public void close() {
        approvals.close();
        audit.close();
    }

    /** A clock the test moves. */
    static final class TestClock extends Clock {
        private volatile Instant now;

        TestClock(Instant start) {
            this.now = start;
        }

        /** Puts the clock at another fixture's time (instances sharing a store agree on the time). */
        void setTo(Instant t) {
            now = t;
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
}
