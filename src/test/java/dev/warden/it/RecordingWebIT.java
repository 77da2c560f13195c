package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.recording.RecordingIndex;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The replay page and its JSON API: 401 without a key (and with the key in the query string), the
 * session list and steps as JSON, and the page rendered by a real headless Chromium showing the
 * steps with attacker-controlled text escaped (it stays text, never markup).
 */
class RecordingWebIT {
    static final String KEY = "recording-test-key-0123456789abcdef";
    static final String EVIL = "<img src=x onerror=alert(1)><b>bold</b>";
    static TestGateway gw;
    static String session;
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        gw = TestGateway.builder().apiKey(KEY).start();
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            s.execute("SELECT '" + EVIL + "' AS payload, 42 AS answer");
        }
        RecordingIndex index = gw.gateway().recorder().index();
        session = await().atMost(Duration.ofSeconds(20)).until(() -> {
            List<RecordingIndex.SessionRow> rows = index.sessions(new RecordingIndex.Filter(null, null, null, null, null, 1));
            return rows.isEmpty() || rows.get(0).ended() == null ? null : rows.get(0).session();
        }, v -> v != null);
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    static HttpResponse<String> get(String path, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.httpPort() + path));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theApiNeedsABearerKey() throws Exception {
        assertThat(get("/api/recordings", null).statusCode()).isEqualTo(401);
        assertThat(get("/api/recordings", "wrong").statusCode()).isEqualTo(401);
        assertThat(get("/api/recordings?key=" + KEY, null).statusCode()).isEqualTo(401);
        assertThat(get("/api/recordings/" + session, null).statusCode()).isEqualTo(401);
        assertThat(get("/api/recordings/nope", KEY).statusCode()).isEqualTo(404);
    }

    @Test
    void theApiListsSessionsAndTheirSteps() throws Exception {
        JsonNode list = JSON.readTree(get("/api/recordings?target=app", KEY).body());
        assertThat(list.path("sessions").findValuesAsText("id")).contains(session);
        assertThat(JSON.readTree(get("/api/recordings?target=nosuch", KEY).body()).path("sessions")).isEmpty();
        HttpResponse<String> r = get("/api/recordings/" + session, KEY);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode steps = JSON.readTree(r.body()).path("steps");
        JsonNode statement = null;
        JsonNode result = null;
        for (JsonNode s : steps) {
            if (s.path("kind").asText().equals("statement") && s.path("text").asText().contains("AS payload")) {
                statement = s;
            }
            if (s.path("kind").asText().equals("result") && s.path("columns").toString().contains("payload")) {
                result = s;
            }
        }
        assertThat(statement).isNotNull();
        assertThat(statement.path("statements").get(0).path("auditRecord").asText()).isNotBlank();
        assertThat(result).isNotNull();
        assertThat(result.path("rows").get(0).get(0).asText()).isEqualTo(EVIL);
        assertThat(result.path("rows").get(0).get(1).asText()).isEqualTo("42");
    }

    @Test
    void thePageRendersTheStepsInAHeadlessBrowserWithValuesEscaped() throws Exception {
        Path chromium = Path.of("/usr/bin/chromium");
        Assumptions.assumeTrue(Files.isExecutable(chromium), "chromium is not installed");
        HttpResponse<String> page = get("/recordings", null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).doesNotContain(KEY);
        Path profile = Files.createTempDirectory("warden-chromium-");
        String url = "http://127.0.0.1:" + gw.httpPort() + "/recordings#key=" + KEY + "&session=" + session;
        Process p = new ProcessBuilder(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + profile, "--virtual-time-budget=5000", "--dump-dom", url)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String dom = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(dom).contains("class=\"step statement\"", "class=\"step result\"", "AS payload", "<td>42</td>",
                "class=\"audit\"");
        // the recorded value is shown as text: escaped in the DOM, never an element
        assertThat(dom).contains("&lt;img src=x onerror=alert(1)&gt;&lt;b&gt;bold&lt;/b&gt;");
        assertThat(dom).doesNotContain("<img src=\"x\"").doesNotContain("<b>bold</b>");
        assertThat(dom).doesNotContain(KEY); // not left in the DOM (the address bar was cleared too)
    }
}
