package dev.warden.identity.oidc;

/**
 * What a matched grant rule allows: log in as {@code grant}, be connected to {@code target} as
 * {@code upstreamRole}.
 *
 * @param ruleName     the matching rule's name (recorded as {@code Identity.mappingRule})
 * @param target       the configured target the session is connected to
 * @param upstreamRole the upstream role, or null to use the target's configured user
 * @param grant        the user name the client sent
 */
public record Grant(String ruleName, String target, String upstreamRole, String grant) {

    /** The upstream role, falling back to the target's configured user. */
    public String upstreamRoleOr(String targetUser) {
        return upstreamRole != null ? upstreamRole : targetUser;
    }
}
