package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.warden.cli.demo.EmbeddedTarget;
import dev.warden.identity.scram.ScramVerifier;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * Who may log in to Warden, which targets they reach, and how Warden itself logs in to PostgreSQL:
 * every case runs against a real Warden and a real embedded PostgreSQL 17.
 */
class AuthAndTargetsIT {
    private static final String BOB = "bob";
    private static final String BOB_PASSWORD = "bob-verifier-pw-71c2";
    private static final String CAROL = "carol";
    private static final String CAROL_PASSWORD = "carol-pw-5d1a";
    private static final String SECRET_TARGET = "secretinventory";

    /** A second PostgreSQL whose pg_hba.conf makes Warden use md5 and cleartext password logins. */
    private static EmbeddedTarget methodsPg;
    private static TestGateway gw;

    @BeforeAll
    static void startGateway() throws Exception {
        gw = TestGateway.builder()
                .user(BOB, "    scramVerifier: \"" + ScramVerifier.fromPassword(BOB_PASSWORD).format() + "\"")
                .user(CAROL, "    password: " + CAROL_PASSWORD + "\n    targets: [app]")
                .target(SECRET_TARGET, sharedTargetBody(SharedPostgres.APP_PASSWORD))
                .start();
    }

    @AfterAll
    static void stop() throws IOException {
        if (gw != null) {
            gw.close();
        }
        if (methodsPg != null) {
            methodsPg.close();
        }
    }

    // ---------------------------------------------------------------- client login (SCRAM to Warden)

    @Test
    void scramLoginSucceedsForPasswordUserAndForScramVerifierUser() throws Exception {
        try (Connection c = login(gw, TestGateway.USER, TestGateway.PASSWORD, "app")) {
            assertThat(scalar(c, "SELECT 41 + 1")).isEqualTo("42");
        }
        try (Connection c = login(gw, BOB, BOB_PASSWORD, "app")) {
            assertThat(scalar(c, "SELECT 'bob-ok'")).isEqualTo("bob-ok");
        }
    }

    @Test
    void wrongPasswordIsRejectedWith28P01() {
        PSQLException e = loginFailure(gw, TestGateway.USER, "not-alice-pw", "app");
        assertThat(e.getSQLState()).isEqualTo("28P01");
        assertThat(e.getServerErrorMessage().getSeverity()).isEqualTo("FATAL");
        assertThat(e.getServerErrorMessage().getMessage())
                .isEqualTo("password authentication failed for user \"" + TestGateway.USER + "\"");
        // the verifier user too: a wrong password is refused, not only unknown users
        assertThat(loginFailure(gw, BOB, "bob-wrong", "app").getSQLState()).isEqualTo("28P01");
    }

    @Test
    void unknownUserGetsExactlyTheSameErrorAsAWrongPassword() {
        ServerErrorMessage wrong = loginFailure(gw, TestGateway.USER, "guess-1", "app").getServerErrorMessage();
        ServerErrorMessage unknown = loginFailure(gw, "mallory", "guess-1", "app").getServerErrorMessage();

        assertThat(unknown.getSQLState()).isEqualTo(wrong.getSQLState()).isEqualTo("28P01");
        assertThat(unknown.getSeverity()).isEqualTo(wrong.getSeverity());
        assertThat(unknown.getMessage()).isEqualTo("password authentication failed for user \"mallory\"");
        assertThat(unknown.getMessage().replace("mallory", TestGateway.USER)).isEqualTo(wrong.getMessage());
        assertThat(unknown.getHint()).isEqualTo(wrong.getHint());
        assertThat(unknown.getDetail()).isEqualTo(wrong.getDetail());
    }

