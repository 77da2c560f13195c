package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.warden.cli.demo.CertificateAuthority;
import dev.warden.cli.demo.EmbeddedTarget;
import dev.warden.it.AuthAndTargetsIT.Raw;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * TLS on both sides of Warden: clients to Warden (Warden is the server) and Warden to PostgreSQL
 * (Warden is the client), with certificates from a test CA and a real PostgreSQL 17 with ssl=on.
 */
class TlsIT {
    private static final String TLS_ROLE = "tls_app";
    private static final String TLS_PASSWORD = "tls-secret-77c0";
    private static final String TLS_DB = "tlsdb";

    @TempDir
    static Path dir;

    private static CertificateAuthority ca;
    private static Path caCrt;
    private static Path otherCaCrt;
    private static CertificateAuthority.Issued wardenCert;
    private static CertificateAuthority.Issued pgCert;
    /** PostgreSQL with ssl=on whose pg_hba.conf accepts only hostssl logins (SCRAM). */
    private static EmbeddedTarget tlsPg;

    @BeforeAll
    static void certificatesAndTlsPostgres() throws Exception {
        ca = new CertificateAuthority("Warden Test CA");
        caCrt = ca.writeCaCertificate(dir.resolve("ca.crt"));
        otherCaCrt = new CertificateAuthority("Some Other CA").writeCaCertificate(dir.resolve("other-ca.crt"));
        wardenCert = ca.issueServer("localhost", List.of("localhost"), List.of("127.0.0.1"), dir, "warden");
        // PostgreSQL's certificate is valid for 127.0.0.1 and db.internal.example, not for "localhost"
        pgCert = ca.issueServer("db.internal.example", List.of("db.internal.example"), List.of("127.0.0.1"), dir, "pg");
        tlsPg = EmbeddedTarget.start(EmbeddedPostgres.builder()
                .setServerConfig("ssl", "on")
                .setServerConfig("ssl_cert_file", pgCert.certificate().toString())
                .setServerConfig("ssl_key_file", pgCert.privateKey().toString()));
        tlsPg.createRole(TLS_ROLE, TLS_PASSWORD, TLS_DB);
        tlsPg.requirePasswords(true);
    }

    @AfterAll
    static void stopPostgres() throws IOException {
        if (tlsPg != null) {
            tlsPg.close();
        }
    }

    // ================================================================ clients -> Warden

    @Test
    void verifyFullClientConnectsOverTlsWithWardensCertificate() throws Exception {
        try (TestGateway gw = clientTlsGateway(false)) {
            try (Connection c = connectApp(gw, "sslmode=verify-full", "sslrootcert=" + caCrt)) {
                assertThat(scalar(c, "SELECT 'over-tls'")).isEqualTo("over-tls");
            }
            // the same exchange by hand: 'S', a handshake that validates against the CA for 127.0.0.1,
            // and Warden's login continuing inside the TLS session
            try (Raw plain = new Raw(gw.port())) {
                plain.send(Raw.sslRequest());
                assertThat(plain.readByte()).isEqualTo('S');
                SSLSocket tls = (SSLSocket) trusting(ca.certificate()).getSocketFactory()
                        .createSocket(plain.socket(), "127.0.0.1", gw.port(), true);
                SSLParameters p = tls.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS");
                tls.setSSLParameters(p);
                tls.startHandshake();
                Certificate[] chain = tls.getSession().getPeerCertificates();
                assertThat(((X509Certificate) chain[0]).getSubjectX500Principal().getName()).isEqualTo("CN=localhost");
                assertThat(((X509Certificate) chain[0]).getIssuerX500Principal())
                        .isEqualTo(ca.certificate().getSubjectX500Principal());
                Raw secured = new Raw(tls);
                secured.send(Raw.startup(Map.of("user", TestGateway.USER, "database", TestGateway.TARGET)));
                Raw.Message m = secured.readMessage();
                assertThat((char) m.type()).isEqualTo('R');
                assertThat(Raw.int32(m.body(), 0)).as("AuthenticationSASL").isEqualTo(10);
            }
        }
    }

    @Test
    void verifyFullClientTrustingAnotherCaRefusesWardensCertificate() throws Exception {
        try (TestGateway gw = clientTlsGateway(false)) {
            Throwable t = catchThrowable(() -> connectApp(gw, "sslmode=verify-full", "sslrootcert=" + otherCaCrt).close());
            assertThat(t).isInstanceOf(PSQLException.class);
            assertThat(((PSQLException) t).getSQLState()).isEqualTo("08006");
            assertThat(t).hasRootCauseInstanceOf(java.security.cert.CertPathBuilderException.class);
            assertThat(causeOfType(t, SSLException.class)).as("an SSL failure in %s", t).isTrue();
            // control: the same gateway with the right CA
            try (Connection c = connectApp(gw, "sslmode=verify-full", "sslrootcert=" + caCrt)) {
                assertThat(scalar(c, "SELECT 1")).isEqualTo("1");
            }
        }
    }

