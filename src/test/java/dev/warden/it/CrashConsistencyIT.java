package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.warden.audit.AuditSettings;
import dev.warden.audit.AuditVerifier;
import dev.warden.audit.SigningKeys;
import dev.warden.cli.demo.EmbeddedTarget;
import dev.warden.config.ConfigLoader;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Kills the Warden process hard (SIGKILL) in the middle of a write load and compares what
 * PostgreSQL says it executed (its own {@code log_statement=all} log) with the audit store the dead
 * process left behind: in strict mode every executed statement has a record; in batched mode the
 * only ones without a record were executed within the last moments before the kill. After a
 * restart the chain verifies, and the sessions that were open at the crash are marked interrupted.
 */
class CrashConsistencyIT {
    private static final Pattern MARK = Pattern.compile("crash-(\\d+)-(\\d+)");
    private static final Pattern LOG_LINE = Pattern.compile("^(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}) UTC");
    private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");
    private static final int CLIENTS = 4;
    /** Batched mode: a statement without a record must have run this close to the kill (window + commit + scheduling). */
    private static final Duration BATCHED_BOUND = Duration.ofMillis(500);

    @TempDir
    static Path dir;
    private static EmbeddedTarget pg;
    private static Path pgLog;

    @BeforeAll
    static void startPostgresWithStatementLog() throws Exception {
        Path logDir = dir.resolve("pglog");
        Files.createDirectories(logDir);
        pg = EmbeddedTarget.start(EmbeddedPostgres.builder()
                .setServerConfig("logging_collector", "on")
                .setServerConfig("log_directory", logDir.toString())
                .setServerConfig("log_filename", "pg.log")
                .setServerConfig("log_timezone", "UTC")
                .setServerConfig("log_line_prefix", "%m ")
                .setServerConfig("log_statement", "all"));
        pg.createRole("crash_app", "crash-pw", "crashdb");
        pg.requirePasswords(false);
        try (Connection c = pg.connect("crash_app", "crash-pw", "crashdb"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE crash_t (tag text PRIMARY KEY, at timestamptz DEFAULT now())");
        }
        pgLog = logDir.resolve("pg.log");
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"strict", "batched"})
    void killedUnderLoadLosesNoStatementOutsideTheDurabilityWindow(String durability) throws Exception {
        Path home = Files.createDirectories(dir.resolve(durability));
        int port = TestGateway.freePort();
        Path config = home.resolve("warden.yaml");
        Files.writeString(config, TestGateway.builder()
                .target(TestGateway.TARGET, String.join("\n", "    host: 127.0.0.1", "    port: " + pg.port(),
                        "    database: crashdb", "    user: crash_app", "    password: crash-pw", "    sslmode: disable"))
                .audit("  store: " + home.resolve("audit") + "\n  durability: " + durability + "\n")
                .yaml(port));
        AuditSettings settings = ConfigLoader.load(config).audit();
        long logOffset = Files.exists(pgLog) ? Files.size(pgLog) : 0;

        Process warden = startWarden(config, home.resolve("run1.out"), port);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong acknowledged = new AtomicLong();
        List<Thread> clients = new ArrayList<>();
        for (int t = 0; t < CLIENTS; t++) {
            int id = t;
            Thread th = new Thread(() -> load(port, durability, id, stop, acknowledged));
            th.start();
            clients.add(th);
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> acknowledged.get() >= 400);
        Instant killedAt = Instant.now();
        warden.destroyForcibly(); // SIGKILL: no shutdown hook, no stop record, no final checkpoint
        assertThat(warden.waitFor(20, TimeUnit.SECONDS)).isTrue();
        stop.set(true);
        for (Thread th : clients) {
            th.join(20_000);
        }

        Map<String, Instant> executed = executedStatements(logOffset, durability, acknowledged.get());
        Set<String> recorded = recordedStatements(settings);
        assertThat(executed).as("statements PostgreSQL logged").hasSizeGreaterThanOrEqualTo(400);
        Set<String> missing = new HashSet<>(executed.keySet());
        missing.removeAll(recorded);
        System.out.printf("crash test (%s): %d statements executed by PostgreSQL, %d recorded, %d executed without "
                + "a record%n", durability, executed.size(), recorded.size(), missing.size());
        if (durability.equals("strict")) {
            assertThat(missing).as("executed statements without an audit record").isEmpty();
        } else {
            for (String m : missing) {
                assertThat(executed.get(m)).as("statement %s ran without a record, so it must have run within %s of "
                        + "the kill at %s", m, BATCHED_BOUND, killedAt).isAfter(killedAt.minus(BATCHED_BOUND));
            }
        }
        List<java.security.PublicKey> keys = List.of(SigningKeys.readPublic(settings.signingKeyFile()));
        try (Connection c = storeConnection(settings)) {
            AuditVerifier.Report crashed = AuditVerifier.verify(c, keys, AuditVerifier.Options.all());
            assertThat(crashed.firstProblem()).as("the chain the killed process left").isNull();
        }

        // restart: the previous run's open sessions are marked interrupted and the gap is reported
        Process again = startWarden(config, home.resolve("run2.out"), port);
        again.destroy(); // SIGTERM: a clean stop this time
        assertThat(again.waitFor(60, TimeUnit.SECONDS)).isTrue();
        try (Connection c = storeConnection(settings)) {
            AuditVerifier.Report r = AuditVerifier.verify(c, keys, AuditVerifier.Options.all());
            assertThat(r.firstProblem()).isNull();
            assertThat(r.chains().get(0).gaps()).hasSize(1);
            assertThat(r.chains().get(0).summary()).contains("gap — unclean stop").contains("sessions interrupted")
                    .contains(durability.equals("strict") ? "none (strict durability)" : "ms (batched durability)");
            Set<String> interrupted = new HashSet<>();
            Set<String> connectedNotClosed = new HashSet<>();
            AuditBlocks.forEach(c, x -> {
                if (x.type().equals("session")) {
                    Map<String, Object> p = x.frame().payload();
                    String session = String.valueOf(p.get("session"));
                    switch (String.valueOf(p.get("event"))) {
                        case "connect" -> connectedNotClosed.add(session);
                        case "disconnect" -> connectedNotClosed.remove(session);
                        case "interrupted" -> interrupted.add(session);
                        default -> { }
                    }
                }
            });
            connectedNotClosed.removeAll(interrupted);
            assertThat(interrupted).as("the load's sessions were open at the kill").hasSizeGreaterThanOrEqualTo(CLIENTS);
            assertThat(connectedNotClosed).as("sessions neither closed nor marked interrupted").isEmpty();
        }
    }

