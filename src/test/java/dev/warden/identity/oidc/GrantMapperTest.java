package dev.warden.identity.oidc;

import static dev.warden.identity.oidc.OidcTestSupport.GITHUB_SUB;
import static dev.warden.identity.oidc.OidcTestSupport.T0;
import static dev.warden.identity.oidc.OidcTestSupport.github;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.warden.identity.Identity;
import dev.warden.identity.oidc.OidcSettings.GrantRule;
import dev.warden.identity.oidc.OidcSettings.Issuer;
import dev.warden.identity.oidc.OidcSettings.Preset;
import java.time.Duration;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Grant rules: first match wins, exact and glob conditions, claim types, default deny; identity building. */
class GrantMapperTest {
    private static final Issuer GH = new Issuer("github", "https://token.actions.githubusercontent.com",
            List.of("warden"), null, List.of("RS256"), Preset.GITHUB);

    private static OidcSettings settingsWith(GrantRule... rules) {
        OidcSettings d = OidcSettings.disabled();
        return new OidcSettings(Map.of("github", GH), List.of(rules), d.revoked(), d.clockSkew(), d.maxTokenAge(),
                d.jwksMinRefreshInterval(), d.jwksCacheTtl(), d.jwksFetchTimeout(), d.sessionGrace(), false);
    }

    private static GrantRule rule(String name, String grant, String target, String... match) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < match.length; i += 2) {
            m.put(match[i], match[i + 1]);
        }
        return new GrantRule(name, "github", m, target, null, grant);
    }

    private static JWTClaimsSet claims(Object... overrides) {
        JWTClaimsSet.Builder b = new JWTClaimsSet.Builder().issuer(GH.issuerUrl()).subject(GITHUB_SUB).audience("warden")
                .issueTime(Date.from(T0)).expirationTime(Date.from(T0.plus(Duration.ofMinutes(5)))).jwtID("j-1");
        github(overrides).forEach(b::claim);
        return b.build();
    }

    @Test
    void firstMatchingRuleWinsAndRulesOfOtherGrantsAreSkipped() {
        GrantMapper m = new GrantMapper(settingsWith(
                rule("read-any", "ci_read", "bank", "repository", "acme/app"),
                rule("deploy-main", "ci_deploy", "prod", "repository", "acme/app", "ref", "refs/heads/main"),
                rule("deploy-any", "ci_deploy", "staging", "repository", "acme/*")));
        assertThat(m.map(claims(), "github", "ci_deploy")).contains(new Grant("deploy-main", "prod", null, "ci_deploy"));
        assertThat(m.map(claims("ref", "refs/heads/x"), "github", "ci_deploy").map(Grant::ruleName)).contains("deploy-any");
        assertThat(m.map(claims("repository", "other/app"), "github", "ci_deploy")).isEmpty();
        assertThat(m.map(claims(), "gitlab", "ci_deploy")).as("rules are per issuer").isEmpty();
        assertThat(m.map(claims(), "github", "ci_admin")).as("default deny").isEmpty();
    }

    @Test
    void globsAreAnchoredAndOnlyStarIsSpecial() {
        assertThat(GrantMapper.glob("refs/heads/*").matcher("refs/heads/a/b").matches()).isTrue();
        assertThat(GrantMapper.glob("refs/heads/*").matcher("xrefs/heads/a").matches()).isFalse();
        assertThat(GrantMapper.glob("refs/heads/*").matcher("refs/heads/").matches()).isTrue();
        assertThat(GrantMapper.glob("*/app").matcher("acme/app").matches()).isTrue();
        assertThat(GrantMapper.glob("*/app").matcher("acme/apps").matches()).isFalse();
        assertThat(GrantMapper.glob("a.c").matcher("abc").matches()).as(". is literal").isFalse();
        assertThat(GrantMapper.glob("v1.?[0-9]+").matcher("v1.?[0-9]+").matches()).isTrue();
        assertThat(GrantMapper.glob("a*b*c").matcher("a-x-b-y-c").matches()).isTrue();
        assertThat(GrantMapper.glob("main").matcher("main2").matches()).isFalse();
    }

    @Test
    void numbersBooleansAndArraysMatchByStringForm() {
        GrantMapper m = new GrantMapper(settingsWith(
                rule("numbers", "n", "t", "run_number", "17", "protected", "true", "groups", "deployers")));
        assertThat(m.map(claims("run_number", 17, "protected", true, "groups", List.of("devs", "deployers")),
                "github", "n")).isPresent();
        assertThat(m.map(claims("run_number", 17, "protected", true, "groups", List.of("devs")), "github", "n")).isEmpty();
        assertThat(m.map(claims("run_number", 17, "protected", true), "github", "n")).as("absent claim").isEmpty();
        assertThat(m.map(claims("run_number", 17, "protected", true, "groups", Map.of("deployers", true)),
                "github", "n")).as("objects never match").isEmpty();
    }

    @Test
    void identityHasCiFieldsPerPresetAndFlattenedClaims() {
        JWTClaimsSet c = claims("run_attempt", 2, "extra", Map.of("k", "v"), "workflow_ref", null);
        Identity id = GrantMapper.identity(c, GH, new Grant("r", "bank", "deployer", "ci_deploy"));
        assertThat(id.kind()).isEqualTo(Identity.Kind.OIDC);
        assertThat(id.subject()).isEqualTo(GITHUB_SUB);
        assertThat(id.issuer()).isEqualTo(GH.issuerUrl());
        assertThat(id.grant()).isEqualTo("ci_deploy");
        assertThat(id.mappingRule()).isEqualTo("r");
        assertThat(id.ci("workflow")).as("falls back to the workflow claim").isEqualTo("deploy");
        assertThat(id.claims()).containsEntry("run_attempt", "2").containsEntry("extra", "{\"k\":\"v\"}")
                .containsEntry("aud", "warden").containsEntry("iat", Long.toString(T0.getEpochSecond()))
                .containsEntry("jti", "j-1").doesNotContainKey("workflow_ref");

        JWTClaimsSet two = new JWTClaimsSet.Builder(c).audience(List.of("a", "b")).build();
        assertThat(GrantMapper.flatten(two)).containsEntry("aud", "[\"a\",\"b\"]");
    }

    @Test
    void ciClaimsOverridesReplaceThePresetsClaimNames() {
        Map<String, List<String>> ci = new LinkedHashMap<>(Preset.GENERIC.ciClaims());
        ci.put("repository", List.of("project"));
        Issuer custom = new Issuer("jenkins", "https://ci.example", List.of("warden"), null, List.of("RS256"),
                Preset.GENERIC, ci);
        Map<String, String> fields = GrantMapper.ciFields(Map.of("project", "acme/app", "repository", "ignored",
                "run_id", "5"), custom);
        assertThat(fields).containsExactlyInAnyOrderEntriesOf(Map.of("repository", "acme/app", "runId", "5"));
        assertThat(Optional.ofNullable(fields.get("sha"))).as("absent fields are left out").isEmpty();
    }
}
