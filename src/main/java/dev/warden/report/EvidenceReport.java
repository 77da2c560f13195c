package dev.warden.report;

import java.util.List;
import java.util.Map;

/**
 * The content of one evidence report: what the audit store shows for one period and target, in
 * sections that each name the guidance they serve. Every renderer (JSON, CSV, HTML, PDF) prints this
 * and nothing else, so the formats cannot disagree. Times are ISO-8601 strings (UTC); every count can
 * be recomputed from the audit records listed in {@link #coverage()}.
 */
public record EvidenceReport(String id, String title, String generatedAt, String generatedBy, Scope scope,
                             List<Coverage> coverage, Activity activity, Identities identities,
                             ClassifiedAccess classifiedAccess, Privileged privileged, Exceptions exceptions,
                             Integrity integrity, Effectiveness effectiveness, SignOff signOff) {

    public static final int FORMAT_VERSION = 1;

    /** The period [from, to), the target (null: every target) and why the report was made. */
    public record Scope(String from, String to, String timeZone, String target, String kind, int formatVersion) {
    }

    /** Which audit records the report reads: per chain, the first and last position with a time in the period. */
    public record Coverage(String instance, long firstSeq, long lastSeq, long records, long recordsForTarget) {
    }

    /** Statements per day and verdict; totals. */
    public record Activity(List<String> guidance, long statements, Map<String, Long> byVerdict, List<Day> perDay,
                           long sessions, long logins) {
    }

    public record Day(String day, Map<String, Long> byVerdict) {
    }

    /** Every identity that logged in or ran statements; CI (OIDC) identities are the non-human ones. */
    public record Identities(List<String> guidance, long nonHuman, long staticUsers, List<IdentityRow> rows,
                             boolean truncated) {
    }

    public record IdentityRow(String kind, String issuer, String subject, String repository, List<String> workflows,
                              long runs, List<String> runIds, List<String> grants, List<String> targets,
                              long sessions, long statements, long blocked, String firstSeen, String lastSeen) {
    }

    /** Statements that touched tables holding customer data. */
    public record ClassifiedAccess(List<String> guidance, Map<String, List<String>> classifiedTables, long statements,
                                   long rowsReturned, long maskedStatements, long unmaskedStatements,
                                   List<TableRow> tables, List<ReaderRow> readers, List<MaskedColumn> maskedColumns) {
    }

    public record TableRow(String table, long statements, long rowsReturned, long masked, long unmasked) {
    }

    public record ReaderRow(String subject, long statements, long rowsReturned, long unmasked) {
    }

    /** A column masked in results: in how many statements, and how many cells when the records say. */
    public record MaskedColumn(String column, long statements, Long cells) {
    }

    /** DDL, DCL and held statements, each with its approval or its block. */
    public record Privileged(List<String> guidance, long total, Map<String, Long> byStatus, List<Operation> operations,
                             long notListed) {
    }

    public record Operation(String record, String at, String subject, String target, String command, String text,
                            String decision, List<String> rules, String outcome, String status, Approval approval) {
    }

    /** An approval request's life: who asked, who decided, how long it took. */
    public record Approval(String id, String requestedAt, String decision, String reviewer, String decidedAt,
                           Long secondsToDecide) {
    }

    /** What went wrong or was refused. */
    public record Exceptions(List<String> guidance, long blockedStatements, Map<String, Long> blockedByRule,
                             List<Operation> blockedExamples, long approvalsDenied, long approvalsExpired,
                             long failedLogins, Map<String, Long> failedLoginsByReason,
                             Map<String, Long> failedLoginsByUser, long sessionsEndedByTokenExpiry,
                             long sessionsEndedByRevocation, long sessionsInterrupted, long statementsNotRunAuditDown) {
    }

    /** The audit chain's verification over the period, and the signed checkpoints around it. */
    public record Integrity(List<String> guidance, boolean ok, String verdict, List<Chain> chains, List<Gap> gaps,
                            List<String> trustedKeyIds) {
    }

    public record Chain(String instance, boolean ok, String summary, long recordsChecked, CheckpointRef before,
                        CheckpointRef after, long unsignedTail) {
    }

    /** A signed checkpoint as exported: its JSON and base64 signature, checkable with openssl. */
    public record CheckpointRef(long number, long seq, String time, String head, String keyId, String body,
                                String signature) {
    }

    public record Gap(String instance, Long seq, String at, String detail) {
    }

    /** Whether the controls worked: policy versions, approval latency, masking coverage. */
    public record Effectiveness(List<String> guidance, List<RulesVersion> rulesVersions, List<RulesChange> rulesChanges,
                                Latency approvalLatency, Masking masking) {
    }

    public record RulesVersion(String version, String firstSeen, String lastSeen, long statements) {
    }

    public record RulesChange(String at, String from, String to) {
    }

    public record Latency(long decided, Long medianSeconds, Long p90Seconds, Long maxSeconds, List<Bucket> buckets) {
    }

    public record Bucket(String label, long count) {
    }

    public record Masking(long classifiedStatements, long maskedStatements, String coverage) {
    }

    /** Room for the reviewer's attestation; who received the report. */
    public record SignOff(List<String> guidance, List<String> recipients, String attestation) {
    }
}
