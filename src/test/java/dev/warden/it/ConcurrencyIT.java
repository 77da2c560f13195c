package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import dev.warden.config.ConfigLoader;
import dev.warden.config.Secrets;
import dev.warden.proxy.Gateway;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many sessions at once through one gateway: nothing may leak from one session into another, neither
 * results nor cancels, and every session must be released when its client goes. The gateway runs four
 * event loops (whatever the machine's core count) so that sessions, and a cancel and the session it
 * names, really live on different threads.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ConcurrencyIT {
    private static final String RUN = Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);

    private static final int EVENT_LOOPS = 4;

    private static Gateway gateway;
    private static int port;
    /** Direct superuser connection to appdb, not through Warden: watches the upstream side. */
    private static Connection su;

    @BeforeAll
    static void start() throws Exception {
        port = TestGateway.freePort();
        // TestGateway's YAML, plus an explicit event-loop count
        String yaml = TestGateway.builder().yaml(port)
                .replaceFirst("(?m)^  port: (\\d+)$", "  port: $1\n  workerThreads: " + EVENT_LOOPS);
        assertThat(yaml).contains("workerThreads: " + EVENT_LOOPS);
        Path base = Path.of(".");
        gateway = new Gateway(ConfigLoader.parse(yaml, new Secrets(System.getenv(), base), base), Path.of("routes"), Path.of("src/test/resources/rules-allow-all")).start();
        su = SharedPostgres.get().superuser(SharedPostgres.APP_DB);
    }

    @AfterAll
    static void stop() throws SQLException {
        if (su != null) {
            su.close();
        }
        if (gateway != null) {
            gateway.close();
        }
    }

    private static Connection connect(String applicationName) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestGateway.USER);
        p.setProperty("password", TestGateway.PASSWORD);
        p.setProperty("ApplicationName", applicationName);
        p.setProperty("sslmode", "disable");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + TestGateway.TARGET, p);
    }

    /** What one session saw: its Warden pid, its upstream pid, and any mismatch it found. */
    private record SessionResult(int session, int wardenPid, int upstreamPid, List<String> mismatches) {
    }

    @Test
    void twoHundredConcurrentSessionsEachSeeOnlyTheirOwnResults() throws Exception {
        int sessions = 200;
        int queries = 20;
        String t = "conc_writes_" + RUN;
        String appPrefix = "conc-" + RUN + "-";
        try (Connection setup = connect("conc-setup-" + RUN); Statement s = setup.createStatement()) {
            s.execute("CREATE TABLE " + t + " (session_id int, seq int, backend_pid int, PRIMARY KEY (session_id, seq))");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> gateway.sessionCount() == 0);

        ExecutorService pool = Executors.newFixedThreadPool(sessions);
        CountDownLatch connected = new CountDownLatch(sessions);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<SessionResult>> futures = new ArrayList<>();
            for (int i = 0; i < sessions; i++) {
                int id = i;
                futures.add(pool.submit(() -> {
                    List<String> mismatches = new ArrayList<>();
                    int wardenPid;
                    int upstreamPid;
                    try (Connection c = connect(appPrefix + id)) {
                        wardenPid = c.unwrap(PGConnection.class).getBackendPID();
                        upstreamPid = ((Number) scalar(c, "SELECT pg_backend_pid()")).intValue();
                        connected.countDown();
                        if (!go.await(2, TimeUnit.MINUTES)) {
                            throw new IllegalStateException("never released");
                        }
                        try (PreparedStatement q = c.prepareStatement(
                                "SELECT ?::int + pg_backend_pid() * 0, pg_backend_pid(), current_setting('application_name')");
                             PreparedStatement w = c.prepareStatement(
                                     "INSERT INTO " + t + " (session_id, seq, backend_pid) VALUES (?, ?, pg_backend_pid())")) {
                            for (int n = 0; n < queries; n++) {
                                int value = id * 1000 + n;
                                q.setInt(1, value);
                                try (ResultSet rs = q.executeQuery()) {
                                    rs.next();
                                    if (rs.getInt(1) != value || rs.getInt(2) != upstreamPid
                                            || !rs.getString(3).equals(appPrefix + id)) {
                                        mismatches.add("query " + n + ": got " + rs.getInt(1) + "/" + rs.getInt(2) + "/"
                                                + rs.getString(3) + ", expected " + value + "/" + upstreamPid + "/" + appPrefix + id);
                                    }
                                    if (rs.next()) {
                                        mismatches.add("query " + n + ": extra row");
                                    }
                                }
                                w.setInt(1, id);
                                w.setInt(2, n);
                                if (w.executeUpdate() != 1) {
                                    mismatches.add("insert " + n + " did not report 1 row");
                                }
                            }
                        }
                    } finally {
                        connected.countDown(); // never leave the main thread waiting for a session that failed
                    }
                    return new SessionResult(id, wardenPid, upstreamPid, mismatches);
                }));
            }

            assertThat(connected.await(2, TimeUnit.MINUTES)).as("all sessions connected").isTrue();
            for (Future<SessionResult> f : futures) {
                if (f.isDone()) {
                    f.get(); // a session that already ended has failed: surface why
                }
            }
            // all 200 are open at the same time, through Warden and upstream
            assertThat(gateway.sessionCount()).isEqualTo(sessions);
            assertThat(upstreamBackends(appPrefix)).isEqualTo(sessions);
            go.countDown();

            List<SessionResult> results = new ArrayList<>();
            for (Future<SessionResult> f : futures) {
                try {
                    results.add(f.get(2, TimeUnit.MINUTES));
                } catch (ExecutionException e) {
                    fail("a session failed", e.getCause());
                }
            }
            for (SessionResult r : results) {
                assertThat(r.mismatches()).as("session %d", r.session()).isEmpty();
            }
            Set<Integer> wardenPids = new HashSet<>();
            Set<Integer> upstreamPids = new HashSet<>();
            results.forEach(r -> {
                wardenPids.add(r.wardenPid());
                upstreamPids.add(r.upstreamPid());
            });
            assertThat(wardenPids).as("distinct BackendKeyData process ids handed out by Warden").hasSize(sessions);
            assertThat(upstreamPids).as("one upstream backend per session").hasSize(sessions);
            // each session's rows were written by that session's own backend
            Map<Integer, Integer> ownPid = new HashMap<>();
            results.forEach(r -> ownPid.put(r.session(), r.upstreamPid()));
            Map<Integer, Integer> writerPid = new HashMap<>();
            try (Statement s = su.createStatement();
                 ResultSet rs = s.executeQuery("SELECT DISTINCT session_id, backend_pid FROM " + t)) {
                while (rs.next()) {
                    assertThat(writerPid.put(rs.getInt(1), rs.getInt(2))).as("session %d written by two backends", rs.getInt(1)).isNull();
                }
            }
            assertThat(writerPid).isEqualTo(ownPid);
        } finally {
            pool.shutdownNow();
        }

        // every row landed
        try (Statement s = su.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT count(*), count(DISTINCT session_id) FROM " + t)) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo((long) sessions * queries);
                assertThat(rs.getLong(2)).isEqualTo(sessions);
            }
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM (SELECT session_id FROM " + t
                    + " GROUP BY session_id HAVING count(*) <> " + queries + ") bad")) {
                rs.next();
                assertThat(rs.getLong(1)).as("sessions with missing rows").isZero();
            }
        }

        await().atMost(Duration.ofSeconds(30)).until(() -> gateway.sessionCount() == 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> upstreamBackends(appPrefix) == 0);
    }

    @Test
    void cancelReachesOnlyTheSessionItNames() throws Exception {
        int sessions = 20;
        int victim = 7;
        String appPrefix = "conc-cancel-" + RUN + "-";
        String sleep = "SELECT pg_sleep(20)";
        List<Connection> conns = new ArrayList<>();
        List<Statement> stmts = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(sessions);
        try {
            for (int i = 0; i < sessions; i++) {
                Connection c = connect(appPrefix + i);
                conns.add(c);
                stmts.add(c.createStatement());
            }
            List<Future<Boolean>> running = new ArrayList<>();
            for (Statement s : stmts) {
                running.add(pool.submit(() -> s.execute(sleep)));
            }
            await().atMost(Duration.ofSeconds(15)).until(() -> runningSleeps(appPrefix, sleep).size() == sessions);

            stmts.get(victim).cancel();
            await().atMost(Duration.ofSeconds(10)).until(() -> runningSleeps(appPrefix, sleep).size() < sessions);
            // exactly the victim stopped: the other 19 are still running upstream and still waiting on the client side
            Set<String> stillRunning = runningSleeps(appPrefix, sleep);
            assertThat(stillRunning).hasSize(sessions - 1).doesNotContain(appPrefix + victim);
            assertThat(sqlStateOf(running.get(victim), Duration.ofSeconds(10))).isEqualTo("57014");
            for (int i = 0; i < sessions; i++) {
                if (i != victim) {
                    assertThat(running.get(i).isDone()).as("session %d", i).isFalse();
                }
            }

            for (int i = 0; i < sessions; i++) {
                if (i != victim) {
                    stmts.get(i).cancel();
                }
            }
            for (int i = 0; i < sessions; i++) {
                if (i != victim) {
                    assertThat(sqlStateOf(running.get(i), Duration.ofSeconds(10))).as("session %d", i).isEqualTo("57014");
                }
            }
            // every session is still usable after being cancelled
            for (int i = 0; i < sessions; i++) {
                assertThat(scalar(conns.get(i), "SELECT current_setting('application_name')")).isEqualTo(appPrefix + i);
            }
        } finally {
            try (PreparedStatement ps = su.prepareStatement("SELECT pg_cancel_backend(pid) FROM pg_stat_activity"
                    + " WHERE starts_with(application_name, ?) AND state = 'active'")) {
                ps.setString(1, appPrefix); // a failed run's leftovers; a no-op when the test passed
                ps.executeQuery().close();
            }
            pool.shutdownNow();
            for (Connection c : conns) {
                c.close();
            }
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> upstreamBackends(appPrefix) == 0);
    }

    private static Object scalar(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getObject(1);
        }
    }

    private static String sqlStateOf(Future<?> f, Duration within) throws Exception {
        try {
            f.get(within.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(SQLException.class);
            return ((SQLException) e.getCause()).getSQLState();
        }
        return fail("the statement completed normally");
    }

    private static long upstreamBackends(String appPrefix) throws SQLException {
        try (PreparedStatement ps = su.prepareStatement(
                "SELECT count(*) FROM pg_stat_activity WHERE starts_with(application_name, ?)")) {
            ps.setString(1, appPrefix);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static Set<String> runningSleeps(String appPrefix, String query) throws SQLException {
        Set<String> apps = new HashSet<>();
        try (PreparedStatement ps = su.prepareStatement("SELECT application_name FROM pg_stat_activity"
                + " WHERE starts_with(application_name, ?) AND state = 'active' AND query = ?")) {
            ps.setString(1, appPrefix);
            ps.setString(2, query);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    apps.add(rs.getString(1));
                }
            }
        }
        return apps;
    }
}