    @Test
    void scramChallengeForAnUnknownUserLooksLikeOneForARealUser() throws Exception {
        // A real user's salt is the same on every attempt; an unknown user's must be too, with the same
        // iteration count, or the server-first-message alone would tell which users exist.
        Map<String, String> real1 = serverFirst(TestGateway.USER);
        Map<String, String> real2 = serverFirst(TestGateway.USER);
        Map<String, String> ghost1 = serverFirst("nobody-here");
        Map<String, String> ghost2 = serverFirst("nobody-here");
        Map<String, String> otherGhost = serverFirst("nobody-else");

        assertThat(real1.get("s")).isEqualTo(real2.get("s"));
        assertThat(ghost1.get("s")).isEqualTo(ghost2.get("s"));
        assertThat(ghost1.get("s")).isNotEqualTo(otherGhost.get("s"));
        assertThat(java.util.Base64.getDecoder().decode(ghost1.get("s")))
                .hasSameSizeAs(java.util.Base64.getDecoder().decode(real1.get("s")));
        assertThat(ghost1.get("i")).isEqualTo(real1.get("i")).isEqualTo("4096");
        assertThat(ghost1.keySet()).isEqualTo(real1.keySet());
    }

    // ---------------------------------------------------------------- targets

    @Test
    void unknownTargetIs3D000AndDoesNotRevealTheConfiguredTargets() {
        PSQLException e = loginFailure(gw, TestGateway.USER, TestGateway.PASSWORD, "nosuchdb");
        ServerErrorMessage m = e.getServerErrorMessage();
        assertThat(e.getSQLState()).isEqualTo("3D000");
        assertThat(m.getSeverity()).isEqualTo("FATAL");
        assertThat(m.getMessage()).contains("\"nosuchdb\"").contains("not a known Warden target");
        for (String revealed : new String[] {m.getMessage(), m.getHint(), m.getDetail(), e.getMessage()}) {
            assertThat(revealed == null ? "" : revealed).doesNotContain(SECRET_TARGET);
        }
    }

    @Test
    void unknownTargetWithAWrongPasswordIs28P01SoTargetsCannotBeProbed() {
        PSQLException unknownTarget = loginFailure(gw, TestGateway.USER, "wrong-pw", "nosuchdb");
        PSQLException knownTarget = loginFailure(gw, TestGateway.USER, "wrong-pw", SECRET_TARGET);
        assertThat(unknownTarget.getSQLState()).isEqualTo("28P01");
        assertThat(knownTarget.getSQLState()).isEqualTo("28P01");
        assertThat(unknownTarget.getServerErrorMessage().getMessage())
                .isEqualTo(knownTarget.getServerErrorMessage().getMessage());
        // unknown user and unknown target: still only "password authentication failed"
        assertThat(loginFailure(gw, "mallory", "x", "nosuchdb").getSQLState()).isEqualTo("28P01");
    }

    @Test
    void userRestrictedToSomeTargetsGets42501ForAnotherConfiguredTarget() throws Exception {
        try (Connection c = login(gw, CAROL, CAROL_PASSWORD, "app")) {
            assertThat(scalar(c, "SELECT 1")).isEqualTo("1");
        }
        PSQLException e = loginFailure(gw, CAROL, CAROL_PASSWORD, SECRET_TARGET);
        assertThat(e.getSQLState()).isEqualTo("42501");
        assertThat(e.getServerErrorMessage().getSeverity()).isEqualTo("FATAL");
        assertThat(e.getServerErrorMessage().getMessage()).contains("\"" + CAROL + "\"").contains("may not connect");
        // an unrestricted user reaches the same target
        try (Connection c = login(gw, TestGateway.USER, TestGateway.PASSWORD, SECRET_TARGET)) {
            assertThat(scalar(c, "SELECT current_database()")).isEqualTo(SharedPostgres.APP_DB);
        }
    }

    // ---------------------------------------------------------------- credentials stay in Warden

