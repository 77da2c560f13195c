package dev.warden.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The byte-level path for text cells gives exactly what the String path gives, or declines. */
class MaskFastPathTest {
    private static final String ALPHABET = "0123456789abcXYZ-@. _é€😀";

    @Test
    void bytePathAgreesWithTheStringPathOnRandomValues() {
        Random r = new Random(20261126);
        ValueMasker vm = new ValueMasker(null);
        List<MaskMethod> methods = List.of(MaskMethod.parse("partial"), MaskMethod.parse("partial:2"),
                MaskMethod.parse("partial:0"), MaskMethod.parse("email"), MaskMethod.REDACT);
        int checked = 0;
        for (int n = 0; n < 20_000; n++) {
            StringBuilder b = new StringBuilder();
            int len = r.nextInt(24);
            for (int i = 0; i < len; i++) {
                b.appendCodePoint(ALPHABET.codePointAt(ALPHABET.offsetByCodePoints(0, r.nextInt(ALPHABET.codePointCount(0, ALPHABET.length())))));
            }
            String v = b.toString();
            for (MaskMethod m : methods) {
                byte[] fast = ValueMasker.maskTextBytes(m, v.getBytes(StandardCharsets.UTF_8));
                if (fast == null) {
                    assertThat(m.kind()).isEqualTo(MaskMethod.Kind.PARTIAL);
                    assertThat(v.chars().anyMatch(c -> c >= 128)).isTrue();
                    continue;
                }
                assertThat(new String(fast, StandardCharsets.UTF_8)).as("%s of '%s'", m, v)
                        .isEqualTo(vm.maskText(m, PgTypes.TEXT, v));
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(50_000);
        assertThat(new String(vm.mask(MaskMethod.parse("partial"), PgTypes.TEXT, false,
                "123-45-6789".getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8)).isEqualTo("***-**-6789");
    }
}
