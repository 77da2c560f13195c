package dev.warden.identity.oidc;

import static dev.warden.identity.oidc.OidcTestSupport.GITHUB_SUB;
import static dev.warden.identity.oidc.OidcTestSupport.GITLAB_SUB;
import static dev.warden.identity.oidc.OidcTestSupport.SHA;
import static dev.warden.identity.oidc.OidcTestSupport.T0;
import static dev.warden.identity.oidc.OidcTestSupport.accepted;
import static dev.warden.identity.oidc.OidcTestSupport.config;
import static dev.warden.identity.oidc.OidcTestSupport.github;
import static dev.warden.identity.oidc.OidcTestSupport.gitlab;
import static dev.warden.identity.oidc.OidcTestSupport.refused;
import static dev.warden.identity.oidc.OidcTestSupport.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import dev.warden.identity.Identity;
import dev.warden.identity.oidc.IdentityException.Reason;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Token verification end to end: real tokens, keys served by a real HTTP endpoint, exact refusal reasons. */
class TokenVerifierTest {
    private JwksServer server;
    private DemoIssuer gh;
    private DemoIssuer gl;
    private TokenVerifier verifier;

    @BeforeEach
    void start() throws Exception {
        server = new JwksServer();
        gh = server.issuer("/gh", "warden");
        gl = server.issuer("/gl", "warden-staging");
        verifier = new TokenVerifier(settings(config(gh.issuerUrl(), gl.issuerUrl(), "")));
    }

    @AfterEach
    void stop() {
        verifier.close();
        server.close();
    }

    private String ghToken(Object... overrides) {
        return gh.issueAt(GITHUB_SUB, github(overrides), T0, Duration.ofMinutes(10));
    }

    private IdentityException refusedAt(String token, String grant, Instant now) {
        return refused(verifier.verify(token, grant, now));
    }

