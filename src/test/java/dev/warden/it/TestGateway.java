package dev.warden.it;

import dev.warden.config.ConfigLoader;
import dev.warden.config.Secrets;
import dev.warden.proxy.Gateway;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * A real Warden gateway for integration tests, in this JVM, configured from YAML exactly as an
 * operator would. By default: user {@code alice} / {@code alice-pw}, target {@code app} pointing at
 * {@link SharedPostgres}'s {@code appdb} as {@code warden_app}, no TLS.
 *
 * <pre>
 * try (TestGateway gw = TestGateway.builder().start()) {
 *     try (Connection c = gw.connectAs("alice", "alice-pw", "app")) { ... }
 * }
 * </pre>
 */
public final class TestGateway implements AutoCloseable {
    public static final String USER = "alice";
    public static final String PASSWORD = "alice-pw";
    public static final String TARGET = "app";

    private final Gateway gateway;
    private final int port;
    private final int httpPort;

    private TestGateway(Gateway gateway, int port, int httpPort) {
        this.gateway = gateway;
        this.port = port;
        this.httpPort = httpPort;
    }

    /** Warden's HTTP port (REST API). */
    public int httpPort() {
        return httpPort;
    }

    /**
     * A gateway with everything under {@code dir}: an embedded audit store ({@code dir/audit}) signed with a
     * generated key, recordings in 64 KB chunks ({@code dir/recordings}), and its configuration written to
     * {@code dir/warden.yaml} for the CLI tools. {@code auditExtra}: more lines of the audit section.
     */
    static TestGateway startRecorded(Path dir, String auditExtra) throws Exception {
        Path key = dir.resolve("signing-key.pem");
        dev.warden.audit.SigningKeys.generate(key);
        Builder b = builder()
                .audit("  store: " + dir.resolve("audit") + "\n  signingKey: " + key + "\n" + auditExtra)
                .recording("  directory: " + dir.resolve("recordings") + "\n  chunkBytes: 64KB\n");
        TestGateway gw = b.start();
        java.nio.file.Files.writeString(dir.resolve("warden.yaml"), b.yaml(gw.port()));
        return gw;
    }

    public static Builder builder() {
        return new Builder();
    }

    public int port() {
        return port;
    }

    public Gateway gateway() {
        return gateway;
    }

    /** pgJDBC URL for a target through Warden; extra parameters as "key=value" pairs. */
    public String url(String target, String... params) {
        StringBuilder b = new StringBuilder("jdbc:postgresql://127.0.0.1:").append(port).append('/').append(target);
        String sep = "?";
        boolean hasSsl = false;
        for (String p : params) {
            b.append(sep).append(p);
            sep = "&";
            hasSsl |= p.startsWith("sslmode=");
        }
        if (!hasSsl) {
            b.append(sep).append("sslmode=disable");
        }
        return b.toString();
    }

