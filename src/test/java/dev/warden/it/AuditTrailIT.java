package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.warden.audit.AuditSearch;
import dev.warden.audit.AuditVerifier;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Every statement that passes through the gateway — run, failed or refused — and every login
 * attempt leaves a record in the hash-chained audit trail, with the verdict and the outcome, and
 * the chain verifies.
 */
class AuditTrailIT {
    private static final String API_KEY = "test-api-key-0123456789abcdef";

    private static List<AuditSearch.Entry> entries(TestGateway gw, String kind) throws SQLException {
        return gw.gateway().audit().search(new AuditSearch.Query(null, null, null, null, kind, null, null, null,
                AuditSearch.MAX_LIMIT, null)).entries();
    }

    private static Optional<AuditSearch.Entry> statement(TestGateway gw, String textPart) throws SQLException {
        return entries(gw, "statement").stream()
                .filter(e -> String.valueOf(e.record().get("text")).contains(textPart)).findFirst();
    }

    @SuppressWarnings("unchecked")
    @Test
    void everyStatementAndLoginIsRecordedWithVerdictAndOutcomeAndTheChainVerifies() throws Exception {
        try (TestGateway gw = TestGateway.builder().rules(Path.of("rules")).apiKey(API_KEY).start()) {
            try (Connection c = gw.connect("preferQueryMode=simple"); Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT 41 + 1 AS audited_answer")) {
                    rs.next();
                }
                assertThatThrownBy(() -> s.execute("SELECT 1 / 0 AS audited_error")).isInstanceOf(SQLException.class);
                assertThatThrownBy(() -> s.execute("DELETE FROM pg_catalog.pg_class /* audited_block */"))
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            }
            try (Connection c = gw.connect(); PreparedStatement ps = c.prepareStatement("SELECT ?::text AS audited_bind")) {
                ps.setString(1, "secret-value-123");
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                }
            }
            assertThatThrownBy(() -> gw.connectAs(TestGateway.USER, "wrong-password", TestGateway.TARGET).close())
                    .isInstanceOf(SQLException.class);

            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                var answer = statement(gw, "audited_answer").orElseThrow();
                assertThat(answer.record().get("target")).isEqualTo(TestGateway.TARGET);
                assertThat(answer.record().get("upstreamRole")).isEqualTo(SharedPostgres.APP_ROLE);
                assertThat((Map<String, Object>) answer.record().get("verdict")).containsEntry("decision", "allow");
                assertThat(answer.outcome()).containsEntry("event", "ok").containsEntry("tag", "SELECT 1");
                assertThat(((Number) answer.outcome().get("rows")).longValue()).isEqualTo(1);
                // times come from the session's per-read clock: received <= forwarded <= completed
                java.time.Instant received = java.time.Instant.parse(String.valueOf(answer.record().get("received")));
                java.time.Instant forwarded = java.time.Instant.parse(String.valueOf(answer.outcome().get("forwarded")));
                java.time.Instant completed = java.time.Instant.parse(String.valueOf(answer.outcome().get("completed")));
                assertThat(forwarded).isAfterOrEqualTo(received);
                assertThat(completed).isAfter(forwarded);
                assertThat(completed).isBefore(received.plusSeconds(10));

                var error = statement(gw, "audited_error").orElseThrow();
                assertThat(error.outcome()).containsEntry("event", "error").containsEntry("sqlState", "22012");

                var blocked = statement(gw, "audited_block").orElseThrow();
                var verdict = (Map<String, Object>) blocked.record().get("verdict");
                assertThat(verdict).containsEntry("decision", "block");
                assertThat((List<String>) verdict.get("rules")).contains("UPDATE or DELETE without WHERE is blocked");
                assertThat(blocked.outcome()).containsEntry("event", "not_run").containsEntry("sqlState", "42501");

                var bound = statement(gw, "audited_bind").orElseThrow();
                assertThat(bound.outcome()).containsEntry("event", "ok");
                assertThat(bound.record().toString()).contains("binds").doesNotContain("secret-value-123");

                assertThat(entries(gw, "session")).anySatisfy(e -> {
                    assertThat(e.record()).containsEntry("event", "auth_failure").containsEntry("user", TestGateway.USER);
                    assertThat(String.valueOf(e.record().get("detail"))).contains("proof");
                });
                assertThat(entries(gw, "session")).anySatisfy(e -> assertThat(e.record()).containsEntry("event", "auth_success"));
            });
            AuditVerifier.Report report = gw.gateway().audit().verify(AuditVerifier.Options.all(), List.of());
            assertThat(report.ok()).as(report.firstProblem()).isTrue();

            // the same records over REST, for an authorised caller only
            HttpClient http = HttpClient.newHttpClient();
            URI api = URI.create("http://127.0.0.1:" + gw.httpPort() + "/api/audit?verdict=block&limit=50");
            HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(api).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(anonymous.statusCode()).isEqualTo(401);
            assertThat(anonymous.body()).doesNotContain("audited_block");
            HttpResponse<String> wrongKey = http.send(HttpRequest.newBuilder(api)
                    .header("Authorization", "Bearer " + "x".repeat(32)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(wrongKey.statusCode()).isEqualTo(401);
            HttpResponse<String> ok = http.send(HttpRequest.newBuilder(api).header("Authorization", "Bearer " + API_KEY).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.body()).contains("audited_block").doesNotContain("audited_answer");
        }
    }
}
