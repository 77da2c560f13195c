package dev.warden.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.policy.Verdict.Decision;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class VerdictTest {
    static Verdict v(Decision d, String reason, String group, String risk, String... rules) {
        return new Verdict(d, reason, List.of(rules), "v1", group, risk, List.of());
    }

    @Test
    void decisionsAreOrderedByRestrictiveness() {
        assertThat(Decision.values()).containsExactly(Decision.ALLOW, Decision.MASK, Decision.HOLD, Decision.BLOCK);
        assertThat(Decision.BLOCK.isAtLeast(Decision.HOLD)).isTrue();
        assertThat(Decision.MASK.isAtLeast(Decision.HOLD)).isFalse();
    }

    @Test
    void mostRestrictiveWinsAndRulesMergeInOrder() {
        Verdict allow = v(Decision.ALLOW, "allowed", null, null, "noted");
        Verdict mask = new Verdict(Decision.MASK, "masked", List.of("mask emails"), "v1", null, null,
                List.of(new MaskDirective("public.customers", "email", "hash")));
        Verdict hold = v(Decision.HOLD, "needs a DBA", "dba", "medium", "ddl", "noted");
        Verdict block = v(Decision.BLOCK, "no truncate", null, null, "truncate");

        Verdict all = Verdict.combine(allow, mask, hold, block);
        assertThat(all.decision()).isEqualTo(Decision.BLOCK);
        assertThat(all.reason()).isEqualTo("no truncate");
        assertThat(all.rules()).containsExactly("noted", "mask emails", "ddl", "truncate");
        assertThat(all.masks()).containsExactly(new MaskDirective("public.customers", "email", "hash"));
        assertThat(all.reviewerGroup()).isNull();
        assertThat(all.rulesVersion()).isEqualTo("v1");

        assertThat(Verdict.combine(allow, mask).decision()).isEqualTo(Decision.MASK);
        Verdict held = Verdict.combine(mask, hold);
        assertThat(held.decision()).isEqualTo(Decision.HOLD);
        assertThat(held.reviewerGroup()).isEqualTo("dba");
        assertThat(held.masks()).hasSize(1); // an approved hold still runs masked
        assertThat(Verdict.combine(allow, allow).decision()).isEqualTo(Decision.ALLOW);
    }

    @Test
    void theRiskiestHoldNamesTheReviewers() {
        Verdict low = v(Decision.HOLD, "a", "data-owners", "low", "r1");
        Verdict high = v(Decision.HOLD, "b", "dba", "high", "r2");
        Verdict c = Verdict.combine(low, high);
        assertThat(c.reviewerGroup()).isEqualTo("dba");
        assertThat(c.risk()).isEqualTo("high");
        assertThat(c.reason()).isEqualTo("a; b");
    }

    @Test
    void combineIsOrderIndependentForTheDecision() {
        Random random = new Random(7);
        for (int i = 0; i < 500; i++) {
            List<Verdict> vs = new ArrayList<>();
            Decision max = Decision.ALLOW;
            for (int n = 1 + random.nextInt(5); n > 0; n--) {
                Decision d = Decision.values()[random.nextInt(4)];
                max = d.isAtLeast(max) ? d : max;
                vs.add(v(d, d.name(), d == Decision.HOLD ? "dba" : null, d == Decision.HOLD ? "medium" : null, "r" + n));
            }
            Verdict a = Verdict.combine(vs);
            Collections.shuffle(vs, random);
            assertThat(Verdict.combine(vs).decision()).isEqualTo(a.decision()).isEqualTo(max);
        }
    }

    @Test
    void theCollectorAttributesOutcomesToTheFiringRule() {
        // the DRL collector shares its simple name with the enum imported here
        dev.warden.policy.Decision d = new dev.warden.policy.Decision();
        d.ruleFiring("only looks");
        d.ruleFiring("masks email");
        d.mask("public.customers", "email", "hash");
        d.ruleFiring("holds");
        d.hold("dba", "needs approval");
        Verdict v = d.toVerdict("v9");
        assertThat(v.decision()).isEqualTo(Decision.HOLD);
        assertThat(v.rules()).containsExactly("only looks", "masks email", "holds");
        assertThat(v.risk()).isEqualTo("medium");
        assertThat(v.masks()).containsExactly(new MaskDirective("public.customers", "email", "hash"));
        assertThat(v.rulesVersion()).isEqualTo("v9");

        dev.warden.policy.Decision bad = new dev.warden.policy.Decision();
        bad.ruleFiring("typo");
        assertThatThrownBy(() -> bad.hold("dba", "severe", "x")).hasMessageContaining("typo").hasMessageContaining("severe");
    }

    @Test
    void allowAndFailClosed() {
        assertThat(Verdict.allow("v1")).satisfies(a -> {
            assertThat(a.decision()).isEqualTo(Decision.ALLOW);
            assertThat(a.rules()).isEmpty();
        });
        Verdict f = Verdict.failClosed("v1", new IllegalStateException("boom"));
        assertThat(f.decision()).isEqualTo(Decision.BLOCK);
        assertThat(f.reason()).isEqualTo("policy evaluation failed: boom");
        assertThat(f.rules()).containsExactly(Verdict.FAIL_CLOSED);
        assertThat(f.failedClosed()).isTrue();
    }
}
