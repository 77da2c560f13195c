package dev.warden.identity.oidc;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A real HTTP endpoint for OpenID discovery and key sets, on a free loopback port: each issuer
 * lives under its own path ({@code http://127.0.0.1:PORT/gh}). Counts requests; can answer 503
 * ("down") or never answer ("hang") to exercise failures.
 */
final class JwksServer implements AutoCloseable {
    enum Mode { UP, DOWN, HANG }

    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final CountDownLatch released = new CountDownLatch(1);
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final Map<String, Supplier<String>> documents = new ConcurrentHashMap<>();
    private volatile Mode mode = Mode.UP;

    JwksServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(threads);
        server.start();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** A demo issuer at {@code baseUrl + path}, its documents served here. */
    DemoIssuer issuer(String path, String audience) {
        DemoIssuer issuer = new DemoIssuer(baseUrl() + path, audience);
        serve(path + DemoIssuer.DISCOVERY_PATH, issuer::discoveryJson);
        serve(path + DemoIssuer.JWKS_PATH, issuer::jwksJson);
        return issuer;
    }

    /** Serves (or replaces) a JSON document at an absolute path. */
    void serve(String path, Supplier<String> body) {
        documents.put(path, body);
    }

    void mode(Mode m) {
        mode = m;
    }

    int requests(String path) {
        return counts.computeIfAbsent(path, p -> new AtomicInteger()).get();
    }

    int jwksRequests(String issuerPath) {
        return requests(issuerPath + DemoIssuer.JWKS_PATH);
    }

    int discoveryRequests(String issuerPath) {
        return requests(issuerPath + DemoIssuer.DISCOVERY_PATH);
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        counts.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        try (ex) {
            if (mode == Mode.HANG) {
                try {
                    released.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return;
            }
            Supplier<String> doc = documents.get(path);
            if (mode == Mode.DOWN || doc == null) {
                ex.sendResponseHeaders(mode == Mode.DOWN ? 503 : 404, -1);
                return;
            }
            byte[] body = doc.get().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
        }
    }

    @Override
    public void close() {
        released.countDown();
        server.stop(0);
        threads.shutdownNow();
    }
}
