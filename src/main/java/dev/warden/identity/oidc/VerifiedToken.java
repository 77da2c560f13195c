package dev.warden.identity.oidc;

import dev.warden.identity.Identity;
import java.time.Instant;

/**
 * A token that passed every check, with the grant it maps to.
 *
 * @param identity        the session identity (kind OIDC)
 * @param grant           the matched rule's target and upstream role
 * @param issuerName      the configured issuer's name
 * @param jti             the token id, or null when the token has none
 * @param expiresAt       the token's {@code exp}
 * @param sessionDeadline {@code exp + sessionGrace}: a live session must end by then
 */
public record VerifiedToken(Identity identity, Grant grant, String issuerName, String jti, Instant expiresAt,
                            Instant sessionDeadline) {
}
