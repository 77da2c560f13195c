package dev.warden.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.warden.config.ConfigLoader;
import dev.warden.proxy.Gateway;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./warden demo} in-process, as a user follows its instructions: psql's held DDL waits, the
 * DBA's mail shows up on /demo/mail (the demo's own SMTP catcher), its approve link opens the
 * request, the approval lets the statement run. And {@code ./warden run} with the same config does
 * not serve /demo/mail.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class DemoMailIT {
    /** Markup in the statement: the mail page must show it as text. */
    private static final String DDL = "CREATE TABLE demo_scratch (id int, note text DEFAULT '<i>mine</i>')";

    @TempDir
    Path dir;
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void aHeldStatementsMailAppearsOnTheDemoMailPageAndItsLinkApprovesIt() throws Exception {
        DemoCommand cmd = new DemoCommand();
        cmd.port = freePort();
        cmd.httpPort = freePort();
        cmd.data = dir.resolve("demo");
        String base = "http://127.0.0.1:" + cmd.httpPort;
        Path config;
        try (DemoCommand.Running demo = cmd.start()) {
            config = demo.configFile();
            assertThat(Files.readString(config)).contains("port: " + demo.mail().smtpPort()).contains("tls: none");

            HttpResponse<String> empty = get(base + "/demo/mail");
            assertThat(empty.statusCode()).isEqualTo(200);
            assertThat(empty.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/html"));
            assertThat(empty.headers().firstValue("Content-Security-Policy")).isPresent();
            assertThat(empty.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
            assertThat(empty.body()).contains("0 mail(s)");

            Properties p = new Properties();
            p.setProperty("user", "demo");
            p.setProperty("password", "demo");
            p.setProperty("sslmode", "verify-full");
            p.setProperty("sslrootcert", demo.caFile().toString());
            p.setProperty("socketTimeout", "120");
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + cmd.port + "/bank", p);
                 Statement s = c.createStatement()) {
                CompletableFuture<Boolean> held = CompletableFuture.supplyAsync(() -> {
                    try {
                        return s.execute(DDL);
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                });
                String[] page = new String[1];
                await().atMost(Duration.ofSeconds(20)).until(() -> {
                    page[0] = get(base + "/demo/mail").body();
                    return page[0].contains("demo_scratch");
                });
                assertThat(held.isDone()).as("psql waits for the DBA").isFalse();
                assertThat(page[0]).contains("1 mail(s)").contains("dba@bank.example")
                        .contains("Warden approval AR-")
                        .contains("DEFAULT &#39;&lt;i&gt;mine&lt;/i&gt;&#39;").doesNotContain("<i>mine</i>");
                // the mail's links are anchors on the page
                Matcher approve = Pattern.compile("To approve[^\\n]*\\n\\s*<a href=\"([^\"]+)\">").matcher(page[0]);
                assertThat(approve.find()).as(page[0]).isTrue();
                String link = approve.group(1).replace("&amp;", "&");
                Matcher id = Pattern.compile("/approvals/(AR-[A-Za-z0-9]+)\\?t=([^&\"]+)$").matcher(link);
                assertThat(id.find()).as(link).isTrue();
                assertThat(link).startsWith(base + "/approvals/");

                HttpResponse<String> request = get(link);
                assertThat(request.statusCode()).as(request.body()).isEqualTo(200);
                assertThat(request.body()).contains("Approve this statement").contains("&lt;i&gt;mine&lt;/i&gt;")
                        .contains("You are deciding as dba@bank.example");
                HttpResponse<String> decided = http.send(HttpRequest.newBuilder(URI.create(base + "/approvals/"
                                + id.group(1) + "/decide")).header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString("t=" + id.group(2) + "&decision=approve&reason="
                                + URLEncoder.encode("demo", StandardCharsets.UTF_8))).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(decided.statusCode()).as(decided.body()).isEqualTo(200);
                assertThat(decided.body()).contains("Approved");

                assertThat(held.get(30, TimeUnit.SECONDS)).isFalse(); // psql continues: the DDL ran
                try (ResultSet rs = s.executeQuery("SELECT to_regclass('public.demo_scratch') IS NOT NULL")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getBoolean(1)).isTrue();
                }
            }
        }

        // ./warden run with the demo's own config: no mail catcher, no /demo/mail
        Gateway run = new Gateway(ConfigLoader.load(config), WardenCli.home().resolve("routes"),
                WardenCli.home().resolve("rules")).start();
        try {
            assertThat(get(base + "/health").statusCode()).isEqualTo(200);
            assertThat(get(base + "/demo/mail").statusCode()).isEqualTo(404);
        } finally {
            run.close();
        }
    }

    private HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