    @Test
    void tlsRequiredRefusesPlainClientsWith28000AndAcceptsTlsClients() throws Exception {
        try (TestGateway gw = clientTlsGateway(true)) {
            Throwable t = catchThrowable(() -> connectApp(gw, "sslmode=disable").close());
            assertThat(t).isInstanceOf(PSQLException.class);
            PSQLException e = (PSQLException) t;
            assertThat(e.getSQLState()).isEqualTo("28000");
            assertThat(e.getServerErrorMessage().getSeverity()).isEqualTo("FATAL");
            assertThat(e.getServerErrorMessage().getMessage()).contains("TLS");
            try (Connection c = connectApp(gw, "sslmode=verify-full", "sslrootcert=" + caCrt)) {
                assertThat(scalar(c, "SELECT 'tls-ok'")).isEqualTo("tls-ok");
            }
            try (Connection c = connectApp(gw, "sslmode=require")) {
                assertThat(scalar(c, "SELECT 'require-ok'")).isEqualTo("require-ok");
            }
        }
    }

    @Test
    void withTlsDisabledSslRequestIsAnsweredNAndClientsContinueInPlainText() throws Exception {
        try (TestGateway gw = TestGateway.builder().start()) {
            try (Raw raw = new Raw(gw.port())) {
                raw.send(Raw.sslRequest());
                assertThat(raw.readByte()).isEqualTo('N');
                raw.send(Raw.startup(Map.of("user", TestGateway.USER, "database", TestGateway.TARGET)));
                Raw.Message m = raw.readMessage();
                assertThat((char) m.type()).isEqualTo('R');
                assertThat(Raw.int32(m.body(), 0)).as("AuthenticationSASL in plain text").isEqualTo(10);
            }
            try (Connection c = connectApp(gw, "sslmode=prefer")) {
                assertThat(scalar(c, "SELECT 'plain-ok'")).isEqualTo("plain-ok");
            }
            // the prefer connection above could only have been plain text: TLS is not on offer
            Throwable t = catchThrowable(() -> connectApp(gw, "sslmode=require").close());
            assertThat(t).isInstanceOf(PSQLException.class).hasMessageContaining("SSL");
        }
    }

    @Test
    void gssEncRequestIsAnsweredWithTheSingleByteN() throws Exception {
        try (TestGateway gw = clientTlsGateway(false); Raw raw = new Raw(gw.port())) {
            raw.send(Raw.gssEncRequest());
            assertThat(raw.readByte()).isEqualTo('N');
            // the next byte answers the next request: nothing else followed the 'N'
            raw.send(Raw.sslRequest());
            assertThat(raw.readByte()).isEqualTo('S');
        }
        try (TestGateway gw = TestGateway.builder().start(); Raw raw = new Raw(gw.port())) {
            raw.send(Raw.gssEncRequest());
            assertThat(raw.readByte()).isEqualTo('N');
            raw.send(Raw.startup(Map.of("user", TestGateway.USER, "database", TestGateway.TARGET)));
            assertThat((char) raw.readMessage().type()).isEqualTo('R');
        }
    }

    @Test
    void startupPipelinedBehindSslRequestIsRefusedWhenTlsIsEnabled() throws Exception {
        try (TestGateway gw = clientTlsGateway(false)) {
            assertPipelinedStartupRefused(gw.port(), Raw.sslRequest());
        }
    }

    @Test
    void startupPipelinedBehindSslRequestIsRefusedWhenTlsIsDisabled() throws Exception {
        // PostgreSQL 17 with ssl=off answers 'N' and then refuses the pipelined bytes with 08P01 as well
        try (TestGateway gw = TestGateway.builder().start()) {
            assertPipelinedStartupRefused(gw.port(), Raw.sslRequest());
        }
    }

    @Test
    void startupPipelinedBehindGssEncRequestIsRefused() throws Exception {
        // as PostgreSQL does ("received unencrypted data after GSSAPI encryption request")
        try (TestGateway gw = clientTlsGateway(false)) {
            assertPipelinedStartupRefused(gw.port(), Raw.gssEncRequest());
        }
    }

