package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetup;
import dev.warden.approval.ApprovalRequest;
import dev.warden.audit.AuditSearch;
import jakarta.mail.internet.MimeMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reviewer approves in a real browser: pgJDBC sends a statement the rules hold, the reviewer's mail
 * arrives (GreenMail), headless Chromium — driven by chromedriver over the W3C WebDriver protocol —
 * opens the mail's approve link, shows the statement, and the test clicks the button a person would;
 * the waiting client's statement then completes and the audit has the approval and the execution.
 * Skipped (and says so) without /usr/bin/chromedriver (Debian package chromium-driver, installed by .ci/run).
 */
class ApprovalBrowserIT {
    private static final String DBA = "dba1@bank.example";
    private static final int SMTP_PORT = TestGateway.freePort();
    /** Markup in the statement: the page must show it as text, not build elements from it. */
    private static final String DDL = "CREATE TABLE browser_t (id int, note text DEFAULT '<b>bold</b> & <script>x()</script>')";

    @RegisterExtension
    static final GreenMailExtension SMTP = new GreenMailExtension(new ServerSetup(SMTP_PORT, "127.0.0.1",
            ServerSetup.PROTOCOL_SMTP));

    @TempDir
    static Path dir;
    private static TestGateway gw;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(WebDriverClient.available(), "no /usr/bin/chromedriver or /usr/bin/chromium"
                + " (apt-get install chromium chromium-driver; .ci/run does): the browser approval test is skipped");
        Path rules = Files.createDirectories(dir.resolve("rules"));
        Files.writeString(rules.resolve("holds.drl"), String.join("\n",
                "package test.browser;",
                "import dev.warden.sql.Statement;",
                "import dev.warden.sql.Statement.Kind;",
                "global dev.warden.policy.Decision verdict;",
                "rule \"DDL needs a DBA\"",
                "when Statement( kind == Kind.DDL ) then verdict.hold(\"dba\", \"high\", \"schema change\"); end",
                ""));
        gw = TestGateway.builder().rules(rules).approvals(String.join("\n",
                "  timeout: 10m",
                "  linkKeyFile: " + dir.resolve("link.key"),
                "  groups:",
                "    dba:",
                "      reviewers: [" + DBA + "]",
                "  mail:",
                "    host: 127.0.0.1",
                "    port: " + SMTP_PORT,
                "    tls: none",
                "    from: warden@bank.example", "")).start();
        try (Connection c = SharedPostgres.get().connect(SharedPostgres.APP_ROLE, SharedPostgres.APP_PASSWORD,
                SharedPostgres.APP_DB); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS browser_t");
        }
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    @Test
    void aReviewerApprovesInTheBrowserFromTheMailLinkAndTheWaitingStatementRuns() throws Exception {
        try (Connection c = gw.connect("socketTimeout=120"); Statement s = c.createStatement()) {
            CompletableFuture<Boolean> run = CompletableFuture.supplyAsync(() -> {
                try {
                    return s.execute(DDL);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            String mail = mailTo(DBA, "CREATE TABLE browser_t");
            String id = ApprovalMails.approvalId(mail);
            String approveLink = ApprovalMails.link(mail, "To approve");
            assertThat(approveLink).contains("/approvals/" + id + "?t=");

            try (WebDriverClient browser = WebDriverClient.start(dir)) {
                browser.navigate(approveLink);
                assertThat(browser.title()).isEqualTo("Approval " + id);
                // the statement, exactly as sent: markup in it is text on the page, and no script of it ran
                assertThat(browser.text(browser.find("pre"))).isEqualTo(DDL);
                assertThat(browser.findAll("pre b")).as("no element built from the statement").isEmpty();
                assertThat(browser.findAll("script")).as("no script element built from the statement").isEmpty();
                assertThat(browser.text(browser.find("body"))).contains("schema change").contains("You are deciding as " + DBA);
                assertThat(run.isDone()).as("the session still waits while the reviewer reads").isFalse();

                browser.type(browser.find("textarea[name=reason]"), "checked in a real browser");
                String button = browser.find("form button[type=submit]");
                assertThat(browser.text(button)).isEqualTo("Approve this statement");
                browser.click(button);
                // a confirm step, if the page ever gets one
                List<String> confirm = browser.findAll("form button[name=confirm], form button.confirm");
                if (!confirm.isEmpty()) {
                    browser.click(confirm.get(0));
                }
                String result = browser.await("p.state", Duration.ofSeconds(30));
                assertThat(browser.text(result)).isEqualTo("Approved: the statement may run now.");
                assertThat(browser.currentUrl()).endsWith("/approvals/" + id + "/decide");
            }

            assertThat(run.get(30, TimeUnit.SECONDS)).isFalse(); // DDL: no result set, and no error
            assertThat(tableExists("browser_t")).isTrue();
            try (ResultSet rs = s.executeQuery("SELECT 6 * 7")) { // the session goes on
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(42);
            }
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(events(id).stream()
                    .map(r -> String.valueOf(r.get("event"))).toList())
                    .contains("notified") // written once the mail server took the mail; may come after a quick decision
                    .containsSubsequence("requested", "viewed", "approved", "executed"));
            Map<String, Object> approved = events(id).stream().filter(r -> "approved".equals(r.get("event"))).findFirst()
                    .orElseThrow();
            assertThat(approved.get("reviewer")).isEqualTo(DBA);
            assertThat(String.valueOf(approved.get("detail"))).contains("checked in a real browser").contains("link");
            assertThat(gw.gateway().approvals().find(id).get(10, TimeUnit.SECONDS).orElseThrow().state())
                    .isEqualTo(ApprovalRequest.State.EXECUTED);
        }
    }

    // ------------------------------------------------------------------ helpers

    private static String mailTo(String reviewer, String statement) {
        String[] found = new String[1];
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            for (MimeMessage m : SMTP.getReceivedMessages()) {
                String body = ApprovalMails.decode(GreenMailUtil.getBody(m));
                if (m.getAllRecipients()[0].toString().equals(reviewer) && body.contains(statement)) {
                    found[0] = body;
                }
            }
            return found[0] != null;
        });
        return found[0];
    }




    private static List<Map<String, Object>> events(String id) throws Exception {
        return gw.gateway().audit().search(new AuditSearch.Query(null, null, null, null, "approval", null, null, null,
                AuditSearch.MAX_LIMIT, null)).entries().stream().filter(e -> id.equals(e.record().get("approval")))
                .map(e -> e.record()).toList();
    }

    private static boolean tableExists(String name) throws SQLException {
        try (Connection c = SharedPostgres.get().connect(SharedPostgres.APP_ROLE, SharedPostgres.APP_PASSWORD,
                SharedPostgres.APP_DB); PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, "public." + name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }
}
