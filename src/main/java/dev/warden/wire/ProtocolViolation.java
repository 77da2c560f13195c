package dev.warden.wire;

/**
 * A client or server sent bytes that are not a well-formed protocol v3 message.
 *
 * <p>The connection cannot be resynchronised after this (message boundaries may be wrong), so
 * the only sane reaction is to answer with a FATAL ErrorResponse carrying SQLSTATE 08P01
 * ({@code protocol_violation}) and close, which {@link #toErrorResponse()} builds.
 */
public final class ProtocolViolation extends RuntimeException {

    /** SQLSTATE {@code protocol_violation}. */
    public static final String SQLSTATE = "08P01";

    private static final long serialVersionUID = 1L;

    public ProtocolViolation(String message) {
        // No stack trace: a hostile peer can trigger this at will, and the message says it all.
        super(message, null, false, false);
    }

    /** The FATAL ErrorResponse a gateway should send before closing the connection. */
    public BackendMessage.ErrorResponse toErrorResponse() {
        return BackendMessage.ErrorResponse.of("FATAL", SQLSTATE, getMessage());
    }
}
