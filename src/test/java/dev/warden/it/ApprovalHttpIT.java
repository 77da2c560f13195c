package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetup;
import dev.warden.approval.ApprovalRequest;
import dev.warden.approval.Approvals;
import dev.warden.approval.LinkTokens;
import dev.warden.audit.AuditSearch;
import dev.warden.audit.AuditVerifier;
import dev.warden.identity.Identity;
import jakarta.mail.internet.MimeMessage;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Approvals through a real gateway: the mail a reviewer receives (real SMTP, GreenMail), the link
 * page, the decision form, the REST API, and the audit records of each step.
 */
class ApprovalHttpIT {
    private static final String API_KEY = "approval-test-key-0123456789abcdef";
    private static final String ALICE = "alice@example.com";
    private static final String BOB = "bob@example.com";
    private static final int SMTP_PORT = TestGateway.freePort();
    private static final String XSS = "SELECT '<script>alert(1)</script>' AS \"x\" FROM customers /* & */";

    @RegisterExtension
    static final GreenMailExtension SMTP = new GreenMailExtension(new ServerSetup(SMTP_PORT, "127.0.0.1",
            ServerSetup.PROTOCOL_SMTP));

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    private TestGateway start() {
        return TestGateway.builder().apiKey(API_KEY).approvals(String.join("\n",
                "  timeout: 10m",
                "  linkKeyFile: " + dir.resolve("link.key"),
                "  groups:",
                "    dba:",
                "      reviewers: [" + ALICE + ", " + BOB + "]",
                "      required: 1",
                "  mail:",
                "    host: 127.0.0.1",
                "    port: " + SMTP_PORT,
                "    tls: none",
                "    from: warden@example.com", "")).start();
    }

    private static Approvals.HoldRequest hold(String text) {
        Identity who = new Identity(Identity.Kind.OIDC, "repo:acme/app:ref:refs/heads/main", "https://issuer.example",
                "ci_deploy", "main", Map.of("repository", "acme/app", "workflow", "deploy.yml", "runId", "4711"),
                Map.of());
        return new Approvals.HoldRequest("sess-9", "rec-9", who, "10.0.0.7:5555", "app", text, text,
                "c".repeat(64), "dba", "high", "reads classified table", List.of("classified read held"), "v1",
                Approvals.Mode.WAIT);
    }

