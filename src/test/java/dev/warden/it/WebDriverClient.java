package dev.warden.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A minimal W3C WebDriver client (https://www.w3.org/TR/webdriver2/) for headless Chromium driven by
 * Debian's chromedriver: it starts chromedriver on a free local port as a child process, opens one
 * session, and speaks the protocol's JSON over {@link HttpClient}. Only what the browser tests need:
 * navigate, find elements by CSS selector, read text and attributes, click, type.
 *
 * <pre>
 * try (WebDriverClient browser = WebDriverClient.start(workDir)) {
 *     browser.navigate("http://127.0.0.1:8432/...");
 *     browser.click(browser.find("button[type=submit]"));
 * }
 * </pre>
 */
final class WebDriverClient implements AutoCloseable {
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    /** The W3C element reference key in element JSON objects. */
    private static final String ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process driver;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;
    private String session;

    private WebDriverClient(Process driver, String base) {
        this.driver = driver;
        this.base = base;
    }

    static boolean available() {
        return Files.isExecutable(CHROMEDRIVER) && HeadlessChromium.available();
    }

    /** Starts chromedriver and a headless Chromium session with a fresh profile under {@code workDir}. */
    static WebDriverClient start(Path workDir) throws IOException, InterruptedException {
        int port = TestGateway.freePort();
        Path log = Files.createTempFile(workDir, "chromedriver", ".log");
        Process p = new ProcessBuilder(CHROMEDRIVER.toString(), "--port=" + port, "--allowed-ips=127.0.0.1",
                "--log-path=" + log).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        WebDriverClient c = new WebDriverClient(p, "http://127.0.0.1:" + port);
        try {
            c.awaitReady(Duration.ofSeconds(20));
            c.session = c.newSession(Files.createTempDirectory(workDir, "chromium-profile"));
            return c;
        } catch (IOException | RuntimeException | InterruptedException e) {
            c.close();
            throw new IOException(e.getMessage() + "; chromedriver log: " + tail(log), e);
        }
    }

    private void awaitReady(Duration timeout) {
        org.awaitility.Awaitility.await("chromedriver ready").atMost(timeout).pollInterval(Duration.ofMillis(100))
                .ignoreExceptionsInstanceOf(IOException.class).until(() -> {
                    if (!driver.isAlive()) {
                        throw new IllegalStateException("chromedriver exited with " + driver.exitValue());
                    }
                    return send("GET", "/status", null).path("ready").asBoolean(false); // IOException: not listening yet
                });
    }

    private String newSession(Path profile) throws IOException, InterruptedException {
        ObjectNode caps = JSON.createObjectNode();
        ObjectNode always = caps.putObject("capabilities").putObject("alwaysMatch");
        always.put("browserName", "chrome");
        ObjectNode chrome = always.putObject("goog:chromeOptions");
        chrome.put("binary", HeadlessChromium.BINARY.toString());
        ArrayNode args = chrome.putArray("args");
        for (String a : List.of("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + profile)) {
            args.add(a);
        }
        JsonNode v = send("POST", "/session", caps);
        String id = v.path("sessionId").asText(null);
        if (id == null) {
            throw new IOException("no session id in " + v);
        }
        return id;
    }

    /** Opens {@code url} and waits for the page to load (the WebDriver default page-load strategy). */
    void navigate(String url) throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode().put("url", url);
        command("POST", "/url", body);
    }

    String currentUrl() throws IOException, InterruptedException {
        return command("GET", "/url", null).asText();
    }

    String title() throws IOException, InterruptedException {
        return command("GET", "/title", null).asText();
    }

    /** The first element matching {@code css}; fails (IOException "no such element") when there is none. */
    String find(String css) throws IOException, InterruptedException {
        JsonNode v = command("POST", "/element", locator(css));
        return v.path(ELEMENT_KEY).asText();
    }

    /** Every element matching {@code css}, possibly none. */
    List<String> findAll(String css) throws IOException, InterruptedException {
        JsonNode v = command("POST", "/elements", locator(css));
        return java.util.stream.StreamSupport.stream(v.spliterator(), false).map(e -> e.path(ELEMENT_KEY).asText()).toList();
    }

    /** Waits up to {@code timeout} for an element matching {@code css}. */
    String await(String css, Duration timeout) throws IOException, InterruptedException {
        List<String> found = org.awaitility.Awaitility.await("an element " + css).atMost(timeout)
                .pollInterval(Duration.ofMillis(100)).until(() -> findAll(css), l -> !l.isEmpty());
        return found.get(0);
    }

    /** The element's rendered text (innerText as the user sees it). */
    String text(String element) throws IOException, InterruptedException {
        return command("GET", "/element/" + element + "/text", null).asText();
    }

    String attribute(String element, String name) throws IOException, InterruptedException {
        JsonNode v = command("GET", "/element/" + element + "/attribute/" + name, null);
        return v.isNull() ? null : v.asText();
    }

    void click(String element) throws IOException, InterruptedException {
        command("POST", "/element/" + element + "/click", JSON.createObjectNode());
    }

    void type(String element, String text) throws IOException, InterruptedException {
        command("POST", "/element/" + element + "/value", JSON.createObjectNode().put("text", text));
    }

    private static ObjectNode locator(String css) {
        return JSON.createObjectNode().put("using", "css selector").put("value", css);
    }

    private JsonNode command(String method, String path, JsonNode body) throws IOException, InterruptedException {
        if (session == null) {
            throw new IllegalStateException("no WebDriver session");
        }
        return send(method, "/session/" + session + path, body);
    }

    /** One WebDriver call; returns its {@code value}, or throws with the protocol error and message. */
    private JsonNode send(String method, String path, JsonNode body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json; charset=utf-8");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json = r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body());
        JsonNode value = json.path("value");
        if (r.statusCode() != 200) {
            throw new IOException("WebDriver " + method + " " + path + ": " + r.statusCode() + " "
                    + value.path("error").asText() + ": " + value.path("message").asText());
        }
        return value;
    }

    @Override
    public void close() {
        try {
            if (session != null) {
                send("DELETE", "/session/" + session, null); // quits the browser
            }
        } catch (IOException | RuntimeException e) {
            // the driver may be gone already; it is killed below either way
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            session = null;
            driver.destroy();
            try {
                if (!driver.waitFor(5, TimeUnit.SECONDS)) {
                    driver.destroyForcibly();
                }
            } catch (InterruptedException e) {
                driver.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    private static String tail(Path log) {
        try {
            String s = Files.readString(log);
            return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }
}
