package dev.warden.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The hash an approval is bound to: requester, text and bind values, each unambiguously framed. */
class HoldHashTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void everyPartChangesTheHash() {
        String base = HoldProcessor.statementHash("OIDC|iss|repo:a|41", "UPDATE t SET v = $1", List.of(b("x")));
        assertThat(HoldProcessor.statementHash("OIDC|iss|repo:a|41", "UPDATE t SET v = $1", List.of(b("x")))).isEqualTo(base);
        assertThat(HoldProcessor.statementHash("OIDC|iss|repo:a|42", "UPDATE t SET v = $1", List.of(b("x"))))
                .as("another CI run of the same subject").isNotEqualTo(base);
        assertThat(HoldProcessor.statementHash("STATIC|null|repo:a|", "UPDATE t SET v = $1", List.of(b("x"))))
                .as("a password user with the same name").isNotEqualTo(base);
        assertThat(HoldProcessor.statementHash("OIDC|iss|repo:a|41", "UPDATE t SET v = $1 ", List.of(b("x")))).isNotEqualTo(base);
        assertThat(HoldProcessor.statementHash("OIDC|iss|repo:a|41", "UPDATE t SET v = $1", List.of(b("y")))).isNotEqualTo(base);
        assertThat(HoldProcessor.statementHash("OIDC|iss|repo:a|41", "UPDATE t SET v = $1", Arrays.asList((byte[]) null)))
                .as("NULL differs from the empty string")
                .isNotEqualTo(HoldProcessor.statementHash("OIDC|iss|repo:a|41", "UPDATE t SET v = $1", List.of(b(""))));
        assertThat(HoldProcessor.statementHash("OIDC|iss|repo:a|41", "UPDATE t SET v = $1", List.of(b("ab"), b("c"))))
                .as("value boundaries are framed")
                .isNotEqualTo(HoldProcessor.statementHash("OIDC|iss|repo:a|41", "UPDATE t SET v = $1", List.of(b("a"), b("bc"))));
    }
}
