package dev.warden.proxy;

import dev.warden.policy.Verdict;
import dev.warden.wire.SqlState;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Route step {@code enforceVerdict}: carries out the round trip's verdict — forwards it to
 * PostgreSQL, or refuses the first statement that was blocked or needs approval (42501, naming
 * the rule), the way PostgreSQL itself refuses a failing statement.
 */
public final class ForwardProcessor implements Processor {
    @Override
    public void process(Exchange exchange) {
        RoundTrip rt = exchange.getIn().getBody(RoundTrip.class);
        // fail closed when the route was edited so that a statement has no verdict or no audit record
        if (rt.getVerdict() == null) {
            rt.reject("XX000", "Warden could not decide on this statement, so it was not run: the statements route has "
                    + "no decideStatements step before enforceVerdict", "This is a Warden configuration fault; tell your Warden administrator.");
            return;
        }
        for (StatementUnit u : rt.units()) {
            if (u.ticket == null) {
                rt.reject("53400", "auditing is unavailable: the statements route has no auditStatements step, so this "
                        + "statement would run unrecorded; it was not run", "This is a Warden configuration fault; tell your Warden administrator.");
                return;
            }
        }
        if (rt.auditFailure() != null) {
            rt.reject("53400", rt.auditFailure(),
                    "Warden runs no statement it cannot record; the audit store is being retried automatically.");
            return;
        }
        dev.warden.recording.SessionTap rec = rt.session().recording();
        if (rec != null) {
            String why = rec.unavailable();
            if (why != null) {
                rt.reject("53400", why, "Warden runs no statement it cannot record (recording.overflow: fail-closed); "
                        + "statements are accepted again as soon as the recording writer has caught up.");
                return;
            }
        }
        Verdict refusal = rt.refusal();
        if (refusal == null) {
            rt.forward();
            return;
        }
        String[] own = rt.refusalMessage();
        if (own != null) {
            rt.rejectFrom(rt.refusedIndex(), own[0], own[1], own[2]);
            return;
        }
        String rules = refusal.rules().isEmpty() ? "" : " (rule \"" + String.join("\", \"", refusal.rules()) + "\")";
        if (refusal.decision() == Verdict.Decision.HOLD) {
            rt.rejectFrom(rt.refusedIndex(), SqlState.INSUFFICIENT_PRIVILEGE,
                    "this statement requires approval by " + refusal.reviewerGroup() + ": " + refusal.reason() + rules,
                    "Warden held the statement for a person's approval; ask a reviewer of group "
                            + refusal.reviewerGroup() + ". It was not run.");
        } else {
            rt.rejectFrom(rt.refusedIndex(), SqlState.INSUFFICIENT_PRIVILEGE,
                    "Warden blocked this statement: " + refusal.reason() + rules,
                    "The statement was not run. The rules in force are version " + refusal.rulesVersion() + ".");
        }
    }
}
