package dev.warden.policy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What the policy decided about a statement (or a whole multi-statement Query).
 *
 * @param decision      ALLOW, MASK, HOLD or BLOCK
 * @param reason        why, for the client's error message and the audit; the reasons of every rule
 *                      that reached the final decision, joined with "; "
 * @param rules         names of every rule that fired, in firing order, each once (also rules that
 *                      fired without changing the decision, so the audit shows what matched)
 * @param rulesVersion  {@link PolicyEngine#rulesVersion()} of the rulepack that decided
 * @param reviewerGroup for HOLD: who must approve (null otherwise)
 * @param risk          for HOLD: "low", "medium" or "high" (null otherwise)
 * @param masks         masking directives; kept whatever the decision, so a HOLD that is approved
 *                      later still runs masked
 * @param failFast      for HOLD: refuse at once with the approval link instead of waiting; once
 *                      approved, the same identity re-running the same statement runs it once (for
 *                      CI jobs that cannot wait)
 */
public record Verdict(Decision decision, String reason, List<String> rules, String rulesVersion,
                      String reviewerGroup, String risk, List<MaskDirective> masks, boolean failFast) {

    public Verdict(Decision decision, String reason, List<String> rules, String rulesVersion, String reviewerGroup,
                   String risk, List<MaskDirective> masks) {
        this(decision, reason, rules, rulesVersion, reviewerGroup, risk, masks, false);
    }

    /** Ordered by restrictiveness: a later constant always wins over an earlier one. */
    public enum Decision {
        ALLOW, MASK, HOLD, BLOCK;

        private final String label = name().toLowerCase(java.util.Locale.ROOT);

        /** The lower-case name records and recordings use ("allow", …); one string per constant (hot path). */
        public String label() {
            return label;
        }

        public boolean isAtLeast(Decision other) {
            return compareTo(other) >= 0;
        }
    }

    /** Rule name recorded when evaluation failed and the statement was blocked for safety. */
    public static final String FAIL_CLOSED = "fail-closed";
    static final List<String> RISKS = List.of("low", "medium", "high");

    public Verdict {
        Objects.requireNonNull(decision, "decision");
        reason = reason == null ? "" : reason;
        rules = rules == null ? List.of() : List.copyOf(rules);
        masks = masks == null ? List.of() : List.copyOf(masks);
    }

    /** Nothing objected. */
    public static Verdict allow(String rulesVersion) {
        return new Verdict(Decision.ALLOW, "allowed", List.of(), rulesVersion, null, null, List.of());
    }

    /** Evaluation threw: block, and say so (the exception is the reason). */
    public static Verdict failClosed(String rulesVersion, Throwable cause) {
        String detail = cause.getMessage() == null ? cause.getClass().getName() : cause.getMessage();
        return new Verdict(Decision.BLOCK, "policy evaluation failed: " + detail, List.of(FAIL_CLOSED),
                rulesVersion, null, null, List.of());
    }

    public boolean failedClosed() {
        return rules.contains(FAIL_CLOSED);
    }

    public static Verdict combine(Verdict... verdicts) {
        return combine(Arrays.asList(verdicts));
    }

    /**
     * The most restrictive decision wins; its reasons (from every verdict at that level) are kept,
     * rule names and masks are merged in order without duplicates. For HOLD the reviewer group comes
     * from the riskiest hold, and the risk is the highest one.
     */
    public static Verdict combine(List<Verdict> verdicts) {
        if (verdicts.isEmpty()) {
            throw new IllegalArgumentException("nothing to combine");
        }
        if (verdicts.size() == 1) {
            return verdicts.get(0);
        }
        Decision top = Decision.ALLOW;
        String version = null;
        for (Verdict v : verdicts) {
            top = v.decision.isAtLeast(top) ? v.decision : top;
            version = version == null ? v.rulesVersion : version;
        }
        Set<String> reasons = new LinkedHashSet<>();
        Set<String> rules = new LinkedHashSet<>();
        Set<MaskDirective> masks = new LinkedHashSet<>();
        Verdict riskiestHold = null;
        for (Verdict v : verdicts) {
            rules.addAll(v.rules);
            masks.addAll(v.masks);
            if (v.decision == top && !v.reason.isEmpty()) {
                reasons.add(v.reason);
            }
            if (v.decision == Decision.HOLD && (riskiestHold == null || riskRank(v.risk) > riskRank(riskiestHold.risk))) {
                riskiestHold = v;
            }
        }
        String reason = top == Decision.ALLOW ? verdicts.get(0).reason : String.join("; ", reasons);
        boolean hold = top == Decision.HOLD;
        return new Verdict(top, reason, new ArrayList<>(rules), version,
                hold ? riskiestHold.reviewerGroup : null, hold ? riskiestHold.risk : null, new ArrayList<>(masks),
                hold && riskiestHold.failFast);
    }

    static int riskRank(String risk) {
        return RISKS.indexOf(risk);
    }
}
