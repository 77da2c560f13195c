package dev.warden.approval;

import dev.warden.identity.Identity;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An approval request as stored, with its decisions so far. Read-only view for pages, the REST API
 * and the service's own checks.
 */
public record ApprovalRequest(String id, State state, Instant created, Instant expires, Instant decidedAt,
                              String sessionId, String statementRecordId, Identity identity, String clientAddress,
                              String target, String text, String fingerprint, String statementHash,
                              String reviewerGroup, int requiredApprovals, String risk, String reason,
                              List<String> rules, String rulesVersion, Approvals.Mode mode, String ownerInstance,
                              List<Vote> votes) {

    public enum State {
        PENDING, APPROVED, DENIED, EXPIRED, ABANDONED, EXECUTED;

        String db() {
            return name().toLowerCase();
        }

        static State of(String db) {
            return valueOf(db.toUpperCase());
        }
    }

    /** One reviewer's decision. */
    public record Vote(String reviewer, boolean approve, String reason, Instant at, String from, String via) {
    }

    public ApprovalRequest {
        rules = List.copyOf(rules);
        votes = List.copyOf(votes);
    }

    public long approvals() {
        return votes.stream().filter(Vote::approve).count();
    }

    /** Who asked, in one line: the subject, and the CI repository/workflow/run when there are. */
    public String requester() {
        if (identity == null) {
            return "unknown";
        }
        StringBuilder b = new StringBuilder(identity.subject());
        String repo = identity.ci("repository");
        if (repo != null) {
            b.append(" (").append(repo);
            if (identity.ci("workflow") != null) {
                b.append(", workflow ").append(identity.ci("workflow"));
            }
            if (identity.ci("runId") != null) {
                b.append(", run ").append(identity.ci("runId"));
            }
            b.append(')');
        }
        return b.toString();
    }

    /** The JSON view of the REST API. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("state", state.db());
        m.put("created", created.toString());
        m.put("expires", expires.toString());
        m.put("decidedAt", decidedAt == null ? null : decidedAt.toString());
        m.put("session", sessionId);
        m.put("statementRecord", statementRecordId);
        Map<String, Object> who = new LinkedHashMap<>();
        if (identity != null) {
            who.put("kind", identity.kind().name().toLowerCase());
            who.put("subject", identity.subject());
            who.put("issuer", identity.issuer());
            who.put("grant", identity.grant());
            who.put("ci", identity.ci());
        }
        m.put("identity", who);
        m.put("client", clientAddress);
        m.put("target", target);
        m.put("text", text);
        m.put("fingerprint", fingerprint);
        m.put("statementHash", statementHash);
        m.put("group", reviewerGroup);
        m.put("requiredApprovals", requiredApprovals);
        m.put("risk", risk);
        m.put("reason", reason);
        m.put("rules", rules);
        m.put("rulesVersion", rulesVersion);
        m.put("mode", mode == Approvals.Mode.FAIL_FAST ? "fail-fast" : "wait");
        m.put("owner", ownerInstance);
        m.put("decisions", votes.stream().map(v -> {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("reviewer", v.reviewer());
            d.put("decision", v.approve() ? "approve" : "deny");
            d.put("reason", v.reason());
            d.put("at", v.at().toString());
            d.put("from", v.from());
            d.put("via", v.via());
            return d;
        }).toList());
        return m;
    }
}