    private static void load(int port, String run, int id, AtomicBoolean stop, AtomicLong acknowledged) {
        int i = 0;
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/" + TestGateway.TARGET + "?sslmode=disable";
        try (Connection c = DriverManager.getConnection(url, TestGateway.USER, TestGateway.PASSWORD);
             Statement s = c.createStatement()) {
            while (!stop.get()) {
                s.executeUpdate("INSERT INTO crash_t (tag) VALUES ('" + run + ":crash-" + id + "-" + (i++) + "')");
                acknowledged.incrementAndGet();
            }
        } catch (SQLException expected) {
            // the gateway was killed under us
        }
    }

    static Process startWarden(Path config, Path out, int port) throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // the runtime classpath the launcher uses (no test jars): a missing runtime dependency fails here
                "-cp", Path.of("target/classes").toAbsolutePath() + java.io.File.pathSeparator
                        + Path.of("target/lib").toAbsolutePath() + "/*", "dev.warden.cli.WardenCli", "run",
                "--config", config.toString(), "--routes", Path.of("routes").toAbsolutePath().toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/" + TestGateway.TARGET + "?sslmode=disable";
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                .ignoreExceptionsInstanceOf(SQLException.class).untilAsserted(() -> {
            if (!p.isAlive()) {
                throw new IllegalStateException("Warden exited early:\n" + Files.readString(out));
            }
            try (Connection c = DriverManager.getConnection(url, TestGateway.USER, TestGateway.PASSWORD)) {
                assertThat(c.isValid(2)).isTrue();
            }
        });
        return p;
    }

    /** Marker → when PostgreSQL logged executing it, from this run's part of the server log. */
    private static Map<String, Instant> executedStatements(long offset, String run, long acknowledged) {
        // the logging collector writes asynchronously: wait until every statement a client saw succeed is there
        return await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                .until(() -> parseLog(offset, run), m -> m.size() >= acknowledged);
    }

    private static Map<String, Instant> parseLog(long offset, String run) throws Exception {
        if (!Files.exists(pgLog) || Files.size(pgLog) <= offset) {
            return Map.of();
        }
        byte[] all = Files.readAllBytes(pgLog);
        String text = new String(all, (int) offset, all.length - (int) offset, StandardCharsets.UTF_8);
        Map<String, Instant> out = new HashMap<>();
        for (String line : text.split("\n")) {
            Matcher t = LOG_LINE.matcher(line);
            int at = line.indexOf(run + ":crash-");
            if (!t.find() || at < 0 || !line.contains("INSERT INTO crash_t")) {
                continue;
            }
            Matcher m = MARK.matcher(line.substring(at));
            if (m.find()) {
                out.put(m.group(), LocalDateTime.parse(t.group(1), LOG_TIME).toInstant(ZoneOffset.UTC));
            }
        }
        return out;
    }

    private static Set<String> recordedStatements(AuditSettings settings) throws SQLException {
        Set<String> out = new HashSet<>();
        try (Connection c = storeConnection(settings)) {
            AuditBlocks.forEach(c, x -> {
                if (x.type().equals("statement")) {
                    Matcher m = MARK.matcher(new String(x.body(), StandardCharsets.UTF_8));
                    if (m.find()) {
                        out.add(m.group());
                    }
                }
            });
        }
        return out;
    }

    /**
     * The store as the next start and every {@code ./warden audit} tool see it: with what the dead
     * process left in its journal applied (docs/audit.md, "The journal").
     */
    private static Connection storeConnection(AuditSettings settings) throws SQLException {
        Connection c = DriverManager.getConnection(settings.store().url(), settings.store().user(),
                settings.store().password());
        String applied = new dev.warden.audit.AuditStore(settings.store()).applyJournal(c);
        if (applied != null) {
            System.out.println("crash test: " + applied);
        }
        return c;
    }
}
