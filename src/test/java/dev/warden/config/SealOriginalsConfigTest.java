package dev.warden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeyTemplates;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import com.google.crypto.tink.aead.AeadConfig;
import dev.warden.masking.SealedOriginals;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** targets.X.masking.sealOriginals: off when absent; the keyset must be a Tink public keyset for hybrid encryption. */
class SealOriginalsConfigTest {
    @TempDir
    Path dir;

    private static final String BASE = """
            users:
              - name: alice
                password: pw
            targets:
              bank:
                host: db.internal
                user: warden_bank
                masking:
                  columns:
                    public.customers.ssn: ssn
            """;

    private WardenConfig parse(String seal) {
        return ConfigLoader.parse(BASE + seal, new Secrets(Map.of(), dir), dir);
    }

    private void write(String name, String content) throws Exception {
        Files.writeString(dir.resolve(name), content);
    }

    @Test
    void offWhenAbsent() {
        assertThat(parse("").targets().get("bank").masking().sealOriginals()).isNull();
    }

    @Test
    void aPublicHybridKeysetIsAcceptedWithTheDefaultLimit() throws Exception {
        String[] pair = SealedOriginals.generate();
        write("pub.json", pair[1]);
        var s = parse("      sealOriginals:\n        publicKeyset: pub.json\n").targets().get("bank").masking().sealOriginals();
        assertThat(s.maxBytes()).isEqualTo(64 * 1024);
        assertThat(s.publicKeyset()).isEqualTo(dir.resolve("pub.json"));
        var s2 = parse("      sealOriginals:\n        publicKeyset: pub.json\n        maxBytes: 8KB\n").targets().get("bank")
                .masking().sealOriginals();
        assertThat(s2.maxBytes()).isEqualTo(8 * 1024);
    }

    @Test
    void aPrivateKeysetIsRefusedWithAReadableMessage() throws Exception {
        write("priv.json", SealedOriginals.generate()[0]);
        assertThatThrownBy(() -> parse("      sealOriginals:\n        publicKeyset: priv.json\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("targets.bank.masking.sealOriginals.publicKeyset")
                .hasMessageContaining("PRIVATE hybrid keyset")
                .hasMessageContaining("never on the Warden host");
    }

    @Test
    void aKeysetForAnotherPrimitiveIsRefused() throws Exception {
        AeadConfig.register();
        KeysetHandle aead = KeysetHandle.generateNew(KeyTemplates.get("AES256_GCM"));
        write("aead.json", TinkJsonProtoKeysetFormat.serializeKeyset(aead, InsecureSecretKeyAccess.get()));
        assertThatThrownBy(() -> parse("      sealOriginals:\n        publicKeyset: aead.json\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("not a Tink public keyset");
    }

    @Test
    void garbageMissingFilesAndUnknownKeysAreRefused() throws Exception {
        write("junk.json", "{\"hello\": 1}");
        assertThatThrownBy(() -> parse("      sealOriginals:\n        publicKeyset: junk.json\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("not a Tink public keyset")
                .hasMessageContaining("seal-keygen");
        assertThatThrownBy(() -> parse("      sealOriginals:\n        publicKeyset: missing.json\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("does not exist");
        assertThatThrownBy(() -> parse("      sealOriginals:\n        maxBytes: 1KB\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("needs publicKeyset");
        write("pub.json", SealedOriginals.generate()[1]);
        assertThatThrownBy(() -> parse("      sealOriginals:\n        publicKeyset: pub.json\n        maxByte: 1KB\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("unknown key");
    }
}
