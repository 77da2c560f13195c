package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.warden.config.ConfigLoader;
import dev.warden.config.Secrets;
import dev.warden.proxy.Gateway;
import jakarta.mail.BodyPart;
import jakarta.mail.Multipart;
import jakarta.mail.internet.MimeMessage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The schedules for real: two gateways share one PostgreSQL control store and run the daily schedule
 * every 2 seconds; the report for the previous day is produced once, by one of them, and mailed
 * through a real SMTP server (GreenMail) with the PDF attached. Then the HTTP API lists it, serves it,
 * and produces one on demand — for callers with an API key only.
 */
class ReportScheduleIT {
    private static final String API_KEY = "report-api-key-0123456789abcdef";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String sharedStore() throws Exception {
        String schema = "reports_" + Long.toHexString(System.nanoTime());
        int port = SharedPostgres.get().port();
        try (Connection c = SharedPostgres.get().superuser("postgres"); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = 'report_store'")) {
                if (!rs.next()) {
                    s.execute("CREATE DATABASE report_store");
                }
            }
        }
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/report_store";
        try (Connection c = DriverManager.getConnection(url, "postgres", ""); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        return url + "?currentSchema=" + schema;
    }

    private static Gateway start(String storeUrl, String instance, int smtpPort, Path out, boolean http) throws Exception {
        TestGateway.Builder b = TestGateway.builder().audit(String.join("\n",
                "  store:",
                "    url: " + storeUrl,
                "    user: postgres",
                "  instanceId: " + instance, ""));
        if (http) {
            b.apiKey(API_KEY);
        }
        String yaml = b.yaml(TestGateway.freePort()) + String.join("\n",
                "reports:",
                "  daily:",
                "    cron: \"0/2 * * * * ?\"",
                "  monthly:",
                "    enabled: false",
                "  outputDir: " + out,
                "  recipients: [compliance@bank.example]",
                "  mail:",
                "    host: 127.0.0.1",
                "    port: " + smtpPort,
                "    tls: none",
                "    from: warden@bank.example", "");
        if (!http) {
            yaml = yaml.replace("http:\n", "http:\n  enabled: false\n");
        }
        var cfg = ConfigLoader.parse(yaml, new Secrets(System.getenv(), Path.of(".")), Path.of("."));
        return new Gateway(cfg, Path.of("routes"), Path.of("src/test/resources/rules-allow-all")).start();
    }

