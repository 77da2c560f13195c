package dev.warden.identity.oidc;

import dev.warden.identity.Identity;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * An immutable snapshot of the {@code oidc.revoked} lists. A config reload builds a new snapshot and
 * {@link TokenVerifier#update} swaps it in; the login check and the periodic check of live sessions
 * then see the new lists. Subjects and token ids compare exactly; repositories case-insensitively,
 * because GitHub and GitLab treat {@code Acme/App} and {@code acme/app} as the same project.
 */
public final class Revocations {
    private static final Revocations NONE = new Revocations(OidcSettings.Revoked.none());

    private final Set<String> subjects;
    private final Set<String> repositories;
    private final Set<String> jtis;

    public Revocations(OidcSettings.Revoked revoked) {
        this.subjects = revoked.subjects();
        this.repositories = revoked.repositories().stream().map(r -> r.toLowerCase(Locale.ROOT))
                .collect(Collectors.toUnmodifiableSet());
        this.jtis = revoked.jtis();
    }

    public static Revocations none() {
        return NONE;
    }

    public boolean isRevoked(Identity identity, String jti) {
        return check(identity.subject(), identity.ci("repository"), jti).isPresent();
    }

    /**
     * Which list refuses this token, as a client-safe sentence, or empty.
     *
     * @param repository the identity's repository CI field (null when the token has none)
     * @param jti        the token id (null when the token has none)
     */
    public Optional<String> check(String subject, String repository, String jti) {
        if (subject != null && subjects.contains(subject)) {
            return Optional.of("the token's subject " + IdentityException.quote(subject) + " is revoked");
        }
        if (repository != null && repositories.contains(repository.toLowerCase(Locale.ROOT))) {
            return Optional.of("the repository " + IdentityException.quote(repository) + " is revoked");
        }
        if (jti != null && jtis.contains(jti)) {
            return Optional.of("the token id (jti) " + IdentityException.quote(jti) + " is revoked");
        }
        return Optional.empty();
    }

    /** The same, as the exception the login and session checks fail with. */
    public Optional<IdentityException> refusal(Identity identity, String jti) {
        return check(identity.subject(), identity.ci("repository"), jti)
                .map(m -> new IdentityException(IdentityException.Reason.REVOKED, "token refused: " + m));
    }

    public boolean isEmpty() {
        return subjects.isEmpty() && repositories.isEmpty() && jtis.isEmpty();
    }
}
