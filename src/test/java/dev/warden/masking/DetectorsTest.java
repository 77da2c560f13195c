package dev.warden.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;

class DetectorsTest {
    private final Detectors all = new Detectors(Set.of("ssn", "pan", "iban", "aba", "email", "phone"));

    @Test
    void findsEachKindAndChecksChecksums() {
        assertThat(all.redact("ssn 123-45-6789 here")).isEqualTo("ssn **** here");
        assertThat(all.redact("card 4111 1111 1111 1111")).isEqualTo("card ****");
        assertThat(all.redact("card 4111111111111112")).isEqualTo("card 4111111111111112"); // fails Luhn
        assertThat(all.redact("iban DE89370400440532013000")).isEqualTo("iban ****");
        assertThat(all.redact("iban DE89370400440532013001")).isEqualTo("iban DE89370400440532013001");
        assertThat(all.redact("routing 011000015")).isEqualTo("routing ****");
        assertThat(all.redact("routing 011000016")).isEqualTo("routing 011000016");
        assertThat(all.redact("mail jane@example.com")).isEqualTo("mail ****");
        assertThat(all.redact("call (555) 123-4567")).isEqualTo("call ****");
    }

    @Test
    void onlyConfiguredDetectorsRun() {
        assertThat(new Detectors(Set.of("email")).redact("123-45-6789 a@b.io")).isEqualTo("123-45-6789 ****");
    }

    @Test
    void textWithoutFindingsIsReturnedAsIs() {
        String s = "nothing to see";
        assertThat(all.redact(s)).isSameAs(s);
    }
}
