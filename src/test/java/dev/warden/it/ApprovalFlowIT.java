package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetup;
import dev.warden.approval.ApprovalRequest;
import dev.warden.audit.AuditSearch;
import jakarta.mail.internet.MimeMessage;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Just-in-time approval end to end: a real client (pgJDBC) sends a statement the rules hold; the
 * session waits while a reviewer gets a mail (GreenMail), follows the link and decides; the held
 * statement then runs exactly as sent, or is refused with the reviewer's name and reason. Also:
 * fail-fast holds for CI-style callers, the client going away while it waits, one approval covering
 * one run, and every step in the audit.
 */
class ApprovalFlowIT {
    private static final String DBA1 = "dba1@bank.example";
    private static final String DBA2 = "dba2@bank.example";
    private static final String API_KEY = "flow-test-key-0123456789abcdef0123";
    private static final int SMTP_PORT = TestGateway.freePort();

    @RegisterExtension
    static final GreenMailExtension SMTP = new GreenMailExtension(new ServerSetup(SMTP_PORT, "127.0.0.1",
            ServerSetup.PROTOCOL_SMTP));

    @TempDir
    static Path dir;
    private static TestGateway gw;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        Path rules = Files.createDirectories(dir.resolve("rules"));
        Files.writeString(rules.resolve("holds.drl"), String.join("\n",
                "package test.holds;",
                "import dev.warden.sql.Statement;",
                "import dev.warden.sql.Statement.Kind;",
                "global dev.warden.policy.Decision verdict;",
                "rule \"DDL needs a DBA\"",
                "when Statement( kind == Kind.DDL ) then verdict.hold(\"dba\", \"high\", \"schema change\"); end",
                "rule \"Updates of held_t need a DBA\"",
                "when Statement( kind == Kind.UPDATE, tables contains \"public.held_t\" )",
                "then verdict.hold(\"dba\", \"medium\", \"held_t is sensitive\"); end",
                "rule \"Deletes from held_t: ask first, run later\"",
                "when Statement( kind == Kind.DELETE, tables contains \"public.held_t\" )",
                "then verdict.holdFailFast(\"dba\", \"high\", \"deleting from held_t\"); end",
                ""));
        gw = TestGateway.builder().rules(rules).apiKey(API_KEY).approvals(String.join("\n",
                "  timeout: 10m",
                "  linkKeyFile: " + dir.resolve("link.key"),
                "  groups:",
                "    dba:",
                "      reviewers: [" + DBA1 + ", " + DBA2 + "]",
                "  mail:",
                "    host: 127.0.0.1",
                "    port: " + SMTP_PORT,
                "    tls: none",
                "    from: warden@bank.example", "")).start();
        try (Connection c = SharedPostgres.get().connect(SharedPostgres.APP_ROLE, SharedPostgres.APP_PASSWORD,
                SharedPostgres.APP_DB); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS held_t, approved_t, denied_t, gone_t, in_tx_t");
            s.execute("CREATE TABLE held_t (id int PRIMARY KEY, v text)");
            s.execute("INSERT INTO held_t SELECT g, 'v' || g FROM generate_series(1, 10) g");
        }
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    @BeforeEach
    void clearMail() throws Exception {
        SMTP.purgeEmailFromAllMailboxes();
    }