    @Test
    void githubTokenGivesTheCiIdentityAndTheFirstMatchingGrant() {
        VerifiedToken v = accepted(verifier.verify(ghToken(), "ci_deploy", T0.plusSeconds(30)));
        Identity id = v.identity();
        assertThat(id.kind()).isEqualTo(Identity.Kind.OIDC);
        assertThat(id.isCi()).isTrue();
        assertThat(id.subject()).isEqualTo(GITHUB_SUB);
        assertThat(id.issuer()).isEqualTo(gh.issuerUrl());
        assertThat(id.grant()).isEqualTo("ci_deploy");
        assertThat(id.mappingRule()).isEqualTo("app-main");
        assertThat(id.ci()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "repository", "acme/app",
                "workflow", "acme/app/.github/workflows/deploy.yml@refs/heads/main",
                "runId", "9001",
                "job", "acme/app/.github/workflows/deploy.yml@refs/heads/main",
                "actor", "octocat",
                "ref", "refs/heads/main",
                "sha", SHA));
        assertThat(id.claims()).contains(entry("iss", gh.issuerUrl()), entry("aud", "warden"),
                entry("run_attempt", "1"), entry("event_name", "push"),
                entry("iat", Long.toString(T0.getEpochSecond())),
                entry("exp", Long.toString(T0.plusSeconds(600).getEpochSecond())));
        assertThat(id.claims()).containsKey("jti");
        assertThat(v.grant()).isEqualTo(new Grant("app-main", "bank", "deployer", "ci_deploy"));
        assertThat(v.issuerName()).isEqualTo("github");
        assertThat(v.jti()).isEqualTo(id.claims().get("jti"));
        assertThat(v.expiresAt()).isEqualTo(T0.plusSeconds(600));
        assertThat(v.sessionDeadline()).as("sessionGrace defaults to 0").isEqualTo(T0.plusSeconds(600));
    }

    @Test
    void gitlabTokenGivesTheCiIdentityFromGitlabClaimNames() {
        String token = gl.issueAt(GITLAB_SUB, gitlab(), T0, Duration.ofMinutes(10));
        VerifiedToken v = accepted(verifier.verify(token, "ci_migrate", T0.plusSeconds(5)));
        Identity id = v.identity();
        assertThat(id.subject()).isEqualTo(GITLAB_SUB);
        assertThat(id.issuer()).isEqualTo(gl.issuerUrl());
        assertThat(id.mappingRule()).isEqualTo("ledger-migrations");
        assertThat(id.ci()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "repository", "acme/ledger",
                "workflow", "gitlab.example.com/acme/ledger//.gitlab-ci.yml@refs/heads/main",
                "runId", "555",
                "job", "8888",
                "actor", "alice",
                "ref", "main",
                "sha", SHA));
        assertThat(id.claims()).contains(entry("aud", "warden-staging"), entry("pipeline_source", "push"));
        assertThat(v.grant()).isEqualTo(new Grant("ledger-migrations", "ledger", null, "ci_migrate"));
        assertThat(v.grant().upstreamRoleOr("warden_ledger")).isEqualTo("warden_ledger");
    }

    @Test
    void globMatchesRefsUnderThePrefixOnly() {
        VerifiedToken release = accepted(verifier.verify(ghToken("ref", "refs/heads/release/2030.1"), "ci_deploy",
                T0.plusSeconds(1)));
        assertThat(release.grant().ruleName()).isEqualTo("app-releases");
        assertThat(release.grant().target()).isEqualTo("bank_staging");
        VerifiedToken nested = accepted(verifier.verify(ghToken("ref", "refs/heads/release/eu/2030.1"), "ci_deploy",
                T0.plusSeconds(1)));
        assertThat(nested.grant().ruleName()).as("* crosses /").isEqualTo("app-releases");

        IdentityException e = refusedAt(ghToken("ref", "refs/tags/refs/heads/release/x"), "ci_deploy", T0.plusSeconds(1));
        assertThat(e.reason()).as("the glob is anchored at both ends").isEqualTo(Reason.NO_GRANT);
        e = refusedAt(ghToken("ref", "refs/heads/feature"), "ci_deploy", T0.plusSeconds(1));
        assertThat(e.reason()).isEqualTo(Reason.NO_GRANT);
        assertThat(e.getMessage()).isEqualTo("token refused: no grant rule gives tokens of issuer 'github' the grant "
                + "'ci_deploy' (token subject 'repo:acme/app:ref:refs/heads/main')");
    }

    @Test
    void noRuleForTheRequestedGrantIsDenied() {
        IdentityException e = refusedAt(ghToken(), "postgres", T0.plusSeconds(1));
        assertThat(e.reason()).isEqualTo(Reason.NO_GRANT);
        assertThat(e.getMessage()).isEqualTo("token refused: no grant rule gives tokens of issuer 'github' the grant "
                + "'postgres' (token subject 'repo:acme/app:ref:refs/heads/main')");
        assertThat(e.getMessage()).doesNotContain("app-main", "app-releases");
        assertThat(e.sqlState()).isEqualTo("28P01");
        // another issuer's rule for that grant does not apply to a GitHub token
        assertThat(refusedAt(ghToken("project_path", "acme/ledger", "ref_protected", "true"), "ci_migrate",
                T0.plusSeconds(1)).reason()).isEqualTo(Reason.NO_GRANT);
    }

    @Test
    void anotherGrantForTheSameTokenIsChosenByTheUserName() {
        VerifiedToken v = accepted(verifier.verify(ghToken("ref", "refs/heads/feature"), "ci_read", T0.plusSeconds(1)));
        assertThat(v.grant()).isEqualTo(new Grant("app-any-branch-readonly", "bank", "reader", "ci_read"));
    }

    @Test
    void expiredTokenSaysHowLongAgo() {
        String token = gh.issueAt(GITHUB_SUB, github(), T0, Duration.ofMinutes(5));
        IdentityException e = refusedAt(token, "ci_deploy", T0.plusSeconds(600));
        assertThat(e.reason()).isEqualTo(Reason.EXPIRED);
        assertThat(e.getMessage()).isEqualTo("token refused: the token expired 5m 0s ago (at 2030-03-01T12:05:00Z)");
        assertThat(e.getMessage()).doesNotContain(token.substring(0, 20));
        // within the 60 s clock skew it is still accepted
        accepted(verifier.verify(token, "ci_deploy", T0.plusSeconds(359)));
    }

    @Test
    void tokenNotYetValid() {
        IdentityException e = refusedAt(ghToken("nbf", T0.plusSeconds(600)), "ci_deploy", T0);
        assertThat(e.reason()).isEqualTo(Reason.NOT_YET_VALID);
        assertThat(e.getMessage()).isEqualTo("token refused: the token is not valid before 2030-03-01T12:10:00Z (in 10m 0s)");

        Map<String, Object> noNbf = new java.util.HashMap<>(github());
        noNbf.put("nbf", null);
        String future = gh.issueAt(GITHUB_SUB, noNbf, T0.plusSeconds(300), Duration.ofMinutes(10));
        e = refusedAt(future, "ci_deploy", T0);
        assertThat(e.reason()).isEqualTo(Reason.NOT_YET_VALID);
        assertThat(e.getMessage()).isEqualTo("token refused: the token was issued in the future "
                + "(iat 2030-03-01T12:05:00Z is 5m 0s ahead of Warden's clock)");
    }

    @Test
    void tokenIssuedTooLongAgoIsRefusedEvenIfNotExpired() {
        String token = gh.issueAt(GITHUB_SUB, github(), T0, Duration.ofHours(6));
        IdentityException e = refusedAt(token, "ci_deploy", T0.plus(Duration.ofHours(2)));
        assertThat(e.reason()).isEqualTo(Reason.TOO_OLD);
        assertThat(e.getMessage()).isEqualTo("token refused: the token was issued 2h 0m 0s ago; Warden accepts tokens "
                + "at most 1h 0m 0s old (oidc.maxTokenAge); fetch a fresh one");
    }

    @Test
    void unknownIssuer() throws Exception {
        DemoIssuer stranger = server.issuer("/stranger", "warden");
        IdentityException e = refusedAt(stranger.issueAt(GITHUB_SUB, github(), T0, Duration.ofMinutes(5)),
                "ci_deploy", T0);
        assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_ISSUER);
        assertThat(e.getMessage()).isEqualTo("token refused: issuer '" + server.baseUrl() + "/stranger' is not trusted by Warden");
        assertThat(server.requests("/stranger/.well-known/jwks.json")).as("keys of unknown issuers are never fetched").isZero();
    }

    @Test
    void tokenNamingAKnownIssuerButSignedByAnotherKeyIsRefused() {
        DemoIssuer impostor = new DemoIssuer(gh.issuerUrl(), "warden");
        IdentityException e = refusedAt(impostor.issueAt(GITHUB_SUB, github(), T0, Duration.ofMinutes(5)),
                "ci_deploy", T0);
        assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_KEY);
        assertThat(e.getMessage()).isEqualTo("token refused: issuer 'github' has no signing key '" + impostor.keyId() + "'");
    }

    @Test
    void wrongAudience() {
        IdentityException e = refusedAt(ghToken("aud", "sts.amazonaws.com"), "ci_deploy", T0);
        assertThat(e.reason()).isEqualTo(Reason.WRONG_AUDIENCE);
        assertThat(e.getMessage()).isEqualTo("token refused: the token's audience 'sts.amazonaws.com' is not 'warden'; "
                + "request the token with that audience");
        // one of several audiences is enough
        accepted(verifier.verify(ghToken("aud", java.util.List.of("sts.amazonaws.com", "warden")), "ci_deploy", T0));
        e = refused(verifier.verify(gl.issueAt(GITLAB_SUB, gitlab("aud", "vault"), T0, Duration.ofMinutes(5)),
                "ci_migrate", T0));
        assertThat(e.getMessage()).isEqualTo("token refused: the token's audience 'vault' is not 'warden' or "
                + "'warden-staging'; request the token with that audience");
    }

    @Test
    void missingRequiredClaims() {
        IdentityException e = refusedAt(ghToken("repository", null, "run_id", null), "ci_deploy", T0);
        assertThat(e.reason()).isEqualTo(Reason.MISSING_CLAIMS);
        assertThat(e.getMessage()).isEqualTo("token refused: missing required claims: repository, run_id");
        e = refusedAt(gh.issueAt(null, github(), T0, Duration.ofMinutes(5)), "ci_deploy", T0);
        assertThat(e.getMessage()).isEqualTo("token refused: missing required claims: sub");
    }

    @Test
    void transportMustBeTlsUnlessLoopbackIsAllowed() throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        InetAddress remote = InetAddress.getByName("192.0.2.7");
        assertThat(verifier.checkTransport(true, remote)).isEmpty();
        IdentityException e = verifier.checkTransport(false, loopback).orElseThrow();
        assertThat(e.reason()).isEqualTo(Reason.INSECURE_TRANSPORT);
        assertThat(e.sqlState()).isEqualTo("28000");
        assertThat(e.getMessage()).isEqualTo("token logins need a TLS connection (connect with sslmode=verify-full): "
                + "a token sent in plaintext could be read and replayed");
        verifier.update(settings(config(gh.issuerUrl(), gl.issuerUrl(), "allowPlaintextLoopback: true")));
        assertThat(verifier.checkTransport(false, loopback)).isEmpty();
        assertThat(verifier.checkTransport(false, remote).orElseThrow().reason()).isEqualTo(Reason.INSECURE_TRANSPORT);
        assertThat(verifier.isGrant("ci_deploy")).isTrue();
        assertThat(verifier.isGrant("alice")).isFalse();
    }

    @Test
    void liveSessionRecheckEndsAtExpiryPlusGraceOnRevocationAndOnRuleRemoval() {
        verifier.update(settings(config(gh.issuerUrl(), gl.issuerUrl(), "sessionGrace: 2m")));
        VerifiedToken v = accepted(verifier.verify(ghToken(), "ci_deploy", T0));
        assertThat(v.sessionDeadline()).isEqualTo(T0.plus(Duration.ofMinutes(12)));
        assertThat(verifier.recheck(v, T0.plus(Duration.ofMinutes(12)))).isEmpty();
        IdentityException e = verifier.recheck(v, T0.plus(Duration.ofMinutes(12)).plusSeconds(1)).orElseThrow();
        assertThat(e.reason()).isEqualTo(Reason.SESSION_EXPIRED);
        assertThat(e.getMessage()).isEqualTo("session ended: the login token expired at 2030-03-01T12:10:00Z "
                + "(oidc.sessionGrace 2m 0s)");

        verifier.update(settings(config(gh.issuerUrl(), gl.issuerUrl(), "revoked: {repositories: [ACME/App]}")));
        e = verifier.recheck(v, T0.plusSeconds(60)).orElseThrow();
        assertThat(e.reason()).isEqualTo(Reason.REVOKED);
        assertThat(e.getMessage()).isEqualTo("token refused: the repository 'acme/app' is revoked");
        assertThat(verifier.revocations().isRevoked(v.identity(), v.jti())).isTrue();

        String noMainRule = config(gh.issuerUrl(), gl.issuerUrl(), "").replace("name: app-main\n", "name: app-main-renamed\n");
        verifier.update(settings(noMainRule));
        e = verifier.recheck(v, T0.plusSeconds(60)).orElseThrow();
        assertThat(e.reason()).isEqualTo(Reason.NO_GRANT);
        assertThat(e.getMessage()).isEqualTo("session ended: the grant rule 'app-main' was removed, or its target or "
                + "role changed, in Warden's configuration");
    }
}
