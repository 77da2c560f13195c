package dev.warden.policy;

import dev.warden.identity.Identity;
import java.util.Map;
import java.util.Set;

/** Identities and targets shared by the policy tests. */
final class Facts {
    static final Identity CI = new Identity(Identity.Kind.OIDC, "repo:bank/app:ref:refs/heads/main",
            "https://token.actions.githubusercontent.com", "app", "ci-main",
            Map.of("repository", "bank/app", "workflow", "deploy", "runId", "42", "ref", "refs/heads/main"),
            Map.of("sub", "repo:bank/app:ref:refs/heads/main", "repository", "bank/app"));
    static final Identity ALICE = Identity.staticUser("alice");
    static final TargetFact PROD = new TargetFact("bank", "production", Set.of("public.customers"));
    static final TargetFact STAGING = new TargetFact("bank-staging", "staging", Set.of("public.customers"));

    private Facts() {
    }
}