    private HttpResponse<String> get(String url, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> postForm(String url, Map<String, String> form) throws Exception {
        StringBuilder body = new StringBuilder();
        form.forEach((k, v) -> body.append(body.isEmpty() ? "" : "&").append(k).append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> postJson(String url, String json, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }


    private static String token(String url) {
        return URI.create(url).getRawQuery().substring(2);
    }

    private static List<AuditSearch.Entry> approvalRecords(TestGateway gw, String id) throws Exception {
        return gw.gateway().audit().search(new AuditSearch.Query(null, null, null, null, "approval", null, null, null,
                AuditSearch.MAX_LIMIT, null)).entries().stream().filter(e -> id.equals(e.record().get("approval"))).toList();
    }

    private static ApprovalRequest.State state(TestGateway gw, String id) throws Exception {
        return gw.gateway().approvals().find(id).get(10, TimeUnit.SECONDS).orElseThrow().state();
    }

    @Test
    void reviewersGetMailLinksThatShowTheRequestAndDecideOnlyByPostOnce() throws Exception {
        try (TestGateway gw = start()) {
            Approvals approvals = gw.gateway().approvals();
            Approvals.Hold h = approvals.request(hold(XSS)).get(10, TimeUnit.SECONDS);
            assertThat(h.url()).isEqualTo("http://127.0.0.1:" + gw.httpPort() + "/approvals/" + h.id());

            // one mail per reviewer, each with its own approve and deny links
            assertThat(SMTP.waitForIncomingEmail(15_000, 2)).isTrue();
            MimeMessage[] mails = SMTP.getReceivedMessages();
            assertThat(mails).hasSize(2);
            String aliceMail = null;
            String bobMail = null;
            for (MimeMessage m : mails) {
                assertThat(m.getSubject()).isEqualTo("Warden approval " + h.id() + " requested by repo:acme/app:ref:refs/heads/main");
                String to = m.getAllRecipients()[0].toString();
                String body = GreenMailUtil.getBody(m);
                assertThat(body).contains("acme/app", "deploy.yml", "4711", "classified read held", "reads classified table",
                        "<script>alert(1)</script>");
                if (to.equals(ALICE)) {
                    aliceMail = body;
                } else if (to.equals(BOB)) {
                    bobMail = body;
                }
            }
            assertThat(aliceMail).isNotNull();
            assertThat(bobMail).isNotNull();
            String aliceApprove = ApprovalMails.link(aliceMail, "To approve");
            String aliceDeny = ApprovalMails.link(aliceMail, "To deny");
            String bobApprove = ApprovalMails.link(bobMail, "To approve");
            assertThat(aliceApprove).startsWith(h.url() + "?t=").isNotEqualTo(bobApprove).isNotEqualTo(aliceDeny);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(approvalRecords(gw, h.id()))
                    .anySatisfy(e -> assertThat(e.record()).containsEntry("event", "notified")));

            // GET shows everything, escaped, and decides nothing — but is recorded
            HttpResponse<String> page = get(aliceApprove);
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
            assertThat(page.body()).contains("&lt;script&gt;alert(1)&lt;/script&gt;", "&amp;", "acme/app", "Approve this statement")
                    .doesNotContain("<script>");
            assertThat(page.headers().map()).doesNotContainKey("t");
            assertThat(state(gw, h.id())).isEqualTo(ApprovalRequest.State.PENDING);
            assertThat(h.decision()).isNotDone();
            assertThat(approvalRecords(gw, h.id())).anySatisfy(e -> assertThat(e.record())
                    .containsEntry("event", "viewed").containsEntry("reviewer", ALICE));
            // without a token the page shows the state only
            HttpResponse<String> bare = get(h.url());
            assertThat(bare.statusCode()).isEqualTo(200);
            assertThat(bare.body()).contains("pending").doesNotContain("alert(1)");

            // a tampered token, and a token for another request, are refused
            String t = token(aliceApprove);
            char swapped = t.charAt(t.length() - 2) == 'A' ? 'B' : 'A'; // always a different character
            String tampered = t.substring(0, t.length() - 2) + swapped + t.charAt(t.length() - 1);
            assertThat(get(h.url() + "?t=" + tampered).statusCode()).isEqualTo(403);
            Approvals.Hold other = approvals.request(hold("DELETE FROM ledger WHERE id = 1")).get(10, TimeUnit.SECONDS);
            HttpResponse<String> foreign = postForm(other.url() + "/decide", Map.of("t", t, "decision", "approve"));
            assertThat(foreign.statusCode()).isEqualTo(403);
            assertThat(foreign.body()).contains("belongs to another approval request");
            assertThat(get(other.url() + "?t=" + t).statusCode()).isEqualTo(403);
            // the approve link cannot be turned into a denial by editing the form
            assertThat(postForm(h.url() + "/decide", Map.of("t", t, "decision", "deny")).statusCode()).isEqualTo(403);

            // POST decides and releases the hold
            HttpResponse<String> decided = postForm(h.url() + "/decide", Map.of("t", t, "decision", "approve",
                    "reason", "checked <b>ok</b>"));
            assertThat(decided.statusCode()).as(decided.body()).isEqualTo(200);
            assertThat(decided.body()).contains("Approved", "checked &lt;b&gt;ok&lt;/b&gt;");
            Approvals.Decision d = h.decision().get(5, TimeUnit.SECONDS);
            assertThat(d.outcome()).isEqualTo(Approvals.Outcome.APPROVED);
            assertThat(d.reviewers()).containsExactly(ALICE);
            assertThat(approvalRecords(gw, h.id())).anySatisfy(e -> assertThat(e.record())
                    .containsEntry("event", "approved").containsEntry("reviewer", ALICE));

            // the same link again: refused
            HttpResponse<String> reused = postForm(h.url() + "/decide", Map.of("t", t, "decision", "approve"));
            assertThat(reused.statusCode()).isEqualTo(403);
            assertThat(reused.body()).contains("used already");

            // an expired (but genuinely signed) link: refused
            LinkTokens keys = new LinkTokens(LinkTokens.loadOrGenerateKey(dir.resolve("link.key")));
            String old = keys.issue(other.id(), BOB, LinkTokens.Action.APPROVE, Instant.now().minusSeconds(5));
            HttpResponse<String> expired = postForm(other.url() + "/decide", Map.of("t", old, "decision", "approve"));
            assertThat(expired.statusCode()).isEqualTo(403);
            assertThat(expired.body()).contains("expired");
            assertThat(state(gw, other.id())).isEqualTo(ApprovalRequest.State.PENDING);

            AuditVerifier.Report report = gw.gateway().audit().verify(AuditVerifier.Options.all(), List.of());
            assertThat(report.ok()).as(String.valueOf(report.firstProblem())).isTrue();
        }
    }

    @Test
    void restApiNeedsAKeyAndAnswersWithProperStatusCodes() throws Exception {
        try (TestGateway gw = start()) {
            Approvals.Hold h = gw.gateway().approvals().request(hold("DROP TABLE customers")).get(10, TimeUnit.SECONDS);
            String api = "http://127.0.0.1:" + gw.httpPort() + "/api/approvals";
            String auth = "Bearer " + API_KEY;

            assertThat(get(api + "?state=pending").statusCode()).isEqualTo(401);
            assertThat(get(api + "?state=pending", "Authorization", "Bearer " + "x".repeat(40)).statusCode()).isEqualTo(401);
            assertThat(postJson(api + "/" + h.id() + "/decision", "{\"decision\":\"approve\"}").statusCode()).isEqualTo(401);
            assertThat(get("http://127.0.0.1:" + gw.httpPort() + "/approvals").statusCode()).isEqualTo(401);

            HttpResponse<String> list = get(api + "?state=pending", "Authorization", auth);
            assertThat(list.statusCode()).isEqualTo(200);
            assertThat(list.body()).contains(h.id(), "DROP TABLE customers");
            assertThat(get(api + "?state=nonsense", "Authorization", auth).statusCode()).isEqualTo(400);
            HttpResponse<String> one = get(api + "/" + h.id(), "Authorization", auth);
            assertThat(one.statusCode()).isEqualTo(200);
            assertThat(one.body()).contains("\"state\":\"pending\"", "\"group\":\"dba\"");
            assertThat(get(api + "/AR-NOSUCHONE0", "Authorization", auth).statusCode()).isEqualTo(404);
            HttpResponse<String> listPage = get("http://127.0.0.1:" + gw.httpPort() + "/approvals", "Authorization", auth);
            assertThat(listPage.statusCode()).isEqualTo(200);
            assertThat(listPage.body()).contains(h.id());

            String decide = api + "/" + h.id() + "/decision";
            assertThat(postJson(decide, "not json", "Authorization", auth).statusCode()).isEqualTo(400);
            assertThat(postJson(decide, "{\"decision\":\"maybe\"}", "Authorization", auth).statusCode()).isEqualTo(400);
            HttpResponse<String> outsider = postJson(decide, "{\"decision\":\"approve\",\"reviewer\":\"eve@example.com\"}",
                    "Authorization", auth);
            assertThat(outsider.statusCode()).isEqualTo(403);
            assertThat(outsider.body()).contains("not a reviewer");
            // the key itself is no member of dba
            assertThat(postJson(decide, "{\"decision\":\"approve\"}", "Authorization", auth).statusCode()).isEqualTo(403);

            HttpResponse<String> denied = postJson(decide, "{\"decision\":\"deny\",\"reason\":\"not now\",\"reviewer\":\"" + BOB + "\"}",
                    "Authorization", auth);
            assertThat(denied.statusCode()).as(denied.body()).isEqualTo(200);
            assertThat(denied.body()).contains("\"state\":\"denied\"", "\"via\":\"api-key:0\"");
            Approvals.Decision d = h.decision().get(5, TimeUnit.SECONDS);
            assertThat(d.outcome()).isEqualTo(Approvals.Outcome.DENIED);
            assertThat(d.reason()).isEqualTo("not now");

            HttpResponse<String> again = postJson(decide, "{\"decision\":\"approve\",\"reviewer\":\"" + ALICE + "\"}",
                    "Authorization", auth);
            assertThat(again.statusCode()).isEqualTo(409);
            assertThat(again.body()).contains("already denied");
        }
    }

    @SuppressWarnings("unchecked")
    @Test
    void withoutMailTheRouteDeliversNothingAndTheAuditSaysSo() throws Exception {
        try (TestGateway gw = TestGateway.builder().apiKey(API_KEY).approvals(String.join("\n",
                "  linkKeyFile: " + dir.resolve("link.key"),
                "  groups:",
                "    dba:",
                "      reviewers: [" + ALICE + "]", "")).start()) {
            Approvals.Hold h = gw.gateway().approvals().request(hold("DROP TABLE customers")).get(10, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(approvalRecords(gw, h.id()))
                    .anySatisfy(e -> assertThat(e.record()).containsEntry("event", "notified")));
            var notified = approvalRecords(gw, h.id()).stream().filter(e -> "notified".equals(e.record().get("event")))
                    .findFirst().orElseThrow();
            var detail = (Map<String, Object>) notified.record().get("detail");
            assertThat((List<String>) detail.get("failed")).containsExactly(ALICE);
            assertThat((List<String>) detail.get("recipients")).isEmpty();
            assertThat(String.valueOf(detail.get("error"))).contains("approvals.mail is off");
            assertThat(state(gw, h.id())).isEqualTo(ApprovalRequest.State.PENDING);
        }
    }
}
