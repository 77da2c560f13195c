package dev.warden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.warden.identity.oidc.OidcSettings;
import dev.warden.identity.oidc.OidcSettings.Preset;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The oidc section: defaults, and every mistake refused with the path of the key to fix. */
class OidcSectionTest {
    private static final String ISSUER = """
            oidc:
              issuers:
                github:
                  issuerUrl: https://token.actions.githubusercontent.com
                  audience: warden
                  preset: github
            """;
    private static final String GRANT = """
              grants:
                - name: deploy
                  issuer: github
                  match: {repository: acme/app}
                  target: bank
                  grant: ci_deploy
            """;

    private static OidcSettings parse(String yaml) {
        return parse(yaml, Set.of("bank"), Set.of("alice"));
    }

    private static OidcSettings parse(String yaml, Set<String> targets, Set<String> users) {
        try {
            return OidcSection.parse(new Node(new ObjectMapper(new YAMLFactory()).readTree(yaml), "").get("oidc"),
                    targets, users);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void refused(String yaml, String message) {
        assertThatThrownBy(() -> parse(yaml)).isInstanceOf(ConfigException.class).hasMessage(message);
    }

    @Test
    void missingSectionMeansNoTokenLogins() {
        OidcSettings s = parse("listen: {port: 1}");
        assertThat(s.enabled()).isFalse();
        assertThat(s.issuers()).isEmpty();
        assertThat(OidcSection.parseYaml("users: []").enabled()).isFalse();
    }

    @Test
    void minimalSectionGetsDocumentedDefaults() {
        OidcSettings s = parse(ISSUER + GRANT);
        assertThat(s.enabled()).isTrue();
        assertThat(s.clockSkew()).isEqualTo(Duration.ofSeconds(60));
        assertThat(s.maxTokenAge()).isEqualTo(Duration.ofHours(1));
        assertThat(s.jwksMinRefreshInterval()).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.jwksCacheTtl()).isEqualTo(Duration.ofHours(1));
        assertThat(s.jwksFetchTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.sessionGrace()).isEqualTo(Duration.ZERO);
        assertThat(s.allowPlaintextLoopback()).isFalse();
        assertThat(s.revoked()).isEqualTo(OidcSettings.Revoked.none());
        OidcSettings.Issuer i = s.issuers().get("github");
        assertThat(i.discovery()).isTrue();
        assertThat(i.jwksUri()).isNull();
        assertThat(i.algorithms()).containsExactly("RS256", "ES256", "EdDSA");
        assertThat(i.audiences()).containsExactly("warden");
        assertThat(i.preset()).isEqualTo(Preset.GITHUB);
        assertThat(i.ciClaims()).isEqualTo(Preset.GITHUB.ciClaims());
        OidcSettings.GrantRule g = s.grants().get(0);
        assertThat(g).isEqualTo(new OidcSettings.GrantRule("deploy", "github", Map.of("repository", "acme/app"), "bank",
                null, "ci_deploy"));
        assertThat(s.grantNames()).containsExactly("ci_deploy");
        assertThat(s.issuerByUrl("https://token.actions.githubusercontent.com")).contains(i);
        assertThat(s.issuerByUrl("https://token.actions.githubusercontent.com/")).isEmpty();
    }

    @Test
    void everyKeyCanBeSet() {
        OidcSettings s = parse("""
                oidc:
                  clockSkew: 10s
                  maxTokenAge: 20m
                  jwksMinRefreshInterval: 1m
                  jwksCacheTtl: 2h
                  jwksFetchTimeout: 2s
                  sessionGrace: 5m
                  allowPlaintextLoopback: true
                  issuers:
                    lab:
                      issuerUrl: https://gitlab.example.com
                      audiences: [warden, warden-eu]
                      jwksUri: https://gitlab.example.com/oauth/discovery/keys
                      algorithms: [RS256, PS256, ES384]
                      preset: gitlab
                      ciClaims: {actor: user_email}
                  grants:
                    - name: migrate
                      issuer: lab
                      match: {project_path: acme/ledger, ref: "release-*"}
                      target: bank
                      upstreamRole: migrator
                      grant: ci_migrate
                  revoked:
                    subjects: [s1]
                    repositories: [acme/old]
                    jtis: [j1, j2]
                """);
        assertThat(s.clockSkew()).isEqualTo(Duration.ofSeconds(10));
        assertThat(s.maxTokenAge()).isEqualTo(Duration.ofMinutes(20));
        assertThat(s.jwksMinRefreshInterval()).isEqualTo(Duration.ofMinutes(1));
        assertThat(s.jwksCacheTtl()).isEqualTo(Duration.ofHours(2));
        assertThat(s.jwksFetchTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(s.sessionGrace()).isEqualTo(Duration.ofMinutes(5));
        assertThat(s.allowPlaintextLoopback()).isTrue();
        OidcSettings.Issuer i = s.issuers().get("lab");
        assertThat(i.discovery()).isFalse();
        assertThat(i.jwksUri()).isEqualTo(URI.create("https://gitlab.example.com/oauth/discovery/keys"));
        assertThat(i.audiences()).containsExactly("warden", "warden-eu");
        assertThat(i.algorithms()).containsExactly("RS256", "PS256", "ES384");
        assertThat(i.ciClaims().get("actor")).containsExactly("user_email");
        assertThat(i.ciClaims().get("repository")).containsExactly("project_path");
        assertThat(s.grants().get(0).upstreamRole()).isEqualTo("migrator");
        assertThat(s.grants().get(0).match()).containsExactly(Map.entry("project_path", "acme/ledger"),
                Map.entry("ref", "release-*"));
        assertThat(s.revoked()).isEqualTo(new OidcSettings.Revoked(Set.of("s1"), Set.of("acme/old"), Set.of("j1", "j2")));
    }

    @Test
    void unknownKeysAreNamedWithTheirPath() {
        refused(ISSUER.replace("audience:", "audiance:"), "oidc.issuers.github.audiance: unknown key; known keys here "
                + "are algorithms, audience, audiences, ciClaims, discovery, issuerUrl, jwksUri, preset");
        refused(ISSUER + "  clockskew: 5s\n", "oidc.clockskew: unknown key; known keys here are allowPlaintextLoopback, "
                + "clockSkew, grants, issuers, jwksCacheTtl, jwksFetchTimeout, jwksMinRefreshInterval, maxTokenAge, "
                + "revoked, sessionGrace");
        refused(ISSUER + GRANT.replace("target:", "targets:"), "oidc.grants[0].targets: unknown key; known keys here "
                + "are grant, issuer, match, name, target, upstreamRole");
        refused(ISSUER + "  revoked: {subject: [x]}\n", "oidc.revoked.subject: unknown key; known keys here are "
                + "jtis, repositories, subjects");
        refused(ISSUER.replace("preset: github", "preset: github\n      ciClaims: {branch: ref}"),
                "oidc.issuers.github.ciClaims.branch: unknown key; known keys here are actor, job, ref, repository, "
                + "runId, sha, workflow");
    }

    @Test
    void issuerMistakes() {
        refused(ISSUER.replace("preset: github", "preset: jenkins"),
                "oidc.issuers.github.preset: expected one of github, gitlab, generic, got 'jenkins'");
        refused(ISSUER.replace("https://token", "http://token"), "oidc.issuers.github.issuerUrl: must be https (http "
                + "only for loopback addresses): keys fetched over plain http could be replaced by anyone on the network path");
        refused(ISSUER.replace("https://token.actions.githubusercontent.com", "token.actions"),
                "oidc.issuers.github.issuerUrl: expected an absolute URL such as https://token.actions.githubusercontent.com");
        refused(ISSUER.replace("      audience: warden\n", ""), "oidc.issuers.github: give exactly one of 'audience' "
                + "(one value) or 'audiences' (a list): the aud a token must carry; without it, tokens a job requested "
                + "for other services would log in here");
        refused(ISSUER.replace("audience: warden", "audience: warden\n      audiences: [x]"),
                "oidc.issuers.github: give exactly one of 'audience' (one value) or 'audiences' (a list): the aud a "
                + "token must carry; without it, tokens a job requested for other services would log in here");
        refused(ISSUER.replace("audience: warden", "audiences: []"), "oidc.issuers.github.audiences: must list at least one audience");
        refused(ISSUER + "      discovery: false\n", "oidc.issuers.github.discovery: with discovery: false, give the "
                + "key set URL as jwksUri");
        refused(ISSUER + "      discovery: true\n      jwksUri: https://x.example/keys\n",
                "oidc.issuers.github.discovery: discovery: true and jwksUri exclude each other; give one");
        refused(ISSUER + "    copy:\n      issuerUrl: https://token.actions.githubusercontent.com\n      audience: x\n",
                "oidc.issuers.copy.issuerUrl: issuer 'github' has the same issuerUrl; a token's iss must select exactly "
                + "one issuer (list all its audiences there)");
        refused(ISSUER + "    empty:\n", "oidc.issuers.empty: is empty; an issuer needs at least issuerUrl and audience");
    }

    @Test
    void algorithmMistakes() {
        String alg = ISSUER + "      algorithms: [%s]\n";
        refused(alg.formatted("none"), "oidc.issuers.github.algorithms[0]: 'none' (unsigned tokens) can never be allowed");
        refused(alg.formatted("RS256, HS256"), "oidc.issuers.github.algorithms[1]: HMAC algorithms (HS256) can never "
                + "be allowed: they verify with a shared secret, and ID tokens are signed with the issuer's private key");
        refused(alg.formatted("RS1"), "oidc.issuers.github.algorithms[0]: unknown algorithm 'RS1'; supported are "
                + "ES256, ES384, ES512, EdDSA, PS256, PS384, PS512, RS256, RS384, RS512");
        refused(alg.formatted(""), "oidc.issuers.github.algorithms: must list at least one algorithm");
    }

    @Test
    void grantMistakes() {
        refused(ISSUER + GRANT.replace("issuer: github", "issuer: gitlab"),
                "oidc.grants[0].issuer: 'gitlab' is not a configured issuer; known issuers are github");
        refused(ISSUER + GRANT.replace("match: {repository: acme/app}", "match: {}"), "oidc.grants[0].match: a grant "
                + "rule needs at least one claim condition (e.g. repository: acme/app): a rule without conditions would "
                + "admit every token of issuer 'github', i.e. every repository and branch on that CI platform, which is "
                + "almost always a mistake");
        refused(ISSUER + GRANT.replace("      match: {repository: acme/app}\n", ""), "oidc.grants[0].match: a grant "
                + "rule needs at least one claim condition (e.g. repository: acme/app): a rule without conditions would "
                + "admit every token of issuer 'github', i.e. every repository and branch on that CI platform, which is "
                + "almost always a mistake");
        refused(ISSUER + GRANT.replace("acme/app", "'*'"), "oidc.grants[0].match.repository: a lone '*' matches any "
                + "value; name the expected value (globs such as refs/heads/* are fine)");
        refused(ISSUER + GRANT.replace("target: bank", "target: vault"), "oidc.grants[0].target: 'vault' is not a "
                + "configured target");
        refused(ISSUER + GRANT.replace("grant: ci_deploy", "grant: alice"), "oidc.grants[0].grant: 'alice' is also a "
                + "static user; a user name must select either a password login or a token login");
        refused(ISSUER + GRANT.replace("      grant: ci_deploy\n", ""), "oidc.grants[0].grant: is required");
        refused(ISSUER + GRANT + GRANT.replace("  grants:\n", ""), "oidc.grants[1].name: rule name 'deploy' is used "
                + "twice; names must be unique (they are recorded as the identity's mapping rule)");
        refused(GRANT.replace("  grants:", "oidc:\n  grants:"), "oidc.grants[0].issuer: 'github' is not a configured "
                + "issuer (oidc.issuers is empty)");
        refused(ISSUER + GRANT.replace("target: bank", "target: bank\n      upstreamRole: ''"),
                "oidc.grants[0].upstreamRole: must not be empty; leave it out to use the target's user");
    }

    @Test
    void durationMistakes() {
        refused(ISSUER + "  jwksCacheTtl: 10s\n", "oidc.jwksCacheTtl: must be at least jwksMinRefreshInterval (30s), "
                + "else the cached keys expire before they may be refreshed");
        refused(ISSUER + "  maxTokenAge: 0s\n", "oidc.maxTokenAge: must be greater than 0");
        refused(ISSUER + "  jwksFetchTimeout: 2m\n", "oidc.jwksFetchTimeout: must be at most 1m: logins wait for it");
        refused(ISSUER + "  clockSkew: soon\n", "oidc.clockSkew: expected a duration such as 500ms, 10s, 5m or 1h, got 'soon'");
        refused(ISSUER + "  allowPlaintextLoopback: maybe\n", "oidc.allowPlaintextLoopback: expected true or false, got 'maybe'");
    }

    @Test
    void crossChecksAreSkippedWithoutTargetList() {
        OidcSettings s = parse(ISSUER + GRANT.replace("target: bank", "target: anything"), null, Set.of());
        assertThat(s.grants()).extracting(OidcSettings.GrantRule::target).isEqualTo(List.of("anything"));
    }
}
