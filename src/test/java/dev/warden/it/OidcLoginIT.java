package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.warden.cli.demo.CertificateAuthority;
import dev.warden.config.OidcSection;
import dev.warden.identity.oidc.DemoIssuer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A CI job logs in with nothing but its OIDC token: the real gateway, TLS, a real HTTP issuer (the
 * demo issuer served on Warden's own HTTP port), real signed tokens and a real PostgreSQL.
 */
class OidcLoginIT {
    @TempDir
    static Path dir;
    static TestGateway gw;
    static DemoIssuer issuer;
    static Path ca;
    static String oidcYaml;

    @BeforeAll
    static void start() throws Exception {
        try (Connection c = SharedPostgres.get().superuser(SharedPostgres.APP_DB); Statement s = c.createStatement()) {
            s.execute("DO $$ BEGIN CREATE ROLE oidc_reader LOGIN PASSWORD 'reader-pw-77'; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
            s.execute("GRANT CONNECT ON DATABASE " + SharedPostgres.APP_DB + " TO oidc_reader");
        }
        CertificateAuthority authority = new CertificateAuthority("oidc test CA");
        ca = authority.writeCaCertificate(dir.resolve("ca.crt"));
        CertificateAuthority.Issued cert = authority.issueServer("localhost", List.of("localhost"), List.of("127.0.0.1"), dir, "warden");
        TestGateway.Builder b = TestGateway.builder().baseDir(dir);
        issuer = new DemoIssuer("http://127.0.0.1:" + b.httpPort() + "/ci", "warden");
        oidcYaml = String.join("\n",
                "  issuers:",
                "    ci:",
                "      issuerUrl: " + issuer.issuerUrl(),
                "      audience: warden",
                "      preset: github",
                "  grants:",
                "    - name: etl-main",
                "      issuer: ci",
                "      match: {repository: acme/etl, ref: refs/heads/main}",
                "      target: app",
                "      upstreamRole: oidc_reader",
                "      grant: etl", "");
        b.tls("  enabled: true\n  certificate: warden.crt\n  privateKey: warden.key\n")
                .target(TestGateway.TARGET, String.join("\n",
                        "    host: 127.0.0.1",
                        "    port: " + SharedPostgres.get().port(),
                        "    database: " + SharedPostgres.APP_DB,
                        "    user: " + SharedPostgres.APP_ROLE,
                        "    password: " + SharedPostgres.APP_PASSWORD,
                        "    sslmode: disable",
                        "    roles:",
                        "      oidc_reader: reader-pw-77", ""))
                .oidc(oidcYaml)
                .demoIssuer(issuer);
        gw = b.start();
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    private static Map<String, Object> claims(String repository) {
        return Map.of("repository", repository, "ref", "refs/heads/main", "workflow", "nightly.yml", "run_id", "4711",
                "actor", "ci-bot");
    }

    private static Connection login(String token, String sslmode) throws SQLException {
        // assumeMinServerVersion: pgJDBC then sends its settings in the startup packet instead of a SET afterwards
        return gw.connectAs("etl", token, TestGateway.TARGET, "sslmode=" + sslmode, "sslrootcert=" + ca, "assumeMinServerVersion=10");
    }

    @Test
    void validTokenGetsTheGrantedRoleAndTheCiRunIsVisibleUpstream() throws Exception {
        String token = issuer.issue("repo:acme/etl:ref:refs/heads/main", claims("acme/etl"), Duration.ofMinutes(5));
        try (Connection c = login(token, "verify-full"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_user, pg_backend_pid()")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("oidc_reader");
            int pid = rs.getInt(2);
            try (Connection su = SharedPostgres.get().superuser("postgres");
                 PreparedStatement ps = su.prepareStatement("SELECT application_name FROM pg_stat_activity WHERE pid = ?")) {
                ps.setInt(1, pid);
                try (ResultSet a = ps.executeQuery()) {
                    a.next();
                    assertThat(a.getString(1)).isEqualTo("warden:acme/etl#4711");
                }
            }
        }
    }

    @Test
    void tokenOverAPlainConnectionIsRefusedBeforeItIsSent() {
        String token = issuer.issue("repo:acme/etl:ref:refs/heads/main", claims("acme/etl"), Duration.ofMinutes(5));
        assertThatThrownBy(() -> login(token, "disable").close()).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("28000");
            assertThat(e.getMessage()).contains("TLS").doesNotContain(token);
        });
    }

    @Test
    void tokenFromAnotherRepositoryMatchesNoGrant() {
        String token = issuer.issue("repo:evil/fork:ref:refs/heads/main", claims("evil/fork"), Duration.ofMinutes(5));
        assertThatThrownBy(() -> login(token, "require").close()).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("28P01");
            assertThat(e.getMessage()).contains("no grant rule").doesNotContain(token);
        });
    }

    @Test
    void expiredTokenIsRefusedSayingSo() {
        String token = issuer.issueAt("repo:acme/etl:ref:refs/heads/main", claims("acme/etl"),
                Instant.now().minus(Duration.ofMinutes(20)), Duration.ofMinutes(10));
        assertThatThrownBy(() -> login(token, "require").close()).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("28P01");
            assertThat(e.getMessage()).contains("expired");
        });
    }

    @Test
    void aLiveSessionEndsWhenItsTokenExpires() throws Exception {
        String token = issuer.issue("repo:acme/etl:ref:refs/heads/main", claims("acme/etl"), Duration.ofSeconds(3));
        try (Connection c = login(token, "require"); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
            await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
                    assertThatThrownBy(() -> s.execute("SELECT 1")).isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("57P05");
                        assertThat(e.getMessage()).contains("token expired");
                    }));
        }
    }

    @Test
    void revokingTheRepositoryEndsItsLiveSessionsWithinSeconds() throws Exception {
        String token = issuer.issue("repo:acme/etl:ref:refs/heads/main", claims("acme/etl"), Duration.ofMinutes(5));
        try (Connection c = login(token, "require"); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
            gw.gateway().reloadIdentity(OidcSection.parseYaml("oidc:\n" + oidcYaml
                    + "  revoked:\n    repositories: [acme/etl]\n"));
            try {
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                        assertThatThrownBy(() -> s.execute("SELECT 1")).isInstanceOfSatisfying(SQLException.class,
                                e -> assertThat(e.getMessage()).contains("revoked")));
                assertThatThrownBy(() -> login(token, "require").close())
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage()).contains("revoked"));
                // the session's disconnect record says why it ended (evidence reports count these)
                await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(gw.gateway().audit().search(
                        new dev.warden.audit.AuditSearch.Query(null, null, null, null, "session", null, null, null,
                                dev.warden.audit.AuditSearch.MAX_LIMIT, null)).entries())
                        .anySatisfy(e -> assertThat(String.valueOf(e.record().get("detail"))).startsWith("token revoked: ")));
            } finally {
                gw.gateway().reloadIdentity(OidcSection.parseYaml("oidc:\n" + oidcYaml));
            }
        }
    }
}
