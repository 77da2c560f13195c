package dev.warden.proxy;

import dev.warden.audit.AuditLog;
import dev.warden.audit.SessionEvent;
import dev.warden.identity.Identity;
import io.netty.buffer.ByteBuf;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What the audit trail learns about one client session: its events (connect, login, disconnect
 * with totals) and, through {@link OutcomeTracker}, how each forwarded statement ended.
 */
final class SessionAudit {
    private final AuditLog audit;
    private final String sessionId;
    private final Instant opened = Instant.now();
    private final OutcomeTracker outcomes;
    private String clientAddress;
    private long bytesFromClient;
    private long bytesToClient;

    SessionAudit(AuditLog audit, String sessionId, ReadClock clock) {
        this.audit = audit;
        this.sessionId = sessionId;
        this.outcomes = new OutcomeTracker(clock);
    }

    String sessionId() {
        return sessionId;
    }

    String clientAddress() {
        return clientAddress;
    }

    /** Records the connection; false when the audit cannot take it (the connection must then be refused). */
    boolean connected(String address) {
        clientAddress = address;
        return audit.sessionEvent(SessionEvent.connect(sessionId, opened, clientAddress));
    }

    void authenticated(Identity who, String target) {
        audit.sessionEvent(SessionEvent.authSuccess(sessionId, Instant.now(), clientAddress, who, target));
    }

    /**
     * The first {@code limit} frames of the round trip go upstream: their statements start, and each
     * Query, FunctionCall or Sync among them closes a sync group.
     */
    void forwarding(RoundTrip rt, int limit) {
        List<StatementUnit> units = rt.units();
        List<ByteBuf> frames = rt.frames();
        int next = 0;
        for (int i = 0; i < limit; i++) {
            while (next < units.size() && units.get(next).frameIndex == i) {
                outcomes.forwarded(units.get(next++));
            }
            byte t = frames.get(i).getByte(frames.get(i).readerIndex());
            if (t == dev.warden.wire.Wire.QUERY || t == dev.warden.wire.Wire.SYNC || t == dev.warden.wire.Wire.FUNCTION_CALL) {
                outcomes.syncPointSent();
            }
        }
        bytesFromClient += rt.bytes();
    }

    /** Warden sent a sync point of its own (the stand-in of a refused statement). */
    void syncPointSent() {
        outcomes.syncPointSent();
    }

    void masked(dev.warden.masking.ResultMasker.Masked m) {
        outcomes.masked(m.columns(), m.cells(), m.originals());
    }

    void serverMessage(ByteBuf frame) {
        outcomes.serverMessage(frame);
        bytesToClient += frame.readableBytes();
    }

    void closed(String why) {
        outcomes.sessionEnded();
        audit.sessionEvent(SessionEvent.disconnect(sessionId, Instant.now(), why,
                new SessionEvent.Totals(outcomes.statements(), bytesFromClient, bytesToClient,
                        Duration.between(opened, Instant.now()))));
    }
}
