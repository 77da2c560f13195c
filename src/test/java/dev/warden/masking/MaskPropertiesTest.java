package dev.warden.masking;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;

class MaskPropertiesTest {
    private final Tokenizer tokens = new Tokenizer("property-test-key-0123456789".getBytes());

    @Property
    void tokenIsDeterministic(@ForAll String v) {
        assertThat(tokens.token(v)).isEqualTo(tokens.token(v));
    }

    @Property
    void tokenKeepsLengthAndCharacterClassPerPosition(@ForAll @StringLength(max = 200) String v) {
        String t = tokens.token(v);
        assertThat(t).hasSize(v.length());
        for (int i = 0; i < v.length(); i++) {
            char a = v.charAt(i), b = t.charAt(i);
            if (a >= '0' && a <= '9') {
                assertThat(b).isBetween('0', '9');
            } else if (a >= 'a' && a <= 'z') {
                assertThat(b).isBetween('a', 'z');
            } else if (a >= 'A' && a <= 'Z') {
                assertThat(b).isBetween('A', 'Z');
            } else {
                assertThat(b).isEqualTo(a);
            }
        }
    }

    @Property
    void partialNeverRevealsMoreThanN(@ForAll @StringLength(max = 60) String v, @ForAll @IntRange(min = 0, max = 8) int n) {
        String p = ValueMasker.partial(v, n, '*');
        assertThat(p).hasSize(v.length());
        int revealed = 0;
        for (int i = 0; i < v.length(); i++) {
            if (Character.isLetterOrDigit(v.charAt(i)) && p.charAt(i) == v.charAt(i)) {
                revealed++;
            }
        }
        assertThat(revealed).isLessThanOrEqualTo(n);
    }

    @Property
    void detectorsNeverLeaveAFormattedSsn(@ForAll @IntRange(min = 0, max = 999_999_999) int n, @ForAll @StringLength(max = 10) String pad) {
        String ssn = String.format("%03d-%02d-%04d", n / 1_000_000, n / 10_000 % 100, n % 10_000);
        String out = new Detectors(java.util.Set.of("ssn")).redact("x" + pad.replaceAll("[0-9]", "") + " " + ssn + " y");
        assertThat(out).doesNotContain(ssn);
    }
}
