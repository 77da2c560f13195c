package dev.warden.identity.oidc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.warden.config.OidcSection;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Shared fixtures: realistic GitHub Actions and GitLab CI claims, config text, and result helpers. */
final class OidcTestSupport {
    static final Instant T0 = Instant.parse("2030-03-01T12:00:00Z");
    static final String SHA = "0123456789abcdef0123456789abcdef01234567";

    private OidcTestSupport() {
    }

    /** The claims of a GitHub Actions ID token for a push to main of acme/app (sub is passed separately). */
    static Map<String, Object> github(Object... overrides) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("repository", "acme/app");
        c.put("repository_owner", "acme");
        c.put("repository_id", "4242");
        c.put("run_id", "9001");
        c.put("run_number", "17");
        c.put("run_attempt", "1");
        c.put("actor", "octocat");
        c.put("workflow", "deploy");
        c.put("workflow_ref", "acme/app/.github/workflows/deploy.yml@refs/heads/main");
        c.put("job_workflow_ref", "acme/app/.github/workflows/deploy.yml@refs/heads/main");
        c.put("ref", "refs/heads/main");
        c.put("ref_type", "branch");
        c.put("sha", SHA);
        c.put("event_name", "push");
        return with(c, overrides);
    }

    static final String GITHUB_SUB = "repo:acme/app:ref:refs/heads/main";

    /** The claims of a GitLab CI ID token of a pipeline on the protected branch main of acme/ledger. */
    static Map<String, Object> gitlab(Object... overrides) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("namespace_path", "acme");
        c.put("project_id", "77");
        c.put("project_path", "acme/ledger");
        c.put("user_login", "alice");
        c.put("pipeline_id", "555");
        c.put("pipeline_source", "push");
        c.put("job_id", "8888");
        c.put("ref", "main");
        c.put("ref_type", "branch");
        c.put("ref_protected", "true");
        c.put("sha", SHA);
        c.put("ci_config_ref_uri", "gitlab.example.com/acme/ledger//.gitlab-ci.yml@refs/heads/main");
        return with(c, overrides);
    }

    static final String GITLAB_SUB = "project_path:acme/ledger:ref_type:branch:ref:main";

    /** Overrides as name, value pairs; a null value removes the claim. */
    private static Map<String, Object> with(Map<String, Object> c, Object... overrides) {
        Map<String, Object> out = new HashMap<>(c);
        for (int i = 0; i < overrides.length; i += 2) {
            if (overrides[i + 1] == null) {
                out.remove((String) overrides[i]);
            } else {
                out.put((String) overrides[i], overrides[i + 1]);
            }
        }
        return out;
    }

    /** The oidc section used by most tests: a GitHub and a GitLab issuer, four grant rules. */
    static String config(String githubUrl, String gitlabUrl, String extra) {
        return """
                oidc:
                  jwksMinRefreshInterval: 30s
                  jwksCacheTtl: 1h
                  issuers:
                    github:
                      issuerUrl: %s
                      audience: warden
                      preset: github
                      algorithms: [RS256]
                    gitlab:
                      issuerUrl: %s
                      audiences: [warden, warden-staging]
                      preset: gitlab
                  grants:
                    - name: app-main
                      issuer: github
                      match: {repository: acme/app, ref: refs/heads/main}
                      target: bank
                      upstreamRole: deployer
                      grant: ci_deploy
                    - name: app-releases
                      issuer: github
                      match: {repository: acme/app, ref: "refs/heads/release/*"}
                      target: bank_staging
                      grant: ci_deploy
                    - name: app-any-branch-readonly
                      issuer: github
                      match: {repository: acme/app}
                      target: bank
                      upstreamRole: reader
                      grant: ci_read
                    - name: ledger-migrations
                      issuer: gitlab
                      match: {project_path: acme/ledger, ref_protected: "true"}
                      target: ledger
                      grant: ci_migrate
                %s""".formatted(githubUrl, gitlabUrl, extra.indent(2));
    }

    static OidcSettings settings(String yaml) {
        return OidcSection.parseYaml(yaml);
    }

    static VerifiedToken accepted(CompletableFuture<VerifiedToken> f) {
        try {
            return f.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("expected the token to be accepted, got " + IdentityException.unwrap(e), e);
        }
    }

    static IdentityException refused(CompletableFuture<VerifiedToken> f) {
        Throwable t = catchThrowable(() -> f.get(10, TimeUnit.SECONDS));
        assertThat(t).as("the token must be refused").isInstanceOf(ExecutionException.class);
        assertThat(t.getCause()).as("failure must be an IdentityException, unwrapped").isInstanceOf(IdentityException.class);
        return (IdentityException) t.getCause();
    }
}