    // ================================================================ Warden -> PostgreSQL

    @Test
    void upstreamVerifyFullConnectsOverTls() throws Exception {
        try (TestGateway gw = upstreamGateway("127.0.0.1", "verify-full", caCrt);
             Connection c = connectSecure(gw)) {
            assertThat(scalar(c, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).isEqualTo("t");
            assertThat(scalar(c, "SELECT current_user")).isEqualTo(TLS_ROLE);
        }
    }

    @Test
    void upstreamRequireConnectsOverTls() throws Exception {
        try (TestGateway gw = upstreamGateway("127.0.0.1", "require", null);
             Connection c = connectSecure(gw)) {
            assertThat(scalar(c, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).isEqualTo("t");
        }
    }

    @Test
    void upstreamVerifyFullRefusesACertificateFromAnUntrustedCa() {
        try (TestGateway gw = upstreamGateway("127.0.0.1", "verify-full", otherCaCrt)) {
            ServerErrorMessage m = loginFailure(gw).getServerErrorMessage();
            assertThat(m).isNotNull();
            assertThat(m.getSeverity()).isEqualTo("FATAL");
            assertThat(m.getSQLState()).isEqualTo("08006");
            assertThat(m.getMessage()).contains("TLS").contains("'secure'").containsIgnoringCase("certif");
        }
    }

    @Test
    void upstreamVerifyFullRefusesACertificateForAnotherHostName() throws Exception {
        // the certificate names 127.0.0.1 and db.internal.example; the target is configured as localhost
        try (TestGateway gw = upstreamGateway("localhost", "verify-full", caCrt)) {
            ServerErrorMessage m = loginFailure(gw).getServerErrorMessage();
            assertThat(m).isNotNull();
            assertThat(m.getSeverity()).isEqualTo("FATAL");
            assertThat(m.getSQLState()).isEqualTo("08006");
            assertThat(m.getMessage()).contains("TLS").contains("'secure'").contains("localhost");
        }
        // control: only the host name differs from a configuration that works
        try (TestGateway gw = upstreamGateway("127.0.0.1", "verify-full", caCrt); Connection c = connectSecure(gw)) {
            assertThat(scalar(c, "SELECT 1")).isEqualTo("1");
        }
    }

    @Test
    void upstreamRequireAgainstAServerWithoutTlsFailsSayingTheTargetDoesNotAcceptTls() {
        try (TestGateway gw = TestGateway.builder().target("plaindb", String.join("\n",
                "    host: 127.0.0.1",
                "    port: " + SharedPostgres.get().port(),
                "    database: " + SharedPostgres.APP_DB,
                "    user: " + SharedPostgres.APP_ROLE,
                "    password: " + SharedPostgres.APP_PASSWORD,
                "    sslmode: require", "")).start()) {
            Throwable t = catchThrowable(() -> login(gw, TestGateway.USER, TestGateway.PASSWORD, "plaindb").close());
            assertThat(t).isInstanceOf(PSQLException.class);
            ServerErrorMessage m = ((PSQLException) t).getServerErrorMessage();
            assertThat(m.getSeverity()).isEqualTo("FATAL");
            assertThat(m.getSQLState()).isEqualTo("08006");
            assertThat(m.getMessage()).contains("'plaindb'").contains("does not accept TLS");
        }
    }

    @Test
    void upstreamDisableAgainstAHostsslOnlyServerRelaysTheServersRefusal() {
        try (TestGateway gw = upstreamGateway("127.0.0.1", "disable", null)) {
            ServerErrorMessage m = loginFailure(gw).getServerErrorMessage();
            assertThat(m).isNotNull();
            assertThat(m.getSeverity()).isEqualTo("FATAL");
            assertThat(m.getSQLState()).isEqualTo("08006");
            assertThat(m.getMessage()).contains("'secure'").contains("pg_hba.conf").contains("no encryption");
        }
    }

    @Test
    void cancelReachesAnUpstreamThatUsesTls() throws Exception {
        try (TestGateway gw = upstreamGateway("127.0.0.1", "verify-full", caCrt);
             Connection c = connectSecure(gw);
             Statement s = c.createStatement()) {
            long t0 = System.nanoTime();
            CompletableFuture<Throwable> sleeping = CompletableFuture.supplyAsync(
                    () -> catchThrowable(() -> s.execute("SELECT pg_sleep(60) /* cancel-me-tls */")));
            Throwable t;
            try {
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> activeQueries("cancel-me-tls") == 1);
                s.cancel();
                t = sleeping.get(10, TimeUnit.SECONDS);
            } finally {
                // should the cancel be lost, end the sleep anyway so that closing the connection does not wait a minute
                cancelFromSuperuser("cancel-me-tls");
            }
            assertThat(t).isInstanceOf(PSQLException.class);
            assertThat(((PSQLException) t).getSQLState()).isEqualTo("57014");
            assertThat(t.getMessage()).contains("cancel");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
            // the session survives the cancel
            assertThat(scalar(c, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).isEqualTo("t");
        }
    }

    // ================================================================ helpers

    private static TestGateway clientTlsGateway(boolean required) {
        return TestGateway.builder().tls(String.join("\n",
                "  enabled: true",
                "  certificate: " + wardenCert.certificate(),
                "  privateKey: " + wardenCert.privateKey(),
                "  required: " + required, "")).start();
    }

    /** A gateway whose default target {@code secure} is the TLS-only PostgreSQL. */
    private static TestGateway upstreamGateway(String host, String sslmode, Path rootCert) {
        return TestGateway.builder().target("secure", String.join("\n",
                "    host: " + host,
                "    port: " + tlsPg.port(),
                "    database: " + TLS_DB,
                "    user: " + TLS_ROLE,
                "    password: " + TLS_PASSWORD,
                "    sslmode: " + sslmode,
                rootCert == null ? "" : "    sslrootcert: " + rootCert, "")).start();
    }

    /** alice to target {@code app}, with the given pgJDBC parameters (sslmode etc.). */
    private static Connection connectApp(TestGateway gw, String... params) throws SQLException {
        return gw.connectAs(TestGateway.USER, TestGateway.PASSWORD, TestGateway.TARGET, params);
    }

    /** alice to target {@code secure}, the TLS-only PostgreSQL. */
    private static Connection connectSecure(TestGateway gw) throws SQLException {
        return gw.connectAs(TestGateway.USER, TestGateway.PASSWORD, "secure", new String[0]);
    }

    private static Connection login(TestGateway gw, String user, String password, String target) throws SQLException {
        return gw.connectAs(user, password, target);
    }

    private static PSQLException loginFailure(TestGateway gw) {
        long t0 = System.nanoTime();
        Throwable t = catchThrowable(() -> gw.connectAs(TestGateway.USER, TestGateway.PASSWORD, "secure",
                new String[] {"socketTimeout=15"}).close());
        assertThat(t).as("the login through target 'secure' must fail").isInstanceOf(PSQLException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        return (PSQLException) t;
    }

    private static void assertPipelinedStartupRefused(int port, byte[] request) throws IOException {
        try (Raw raw = new Raw(port)) {
            raw.socket().setSoTimeout(3000);
            raw.send(Raw.concat(request,
                    Raw.startup(Map.of("user", TestGateway.USER, "database", TestGateway.TARGET))));
            Raw.Received r = raw.readUntilClosed();
            byte[] got = r.bytes();
            String seen = printable(got);
            int at = got.length > 0 && got[0] == 'N' ? 1 : 0; // PostgreSQL answers 'N' first, then reports the violation
            assertThat(r.closed()).as("the connection must be closed, but the server sent '%s' and kept it open", seen)
                    .isTrue();
            if (got.length == at) {
                return; // closed without a word: also a refusal
            }
            assertThat((char) got[at]).as("no TLS handshake and no authentication request, got '%s'", seen)
                    .isEqualTo('E');
            int end = at + 1 + Raw.int32(got, at + 1);
            Map<Character, String> f = Raw.fields(java.util.Arrays.copyOfRange(got, at + 5, end));
            assertThat(f.get('S')).isEqualTo("FATAL");
            assertThat(f.get('C')).isEqualTo("08P01");
            assertThat(f.get('M')).contains("unencrypted data after");
            assertThat(got.length).as("nothing after the error: '%s'", seen).isEqualTo(end);
        }
    }

    private static String printable(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1).replace('\0', '|');
    }

    private static int activeQueries(String marker) throws SQLException {
        try (Connection su = tlsPg.superuser("postgres"); Statement s = su.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%"
                     + marker + "%' AND pid <> pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static void cancelFromSuperuser(String marker) throws SQLException {
        try (Connection su = tlsPg.superuser("postgres"); Statement s = su.createStatement()) {
            s.execute("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%" + marker
                    + "%' AND pid <> pg_backend_pid()");
        }
    }

    private static SSLContext trusting(X509Certificate caCert) throws Exception {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        ks.setCertificateEntry("ca", caCert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    private static boolean causeOfType(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    private static String scalar(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }
}
