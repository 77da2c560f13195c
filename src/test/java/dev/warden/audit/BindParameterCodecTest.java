package dev.warden.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.audit.AuditSettings.BindMode;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class BindParameterCodecTest {
    static final byte[] KEY = new byte[32];

    static {
        Arrays.fill(KEY, (byte) 7);
    }

    @Test
    void hashModeStoresAKeyedHashThatMatchesEqualValues() {
        BindParameterCodec c = new BindParameterCodec(BindMode.HASH, KEY);
        List<String> out = c.encode(Arrays.asList("4111 1111 1111 1111", null, "4111 1111 1111 1111"));
        assertThat(out.get(0)).startsWith("hmac-sha256:").hasSize(12 + 64).doesNotContain("4111");
        assertThat(out.get(1)).isNull();
        assertThat(out.get(2)).isEqualTo(out.get(0)).isEqualTo(BindParameterCodec.hashOf("4111 1111 1111 1111", KEY));
        assertThat(new BindParameterCodec(BindMode.HASH, new byte[32]).encode("4111 1111 1111 1111")).isNotEqualTo(out.get(0));
    }

    @Test
    void sealedModeEncryptsAndOnlyTheKeyOpens() throws Exception {
        BindParameterCodec c = new BindParameterCodec(BindMode.SEALED, KEY);
        String a = c.encode("o'brien");
        assertThat(a).startsWith("aes-gcm:").doesNotContain("brien");
        assertThat(c.encode("o'brien")).isNotEqualTo(a); // fresh nonce each time
        assertThat(BindParameterCodec.unseal(a, KEY)).isEqualTo("o'brien");
        assertThatThrownBy(() -> BindParameterCodec.unseal(a, new byte[32])).isInstanceOf(GeneralSecurityException.class);
        assertThatThrownBy(() -> new BindParameterCodec(BindMode.SEALED, new byte[5])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void plainModeKeepsValues() {
        assertThat(new BindParameterCodec(BindMode.PLAIN, null).encode(Arrays.asList("a", null))).containsExactly("a", null);
    }
}
