package dev.warden.it;

import static dev.warden.it.RawPgClient.concat;
import static dev.warden.it.RawPgClient.hex;
import static dev.warden.it.RawPgClient.query;
import static dev.warden.it.RawPgClient.startupMessage;
import static dev.warden.it.RawPgClient.sync;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.warden.it.RawPgClient.Bytes;
import dev.warden.it.RawPgClient.Ending;
import dev.warden.it.RawPgClient.Msg;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hand-crafted and fuzzed malformed client input against a running gateway, over raw sockets.
 * Every malformed message must end the session with a FATAL ErrorResponse (SQLSTATE 08P01) and a
 * closed socket, its upstream PostgreSQL backend must go away, nothing at or after the bad message
 * may reach PostgreSQL, and the gateway must go on serving new connections.
 */
class MalformedInputIT {
    private static final Duration CLOSE_WITHIN = Duration.ofSeconds(10);
    private static final String PROTOCOL_VIOLATION = "08P01";
    private static final int PROTOCOL_3_0 = 196608;

    private static TestGateway gw;

    @BeforeAll
    static void startGateway() {
        gw = TestGateway.builder().start();
    }

    @AfterAll
    static void stopGateway() {
        if (gw != null) {
            gw.close();
        }
    }

    /** A named malformed input and a fragment the FATAL message must contain. */
    record Case(String name, byte[] bytes, String expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    // ------------------------------------------------------------------ after login

    static Stream<Case> malformedAfterLogin() {
        return Stream.of(
                new Case("length word below 4", Bytes.of().typedWithLength('Q', 3), "invalid message length 3"),
                new Case("length word 0", Bytes.of().typedWithLength('Q', 0), "invalid message length 0"),
                new Case("length word negative", Bytes.of().typedWithLength('Q', -5), "invalid message length -5"),
                new Case("length word claiming 2 GB", Bytes.of().typedWithLength('Q', Integer.MAX_VALUE),
                        "exceeds Warden's limit of 67108864 bytes (limits.maxMessageBytes)"),
                new Case("unknown message type 'q'", Bytes.of().cstr("SELECT 1").typed('q'), "unknown frontend message type 'q'"),
                new Case("unknown type byte alone, before any length", new byte[] {'q'}, "unknown frontend message type 'q'"),
                new Case("unknown message type 0xFF", Bytes.of().typed((char) 0xFF), "unknown frontend message type 0xFF"),
                new Case("Query without NUL terminator", Bytes.of().str("SELECT 1").typed('Q'),
                        "Query message has an unterminated query string"),
                new Case("Query with bytes after its NUL", Bytes.of().cstr("SELECT 1").str("; DROP TABLE x").typed('Q'),
                        "Query message has 14 unexpected trailing bytes"),
                new Case("Query with invalid UTF-8", Bytes.of().str("SELECT '").raw(new byte[] {(byte) 0xC0, (byte) 0xAF}).str("'").i8(0).typed('Q'),
                        "Query message has invalid UTF-8"),
                new Case("Bind with fewer values than its parameter count",
                        Bytes.of().cstr("").cstr("").i16(0).i16(2).i32(1).str("7").i16(0).typed('B'),
                        "Bind message declares 2 parameter values but the message ends after 1"),
                new Case("Bind with more values than its parameter count",
                        Bytes.of().cstr("").cstr("").i16(0).i16(1).i32(1).str("7").i32(1).str("8").i16(0).typed('B'),
                        "Bind message has 5 unexpected trailing bytes"),
                new Case("Bind with a value length below -1",
                        Bytes.of().cstr("").cstr("").i16(0).i16(1).i32(-2).i16(0).typed('B'),
                        "Bind message has invalid length -2"),
                new Case("Parse with a negative parameter type count",
                        Bytes.of().cstr("").cstr("SELECT $1").i16(-1).typed('P'),
                        "Parse message declares 65535 parameter types"),
                new Case("Sync with a body", Bytes.of().i8(0).typed('S'), "Sync message has 1 unexpected trailing byte"),
                new Case("Describe of kind 'X'", Bytes.of().i8('X').cstr("").typed('D'), "Describe message has kind 'X'"),
                new Case("PasswordMessage after login", Bytes.of().cstr("alice-pw").typed('p'),
                        "message type 'p' is not valid after startup"),
                new Case("second StartupMessage after login",
                        startupMessage(Map.of("user", TestGateway.USER, "database", TestGateway.TARGET)),
                        "unknown frontend message type 0x00"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedAfterLogin")
    void malformedMessageAfterLoginEndsTheSessionWithFatalProtocolViolation(Case c) throws Exception {
        String app = appName();
        try (RawPgClient raw = RawPgClient.login(gw.port(), app)) {
            awaitUpstreamBackends(app, 1);
            raw.tryWrite(c.bytes());
            assertEndsWithFatalProtocolViolation(raw.readUntilClosed(CLOSE_WITHIN), c.expected());
        }
        awaitUpstreamBackends(app, 0);
        assertGatewayStillServes(gw);
    }

    @Test
    void messageOverAConfiguredMaxMessageBytesIsRefusedWhileOneBelowItPasses() throws Exception {
        try (TestGateway small = TestGateway.builder().limits("  maxMessageBytes: 64KB").start()) {
            String app = appName();
            try (RawPgClient raw = RawPgClient.login(small.port(), app)) {
                raw.write(query("SELECT length('" + "x".repeat(60_000) + "')"));
                List<Msg> answer = raw.readUntil('Z');
                assertThat(answer).filteredOn(m -> m.type() == 'D').singleElement()
                        .satisfies(d -> assertThat(new String(d.body())).endsWith("60000"));

                raw.tryWrite(query("SELECT '" + "x".repeat(100 * 1024) + "'"));
                assertEndsWithFatalProtocolViolation(raw.readUntilClosed(CLOSE_WITHIN),
                        "exceeds Warden's limit of 65536 bytes (limits.maxMessageBytes)");
            }
            awaitUpstreamBackends(app, 0);
            assertGatewayStillServes(small);
        }
    }

    // ------------------------------------------------------------------ startup phase

    static Stream<Case> malformedStartup() {
        Bytes aliceParams = Bytes.of().cstr("user").cstr(TestGateway.USER).cstr("database").cstr(TestGateway.TARGET);
        return Stream.of(
                new Case("startup packet length 3", Bytes.of().i32(3).body(), "invalid startup packet length 3"),
                new Case("startup packet length 20000", Bytes.of().i32(20_000).i32(PROTOCOL_3_0).body(),
                        "invalid startup packet length 20000"),
                new Case("startup packet with protocol 2.0",
                        Bytes.of().i32(0x0002_0000).raw(aliceParams.body()).i8(0).untyped(), "unsupported frontend protocol 2.0"),
                new Case("startup packet with an unknown request code",
                        Bytes.of().i32(0x1234_5678).raw(aliceParams.body()).i8(0).untyped(), "unsupported frontend protocol 4660.22136"),
                new Case("StartupMessage missing its final NUL", Bytes.of().i32(PROTOCOL_3_0).raw(aliceParams.body()).untyped(),
                        "no terminating NUL byte after its parameter list"),
                new Case("StartupMessage with a duplicate parameter",
                        Bytes.of().i32(PROTOCOL_3_0).raw(aliceParams.body()).cstr("user").cstr("bob").i8(0).untyped(),
                        "has parameter \"user\" more than once"),
                new Case("Query sent before any startup packet", query("SELECT 1"), "invalid startup packet length"),
                new Case("Terminate sent before any startup packet", Bytes.of().typed('X'), "invalid startup packet length"),
                new Case("Query sent instead of the SASL response",
                        concat(startupMessage(Map.of("user", TestGateway.USER, "database", TestGateway.TARGET)), query("SELECT 1")),
                        "expected a password message during authentication, got type 'Q'"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedStartup")
    void malformedStartupEndsTheConnectionWithFatalProtocolViolation(Case c) throws Exception {
        try (RawPgClient raw = RawPgClient.connect(gw.port())) {
            raw.tryWrite(c.bytes());
            assertEndsWithFatalProtocolViolation(raw.readUntilClosed(CLOSE_WITHIN), c.expected());
        }
        assertGatewayStillServes(gw);
    }

    // ------------------------------------------------------------------ nothing malformed reaches upstream

    @Test
    void validInsertAheadOfAMalformedMessageInTheSameWriteRunsOnceAndTheSessionEnds() throws Exception {
        String table = newCanaryTable();
        String app = appName();
        try (RawPgClient raw = RawPgClient.login(gw.port(), app)) {
            awaitUpstreamBackends(app, 1);
            raw.write(concat(query("INSERT INTO " + table + " VALUES (1)"), Bytes.of().str("SELECT 1").typed('Q')));
            assertEndsWithFatalProtocolViolation(raw.readUntilClosed(CLOSE_WITHIN), "unterminated query string");
        }
        awaitUpstreamBackends(app, 0);
        // messages before the bad one are relayed in order, as PostgreSQL itself would have run them
        assertThat(canaryRows(table)).isEqualTo(1);
        assertGatewayStillServes(gw);
    }

    static Stream<Case> malformedAheadOfInsert() {
        return Stream.of(
                new Case("length word below 4", Bytes.of().typedWithLength('Q', 3), "invalid message length 3"),
                new Case("Query without NUL", Bytes.of().str("SELECT 1").typed('Q'), "unterminated query string"),
                new Case("unknown message type", Bytes.of().cstr("x").typed('q'), "unknown frontend message type 'q'"),
                new Case("Sync with a body", Bytes.of().i8(0).typed('S'), "Sync message has 1 unexpected trailing byte"),
                new Case("Bind with a short value list", Bytes.of().cstr("").cstr("").i16(0).i16(3).i16(0).typed('B'),
                        "Bind message declares 3 parameter values"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedAheadOfInsert")
    void validInsertBehindAMalformedMessageInTheSameWriteNeverRuns(Case bad) throws Exception {
        assertInsertNeverRuns(insert -> concat(bad.bytes(), insert), bad.expected());
    }

    @Test
    void queryWhoseLengthSwallowsTheNextTypeByteCannotSmuggleAnInsert() throws Exception {
        // the Query's length word counts one byte past its NUL: the INSERT's type byte. Trusting the length
        // and ignoring the tail would leave the INSERT's remaining bytes to be framed as something else.
        assertInsertNeverRuns(insert -> concat(Bytes.of().cstr("SELECT 1").i8(insert[0]).typed('Q'),
                Arrays.copyOfRange(insert, 1, insert.length)), "Query message has 1 unexpected trailing byte");
    }

    private static void assertInsertNeverRuns(UnaryOperator<byte[]> packetAround, String expected) throws Exception {
        String table = newCanaryTable();
        String app = appName();
        try (RawPgClient raw = RawPgClient.login(gw.port(), app)) {
            awaitUpstreamBackends(app, 1);
            raw.write(packetAround.apply(query("INSERT INTO " + table + " VALUES (1)")));
            assertEndsWithFatalProtocolViolation(raw.readUntilClosed(CLOSE_WITHIN), expected);
        }
        // once the upstream backend is gone nothing can run on it any more: then the table tells
        awaitUpstreamBackends(app, 0);
        assertThat(canaryRows(table)).as("rows inserted by the message behind the malformed one").isZero();
        assertGatewayStillServes(gw);
    }

    // ------------------------------------------------------------------ fuzzing

    @Test
    void fuzzedInputAfterLoginIsAnsweredOrRefusedAndNeverBreaksTheGateway() throws Exception {
        fuzz(200, Long.getLong("warden.fuzz.seed", 0x5EED_2024L));
    }

    @Test
    @Tag("slow")
    void fuzzedInputAfterLoginIsAnsweredOrRefusedAndNeverBreaksTheGateway_long() throws Exception {
        fuzz(Integer.getInteger("warden.fuzz.tries", 5000), Long.getLong("warden.fuzz.seed", System.nanoTime()));
    }

    /** What the gateway did with one fuzzed payload. */
    private record Outcome(List<Msg> messages, boolean closedByServer, boolean halfClosedByUs) {
    }

    private void fuzz(int tries, long seed) throws Exception {
        Random r = new Random(seed);
        String run = UUID.randomUUID().toString().substring(0, 8);
        await().atMost(Duration.ofSeconds(20)).until(() -> gw.gateway().sessionCount() == 0);
        int answered = 0;
        int refused = 0;
        int waited = 0;
        for (int i = 0; i < tries; i++) {
            FuzzInput.Payload p = FuzzInput.payload(r);
            byte[] payload = p.bytes();
            String where = "seed " + seed + ", try " + i + ", payload " + hex(payload);
            Outcome o;
            try (RawPgClient raw = RawPgClient.login(gw.port(), "fuzz-" + run + "-" + i)) {
                raw.tryWrite(payload);
                o = observe(raw, p.wellFormed());
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError(where + ": " + e.getMessage(), e);
            }
            for (int m = 0; m < o.messages().size(); m++) {
                Msg msg = o.messages().get(m);
                if (msg.isFatal()) {
                    assertThat(msg.sqlState()).as(where + ": FATAL " + msg).isEqualTo(PROTOCOL_VIOLATION);
                    assertThat(msg.message()).as(where + ": a FATAL must be Warden refusing the input, not a failure "
                            + "further on").startsWith("invalid message from client: ");
                    assertThat(m).as(where + ": nothing may follow a FATAL").isEqualTo(o.messages().size() - 1);
                    assertThat(o.closedByServer()).as(where + ": the socket closes after a FATAL").isTrue();
                }
            }
            boolean fatal = !o.messages().isEmpty() && o.messages().get(o.messages().size() - 1).isFatal();
            if (p.wellFormed()) {
                assertThat(fatal || o.closedByServer() || o.halfClosedByUs())
                        .as(where + ": a well-formed round trip must be answered; got " + o.messages()).isFalse();
                assertThat(o.messages().get(o.messages().size() - 1).type()).isEqualTo('Z');
            }
            if (fatal) {
                refused++;
            } else if (o.halfClosedByUs()) {
                waited++;
            } else if (o.closedByServer()) {
                assertThat(FuzzInput.containsTerminate(payload))
                        .as(where + ": the server hung up without an ErrorResponse; got " + o.messages()).isTrue();
            } else {
                answered++;
                assertThat(o.messages()).as(where + ": an answer ends with ReadyForQuery or is the reply to a Flush")
                        .isNotEmpty();
            }
            if (i % 50 == 49) {
                assertGatewayStillServes(gw);
            }
        }
        System.out.printf("fuzz seed %d: %d tries, %d answered, %d refused with FATAL, %d left waiting for more bytes%n",
                seed, tries, answered, refused, waited);
        assertGatewayStillServes(gw);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(gw.gateway().sessionCount()).isZero());
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(upstreamBackendsLike("fuzz-" + run + "-%")).as("upstream backends left behind").isZero());
        // the mix must actually exercise all three paths, else the generator has gone stale
        assertThat(refused).as("refused").isPositive();
        assertThat(answered).as("answered").isPositive();
        assertThat(refused + answered + waited).isLessThanOrEqualTo(tries);
    }

    /**
     * Reads what the gateway says about a payload: a quick answer or refusal; if it goes quiet
     * (e.g. waiting for the rest of a frame the payload began), we half-close and the gateway must
     * then hang up.
     */
    private static Outcome observe(RawPgClient raw, boolean singleRoundTrip) throws IOException {
        List<Msg> got = new ArrayList<>();
        // a known single round trip is read up to its ReadyForQuery however long that takes
        raw.soTimeout(singleRoundTrip ? Duration.ofSeconds(10) : Duration.ofMillis(250));
        while (true) {
            Msg m;
            try {
                m = raw.readOrThrow();
            } catch (SocketTimeoutException e) {
                break;
            } catch (SocketException e) {
                return new Outcome(got, true, false);
            } catch (EOFException e) {
                throw new AssertionError("connection closed in the middle of a message; got " + got, e);
            }
            if (m == null) {
                return new Outcome(got, true, false);
            }
            got.add(m);
            if (singleRoundTrip && m.type() == 'Z') {
                return new Outcome(got, false, false);
            }
        }
        boolean idleAfterAnswer = !got.isEmpty() && got.get(got.size() - 1).type() == 'Z';
        if (idleAfterAnswer) {
            return new Outcome(got, false, false);
        }
        raw.shutdownOutput();
        Ending end = raw.readUntilClosed(CLOSE_WITHIN);
        got.addAll(end.messages());
        return new Outcome(got, true, true);
    }

    /** Payload generator: random bytes, mutations of valid messages, and well-framed random bodies. */
    static final class FuzzInput {
        /** Frontend types Warden accepts after login, minus FunctionCall (random bodies must not call functions). */
        private static final byte[] TYPES = "QPBDESHCdcfpX".getBytes();

        private static final byte[][] SEEDS = {
            query("SELECT 1"),
            query("SELECT 'fuzz' AS f, 2 + 2"),
            concat(Bytes.of().cstr("").cstr("SELECT $1::int").i16(1).i32(23).typed('P'),
                    Bytes.of().cstr("").cstr("").i16(1).i16(0).i16(1).i32(2).str("42").i16(0).typed('B'),
                    Bytes.of().i8('P').cstr("").typed('D'),
                    Bytes.of().cstr("").i32(0).typed('E'),
                    sync()),
            concat(Bytes.of().cstr("s1").cstr("SELECT 2").i16(0).typed('P'),
                    Bytes.of().i8('S').cstr("s1").typed('D'),
                    Bytes.of().i8('S').cstr("s1").typed('C'),
                    sync()),
            sync(),
            Bytes.of().typed('H'),
            Bytes.of().str("copy data nobody asked for").typed('d'),
            Bytes.of().typed('c'),
            Bytes.of().cstr("no copy running").typed('f'),
        };

        /** Fuzz input; {@code wellFormed} ones must be answered, never refused. */
        record Payload(byte[] bytes, boolean wellFormed) {
        }

        static Payload payload(Random r) {
            int kind = r.nextInt(7);
            if (kind == 5) {
                // well-formed Query carrying random printable SQL
                return new Payload(query(randomText(r, 60)), true);
            }
            if (kind == 6) {
                // well-formed extended round trip with a random text parameter value
                return new Payload(concat(Bytes.of().cstr("").cstr("SELECT length($1::text)").i16(0).typed('P'),
                            Bytes.of().cstr("").cstr("").i16(0).i16(1).i32(12).raw(randomText(r, 12, 12).getBytes()).i16(0).typed('B'),
                            Bytes.of().cstr("").i32(0).typed('E'),
                            sync()), true);
            }
            return new Payload(malformedPayload(kind, r), false);
        }

        private static byte[] malformedPayload(int kind, Random r) {
            switch (kind) {
                case 0: {
                    byte[] b = new byte[1 + r.nextInt(64)];
                    r.nextBytes(b);
                    if (r.nextBoolean()) {
                        b[0] = TYPES[r.nextInt(TYPES.length)];
                    }
                    return b;
                }
                case 1:
                    return mutate(seed(r), r, 1 + r.nextInt(3));
                case 2: {
                    byte[] tail = new byte[1 + r.nextInt(32)];
                    r.nextBytes(tail);
                    return concat(seed(r), tail);
                }
                case 3: {
                    byte[] body = new byte[r.nextInt(40)];
                    r.nextBytes(body);
                    if (body.length > 0 && r.nextBoolean()) {
                        body[body.length - 1] = 0; // a plausible C-string end
                    }
                    return Bytes.of().raw(body).typed((char) TYPES[r.nextInt(TYPES.length)]);
                }
                default:
                    return r.nextBoolean() ? concat(seed(r), mutate(seed(r), r, 1))
                            : concat(mutate(seed(r), r, 1), seed(r));
            }
        }

        private static String randomText(Random r, int maxLength) {
            return randomText(r, 0, maxLength);
        }

        private static String randomText(Random r, int minLength, int maxLength) {
            StringBuilder b = new StringBuilder();
            int n = minLength + r.nextInt(maxLength - minLength + 1);
            for (int i = 0; i < n; i++) {
                b.append((char) (' ' + r.nextInt(95)));
            }
            return b.toString();
        }

        private static byte[] seed(Random r) {
            return SEEDS[r.nextInt(SEEDS.length)].clone();
        }

        private static byte[] mutate(byte[] b, Random r, int times) {
            for (int t = 0; t < times && b.length > 0; t++) {
                int at = r.nextInt(b.length);
                switch (r.nextInt(6)) {
                    case 0 -> b[at] ^= (byte) (1 << r.nextInt(8));
                    case 1 -> b[at] = (byte) r.nextInt(256);
                    case 2 -> b = Arrays.copyOf(b, Math.max(1, at));
                    case 3 -> {
                        byte[] x = new byte[1 + r.nextInt(8)];
                        r.nextBytes(x);
                        b = concat(Arrays.copyOf(b, at), x, Arrays.copyOfRange(b, at, b.length));
                    }
                    case 4 -> b = concat(Arrays.copyOf(b, at), Arrays.copyOfRange(b, Math.min(b.length, at + 1), b.length));
                    default -> {
                        // rewrite the first frame's length word with an edge value
                        if (b.length >= 5) {
                            int len = ((b[1] & 0xFF) << 24) | ((b[2] & 0xFF) << 16) | ((b[3] & 0xFF) << 8) | (b[4] & 0xFF);
                            int[] edges = {0, 3, 4, 5, len - 1, len + 1, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, r.nextInt()};
                            int v = edges[r.nextInt(edges.length)];
                            b[1] = (byte) (v >>> 24);
                            b[2] = (byte) (v >>> 16);
                            b[3] = (byte) (v >>> 8);
                            b[4] = (byte) v;
                        }
                    }
                }
            }
            return b;
        }

        /** Whether a Terminate frame could be in there, which would let the gateway hang up silently. */
        static boolean containsTerminate(byte[] b) {
            for (int i = 0; i + 4 < b.length; i++) {
                if (b[i] == 'X' && b[i + 1] == 0 && b[i + 2] == 0 && b[i + 3] == 0 && b[i + 4] == 4) {
                    return true;
                }
            }
            return false;
        }
    }

    // ------------------------------------------------------------------ helpers

    private static void assertEndsWithFatalProtocolViolation(Ending end, String expected) {
        assertThat(end.closed()).as("socket closed by the gateway").isTrue();
        assertThat(end.last()).as("last message before the close; all: " + end.messages()).isNotNull();
        Msg last = end.last();
        assertThat(last.type()).as("last message " + last).isEqualTo('E');
        assertThat(last.fields()).containsEntry('S', "FATAL").containsEntry('C', PROTOCOL_VIOLATION);
        assertThat(last.message()).startsWith("invalid message from client: ").contains(expected);
    }

    static void assertGatewayStillServes(TestGateway g) throws SQLException {
        try (Connection c = g.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 41 + 1")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(42);
        }
    }

    private static String appName() {
        return "mal-" + UUID.randomUUID();
    }

    private static void awaitUpstreamBackends(String applicationName, int expected) {
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
                assertThat(upstreamBackendsLike(applicationName)).as("upstream backends of " + applicationName).isEqualTo(expected));
    }

    private static int upstreamBackendsLike(String pattern) throws SQLException {
        try (Connection c = SharedPostgres.get().superuser("postgres");
             PreparedStatement ps = c.prepareStatement(
                     "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND application_name LIKE ?")) {
            ps.setString(1, pattern);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private static String newCanaryTable() throws SQLException {
        String table = "canary_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE " + table + " (x int)");
        }
        return table;
    }

    private static int canaryRows(String table) throws SQLException {
        try (Connection c = gw.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
