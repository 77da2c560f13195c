package dev.warden.identity.scram;

/**
 * A SCRAM or md5 exchange failed.
 *
 * <p>{@link #getMessage()} is deliberately generic so it can be relayed to the peer without
 * telling an attacker which step (mechanism, nonce, channel binding, proof, ...) went wrong;
 * {@link #getDetail()} carries the precise reason and is meant for Warden's own logs only.
 */
public final class ScramException extends Exception {

    private static final long serialVersionUID = 1L;

    /** The message shown to a client that failed to authenticate against Warden. */
    public static final String CLIENT_MESSAGE = "password authentication failed";

    /** The message used when Warden itself failed to authenticate to an upstream server. */
    public static final String UPSTREAM_MESSAGE = "SCRAM authentication with the upstream server failed";

    private final String detail;

    /**
     * For callers driving the wire (e.g. "the server offers no mechanism Warden speaks"): the
     * caller vouches that {@code message} is safe to show, and it doubles as the log detail.
     */
    public ScramException(String message) {
        this(message, message);
    }

    private ScramException(String message, String detail) {
        super(message);
        this.detail = detail;
    }

    /** A failure of a client authenticating to Warden (server role). */
    static ScramException clientFailed(String detail) {
        return new ScramException(CLIENT_MESSAGE, detail);
    }

    /** A failure of Warden authenticating to an upstream server (client role). */
    static ScramException upstreamFailed(String detail) {
        return new ScramException(UPSTREAM_MESSAGE, detail);
    }

    /** The precise reason for logs; never send this to the peer. */
    public String getDetail() {
        return detail;
    }

    @Override
    public String toString() {
        // toString() ends up in logs, where the detail is what an operator needs.
        return getClass().getName() + ": " + getMessage() + " (" + detail + ")";
    }
}