    @Test
    void clientRunsAsTheUpstreamRoleWithoutEverKnowingItsCredentials() throws Exception {
        int backendPidSeenByClient;
        String upstreamPid;
        try (Connection c = gw.connect()) {
            assertThat(scalar(c, "SELECT current_user")).isEqualTo(SharedPostgres.APP_ROLE);
            assertThat(scalar(c, "SELECT session_user")).isEqualTo(SharedPostgres.APP_ROLE);
            backendPidSeenByClient = c.unwrap(PGConnection.class).getBackendPID();
            upstreamPid = scalar(c, "SELECT pg_backend_pid()");
        }
        // the cancel key handed to the client is Warden's own, not the upstream backend's
        assertThat(Integer.toString(backendPidSeenByClient)).isNotEqualTo(upstreamPid);

        // the client's password does not open the upstream role ...
        Throwable direct = catchThrowable(() -> SharedPostgres.get()
                .connect(SharedPostgres.APP_ROLE, TestGateway.PASSWORD, SharedPostgres.APP_DB).close());
        assertThat(direct).isInstanceOf(PSQLException.class);
        assertThat(((PSQLException) direct).getSQLState()).isEqualTo("28P01");
        // ... and the upstream credentials do not open Warden
        assertThat(loginFailure(gw, SharedPostgres.APP_ROLE, SharedPostgres.APP_PASSWORD, "app").getSQLState())
                .isEqualTo("28P01");
    }

    // ---------------------------------------------------------------- Warden's login to PostgreSQL

    @Test
    void wardenLogsInUpstreamWithScramSha256() throws Exception {
        try (Connection c = gw.connect()) {
            assertThat(scalar(c, "SELECT system_user")).isEqualTo("scram-sha-256:" + SharedPostgres.APP_ROLE);
        }
    }

    @Test
    void wardenLogsInUpstreamWithMd5() throws Exception {
        EmbeddedTarget pg = methodsPg();
        try (TestGateway g = TestGateway.builder().target("legacy", String.join("\n",
                "    host: 127.0.0.1",
                "    port: " + pg.port(),
                "    database: md5db",
                "    user: md5user",
                "    password: md5-pw-e41b",
                "    sslmode: disable", "")).start();
             Connection c = login(g, TestGateway.USER, TestGateway.PASSWORD, "legacy")) {
            assertThat(scalar(c, "SELECT system_user")).isEqualTo("md5:md5user");
            assertThat(scalar(c, "SELECT current_database()")).isEqualTo("md5db");
        }
    }

    @Test
    void wardenLogsInUpstreamWithCleartextPassword() throws Exception {
        EmbeddedTarget pg = methodsPg();
        try (TestGateway g = TestGateway.builder().target("plainpw", String.join("\n",
                "    host: 127.0.0.1",
                "    port: " + pg.port(),
                "    database: pwdb",
                "    user: pwuser",
                "    password: pw-pw-90aa",
                "    sslmode: disable", "")).start();
             Connection c = login(g, TestGateway.USER, TestGateway.PASSWORD, "plainpw")) {
            assertThat(scalar(c, "SELECT system_user")).isEqualTo("password:pwuser");
            assertThat(scalar(c, "SELECT current_database()")).isEqualTo("pwdb");
        }
    }

    @Test
    void wrongUpstreamPasswordGivesTheClientAFatalNamingTheTargetWithinSeconds() {
        String badPassword = "definitely-not-the-upstream-pw";
        try (TestGateway g = TestGateway.builder().target("badcreds", sharedTargetBody(badPassword)).start()) {
            long t0 = System.nanoTime();
            PSQLException e = loginFailure(g, TestGateway.USER, TestGateway.PASSWORD, "badcreds", "socketTimeout=15");
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            ServerErrorMessage m = e.getServerErrorMessage();
            assertThat(m).as("a server error, not a client-side timeout: %s", e).isNotNull();
            assertThat(m.getSeverity()).isEqualTo("FATAL");
            assertThat(e.getSQLState()).as("a refused upstream login is not the client's wrong password").isEqualTo("08006");
            assertThat(m.getMessage()).contains("'badcreds'").contains("Warden").containsIgnoringCase("login")
                    .doesNotContain(badPassword);
            assertThat(took).isLessThan(Duration.ofSeconds(5));
            // the client's own login to Warden was fine: the same user still logs in to a good target
            try (Connection c = g.connect()) {
                assertThat(scalar(c, "SELECT 1")).isEqualTo("1");
            } catch (SQLException ex) {
                throw new AssertionError(ex);
            }
        }
    }

