package dev.warden.identity;

import java.util.Map;

/**
 * Who is behind a session, immutable once the login succeeds; a fact for the rules and a part of
 * every audit record. A static user from the config has kind STATIC and only a subject; a CI job
 * logging in with an OIDC token (issue 3) fills the issuer, the mapping rule and the CI fields.
 *
 * @param kind        how the client proved who it is
 * @param subject     the user name (STATIC) or the token's {@code sub}
 * @param issuer      the token issuer, null for STATIC
 * @param grant       what the client asked to act as: the user name it sent in the startup packet
 * @param mappingRule the name of the config rule that granted access (null for STATIC)
 * @param ci          CI job identifiers (repository, workflow, runId, job, actor, ref, sha); empty for STATIC
 * @param claims      all token claims as strings; empty for STATIC
 */
public record Identity(Kind kind, String subject, String issuer, String grant, String mappingRule,
                       Map<String, String> ci, Map<String, String> claims) {

    public enum Kind { STATIC, OIDC }

    public Identity {
        ci = Map.copyOf(ci);
        claims = Map.copyOf(claims);
    }

    public static Identity staticUser(String name) {
        return new Identity(Kind.STATIC, name, null, name, null, Map.of(), Map.of());
    }

    /** A CI identity (an automated job) rather than a person or service account from the config. */
    public boolean isCi() {
        return kind == Kind.OIDC;
    }

    public String ci(String key) {
        return ci.get(key);
    }
}
