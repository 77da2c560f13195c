package dev.warden.policy;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the masking rules decided for one identity on one target.
 *
 * @param methods            method per data class chosen by a rule ("none", "token", "partial:4", ...);
 *                           a class that is absent uses its default method
 * @param predicatesAllowed  classes whose masked columns may still be used in WHERE/ORDER BY/JOIN
 * @param rules              names of the rules that fired
 * @param rulesVersion       the rulepack that decided
 */
public record MaskingVerdict(Map<String, String> methods, Set<String> predicatesAllowed, List<String> rules,
                             String rulesVersion) {
    public MaskingVerdict {
        methods = Map.copyOf(methods);
        predicatesAllowed = Set.copyOf(predicatesAllowed);
        rules = List.copyOf(rules);
    }
}
