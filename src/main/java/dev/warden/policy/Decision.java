package dev.warden.policy;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.kie.api.event.rule.AgendaEventListener;
import org.kie.api.event.rule.BeforeMatchFiredEvent;
import org.kie.api.event.rule.DefaultAgendaEventListener;

/**
 * The collector rules write their decision into: every rulepack declares
 * {@code global dev.warden.policy.Decision verdict;} and a rule's consequence says
 * {@code verdict.block("…")}, {@code verdict.hold("dba", "high", "…")} or
 * {@code verdict.mask("public.customers", "email", "hash")}.
 *
 * <p>Rules never pass their own name: the engine tells the collector which rule is firing (an agenda
 * listener), so a rule cannot be recorded under a wrong name and the audit lists every rule that
 * fired, including rules whose consequence only logged or did nothing. One instance serves exactly
 * one evaluation on one thread, hence no synchronisation.
 */
public final class Decision {
    private record Outcome(String rule, Verdict.Decision decision, String reason, String group, String risk,
                           boolean failFast) {
    }

    private final List<Outcome> outcomes = new ArrayList<>(2);
    private final Set<String> fired = new LinkedHashSet<>();
    private final Set<MaskDirective> masks = new LinkedHashSet<>();
    private String currentRule = "(no rule)";

    /** The statement must not run. The reason is shown to the client; say what to do instead. */
    public void block(String reason) {
        outcomes.add(new Outcome(currentRule, Verdict.Decision.BLOCK, reasonOrRule(reason), null, null, false));
    }

    /**
     * The statement waits for a human's approval.
     *
     * @param reviewerGroup who approves (e.g. "dba")
     * @param risk          "low", "medium" or "high"; anything else is a rule bug and fails closed
     * @param reason        why approval is needed
     */
    public void hold(String reviewerGroup, String risk, String reason) {
        if (!Verdict.RISKS.contains(risk)) {
            throw new IllegalArgumentException("rule \"" + currentRule + "\": risk must be low, medium or high, not " + risk);
        }
        if (reviewerGroup == null || reviewerGroup.isBlank()) {
            throw new IllegalArgumentException("rule \"" + currentRule + "\": hold needs a reviewer group");
        }
        outcomes.add(new Outcome(currentRule, Verdict.Decision.HOLD, reasonOrRule(reason), reviewerGroup, risk, false));
    }

    /**
     * Like {@link #hold(String, String, String)}, but the client is refused at once with the approval
     * link instead of waiting; after approval the same identity re-running the same statement runs it
     * once. For CI jobs that cannot hold a session open.
     */
    public void holdFailFast(String reviewerGroup, String risk, String reason) {
        hold(reviewerGroup, risk, reason);
        Outcome o = outcomes.remove(outcomes.size() - 1);
        outcomes.add(new Outcome(o.rule, o.decision, o.reason, o.group, o.risk, true));
    }

    /** A hold with medium risk. */
    public void hold(String reviewerGroup, String reason) {
        hold(reviewerGroup, "medium", reason);
    }

    /** The statement runs, but results of {@code table.column} are masked with {@code method}. */
    public void mask(String table, String column, String method) {
        MaskDirective m = new MaskDirective(table, column, method);
        masks.add(m);
        outcomes.add(new Outcome(currentRule, Verdict.Decision.MASK,
                "masked " + table + "." + column + " (" + method + ")", null, null, false));
    }

    /** Masking methods in order of how much they hide: when rules disagree, the later one in this list wins. */
    private static final List<String> MASK_STRICTNESS = List.of("none", "partial", "email", "year", "token", "redact", "null");
    private final java.util.Map<String, String> maskMethods = new java.util.HashMap<>();
    private final Set<String> predicatesAllowed = new LinkedHashSet<>();

    /**
     * For masking rules: values of data class {@code dataClass} are shown with {@code method}
     * ("none", "redact", "partial", "partial:N", "token", "null", "email", "year"). When several
     * rules choose a method for one class, the one that hides more wins.
     */
    public void maskWith(String dataClass, String method) {
        String m = method.trim().toLowerCase(java.util.Locale.ROOT);
        String base = m.contains(":") ? m.substring(0, m.indexOf(':')) : m;
        if (!MASK_STRICTNESS.contains(base)) {
            throw new IllegalArgumentException("rule \"" + currentRule + "\": unknown masking method " + method);
        }
        maskMethods.merge(dataClass.toLowerCase(java.util.Locale.ROOT), m, (a, b) -> {
            int ra = MASK_STRICTNESS.indexOf(a.contains(":") ? a.substring(0, a.indexOf(':')) : a);
            int rb = MASK_STRICTNESS.indexOf(base);
            return rb > ra ? b : a;
        });
    }

    /** For masking rules: masked columns of this class may appear in WHERE, JOIN, GROUP BY and ORDER BY. */
    public void allowPredicates(String dataClass) {
        predicatesAllowed.add(dataClass.toLowerCase(java.util.Locale.ROOT));
    }

    MaskingVerdict toMaskingVerdict(String rulesVersion) {
        return new MaskingVerdict(maskMethods, predicatesAllowed, new ArrayList<>(fired), rulesVersion);
    }

    /** The most restrictive decision any rule reached so far (ALLOW when none). */
    public Verdict.Decision current() {
        Verdict.Decision d = Verdict.Decision.ALLOW;
        for (Outcome o : outcomes) {
            d = o.decision.isAtLeast(d) ? o.decision : d;
        }
        return d;
    }

    private String reasonOrRule(String reason) {
        return reason == null || reason.isBlank() ? currentRule : reason;
    }

    /** Called by the engine's agenda listener just before a rule's consequence runs. */
    void ruleFiring(String ruleName) {
        currentRule = ruleName;
        fired.add(ruleName);
    }

    /** Names of the rules that fired so far, for error messages. */
    Set<String> fired() {
        return fired;
    }

    /** An agenda listener that attributes this collector's outcomes to the firing rule. */
    AgendaEventListener recorder() {
        return new DefaultAgendaEventListener() {
            @Override
            public void beforeMatchFired(BeforeMatchFiredEvent event) {
                ruleFiring(event.getMatch().getRule().getName());
            }
        };
    }

    Verdict toVerdict(String rulesVersion) {
        Verdict.Decision top = current();
        if (top == Verdict.Decision.ALLOW) {
            return new Verdict(top, "allowed", new ArrayList<>(fired), rulesVersion, null, null, List.of());
        }
        Set<String> reasons = new LinkedHashSet<>();
        Outcome riskiest = null;
        for (Outcome o : outcomes) {
            if (o.decision == top) {
                reasons.add(o.reason);
                if (top == Verdict.Decision.HOLD
                        && (riskiest == null || Verdict.riskRank(o.risk) > Verdict.riskRank(riskiest.risk))) {
                    riskiest = o;
                }
            }
        }
        return new Verdict(top, String.join("; ", reasons), new ArrayList<>(fired), rulesVersion,
                riskiest == null ? null : riskiest.group, riskiest == null ? null : riskiest.risk,
                new ArrayList<>(masks), riskiest != null && riskiest.failFast);
    }
}