    @Test
    void unreachableUpstreamGives08006NamingTheTargetQuickly() {
        int closedPort = TestGateway.freePort();
        try (TestGateway g = TestGateway.builder().target("offline", String.join("\n",
                "    host: 127.0.0.1",
                "    port: " + closedPort,
                "    database: appdb",
                "    user: warden_app",
                "    password: x",
                "    sslmode: disable", "")).start()) {
            long t0 = System.nanoTime();
            PSQLException e = loginFailure(g, TestGateway.USER, TestGateway.PASSWORD, "offline", "socketTimeout=15");
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(e.getServerErrorMessage()).as("a server error: %s", e).isNotNull();
            assertThat(e.getSQLState()).isEqualTo("08006");
            assertThat(e.getServerErrorMessage().getSeverity()).isEqualTo("FATAL");
            assertThat(e.getServerErrorMessage().getMessage()).contains("'offline'").contains(Integer.toString(closedPort));
            assertThat(took).isLessThan(Duration.ofSeconds(3));
        }
    }

    // ---------------------------------------------------------------- limits

    @Test
    void silentClientGetsA08P01FatalAndIsClosedAfterTheStartupTimeout() throws Exception {
        try (TestGateway g = TestGateway.builder().limits("  startupTimeout: 500ms").start();
             Raw raw = new Raw(g.port())) {
            long t0 = System.nanoTime();
            Raw.Message m = raw.readMessage();
            Duration tookToError = Duration.ofNanos(System.nanoTime() - t0);
            assertThat((char) m.type()).isEqualTo('E');
            Map<Character, String> f = Raw.fields(m.body());
            assertThat(f.get('S')).isEqualTo("FATAL");
            assertThat(f.get('C')).isEqualTo("08P01");
            assertThat(f.get('M')).contains("startup").contains("500");
            assertThat(raw.closedByPeer()).isTrue();
            Duration tookToClose = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(tookToError).isGreaterThanOrEqualTo(Duration.ofMillis(400));
            assertThat(tookToClose).isLessThan(Duration.ofSeconds(2));
        }
    }

    @Test
    void thirdConcurrentConnectionIsRefusedWith53300WhenMaxConnectionsIsTwo() throws Exception {
        try (TestGateway g = TestGateway.builder().limits("  maxConnections: 2").start()) {
            Connection c1 = g.connect();
            try (Connection c2 = g.connect()) {
                PSQLException e = loginFailure(g, TestGateway.USER, TestGateway.PASSWORD, "app");
                assertThat(e.getSQLState()).isEqualTo("53300");
                assertThat(e.getServerErrorMessage().getSeverity()).isEqualTo("FATAL");
                assertThat(e.getServerErrorMessage().getMessage()).contains("too many");
                // the two admitted sessions are unaffected
                assertThat(scalar(c1, "SELECT 1")).isEqualTo("1");
                assertThat(scalar(c2, "SELECT 2")).isEqualTo("2");
                // once one leaves, a new client is admitted again
                c1.close();
                Awaitility.await().atMost(Duration.ofSeconds(5)).ignoreExceptions().untilAsserted(() -> {
                    try (Connection c3 = g.connect()) {
                        assertThat(scalar(c3, "SELECT 3")).isEqualTo("3");
                    }
                });
            } finally {
                c1.close();
            }
        }
    }

    @Test
    void replicationConnectionIsRefusedWith42501() {
        Properties p = new Properties();
        p.setProperty("user", TestGateway.USER);
        p.setProperty("password", TestGateway.PASSWORD);
        p.setProperty("replication", "database");
        p.setProperty("assumeMinServerVersion", "9.4");
        p.setProperty("preferQueryMode", "simple");
        Throwable t = catchThrowable(() -> DriverManager.getConnection(gw.url("app"), p).close());
        assertThat(t).isInstanceOf(PSQLException.class);
        PSQLException e = (PSQLException) t;
        assertThat(e.getSQLState()).isEqualTo("42501");
        assertThat(e.getServerErrorMessage().getSeverity()).isEqualTo("FATAL");
        assertThat(e.getServerErrorMessage().getMessage()).containsIgnoringCase("replication");
    }

