package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.warden.approval.ApprovalRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A held session parks; it does not hold a thread. While one session waits for its approval, a
 * hundred other sessions on the same gateway — on the same event loop(s): the default is one loop per
 * two cores — run their queries to the end. Then the approval arrives and the held statement runs.
 * A liveness check with a generous deadline, not a speed measurement.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ApprovalIsolationIT {
    private static final String API_KEY = "isolation-test-key-0123456789abcdef";
    private static final String DBA = "dba@bank.example";
    private static final int SESSIONS = 100;
    private static final int QUERIES = 50;
    /** Generous: the point is that they finish at all while the held session waits. */
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    @TempDir
    static Path dir;
    private static TestGateway gw;

    @BeforeAll
    static void start() throws Exception {
        Path rules = Files.createDirectories(dir.resolve("rules"));
        Files.writeString(rules.resolve("holds.drl"), String.join("\n",
                "package test.isolation;",
                "import dev.warden.sql.Statement;",
                "import dev.warden.sql.Statement.Kind;",
                "global dev.warden.policy.Decision verdict;",
                "rule \"DDL needs a DBA\"",
                "when Statement( kind == Kind.DDL ) then verdict.hold(\"dba\", \"high\", \"schema change\"); end",
                ""));
        // no mail: the test decides through the REST API, as an integration would
        gw = TestGateway.builder().rules(rules).apiKey(API_KEY).approvals(String.join("\n",
                "  timeout: 10m",
                "  linkKeyFile: " + dir.resolve("link.key"),
                "  groups:",
                "    dba:",
                "      reviewers: [" + DBA + "]", "")).start();
        try (Connection c = SharedPostgres.get().connect(SharedPostgres.APP_ROLE, SharedPostgres.APP_PASSWORD,
                SharedPostgres.APP_DB); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS isolation_held_t");
        }
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    @Test
    void aHundredOtherSessionsRunToTheEndWhileOneWaitsForApproval() throws Exception {
        try (Connection held = gw.connect("socketTimeout=180"); Statement s = held.createStatement()) {
            CompletableFuture<SQLWarning> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    s.execute("CREATE TABLE isolation_held_t (id int)");
                    return s.getWarnings();
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            String id = pendingRequest();
            assertThat(waiting.isDone()).isFalse();

            ExecutorService pool = Executors.newFixedThreadPool(SESSIONS);
            try {
                CountDownLatch allConnected = new CountDownLatch(SESSIONS);
                List<Future<Integer>> sessions = new ArrayList<>();
                for (int i = 0; i < SESSIONS; i++) {
                    int session = i;
                    sessions.add(pool.submit(() -> {
                        try (Connection c = gw.connect("socketTimeout=120");
                             PreparedStatement ps = c.prepareStatement("SELECT ?::int * 1000 + ?::int, pg_backend_pid()")) {
                            // every session is open before any of them queries: they really run side by side
                            allConnected.countDown();
                            if (!allConnected.await(DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
                                throw new IllegalStateException("not all sessions connected in time");
                            }
                            int done = 0;
                            for (int q = 0; q < QUERIES; q++) {
                                ps.setInt(1, session);
                                ps.setInt(2, q);
                                try (ResultSet rs = ps.executeQuery()) {
                                    assertThat(rs.next()).isTrue();
                                    assertThat(rs.getInt(1)).isEqualTo(session * 1000 + q); // its own answer
                                    done++;
                                }
                            }
                            return done;
                        }
                    }));
                }
                long deadline = System.nanoTime() + DEADLINE.toNanos();
                int total = 0;
                for (Future<Integer> f : sessions) {
                    long left = Math.max(1, deadline - System.nanoTime());
                    total += f.get(left, TimeUnit.NANOSECONDS); // a TimeoutException fails the test
                }
                assertThat(total).isEqualTo(SESSIONS * QUERIES);
            } finally {
                pool.shutdownNow();
            }

            // the held session is still waiting, untouched by the traffic around it
            assertThat(waiting.isDone()).as("the held statement waits for its approval").isFalse();
            assertThat(state(id)).isEqualTo(ApprovalRequest.State.PENDING);
            assertThat(tableExists()).isFalse();

            HttpResponse<String> ok = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                            "http://127.0.0.1:" + gw.httpPort() + "/api/approvals/" + id + "/decision"))
                    .header("Authorization", "Bearer " + API_KEY).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"decision\":\"approve\",\"reviewer\":\"" + DBA + "\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
            SQLWarning notice = waiting.get(30, TimeUnit.SECONDS);
            assertThat(notice != null && notice.getMessage().contains("waiting for approval " + id)).isTrue();
            assertThat(tableExists()).isTrue();
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> state(id) == ApprovalRequest.State.EXECUTED);
        }
    }

    /** The id of the one pending request, once the held statement has asked for it. */
    private static String pendingRequest() throws Exception {
        String[] id = new String[1];
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + gw.httpPort() + "/api/approvals?state=pending"))
                    .header("Authorization", "Bearer " + API_KEY).build(), HttpResponse.BodyHandlers.ofString());
            Matcher m = Pattern.compile("AR-[A-Za-z0-9]+").matcher(r.body());
            id[0] = m.find() ? m.group() : null;
            return id[0] != null;
        });
        return id[0];
    }

    private static ApprovalRequest.State state(String id) throws Exception {
        return gw.gateway().approvals().find(id).get(10, TimeUnit.SECONDS).orElseThrow().state();
    }

    private static boolean tableExists() throws SQLException {
        try (Connection c = SharedPostgres.get().connect(SharedPostgres.APP_ROLE, SharedPostgres.APP_PASSWORD,
                SharedPostgres.APP_DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT to_regclass('public.isolation_held_t') IS NOT NULL")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }
}