    public Connection connectAs(String user, String password, String target, String... params) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        return DriverManager.getConnection(url(target, params), p);
    }

    /** alice on target app. */
    public Connection connect(String... params) throws SQLException {
        return connectAs(USER, PASSWORD, TARGET, params);
    }

    @Override
    public void close() {
        gateway.close();
    }

    /**
     * Writes a routes directory whose statements route has the given steps (YAML, indented for the
     * route's {@code steps:} list), preceded by optional top-level YAML (e.g. bean declarations).
     */
    public static Path statementsRoute(Path dir, String preamble, String steps) throws IOException {
        java.nio.file.Files.createDirectories(dir);
        java.nio.file.Files.writeString(dir.resolve("statements.camel.yaml"), preamble + String.join("\n",
                "- route:",
                "    from:",
                "      uri: \"netty:tcp://{{warden.listen.host}}:{{warden.listen.port}}\"",
                "      parameters:",
                "        serverInitializerFactory: \"#wardenPipeline\"",
                "        sync: false",
                "        synchronous: true",
                "        usingExecutorService: false",
                "        allowDefaultCodec: false",
                "      steps:",
                steps, ""));
        return dir;
    }

    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static final class Builder {
        private final Map<String, String> users = new LinkedHashMap<>();
        private final Map<String, String> targets = new LinkedHashMap<>();
        private String tls = "";
        private String limits = "";
        private String oidc = "";
        private String audit = "";
        private String approvals = "";
        private String recording = "";
        private String apiKey;
        private dev.warden.identity.oidc.DemoIssuer demoIssuer;
        private Path baseDir = Path.of(".");
        private Path routes = Path.of("routes");
        /** A rulepack that objects to nothing, so relay tests are not refused; PolicyEnforcementIT uses rules/. */
        private Path rules = Path.of("src/test/resources/rules-allow-all");
        private int httpPort = freePort();

        private Builder() {
            users.put(USER, "    password: " + PASSWORD + "\n");
            int pgPort = SharedPostgres.get().port();
            targets.put(TARGET, String.join("\n",
                    "    host: 127.0.0.1",
                    "    port: " + pgPort,
                    "    database: " + SharedPostgres.APP_DB,
                    "    user: " + SharedPostgres.APP_ROLE,
                    "    password: " + SharedPostgres.APP_PASSWORD,
                    "    sslmode: disable", ""));
        }

        /** Adds a user; {@code body} holds its YAML keys indented by four spaces (password/scramVerifier/targets). */
        public Builder user(String name, String body) {
            users.put(name, body.endsWith("\n") ? body : body + "\n");
            return this;
        }

        /** Adds or replaces a target; {@code body} holds its YAML keys indented by four spaces. */
        public Builder target(String name, String body) {
            targets.put(name, body.endsWith("\n") ? body : body + "\n");
            return this;
        }

        /** The whole tls: section body, keys indented by two spaces. */
        public Builder tls(String body) {
            this.tls = body.endsWith("\n") ? body : body + "\n";
            return this;
        }

        /** A REST API key (http.apiKeys). */
        public Builder apiKey(String key) {
            this.apiKey = key;
            return this;
        }

        /** The whole audit: section body, keys indented by two spaces (default: a fresh H2 store per gateway). */
        public Builder audit(String body) {
            this.audit = body.endsWith("\n") ? body : body + "\n";
            return this;
        }

        /** The whole approvals: section body (groups, mail, timeout ...), keys indented by two spaces. */
        public Builder approvals(String body) {
            this.approvals = body.endsWith("\n") ? body : body + "\n";
            return this;
        }

        /**
         * The whole recording: section body, keys indented by two spaces (default: recordings in a fresh
         * temporary directory, so tests never write under the work tree).
         */
        public Builder recording(String body) {
            this.recording = body.endsWith("\n") ? body : body + "\n";
            return this;
        }

        private static String freshRecordingDir() {
            try {
                Path d = java.nio.file.Files.createTempDirectory("warden-recordings-");
                d.toFile().deleteOnExit();
                return d.toAbsolutePath().toString();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Each gateway gets its own embedded audit store: two gateways must never share one H2 file. */
        private static String freshAuditStore() {
            try {
                Path d = java.nio.file.Files.createTempDirectory("warden-audit-");
                d.toFile().deleteOnExit();
                return d.resolve("audit").toAbsolutePath().toString();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The whole oidc: section body, keys indented by two spaces. */
        public Builder oidc(String body) {
            this.oidc = body.endsWith("\n") ? body : body + "\n";
            return this;
        }

        /** Serve this demo issuer's discovery document and keys on the gateway's HTTP port. */
        public Builder demoIssuer(dev.warden.identity.oidc.DemoIssuer issuer) {
            this.demoIssuer = issuer;
            return this;
        }

        /** The HTTP port the gateway will use (known before start, e.g. for an issuer URL). */
        public int httpPort() {
            return httpPort;
        }

        /** The whole limits: section body, keys indented by two spaces. */
        public Builder limits(String body) {
            this.limits = body.endsWith("\n") ? body : body + "\n";
            return this;
        }

        /** Directory that relative file names in the config resolve against. */
        public Builder baseDir(Path dir) {
            this.baseDir = dir;
            return this;
        }

        public Builder routes(Path dir) {
            this.routes = dir;
            return this;
        }

        public Builder rules(Path dir) {
            this.rules = dir;
            return this;
        }

        public String yaml(int port) {
            StringBuilder y = new StringBuilder();
            y.append("listen:\n  host: 127.0.0.1\n  port: ").append(port).append('\n');
            y.append("http:\n  host: 127.0.0.1\n  port: ").append(httpPort).append('\n');
            if (apiKey != null) {
                y.append("  apiKeys: [").append(apiKey).append("]\n");
            }
            if (!tls.isEmpty()) {
                y.append("tls:\n").append(tls);
            }
            if (!limits.isEmpty()) {
                y.append("limits:\n").append(limits);
            }
            y.append("users:\n");
            users.forEach((n, body) -> y.append("  - name: ").append(n).append('\n').append(body));
            y.append("targets:\n");
            targets.forEach((n, body) -> y.append("  ").append(n).append(":\n").append(body));
            if (!oidc.isEmpty()) {
                y.append("oidc:\n").append(oidc);
            }
            y.append("audit:\n").append(audit.isEmpty() ? "  store: " + freshAuditStore() + "\n" : audit);
            if (!approvals.isEmpty()) {
                y.append("approvals:\n").append(approvals);
            }
            y.append("recording:\n").append(recording.isEmpty() ? "  directory: " + freshRecordingDir() + "\n" : recording);
            return y.toString();
        }

        public TestGateway start() {
            int port = freePort();
            try {
                var cfg = ConfigLoader.parse(yaml(port), new Secrets(System.getenv(), baseDir), baseDir);
                Gateway g = new Gateway(cfg, routes, rules);
                if (demoIssuer != null) {
                    g.withDemoIssuer(demoIssuer);
                }
                return new TestGateway(g.start(), port, httpPort);
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("gateway did not start", e);
            }
        }
    }
}
