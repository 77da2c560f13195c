package dev.warden.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.identity.Identity;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MaskingRulesTest {
    static PolicyEngine engine;
    static final TargetFact BANK = new TargetFact("bank");
    static final Set<String> CLASSES = Set.of("ssn", "pan", "email");

    @BeforeAll
    static void load() {
        engine = PolicyEngine.start(Path.of("rules"), false);
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @Test
    void anOrdinaryUserGetsEveryClassDefault() {
        assertThat(engine.maskingMethods(Identity.staticUser("alice"), BANK, CLASSES)).isEmpty();
    }

    @Test
    void aPrivilegedGrantSeesSsnAndPanInClearAndMayFilterOnThem() {
        MaskingVerdict v = engine.maskingDecision(Identity.staticUser("fraud-investigator"), BANK, CLASSES);
        assertThat(v.methods()).isEqualTo(Map.of("ssn", "none", "pan", "none"));
        assertThat(v.predicatesAllowed()).containsExactlyInAnyOrder("ssn", "pan");
        assertThat(v.rules()).contains("Fraud investigators see SSNs and card numbers in clear");
    }

    @Test
    void whenRulesDisagreeTheMethodThatHidesMoreWins() {
        Decision d = new Decision();
        d.maskWith("pan", "none");
        d.maskWith("pan", "token");
        d.maskWith("pan", "partial:2");
        assertThat(d.toMaskingVerdict("v").methods()).containsEntry("pan", "token");
    }

    @Test
    void ciJobsGetCardNumbersAsTokens() {
        Identity ci = new Identity(Identity.Kind.OIDC, "repo:x", "https://issuer", "ci", "r", Map.of(), Map.of());
        assertThat(engine.maskingMethods(ci, BANK, CLASSES)).containsEntry("pan", "token");
    }
}
