package dev.warden.audit;

/**
 * A snapshot of the audit trail's state, for logs, metrics and a health endpoint.
 *
 * @param available     whether new statements are accepted
 * @param problem       why not (operator detail, may name hosts and SQL errors), null when available
 * @param queued        records waiting for the writer
 * @param written       records made durable since start
 * @param commits       transactions the writer committed since start (records / commits = the group-commit size)
 * @param syncs         times the embedded H2 store's file was forced to disk since start ({@code audit.syncInterval});
 *                      0 with PostgreSQL, which syncs each commit itself
 * @param refused       statements refused because auditing was unavailable
 * @param dropped       session events and outcomes that could not be queued (the queue was full)
 * @param outages       times the store became unavailable since start (a failed commit, journal write or
 *                      sync; each one refused statements until the writer had reconnected)
 * @param headSeq       the chain position of the newest durable record
 * @param lastCheckpoint the newest signed checkpoint, or null
 */
public record AuditHealth(boolean available, String problem, int queued, long written, long commits, long syncs,
                          long refused, long dropped, long outages,
                          long headSeq, Checkpoint lastCheckpoint) {
}
