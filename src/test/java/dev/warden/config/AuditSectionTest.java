package dev.warden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.warden.audit.AuditSettings;
import dev.warden.audit.AuditSettings.BindMode;
import dev.warden.audit.AuditSettings.Durability;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditSectionTest {
    @TempDir
    Path dir;

    private AuditSettings parse(String yaml) throws Exception {
        return parse(yaml, Map.of());
    }

    private AuditSettings parse(String yaml, Map<String, String> env) throws Exception {
        var root = new ObjectMapper(new YAMLFactory()).readTree(yaml.isEmpty() ? "{}" : yaml);
        return AuditSection.parse(new Node(root, "").get("audit"), dir, new Secrets(env, dir));
    }

    private void refused(String yaml, String message) {
        assertThatThrownBy(() -> parse(yaml)).isInstanceOf(ConfigException.class).hasMessageContaining(message);
    }

    @Test
    void withoutTheSectionEverythingLivesUnderData() throws Exception {
        AuditSettings s = parse("");
        assertThat(s.store().url()).startsWith("jdbc:h2:file:" + dir.resolve("data/audit"));
        assertThat(s.durability()).isEqualTo(Durability.BATCHED);
        assertThat(s.batchWindow()).isEqualTo(Duration.ofMillis(5));
        assertThat(s.checkpointEvery()).isEqualTo(10_000);
        assertThat(s.checkpointInterval()).isEqualTo(Duration.ofSeconds(10));
        assertThat(s.signingKeyFile()).isEqualTo(dir.resolve("data/audit-signing-key.pem"));
        assertThat(s.generateSigningKey()).isTrue();
        assertThat(s.bindParameters()).isEqualTo(BindMode.HASH);
        assertThat(s.retention()).isEqualTo(Duration.ofDays(7 * 365));
        assertThat(s.instanceId()).isNull();
        assertThat(s.instanceIdFile()).isEqualTo(dir.resolve("data/audit-instance-id"));
        assertThat(s.syncInterval()).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void syncIntervalIsADurationOrZeroForNever() throws Exception {
        assertThat(parse("audit:\n  syncInterval: 250ms\n").syncInterval()).isEqualTo(Duration.ofMillis(250));
        assertThat(parse("audit:\n  syncInterval: 0s\n").syncInterval()).isZero();
        refused("audit:\n  syncInterval: 5ms\n", "audit.syncInterval: at least 10ms, or 0s for never");
        refused("audit:\n  syncInterval: 2m\n", "audit.syncInterval: expected 0s (never) up to 60s");
        refused("audit:\n  syncInterval: often\n", "audit.syncInterval: expected a duration");
    }

    @Test
    void everyKey() throws Exception {
        Files.writeString(dir.resolve("sign.pem"), "x");
        String seal = Base64.getEncoder().encodeToString(new byte[32]);
        AuditSettings s = parse("""
                audit:
                  store:
                    url: jdbc:postgresql://audit-db:5432/warden_audit
                    user: warden_audit_app
                    password: ${env:AUDIT_PW}
                    schemaUser: warden_audit_owner
                    schemaPassword: ${env:OWNER_PW}
                  durability: strict
                  batchWindow: 2ms
                  queueCapacity: 5000
                  strictTimeout: 3s
                  checkpointEvery: 500
                  checkpointInterval: 30s
                  signingKey: sign.pem
                  bindParameters: sealed
                  sealKey: ${env:SEAL}
                  retention: 400d
                  instanceId: warden-eu-1
                """, Map.of("AUDIT_PW", "app-secret", "OWNER_PW", "owner-secret", "SEAL", seal));
        assertThat(s.store()).isEqualTo(new AuditSettings.Store("jdbc:postgresql://audit-db:5432/warden_audit",
                "warden_audit_app", "app-secret", "warden_audit_owner", "owner-secret"));
        assertThat(s.store().toString()).doesNotContain("secret");
        assertThat(s.durability()).isEqualTo(Durability.STRICT);
        assertThat(s.batchWindow()).isEqualTo(Duration.ofMillis(2));
        assertThat(s.queueCapacity()).isEqualTo(5000);
        assertThat(s.strictTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(s.checkpointEvery()).isEqualTo(500);
        assertThat(s.checkpointInterval()).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.signingKeyFile()).isEqualTo(dir.resolve("sign.pem"));
        assertThat(s.generateSigningKey()).isFalse();
        assertThat(s.sealKey()).hasSize(32);
        assertThat(s.retention()).isEqualTo(Duration.ofDays(400));
        assertThat(s.instanceId()).isEqualTo("warden-eu-1");
        assertThat(s.toString()).doesNotContain(seal);
    }

    @Test
    void storeAsAPathOrAUrl() throws Exception {
        assertThat(parse("audit:\n  store: state/audit\n").store().url()).startsWith("jdbc:h2:file:" + dir.resolve("state/audit"));
        AuditSettings.Store pg = parse("audit:\n  store: jdbc:postgresql://h/db?user=a&password=b\n").store();
        assertThat(pg.isPostgres()).isTrue();
        assertThat(parse("audit:\n  retention: 7y\n").retention()).isEqualTo(Duration.ofDays(2555));
        assertThat(parse("audit:\n  retention: 12h\n").retention()).isEqualTo(Duration.ofHours(12));
    }

    @Test
    void mistakesNameTheKey() {
        refused("audit:\n  stroe: x\n", "audit.stroe: unknown key");
        refused("audit:\n  durability: eventually\n", "audit.durability: expected one of batched, strict");
        refused("audit:\n  bindParameters: sealed\n", "audit.sealKey: is required when bindParameters is sealed");
        refused("audit:\n  bindParameters: sealed\n  sealKey: c2hvcnQ=\n", "audit.sealKey: expected base64 of a 16, 24 or 32 byte AES key, got 5 bytes");
        refused("audit:\n  sealKey: abc\n", "audit.sealKey: only used when bindParameters is sealed");
        refused("audit:\n  retention: forever\n", "audit.retention: expected a retention such as 7y");
        refused("audit:\n  signingKey: missing.pem\n", "audit.signingKey: file");
        refused("audit:\n  store:\n    url: mysql://x\n", "audit.store.url: expected a jdbc:postgresql: or jdbc:h2: URL");
        refused("audit:\n  store:\n    uri: jdbc:postgresql://x/y\n", "audit.store.uri: unknown key");
        refused("audit:\n  instanceId: 'has space'\n", "audit.instanceId: expected 1 to 64");
        refused("audit:\n  checkpointEvery: 0\n", "audit.checkpointEvery: expected a whole number between 1");
        refused("audit:\n  batchWindow: 5s\n", "audit.batchWindow: at most 1s");
    }
}