    // ---------------------------------------------------------------- helpers

    private static String sharedTargetBody(String password) {
        return String.join("\n",
                "    host: 127.0.0.1",
                "    port: " + SharedPostgres.get().port(),
                "    database: " + SharedPostgres.APP_DB,
                "    user: " + SharedPostgres.APP_ROLE,
                "    password: " + password,
                "    sslmode: disable", "");
    }

    /** Starts (once) a PostgreSQL whose pg_hba.conf uses md5 for md5user and cleartext password for pwuser. */
    private static synchronized EmbeddedTarget methodsPg() throws Exception {
        if (methodsPg == null) {
            EmbeddedTarget pg = EmbeddedTarget.start();
            try (Connection c = pg.superuser("postgres"); Statement s = c.createStatement()) {
                s.execute("SET password_encryption = 'md5'");
                s.execute("CREATE ROLE md5user LOGIN PASSWORD 'md5-pw-e41b'");
                s.execute("RESET password_encryption");
                s.execute("CREATE DATABASE md5db OWNER md5user");
                s.execute("CREATE ROLE pwuser LOGIN PASSWORD 'pw-pw-90aa'");
                s.execute("CREATE DATABASE pwdb OWNER pwuser");
                try (ResultSet rs = s.executeQuery("SELECT rolpassword FROM pg_authid WHERE rolname = 'md5user'")) {
                    rs.next();
                    assertThat(rs.getString(1)).as("md5user must have an md5 hash, or PostgreSQL would use SCRAM")
                            .startsWith("md5");
                }
                Path hba;
                try (ResultSet rs = s.executeQuery("SHOW hba_file")) {
                    rs.next();
                    hba = Path.of(rs.getString(1));
                }
                Files.writeString(hba, String.join("\n",
                        "local all all trust",
                        "host all postgres 127.0.0.1/32 trust",
                        "host all postgres ::1/128 trust",
                        "host all md5user 127.0.0.1/32 md5",
                        "host all pwuser 127.0.0.1/32 password",
                        "host all all 0.0.0.0/0 reject",
                        "host all all ::/0 reject",
                        ""));
                s.execute("SELECT pg_reload_conf()");
            }
            methodsPg = pg;
        }
        return methodsPg;
    }

    /** pgJDBC connection through Warden ({@code TestGateway.connect} with three arguments is ambiguous). */
    private static Connection login(TestGateway g, String user, String password, String target, String... params)
            throws SQLException {
        return g.connectAs(user, password, target, params);
    }

    private static PSQLException loginFailure(TestGateway g, String user, String password, String target,
                                              String... params) {
        Throwable t = catchThrowable(() -> login(g, user, password, target, params).close());
        assertThat(t).as("login of %s to %s must fail", user, target).isInstanceOf(PSQLException.class);
        return (PSQLException) t;
    }

    private static String scalar(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }

    /** Sends StartupMessage and a SCRAM client-first-message; returns the attributes of the server-first-message. */
    private static Map<String, String> serverFirst(String user) throws IOException {
        try (Raw raw = new Raw(gw.port())) {
            raw.send(Raw.startup(Map.of("user", user, "database", "app")));
            Raw.Message sasl = raw.readMessage();
            assertThat((char) sasl.type()).isEqualTo('R');
            assertThat(Raw.int32(sasl.body(), 0)).isEqualTo(10);
            byte[] clientFirst = "n,,n=,r=fyko+d2lbbFgONRv9qkxdawL".getBytes(StandardCharsets.US_ASCII);
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.writeBytes("SCRAM-SHA-256".getBytes(StandardCharsets.US_ASCII));
            body.write(0);
            body.writeBytes(Raw.be32(clientFirst.length));
            body.writeBytes(clientFirst);
            raw.send(Raw.typed('p', body.toByteArray()));
            Raw.Message cont = raw.readMessage();
            assertThat((char) cont.type()).isEqualTo('R');
            assertThat(Raw.int32(cont.body(), 0)).isEqualTo(11);
            String text = new String(cont.body(), 4, cont.body().length - 4, StandardCharsets.UTF_8);
            Map<String, String> attrs = new LinkedHashMap<>();
            for (String part : text.split(",")) {
                attrs.put(part.substring(0, 1), part.substring(2));
            }
            return attrs;
        }
    }