    @Test
    void anApprovedStatementRunsAsSentAndTheSessionContinues() throws Exception {
        try (Connection c = gw.connect("socketTimeout=60"); Statement s = c.createStatement()) {
            CompletableFuture<SQLWarning> run = CompletableFuture.supplyAsync(() -> {
                try {
                    s.execute("CREATE TABLE approved_t (id int)");
                    return s.getWarnings();
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            String mail = mailTo(DBA1, "CREATE TABLE approved_t");
            assertThat(mail).contains("CREATE TABLE approved_t (id int)").contains("schema change");
            String id = ApprovalMails.approvalId(mail);
            assertThat(run.isDone()).isFalse(); // the session waits for the reviewer
            HttpResponse<String> decided = decide(ApprovalMails.link(mail, "To approve"), "approve", "looks fine");
            assertThat(decided.statusCode()).as(decided.body()).isEqualTo(200);
            SQLWarning notice = run.get(10, TimeUnit.SECONDS);
            assertThat(notice != null).as("a NoticeResponse reached the client").isTrue();
            assertThat(notice.getMessage()).contains("waiting for approval " + id).contains("by group dba")
                    .contains("/approvals/" + id).contains("expires in 10m");
            assertThat(tableExists("approved_t")).isTrue();
            try (ResultSet rs = s.executeQuery("SELECT 41 + 1")) { // the session goes on
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(42);
            }
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    // "notified" is written once the mail server took the mail: a quick reviewer may decide before that
                    assertThat(approvalEvents(id)).contains("notified")
                            .containsSubsequence("requested", "approved", "executed"));
            assertThat(state(id)).isEqualTo(ApprovalRequest.State.EXECUTED);
        }
    }

    @Test
    void aDeniedStatementIsRefusedWithTheReviewerAndReasonAndTheTransactionStaysConsistent() throws Exception {
        try (Connection c = gw.connect("socketTimeout=60"); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM held_t")) { // opens the transaction
                assertThat(rs.next()).isTrue();
            }
            CompletableFuture<Void> ddl = CompletableFuture.runAsync(() -> {
                try {
                    s.execute("CREATE TABLE denied_t (id int)");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            String mail = mailTo(DBA2, "CREATE TABLE denied_t");
            assertThat(decide(ApprovalMails.link(mail, "To deny"), "deny", "not during business hours").statusCode()).isEqualTo(200);
            assertThatThrownBy(() -> ddl.get(10, TimeUnit.SECONDS)).hasRootCauseInstanceOf(SQLException.class)
                    .rootCause().satisfies(e -> {
                        assertThat(((SQLException) e).getSQLState()).isEqualTo("42501");
                        assertThat(e.getMessage()).contains("was denied by " + DBA2).contains("not during business hours");
                    });
            // PostgreSQL itself aborted the transaction, as for any failed statement
            assertThatThrownBy(() -> s.executeQuery("SELECT 1")).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("25P02"));
            c.rollback();
            c.setAutoCommit(true);
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
        }
        assertThat(tableExists("denied_t")).isFalse();
    }

    @Test
    void bindValuesRunExactlyAsApprovedAndAnApprovalCoversOneRun() throws Exception {
        try (Connection c = gw.connect("prepareThreshold=1", "socketTimeout=60"); PreparedStatement ps =
                c.prepareStatement("UPDATE held_t SET v = ? WHERE id = ?")) {
            ps.setString(1, "approved-value");
            ps.setInt(2, 3);
            CompletableFuture<Integer> run = CompletableFuture.supplyAsync(() -> {
                try {
                    return ps.executeUpdate();
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            String mail = mailTo(DBA1, "UPDATE held_t");
            assertThat(decide(ApprovalMails.link(mail, "To approve"), "approve", null).statusCode()).isEqualTo(200);
            assertThat(run.get(10, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(valueOf(3)).isEqualTo("approved-value");
            // the driver now runs the server-side prepared statement again with other values: not approved
            ps.setString(1, "sneaked-in");
            ps.setInt(2, 4);
            assertThatThrownBy(ps::executeUpdate).isInstanceOf(SQLException.class).satisfies(e -> {
                assertThat(((SQLException) e).getSQLState()).isEqualTo("42501");
                assertThat(e.getMessage()).contains("approved once").contains("prepare it again");
            });
            assertThat(valueOf(4)).isEqualTo("v4");
        }
    }

    @Test
    void aClientThatGoesAwayWhileWaitingAbandonsTheRequest() throws Exception {
        String id;
        try (Connection c = gw.connect("socketTimeout=60")) {
            CompletableFuture.runAsync(() -> {
                try (Statement s = c.createStatement()) {
                    s.execute("CREATE TABLE gone_t (id int)");
                } catch (SQLException expected) {
                    // the connection is closed under it
                }
            });
            String mail = mailTo(DBA1, "CREATE TABLE gone_t");
            id = ApprovalMails.approvalId(mail);
            c.abort(Runnable::run); // the client goes away while its statement waits
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(state(id)).isEqualTo(ApprovalRequest.State.ABANDONED));
        assertThat(approvalEvents(id)).contains("abandoned");
        assertThat(tableExists("gone_t")).isFalse();
    }

    @Test
    void failFastRefusesAtOnceAndTheSameStatementRunsOnceAfterApproval() throws Exception {
        String delete = "DELETE FROM held_t WHERE id = 9";
        try (Connection c = gw.connect("socketTimeout=60"); Statement s = c.createStatement()) {
            SQLException first = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class, () -> s.execute(delete));
            assertThat(first.getSQLState()).isEqualTo("42501");
            Matcher m = Pattern.compile("requested as (AR-[A-Za-z0-9]+); decide at (http://\\S+)").matcher(first.getMessage());
            assertThat(m.find()).as(first.getMessage()).isTrue();
            String id = m.group(1);
            // a different statement (other id) is not covered by the approval
            HttpResponse<String> ok = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.httpPort()
                            + "/api/approvals/" + id + "/decision")).header("Authorization", "Bearer " + API_KEY)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"decision\":\"approve\",\"reviewer\":\"" + DBA2 + "\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
            assertThatThrownBy(() -> s.execute("DELETE FROM held_t WHERE id = 8")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("requested as AR-");
            assertThat(s.executeUpdate(delete)).isEqualTo(1); // approved: runs once
            assertThat(valueOf(9)).isNull();
            SQLException again = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class, () -> s.execute(delete));
            assertThat(again.getMessage()).contains("requested as AR-").doesNotContain(id + ";");
            assertThat(approvalEvents(id)).contains("requested", "approved", "executed");
        }
    }

    // ------------------------------------------------------------------ helpers

    /** The newest mail to {@code reviewer} about {@code statement} (other tests' mails may arrive late). */
    private static String mailTo(String reviewer, String statement) {
        List<String> bodies = new ArrayList<>();
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            bodies.clear();
            for (MimeMessage m : SMTP.getReceivedMessages()) {
                String body = ApprovalMails.decode(GreenMailUtil.getBody(m));
                if (m.getAllRecipients()[0].toString().equals(reviewer) && body.contains(statement)) {
                    bodies.add(body);
                }
            }
            return !bodies.isEmpty();
        });
        return bodies.get(bodies.size() - 1);
    }




    private HttpResponse<String> decide(String link, String decision, String reason) throws Exception {
        URI u = URI.create(link);
        String token = u.getRawQuery().substring(2);
        String body = "t=" + token + "&decision=" + decision
                + (reason == null ? "" : "&reason=" + URLEncoder.encode(reason, StandardCharsets.UTF_8));
        String page = link.substring(0, link.indexOf('?'));
        return http.send(HttpRequest.newBuilder(URI.create(page + "/decide"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static List<String> approvalEvents(String id) throws Exception {
        return gw.gateway().audit().search(new AuditSearch.Query(null, null, null, null, "approval", null, null, null,
                AuditSearch.MAX_LIMIT, null)).entries().stream().filter(e -> id.equals(e.record().get("approval")))
                .map(e -> String.valueOf(e.record().get("event"))).toList();
    }

    private static ApprovalRequest.State state(String id) throws Exception {
        return gw.gateway().approvals().find(id).get(10, TimeUnit.SECONDS).orElseThrow().state();
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

    private static String valueOf(int id) throws SQLException {
        try (Connection c = SharedPostgres.get().connect(SharedPostgres.APP_ROLE, SharedPostgres.APP_PASSWORD,
                SharedPostgres.APP_DB); PreparedStatement ps = c.prepareStatement("SELECT v FROM held_t WHERE id = ?")) {
            ps.setInt(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }
}
