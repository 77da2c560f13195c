package dev.warden.identity.oidc;

import java.time.Duration;

/**
 * A refused token login. The message names the check that failed and is safe to send to the client:
 * it never contains the token, only facts the token's holder already knows (its issuer, claims, times)
 * and what Warden expected (audience, grant).
 */
public final class IdentityException extends RuntimeException {

    /** Why a token was refused; stable codes for logs, metrics and tests. */
    public enum Reason {
        /** the password is not a compact signed JWT, or its JSON is unreadable */
        MALFORMED,
        /** a token login on a connection that is neither TLS nor (when allowed) loopback */
        INSECURE_TRANSPORT,
        /** {@code iss} is not a configured issuer */
        UNKNOWN_ISSUER,
        /** {@code alg} is none, HMAC, or not in the issuer's list */
        ALGORITHM_NOT_ALLOWED,
        /** no key of the issuer has the token's {@code kid} (after a refetch, if one was allowed) */
        UNKNOWN_KEY,
        /** the issuer's keys could not be fetched and no unexpired cached keys exist: fail closed */
        KEYS_UNAVAILABLE,
        BAD_SIGNATURE,
        EXPIRED,
        NOT_YET_VALID,
        /** {@code iat} older than maxTokenAge */
        TOO_OLD,
        WRONG_AUDIENCE,
        MISSING_CLAIMS,
        REVOKED,
        NO_GRANT,
        /** a live session's token expired (plus sessionGrace) */
        SESSION_EXPIRED
    }

    private final Reason reason;

    public IdentityException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }

    /**
     * The SQLSTATE to send: 08006 when Warden cannot check tokens right now (the client may retry),
     * 28000 for a connection that must not carry a token, 28P01 (as a wrong password) for everything else.
     */
    public String sqlState() {
        return switch (reason) {
            case KEYS_UNAVAILABLE -> "08006";
            case INSECURE_TRANSPORT -> "28000";
            default -> "28P01";
        };
    }

    /**
     * The exception inside the CompletionException / ExecutionException layers futures add; an
     * {@code IdentityException} is a refusal, anything else a bug (answer with an internal error).
     */
    public static Throwable unwrap(Throwable t) {
        while ((t instanceof java.util.concurrent.CompletionException
                || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** Exceptions are thrown often (every refused login): no stack trace needed. */
    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }

    /** "1h 2m 3s", "45s", "250ms": for "expired 3m 10s ago". */
    static String human(Duration d) {
        d = d.abs();
        if (d.compareTo(Duration.ofSeconds(1)) < 0) {
            return d.toMillis() + "ms";
        }
        long s = d.getSeconds();
        StringBuilder b = new StringBuilder();
        if (s >= 86400) {
            b.append(s / 86400).append("d ");
        }
        if (s >= 3600) {
            b.append(s % 86400 / 3600).append("h ");
        }
        if (s >= 60) {
            b.append(s % 3600 / 60).append("m ");
        }
        return b.append(s % 60).append('s').toString();
    }

    /** A claim value quoted for a message: printable ASCII only, at most 120 characters. */
    static String quote(Object value) {
        String s = String.valueOf(value);
        StringBuilder b = new StringBuilder("'");
        for (int i = 0; i < s.length() && i < 120; i++) {
            char c = s.charAt(i);
            b.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        if (s.length() > 120) {
            b.append("...");
        }
        return b.append('\'').toString();
    }
}
