package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.approval.Approvals;
import dev.warden.identity.Identity;
import dev.warden.identity.oidc.DemoIssuer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reviewers decide over REST with their own OIDC ID token (an issuer from oidc.issuers): they act
 * as the token's verified email and cannot decide on someone else's behalf; forged, expired and
 * unverified-email tokens get nothing.
 */
class ApprovalReviewerTokenIT {
    private static final String DBA = "dba@bank.example";

    @TempDir
    static Path dir;
    static TestGateway gw;
    static DemoIssuer idp;
    static DemoIssuer forger;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        TestGateway.Builder b = TestGateway.builder().baseDir(dir).apiKey("reviewer-token-test-key-0123456789abcdef");
        idp = new DemoIssuer("http://127.0.0.1:" + b.httpPort() + "/ci", "warden");
        forger = new DemoIssuer("http://127.0.0.1:" + b.httpPort() + "/ci", "warden"); // same name, other key
        gw = b.oidc(String.join("\n",
                        "  issuers:",
                        "    staff:",
                        "      issuerUrl: " + idp.issuerUrl(),
                        "      audience: warden",
                        "      preset: generic", ""))
                .approvals(String.join("\n", "  linkKeyFile: " + dir.resolve("link.key"), "  groups:", "    dba:",
                        "      reviewers: [" + DBA + ", ops@bank.example]", ""))
                .demoIssuer(idp).start();
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    private static Approvals.Hold hold(String text) throws Exception {
        Identity who = new Identity(Identity.Kind.OIDC, "repo:acme/app:ref:refs/heads/main", "https://issuer.example",
                "ci_deploy", "main", Map.of("repository", "acme/app"), Map.of());
        return gw.gateway().approvals().request(new Approvals.HoldRequest("s-1", "r-1", who, "10.0.0.7:5555", "app", text,
                text, "d".repeat(64), "dba", "high", "schema change", List.of("DDL"), "v1", Approvals.Mode.WAIT))
                .get(10, TimeUnit.SECONDS);
    }

    private HttpResponse<String> decide(String id, String bearer, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.httpPort() + "/api/approvals/" + id
                        + "/decision")).header("Authorization", "Bearer " + bearer).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String token(DemoIssuer by, String email, boolean verified, Duration ttl) {
        return by.issue("user-4711", Map.of("email", email, "email_verified", verified), ttl);
    }

    @Test
    void aReviewerDecidesWithTheirOwnTokenAsThemselves() throws Exception {
        Approvals.Hold h = hold("DROP TABLE a");
        String mine = token(idp, DBA, true, Duration.ofMinutes(5));
        HttpResponse<String> other = decide(h.id(), mine, "{\"decision\":\"approve\",\"reviewer\":\"ops@bank.example\"}");
        assertThat(other.statusCode()).as(other.body()).isEqualTo(403);
        assertThat(other.body()).contains("you decide as yourself");
        HttpResponse<String> ok = decide(h.id(), mine, "{\"decision\":\"approve\",\"reason\":\"checked\"}");
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        assertThat(ok.body()).contains("\"state\":\"approved\"").contains(DBA).contains("oidc:staff");
        Approvals.Decision d = h.decision().get(5, TimeUnit.SECONDS);
        assertThat(d.outcome()).isEqualTo(Approvals.Outcome.APPROVED);
        assertThat(d.reviewers()).containsExactly(DBA);
    }

    @Test
    void forgedExpiredAndUnverifiedTokensDecideNothing() throws Exception {
        Approvals.Hold h = hold("DROP TABLE b");
        HttpResponse<String> forged = decide(h.id(), token(forger, DBA, true, Duration.ofMinutes(5)), "{\"decision\":\"approve\"}");
        assertThat(forged.statusCode()).isEqualTo(401);
        assertThat(forged.body()).contains("reviewer token was refused").contains("has no signing key");
        HttpResponse<String> expired = decide(h.id(), token(idp, DBA, true, Duration.ofSeconds(-120)), "{\"decision\":\"approve\"}");
        assertThat(expired.statusCode()).isEqualTo(401);
        assertThat(expired.body()).contains("expired");
        // an email the identity provider did not verify does not count: the reviewer is then the subject
        HttpResponse<String> unverified = decide(h.id(), token(idp, DBA, false, Duration.ofMinutes(5)), "{\"decision\":\"approve\"}");
        assertThat(unverified.statusCode()).as(unverified.body()).isEqualTo(403);
        assertThat(h.decision().isDone()).isFalse();
    }
}
