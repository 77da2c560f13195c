package dev.warden.it;

import static dev.warden.it.RawPgClient.query;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.warden.it.RawPgClient.Msg;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backpressure: Warden runs as its own JVM with a capped heap (-Xmx256m) and capped direct memory
 * (-XX:MaxDirectMemorySize=64m, which also caps Netty's pooled buffers), and relays results far
 * larger than both: 2,000,000 rows of ~120 bytes (~240 MB on the wire), and 10,000,000 in the slow
 * variant. A relay that buffered instead of holding PostgreSQL back would run out of memory, drop the
 * session, and lose rows. With a client that reads slowly, the upstream backend must be seen blocked
 * in ClientWrite (PostgreSQL waiting for Warden to read) while the client is still in its slow phase.
 */
class LargeResultIT {
    private static final String SQL = "SELECT g, repeat('x',100) FROM generate_series(1,%d) g";
    private static final long HEAP_BOUND_MB = 256;
    /** After-GC heap above this would mean rows pile up on Warden's heap. */
    private static final long LIVE_HEAP_BOUND_MB = 128;

    @TempDir
    static Path dir;

    private static Process warden;
    private static int port;
    private static Path output;
    private static Path gcLog;

    @BeforeAll
    static void startWardenJvm() throws Exception {
        port = TestGateway.freePort();
        Path config = dir.resolve("warden.yaml");
        // the recording may legitimately hold up to bufferBytes of pages for its writer when the machine
        // is starved; with the 64 MB default this test once saw 136 MB after GC while a second build ran
        // on the same two cores (most likely those pages; not confirmed). A smaller buffer keeps that
        // allowance well inside the live-heap bound, which is about rows piling up
        Path recordings = Files.createDirectories(dir.resolve("recordings"));
        Files.writeString(config, TestGateway.builder()
                .recording("  directory: " + recordings + "\n  bufferBytes: 16MB\n").yaml(port));
        output = dir.resolve("warden.out");
        gcLog = dir.resolve("gc.log");
        Path routes = Path.of("routes").toAbsolutePath();
        List<String> cmd = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + HEAP_BOUND_MB + "m",
                "-XX:MaxDirectMemorySize=64m",
                "-XX:+ExitOnOutOfMemoryError",
                "-Xlog:gc:file=" + gcLog,
                "-cp", System.getProperty("java.class.path"),
                "dev.warden.cli.WardenCli", "run", "--config", config.toString(), "--routes", routes.toString());
        warden = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
                .ignoreExceptionsInstanceOf(SQLException.class).untilAsserted(() -> {
            if (!warden.isAlive()) {
                throw new IllegalStateException("Warden JVM exited early:\n" + log());
            }
            try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
        });
    }

    @AfterAll
    static void stopWardenJvm() throws Exception {
        if (warden == null) {
            return;
        }
        warden.destroy();
        if (!warden.waitFor(15, TimeUnit.SECONDS)) {
            warden.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void twoMillionRowsStreamThroughJdbcWithFetchSizeWithinACappedHeap() throws Exception {
        readWithJdbcCursor(2_000_000);
        assertWardenHealthy();
    }

    @Test
    void twoMillionRowsReachASlowRawClientWhilePostgresIsHeldBack() throws Exception {
        readWithSlowRawClient(2_000_000);
        assertWardenHealthy();
    }

    @Test
    @Tag("slow")
    void tenMillionRowsStreamThroughJdbcWithFetchSizeWithinACappedHeap() throws Exception {
        readWithJdbcCursor(10_000_000);
        assertWardenHealthy();
    }

    @Test
    @Tag("slow")
    void tenMillionRowsReachASlowRawClientWhilePostgresIsHeldBack() throws Exception {
        readWithSlowRawClient(10_000_000);
        assertWardenHealthy();
    }

    // ------------------------------------------------------------------ the two readers

    private static void readWithJdbcCursor(int rows) throws SQLException {
        long count = 0;
        long sum = 0;
        try (Connection c = connect()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.setFetchSize(1000);
                try (ResultSet rs = s.executeQuery(String.format(SQL, rows))) {
                    while (rs.next()) {
                        count++;
                        sum += rs.getLong(1);
                        if (rs.getString(2).length() != 100) {
                            throw new AssertionError("row " + count + " has a mangled second column");
                        }
                    }
                }
            }
            c.commit();
        }
        assertThat(count).as("rows").isEqualTo(rows);
        assertThat(sum).as("sum of g").isEqualTo((long) rows * (rows + 1) / 2);
    }

    /**
     * Reads at ~2 MB/s through a 64 KB socket receive buffer until 12 MB have arrived, then drains.
     * While the client is slow, PostgreSQL must be found still running the query and waiting to
     * write (wait_event ClientWrite): Warden has stopped reading from it instead of buffering.
     */
    private static void readWithSlowRawClient(int rows) throws Exception {
        long slowBytes = 12L << 20;
        AtomicLong received = new AtomicLong();
        String app = "slow-" + UUID.randomUUID();
        RawPgClient raw = RawPgClient.connect(port, 64 * 1024, in -> new Throttled(in, 2L << 20, slowBytes, received));
        try (raw) {
            raw.login(TestGateway.USER, TestGateway.PASSWORD, TestGateway.TARGET, app);
            raw.soTimeout(Duration.ofSeconds(60));
            raw.write(query(String.format(SQL, rows)));
            CompletableFuture<long[]> reading = CompletableFuture.supplyAsync(() -> readRows(raw));

            // well into the slow phase, PostgreSQL must still be busy and blocked on writing to Warden
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> received.get() >= slowBytes / 2 || reading.isDone());
            assertThat(reading).as("the reader must still be in its slow phase").isNotDone();
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
                assertThat(received.get()).as("still in the slow phase").isLessThan(slowBytes);
                assertThat(upstreamState(app)).as("upstream backend state/wait_event").isEqualTo("active/ClientWrite");
            });

            long[] got = reading.get(10, TimeUnit.MINUTES);
            assertThat(got[0]).as("rows").isEqualTo(rows);
            assertThat(got[1]).as("sum of g").isEqualTo((long) rows * (rows + 1) / 2);
        }
    }

    /** Reads one simple-query answer of (g, 100 x's) rows; returns {count, sum of g}. */
    private static long[] readRows(RawPgClient raw) {
        long count = 0;
        long sum = 0;
        while (true) {
            Msg m = raw.read();
            if (m == null) {
                throw new AssertionError("Warden closed the connection after " + count + " rows");
            }
            switch (m.type()) {
                case 'D' -> {
                    byte[] b = m.body();
                    int len1 = m.int32(2);
                    long g = Long.parseLong(new String(b, 6, len1, StandardCharsets.US_ASCII));
                    int len2 = m.int32(6 + len1);
                    if (len2 != 100) {
                        throw new AssertionError("row " + g + " has a second column of " + len2 + " bytes");
                    }
                    count++;
                    sum += g;
                }
                case 'E' -> throw new AssertionError("error after " + count + " rows: " + m);
                case 'Z' -> {
                    return new long[] {count, sum};
                }
                default -> {
                    // RowDescription, CommandComplete
                }
            }
        }
    }

    /** Caps reading at {@code bytesPerSecond} until {@code slowBytes} have been read, then reads freely. */
    private static final class Throttled extends FilterInputStream {
        private final long bytesPerSecond;
        private final long slowBytes;
        private final AtomicLong total;
        private final long started = System.nanoTime();

        Throttled(InputStream in, long bytesPerSecond, long slowBytes, AtomicLong total) {
            super(in);
            this.bytesPerSecond = bytesPerSecond;
            this.slowBytes = slowBytes;
            this.total = total;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            long sofar = total.get();
            if (sofar < slowBytes) {
                len = Math.min(len, 8192);
                // pacing a deliberately slow consumer, not waiting for a condition
                long due = started + sofar * 1_000_000_000L / bytesPerSecond;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
            }
            int n = super.read(b, off, len);
            if (n > 0) {
                total.addAndGet(n);
            }
            return n;
        }
    }

    // ------------------------------------------------------------------ health of the Warden JVM

    private static void assertWardenHealthy() throws Exception {
        assertThat(warden.isAlive()).as("Warden JVM alive; output:%n%s", log()).isTrue();
        String out = log();
        assertThat(out).as("Warden output").doesNotContain("OutOfMemoryError", "OutOfDirectMemoryError", "direct buffer memory", "LEAK:");
        HeapStats heap = HeapStats.parse(Files.readString(gcLog));
        System.out.printf("Warden JVM heap: %d GCs, max before GC %d MB, max after GC %d MB (cap %d MB)%n",
                heap.collections, heap.maxBeforeMb, heap.maxAfterMb, HEAP_BOUND_MB);
        assertThat(heap.maxBeforeMb).as("heap used").isLessThanOrEqualTo(HEAP_BOUND_MB);
        assertThat(heap.maxAfterMb).as("live heap after GC").isLessThan(LIVE_HEAP_BOUND_MB);
        // and it still serves
        try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 7")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(7);
        }
    }

    /** Heap figures from -Xlog:gc lines such as "GC(3) Pause Young (Normal) (G1 Evacuation Pause) 23M->5M(256M) 3.0ms". */
    private record HeapStats(int collections, long maxBeforeMb, long maxAfterMb) {
        private static final Pattern LINE = Pattern.compile("(\\d+)([KMG])->(\\d+)([KMG])\\((\\d+)([KMG])\\)");

        static HeapStats parse(String log) {
            Matcher m = LINE.matcher(log);
            int n = 0;
            long before = 0;
            long after = 0;
            while (m.find()) {
                n++;
                before = Math.max(before, mb(m.group(1), m.group(2)));
                after = Math.max(after, mb(m.group(3), m.group(4)));
            }
            return new HeapStats(n, before, after);
        }

        private static long mb(String v, String unit) {
            long x = Long.parseLong(v);
            return switch (unit) {
                case "K" -> x / 1024;
                case "G" -> x * 1024;
                default -> x;
            };
        }
    }

    private static String log() {
        try {
            String s = Files.readString(output);
            return s.length() > 20_000 ? s.substring(s.length() - 20_000) : s;
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    // ------------------------------------------------------------------ connections

    private static Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestGateway.USER);
        p.setProperty("password", TestGateway.PASSWORD);
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + TestGateway.TARGET + "?sslmode=disable", p);
    }

    private static String upstreamState(String applicationName) throws SQLException {
        try (Connection c = SharedPostgres.get().superuser("postgres");
             PreparedStatement ps = c.prepareStatement(
                     "SELECT state, wait_event FROM pg_stat_activity WHERE application_name = ?")) {
            ps.setString(1, applicationName);
            List<String> states = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    states.add(rs.getString(1) + "/" + rs.getString(2));
                }
            }
            return states.size() == 1 ? states.get(0) : states.toString();
        }
    }
}
