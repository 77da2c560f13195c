package dev.warden.audit;

import dev.warden.identity.Identity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * What Warden knew about one statement when it decided to forward (or refuse) it. Enqueued with
 * {@link AuditLog#statementReceived} <em>before</em> the statement goes upstream; its outcome
 * follows as a separate record ({@link AuditTicket#completed}).
 *
 * @param sessionId      the client session (the same id as in its {@link SessionEvent}s)
 * @param received       when Warden received the statement from the client
 * @param identity       who is behind the session (null only before login, which cannot carry statements)
 * @param clientAddress  the client's address, e.g. "10.1.2.3:51234"
 * @param target         the target name from the config
 * @param upstreamRole   the role Warden is logged in as upstream
 * @param text           the statement text as the client sent it
 * @param fingerprint    the statement's shape (literals folded), from the SQL analyser
 * @param bindParameters the values of $1..$n in text form (binary values as {@code \x} hex), null elements for
 *                       SQL NULL; null or empty when there are none. Stored as configured (hash, sealed or plain).
 * @param verdict        the policy decision
 * @param approval       the approval that allowed it, or null
 * @param maskedColumns  result columns Warden masks, "table.column"; empty when none
 */
public record StatementRecord(String sessionId, Instant received, Identity identity, String clientAddress,
                              String target, String upstreamRole, String text, String fingerprint,
                              List<String> bindParameters, Verdict verdict, Approval approval,
                              List<String> maskedColumns) {

    public StatementRecord {
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(received, "received");
        Objects.requireNonNull(text, "text");
        bindParameters = bindParameters == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(bindParameters));
        maskedColumns = maskedColumns == null ? List.of() : List.copyOf(maskedColumns);
    }

    /**
     * @param decision     what the rules decided: "allow", "block", "approved", "masked" ... (lower case by convention)
     * @param rules        the names of the rules that fired
     * @param rulesVersion the version (e.g. a content hash) of the rule set that decided
     */
    public record Verdict(String decision, List<String> rules, String rulesVersion) {
        public Verdict {
            Objects.requireNonNull(decision, "decision");
            rules = rules == null ? List.of() : List.copyOf(rules);
        }

        public static Verdict allow(String rulesVersion) {
            return new Verdict("allow", List.of(), rulesVersion);
        }
    }

    /** An approval that let the statement through: its id and who approved it. */
    public record Approval(String id, String approver) {
        public Approval {
            Objects.requireNonNull(id, "id");
        }
    }
}
