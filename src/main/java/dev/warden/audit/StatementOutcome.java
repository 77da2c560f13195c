package dev.warden.audit;

import java.time.Instant;
import java.util.Objects;

/**
 * How a statement ended, recorded as its own chained record that names the statement record
 * ({@link AuditTicket#completed}); rows are never updated.
 *
 * @param forwarded     when the statement was sent upstream; null if it never was (refused, or auditing failed)
 * @param completed     when the last message of its result reached the client (or the refusal was sent)
 * @param commandTag    the CommandComplete tag ("SELECT 3", "UPDATE 1"), null on error
 * @param rows          rows returned or affected (-1 when unknown)
 * @param bytesToClient bytes of result data sent to the client
 * @param sqlState      SQLSTATE of the error, null on success
 * @param errorMessage  the error message, null on success
 * @param maskedColumns result columns Warden masked ("public.customers.ssn", "<computed>.upper"); empty when none
 * @param maskedCells   how many cells of the result Warden masked
 * @param sealedOriginals base64 of the Tink hybrid ciphertext of the masked cells' original values
 *                      (sealOriginals, context info = the statement record's id); null when off or nothing was masked
 */
public record StatementOutcome(Instant forwarded, Instant completed, String commandTag, long rows,
                               long bytesToClient, String sqlState, String errorMessage, java.util.List<String> maskedColumns,
                               long maskedCells, String sealedOriginals) {

    public StatementOutcome {
        Objects.requireNonNull(completed, "completed");
        maskedColumns = maskedColumns == null ? java.util.List.of() : java.util.List.copyOf(maskedColumns);
    }

    public StatementOutcome(Instant forwarded, Instant completed, String commandTag, long rows, long bytesToClient,
                            String sqlState, String errorMessage) {
        this(forwarded, completed, commandTag, rows, bytesToClient, sqlState, errorMessage, java.util.List.of(), 0, null);
    }

    /** The same outcome, with what Warden masked in the statement's result. */
    public StatementOutcome withMasked(java.util.List<String> columns, long cells) {
        return new StatementOutcome(forwarded, completed, commandTag, rows, bytesToClient, sqlState, errorMessage, columns, cells,
                sealedOriginals);
    }

    /** The same outcome, with the sealed originals of its masked cells. */
    public StatementOutcome withSealedOriginals(String sealed) {
        return new StatementOutcome(forwarded, completed, commandTag, rows, bytesToClient, sqlState, errorMessage,
                maskedColumns, maskedCells, sealed);
    }

    public static StatementOutcome success(Instant forwarded, Instant completed, String commandTag, long rows,
                                           long bytesToClient) {
        return new StatementOutcome(forwarded, completed, commandTag, rows, bytesToClient, null, null);
    }

    public static StatementOutcome error(Instant forwarded, Instant completed, String sqlState, String message,
                                         long bytesToClient) {
        return new StatementOutcome(forwarded, completed, null, -1, bytesToClient, sqlState, message);
    }

    /** The statement was not run (refused by Warden or by the audit itself). */
    public static StatementOutcome notRun(Instant at, String sqlState, String message) {
        return new StatementOutcome(null, at, null, 0, 0, sqlState, message);
    }

    /** "ok", "error" or "not_run": the outcome record's event. */
    public String event() {
        if (forwarded == null) {
            return "not_run";
        }
        return sqlState == null ? "ok" : "error";
    }
}
