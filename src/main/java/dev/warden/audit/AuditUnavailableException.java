package dev.warden.audit;

/**
 * The audit cannot take a statement's record (queue full, store unreachable or too slow, shutting
 * down), so the statement must not run. The message is safe to show to the client; the proxy answers
 * with an ErrorResponse carrying {@link #SQLSTATE} and this message. Details for operators are in
 * the log and in {@link AuditLog#health()}.
 */
public final class AuditUnavailableException extends RuntimeException {
    /** insufficient_resources: what the client sees. */
    public static final String SQLSTATE = "53400";

    /** The client-safe messages, one per reason. */
    public static final String STORE_DOWN = "auditing is unavailable: the audit store cannot be reached; the statement was not run";
    public static final String FULL = "auditing is unavailable: the audit store cannot keep up; the statement was not run";
    public static final String TOO_SLOW =
            "auditing is unavailable: the audit store did not confirm the record in time; the statement was not run";
    public static final String CLOSED = "auditing is unavailable: Warden is shutting down; the statement was not run";

    public AuditUnavailableException(String clientMessage) {
        super(clientMessage, null, false, false);
    }

    public String sqlState() {
        return SQLSTATE;
    }
}
