package dev.warden.audit;

import dev.warden.identity.Identity;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * One step in the life of a just-in-time approval request, as the audit records it.
 *
 * @param approvalId        the request's id (AR-…)
 * @param event             requested, notified, viewed, approved, denied, executed, expired, abandoned
 * @param at                when it happened
 * @param sessionId         the held session (null for steps taken outside it)
 * @param statementRecordId the audit record of the held statement (null when unknown)
 * @param identity          who asked (the requester), when known
 * @param target            the target database
 * @param reviewer          who acted (reviewer address or API key name), for viewed/approved/denied
 * @param from              where the reviewer acted from (client address), or the channel (mail recipients)
 * @param detail            anything else worth keeping (reason, group, risk, statement hash…); canonical values only
 */
public record ApprovalEvent(String approvalId, String event, Instant at, String sessionId, String statementRecordId,
                            Identity identity, String target, String reviewer, String from,
                            Map<String, Object> detail) {
    public ApprovalEvent {
        Objects.requireNonNull(approvalId, "approvalId");
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(at, "at");
    }
}
