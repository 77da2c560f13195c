package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.warden.audit.AuditSearch;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Fail closed: while the audit store (PostgreSQL here) cannot be reached, statements are refused
 * with 53400 and none runs unrecorded; when the store is back, service resumes by itself.
 */
class AuditOutageIT {
    private static final String DB = "warden_audit_outage";

    private static void superuser(String sql) throws SQLException {
        try (Connection c = SharedPostgres.get().superuser("postgres"); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** null when the insert ran, else the SQLSTATE it was refused with. */
    private static String insert(Connection c, int n) {
        try (Statement s = c.createStatement()) {
            s.execute("INSERT INTO outage_canary VALUES (" + n + ")");
            return null;
        } catch (SQLException e) {
            return e.getSQLState();
        }
    }

    @Test
    void statementsAreRefusedWhileTheAuditStoreIsDownAndResumeAfterwards() throws Exception {
        superuser("DROP DATABASE IF EXISTS " + DB);
        superuser("DO $$ BEGIN CREATE ROLE warden_auditor LOGIN PASSWORD 'auditor-pw-5'; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
        superuser("CREATE DATABASE " + DB + " OWNER warden_auditor");
        try (TestGateway gw = TestGateway.builder().audit(String.join("\n",
                "  store:",
                "    url: jdbc:postgresql://127.0.0.1:" + SharedPostgres.get().port() + "/" + DB,
                "    user: warden_auditor",
                "    password: auditor-pw-5",
                "  strictTimeout: 1s", "")).start();
             Connection c = gw.connect("preferQueryMode=simple")) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS outage_canary (n int)");
                s.execute("TRUNCATE outage_canary");
            }
            AtomicInteger n = new AtomicInteger();
            assertThat(insert(c, n.incrementAndGet())).isNull();

            superuser("REVOKE CONNECT ON DATABASE " + DB + " FROM PUBLIC, warden_auditor");
            superuser("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + DB + "'");
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                    .until(() -> "53400".equals(insert(c, n.incrementAndGet())));
            // still down: refused again, and the session itself stays usable
            assertThat(insert(c, n.incrementAndGet())).isEqualTo("53400");
            java.net.http.HttpResponse<String> health = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + gw.httpPort()
                            + "/health")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).as("a load balancer sees the gateway cannot serve").isEqualTo(503);
            assertThat(health.body()).contains("\"status\":\"AUDIT_UNAVAILABLE\"").contains("\"available\":false");

            superuser("GRANT CONNECT ON DATABASE " + DB + " TO warden_auditor");
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> insert(c, n.incrementAndGet()) == null);

            // every row that exists was recorded with a successful outcome
            Set<Integer> rows = new HashSet<>();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT n FROM outage_canary")) {
                while (rs.next()) {
                    rows.add(rs.getInt(1));
                }
            }
            assertThat(rows).isNotEmpty();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                var page = gw.gateway().audit().search(new AuditSearch.Query(null, null, null, null, "statement", null,
                        null, null, AuditSearch.MAX_LIMIT, null));
                Set<Integer> recorded = new HashSet<>();
                for (var e : page.entries()) {
                    String text = String.valueOf(e.record().get("text"));
                    if (text.startsWith("INSERT INTO outage_canary") && e.outcome() != null && "ok".equals(e.outcome().get("event"))) {
                        recorded.add(Integer.parseInt(text.replaceAll("\\D+", "")));
                    }
                }
                assertThat(recorded).containsAll(rows);
            });
        }
    }
}