    /** A minimal PostgreSQL wire client for what pgJDBC cannot do (send nothing, read raw replies). */
    static final class Raw implements AutoCloseable {
        record Message(byte type, byte[] body) {
        }

        private final Socket socket;
        private final DataInputStream in;
        private final OutputStream out;

        Raw(int port) throws IOException {
            this(connect(port));
        }

        Raw(Socket socket) throws IOException {
            this.socket = socket;
            socket.setSoTimeout(5000);
            in = new DataInputStream(socket.getInputStream());
            out = socket.getOutputStream();
        }

        private static Socket connect(int port) throws IOException {
            Socket s = new Socket();
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            return s;
        }

        Socket socket() {
            return socket;
        }

        /** The next single byte (the answer to SSLRequest/GSSENCRequest), or -1 at end of stream. */
        int readByte() throws IOException {
            return in.read();
        }

        /** What the peer sent before it closed the connection, or before the read timeout if it did not. */
        record Received(byte[] bytes, boolean closed) {
        }

        /** Everything the peer sends until it closes the connection or the read timeout passes. */
        Received readUntilClosed() throws IOException {
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = in.read(buf)) != -1; ) {
                    got.write(buf, 0, n);
                }
            } catch (SocketTimeoutException e) {
                return new Received(got.toByteArray(), false);
            } catch (SocketException e) {
                // a reset after the server's last bytes still means closed
            }
            return new Received(got.toByteArray(), true);
        }

        void send(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        Message readMessage() throws IOException {
            byte type = in.readByte();
            int len = in.readInt();
            byte[] body = new byte[len - 4];
            in.readFully(body);
            return new Message(type, body);
        }

        /** True when the peer has closed the connection (EOF or reset) before the read timeout. */
        boolean closedByPeer() throws IOException {
            try {
                return in.read() == -1;
            } catch (EOFException | SocketException e) {
                return true;
            }
        }

        static byte[] startup(Map<String, String> params) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            b.writeBytes(be32(196608));
            params.forEach((k, v) -> {
                b.writeBytes(k.getBytes(StandardCharsets.UTF_8));
                b.write(0);
                b.writeBytes(v.getBytes(StandardCharsets.UTF_8));
                b.write(0);
            });
            b.write(0);
            byte[] body = b.toByteArray();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            all.writeBytes(be32(body.length + 4));
            all.writeBytes(body);
            return all.toByteArray();
        }

        static byte[] sslRequest() {
            return concat(be32(8), be32(80877103));
        }

        static byte[] gssEncRequest() {
            return concat(be32(8), be32(80877104));
        }

        static byte[] concat(byte[]... parts) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (byte[] p : parts) {
                all.writeBytes(p);
            }
            return all.toByteArray();
        }

        static byte[] typed(char type, byte[] body) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            all.write(type);
            all.writeBytes(be32(body.length + 4));
            all.writeBytes(body);
            return all.toByteArray();
        }

        static byte[] be32(int v) {
            return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
        }

        static int int32(byte[] b, int at) {
            return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
        }

        /** The fields of an ErrorResponse/NoticeResponse body. */
        static Map<Character, String> fields(byte[] body) {
            Map<Character, String> f = new LinkedHashMap<>();
            int i = 0;
            while (i < body.length && body[i] != 0) {
                char code = (char) body[i++];
                int end = i;
                while (body[end] != 0) {
                    end++;
                }
                f.put(code, new String(body, i, end - i, StandardCharsets.UTF_8));
                i = end + 1;
            }
            return f;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
