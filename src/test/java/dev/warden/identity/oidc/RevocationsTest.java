package dev.warden.identity.oidc;

import static dev.warden.identity.oidc.OidcTestSupport.GITHUB_SUB;
import static dev.warden.identity.oidc.OidcTestSupport.T0;
import static dev.warden.identity.oidc.OidcTestSupport.accepted;
import static dev.warden.identity.oidc.OidcTestSupport.config;
import static dev.warden.identity.oidc.OidcTestSupport.github;
import static dev.warden.identity.oidc.OidcTestSupport.refused;
import static dev.warden.identity.oidc.OidcTestSupport.settings;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.identity.Identity;
import dev.warden.identity.oidc.IdentityException.Reason;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Revoked subjects, repositories and token ids are refused at login; a reload swaps the lists. */
class RevocationsTest {
    private JwksServer server;
    private DemoIssuer gh;
    private TokenVerifier verifier;

    @BeforeEach
    void start() throws Exception {
        server = new JwksServer();
        gh = server.issuer("/gh", "warden");
        verifier = new TokenVerifier(settings(config(gh.issuerUrl(), server.baseUrl() + "/gl", "")));
    }

    @AfterEach
    void stop() {
        verifier.close();
        server.close();
    }

    private void revoke(String revokedYaml) {
        verifier.update(settings(config(gh.issuerUrl(), server.baseUrl() + "/gl", "revoked:\n" + revokedYaml.indent(2))));
    }

    private String token(Object... overrides) {
        return gh.issueAt(GITHUB_SUB, github(overrides), T0, Duration.ofMinutes(10));
    }

    @Test
    void revokedSubjectIsRefused() {
        revoke("subjects: ['repo:acme/app:ref:refs/heads/main']");
        IdentityException e = refused(verifier.verify(token(), "ci_deploy", T0));
        assertThat(e.reason()).isEqualTo(Reason.REVOKED);
        assertThat(e.getMessage()).isEqualTo("token refused: the token's subject 'repo:acme/app:ref:refs/heads/main' is revoked");
    }

    @Test
    void revokedRepositoryIsRefusedWhateverItsCase() {
        revoke("repositories: [Acme/App]");
        IdentityException e = refused(verifier.verify(token(), "ci_deploy", T0));
        assertThat(e.reason()).isEqualTo(Reason.REVOKED);
        assertThat(e.getMessage()).isEqualTo("token refused: the repository 'acme/app' is revoked");
        // another repository is not revoked (it is refused later, for having no rule)
        e = refused(verifier.verify(token("repository", "acme/app2"), "ci_deploy", T0));
        assertThat(e.reason()).isEqualTo(Reason.NO_GRANT);
    }

    @Test
    void revokedJtiIsRefusedAndOtherTokensOfTheSameJobStillWork() {
        revoke("jtis: [leaked-1]");
        IdentityException e = refused(verifier.verify(token("jti", "leaked-1"), "ci_deploy", T0));
        assertThat(e.reason()).isEqualTo(Reason.REVOKED);
        assertThat(e.getMessage()).isEqualTo("token refused: the token id (jti) 'leaked-1' is revoked");
        accepted(verifier.verify(token("jti", "fresh-2"), "ci_deploy", T0));
    }

    @Test
    void reloadSwapsTheSnapshot() {
        VerifiedToken v = accepted(verifier.verify(token(), "ci_deploy", T0));
        assertThat(verifier.revocations().isRevoked(v.identity(), v.jti())).isFalse();
        revoke("subjects: ['" + GITHUB_SUB + "']");
        assertThat(verifier.revocations().isRevoked(v.identity(), v.jti())).isTrue();
        revoke("subjects: []");
        assertThat(verifier.revocations().isEmpty()).isTrue();
        accepted(verifier.verify(token(), "ci_deploy", T0));
    }

    @Test
    void snapshotChecksIdentities() {
        Revocations r = new Revocations(new OidcSettings.Revoked(Set.of("s1"), Set.of("Org/Repo"), Set.of("j1")));
        Identity id = new Identity(Identity.Kind.OIDC, "s2", "https://i", "g", "rule",
                Map.of("repository", "org/repo"), Map.of());
        assertThat(r.isRevoked(id, null)).isTrue();
        assertThat(r.check("s2", null, "j2")).isEmpty();
        assertThat(r.check("s1", null, null)).contains("the token's subject 's1' is revoked");
        assertThat(r.check("s2", null, "j1")).contains("the token id (jti) 'j1' is revoked");
        assertThat(r.isRevoked(Identity.staticUser("alice"), null)).isFalse();
        assertThat(Revocations.none().isEmpty()).isTrue();
    }
}
