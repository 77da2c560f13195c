package dev.warden.approval;

/**
 * A refused approval operation, with the HTTP status that describes it (400 bad input, 403 not
 * allowed, 404 unknown request, 409 no longer pending, 503 audit or store unavailable) and a message
 * a reviewer can act on.
 */
public final class ApprovalException extends RuntimeException {
    private final int status;

    public ApprovalException(int status, String message) {
        super(message);
        this.status = status;
    }

    public ApprovalException(int status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    public int status() {
        return status;
    }

    /** The ApprovalException behind a failed future, or a 503 for anything else. */
    static ApprovalException of(Throwable t) {
        while ((t instanceof java.util.concurrent.CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof ApprovalException a) {
            return a;
        }
        return new ApprovalException(503, "the approval store is unavailable (" + t.getMessage() + ")", t);
    }
}