    @Test
    void twoSchedulersSharingAStoreProduceAndMailEachReportOnceAndTheApiServesIt(@TempDir Path dir) throws Exception {
        int smtpPort = TestGateway.freePort();
        GreenMail mail = new GreenMail(new ServerSetup(smtpPort, "127.0.0.1", "smtp"));
        mail.start();
        String store = sharedStore();
        List<Gateway> gateways = new ArrayList<>();
        try {
            gateways.add(start(store, "gw-a", smtpPort, dir.resolve("a"), true));
            gateways.add(start(store, "gw-b", smtpPort, dir.resolve("b"), false));

            await().atMost(Duration.ofSeconds(30)).until(() -> mail.getReceivedMessages().length >= 1);
            // both schedulers keep firing every 2 s; still one mail after several more firings
            await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(8))
                    .until(() -> mail.getReceivedMessages().length == 1);
            MimeMessage[] messages = mail.getReceivedMessages();
            assertThat(messages).hasSize(1);
            MimeMessage m = messages[0];
            assertThat(m.getSubject()).startsWith("Warden daily evidence report, target app");
            assertThat(m.getAllRecipients()[0].toString()).isEqualTo("compliance@bank.example");
            Multipart parts = (Multipart) m.getContent();
            List<String> names = new ArrayList<>();
            byte[] pdf = null;
            for (int i = 0; i < parts.getCount(); i++) {
                BodyPart p = parts.getBodyPart(i);
                if (p.getFileName() != null) {
                    names.add(p.getFileName());
                    if (p.getFileName().endsWith(".pdf")) {
                        pdf = p.getInputStream().readAllBytes();
                    }
                }
            }
            assertThat(names).anyMatch(n -> n.endsWith(".pdf")).anyMatch(n -> n.endsWith(".html"))
                    .anyMatch(n -> n.endsWith(".pdf.sig"));
            try (PDDocument doc = Loader.loadPDF(pdf)) {
                assertThat(new PDFTextStripper().getText(doc)).contains("Warden evidence report").contains("Integrity");
            }

            // the control store lists it once, produced by one of the two instances
            String id;
            try (Connection c = DriverManager.getConnection(store, "postgres", ""); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT id, claimed_by, status FROM report WHERE kind = 'daily'")) {
                assertThat(rs.next()).isTrue();
                id = rs.getString(1);
                assertThat(rs.getString(2)).isIn("gw-a", "gw-b");
                assertThat(rs.getString(3)).isEqualTo("done");
                assertThat(rs.next()).isFalse();
            }

            // HTTP, on gateway A (whichever instance produced the report: the index is shared; files are local)
            HttpClient http = HttpClient.newHttpClient();
            int port = gateways.get(0).config().http().port();
            String base = "http://127.0.0.1:" + port;
            assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/api/reports")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
            assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/reports"))
                    .header("Authorization", "Bearer " + "x".repeat(32)).build(), HttpResponse.BodyHandlers.ofString())
                    .statusCode()).isEqualTo(401);
            HttpResponse<String> list = http.send(authorized(base + "/api/reports").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(list.statusCode()).isEqualTo(200);
            JsonNode reports = JSON.readTree(list.body()).get("reports");
            assertThat(reports).hasSize(1);
            assertThat(reports.get(0).get("id").asText()).isEqualTo(id);
            HttpResponse<String> page = http.send(authorized(base + "/reports").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).contains("<table").contains(id);

            // on demand over REST: produced here, downloadable in every format
            HttpResponse<String> created = http.send(authorized(base + "/api/reports")
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"from\":\"2020-01-01\",\"to\":\"2020-01-31\",\"target\":\"app\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            String adhoc = JSON.readTree(created.body()).get("id").asText();
            assertThat(JSON.readTree(created.body()).get("status").asText()).isEqualTo("done");
            HttpResponse<byte[]> pdfDownload = http.send(authorized(base + "/api/reports/" + adhoc + "?format=pdf").build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(pdfDownload.statusCode()).isEqualTo(200);
            assertThat(pdfDownload.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/pdf"));
            assertThat(new String(pdfDownload.body(), 0, 5)).isEqualTo("%PDF-");
            HttpResponse<String> json = http.send(authorized(base + "/api/reports/" + adhoc).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(JSON.readTree(json.body()).at("/scope/from").asText()).isEqualTo("2020-01-01T00:00:00Z");
            assertThat(JSON.readTree(json.body()).at("/scope/to").asText()).isEqualTo("2020-02-01T00:00:00Z");
            HttpResponse<String> sig = http.send(authorized(base + "/api/reports/" + adhoc + "?format=json&signature=true")
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(sig.body()).contains("warden-report-signature");
            assertThat(http.send(authorized(base + "/api/reports/nope?format=pdf").build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
            assertThat(http.send(authorized(base + "/api/reports").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"from\":\"yesterday\",\"to\":\"2020-01-31\"}")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(400);
            assertThat(Files.list(dir.resolve("a")).count() + (Files.exists(dir.resolve("b")) ? Files.list(dir.resolve("b")).count() : 0))
                    .isEqualTo(2);
        } finally {
            for (Gateway g : gateways) {
                g.close();
            }
            mail.stop();
        }
    }

    private static HttpRequest.Builder authorized(String uri) {
        return HttpRequest.newBuilder(URI.create(uri)).header("Authorization", "Bearer " + API_KEY);
    }
}
