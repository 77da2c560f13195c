package dev.warden.audit;

import dev.warden.identity.Identity;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * Something that happened to a client session, outside its statements. Build one with the factory
 * methods; {@link AuditLog#sessionEvent} records it.
 *
 * @param kind          what happened
 * @param sessionId     the session
 * @param at            when
 * @param clientAddress the client's address (CONNECT, AUTH_*; may be null on the others)
 * @param identity      who logged in (AUTH_SUCCESS), else null
 * @param target        the target asked for (AUTH_*), else null
 * @param user          the user name the client sent (AUTH_*), else null
 * @param detail        TLS: protocol and cipher; AUTH_FAILURE: the precise reason; DISCONNECT: why; INTERRUPTED: the gap
 * @param totals        DISCONNECT: the session's totals, else null
 */
public record SessionEvent(Kind kind, String sessionId, Instant at, String clientAddress, Identity identity,
                           String target, String user, String detail, Totals totals) {

    public enum Kind { CONNECT, TLS, AUTH_SUCCESS, AUTH_FAILURE, DISCONNECT, INTERRUPTED }

    /** What a session did in all, recorded when it ends. */
    public record Totals(long statements, long bytesFromClient, long bytesToClient, Duration duration) {
    }

    public SessionEvent {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(at, "at");
    }

    public static SessionEvent connect(String sessionId, Instant at, String clientAddress) {
        return new SessionEvent(Kind.CONNECT, sessionId, at, clientAddress, null, null, null, null, null);
    }

    public static SessionEvent tls(String sessionId, Instant at, String protocolAndCipher) {
        return new SessionEvent(Kind.TLS, sessionId, at, null, null, null, null, protocolAndCipher, null);
    }

    public static SessionEvent authSuccess(String sessionId, Instant at, String clientAddress, Identity identity,
                                           String target) {
        return new SessionEvent(Kind.AUTH_SUCCESS, sessionId, at, clientAddress, identity, target,
                identity == null ? null : identity.grant(), null, null);
    }

    public static SessionEvent authFailure(String sessionId, Instant at, String clientAddress, String user,
                                           String target, String reason) {
        return new SessionEvent(Kind.AUTH_FAILURE, sessionId, at, clientAddress, null, target, user, reason, null);
    }

    /** Recorded at the next start for a session that was open when Warden stopped without shutting down. */
    public static SessionEvent interrupted(String sessionId, Instant at, String detail) {
        return new SessionEvent(Kind.INTERRUPTED, sessionId, at, null, null, null, null, detail, null);
    }

    public static SessionEvent disconnect(String sessionId, Instant at, String reason, Totals totals) {
        return new SessionEvent(Kind.DISCONNECT, sessionId, at, null, null, null, null, reason, totals);
    }
}
