package dev.warden.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config/warden.yaml documents every key; it must stay a config Warden actually accepts. */
class ExampleConfigTest {
    @Test
    void annotatedExampleConfigLoads(@TempDir Path dir) throws Exception {
        Path copy = dir.resolve("warden.yaml");
        Files.copy(Path.of("config/warden.yaml"), copy);
        Files.writeString(dir.resolve("bank-ca.crt"), "placeholder: only its presence is checked at load\n");
        Files.writeString(dir.resolve("bank-token.key"), "a token key of at least sixteen bytes\n");
        WardenConfig cfg = ConfigLoader.load(copy, Map.of("WARDEN_BANK_PASSWORD", "s3cret",
                "WARDEN_ETL_READER_PASSWORD", "r3ader", "WARDEN_API_KEY", "k".repeat(32), "WARDEN_SMTP_PASSWORD", "smtp-pw"));

        assertThat(cfg.listen().port()).isEqualTo(7432);
        assertThat(cfg.limits().maxMessageBytes()).isEqualTo(64 << 20);
        WardenConfig.Target bank = cfg.target("bank").orElseThrow();
        assertThat(bank.password()).isEqualTo("s3cret");
        assertThat(bank.sslmode()).isEqualTo(WardenConfig.SslMode.VERIFY_FULL);
        assertThat(bank.toString()).doesNotContain("s3cret");
        assertThat(cfg.user("alice").orElseThrow().mayUse("bank")).isTrue();
        assertThat(cfg.user("alice").orElseThrow().mayUse("other")).isFalse();
        assertThat(bank.passwordFor("etl_reader")).isEqualTo("r3ader");
        assertThat(bank.masking().columns()).containsEntry("public.customers.ssn", "ssn").containsEntry("public.cards.pan", "pan");
        assertThat(bank.masking().detectors()).contains("iban", "aba");
        assertThat(bank.masking().defaults()).containsEntry("ssn", "partial:4").containsEntry("dob", "year");
        assertThat(bank.masking().tokenKey()).isNotNull();
        assertThat(bank.allClassifiedTables()).contains("public.customers", "public.accounts", "public.cards");
        assertThat(cfg.oidc().grants()).extracting(g -> g.name()).containsExactly("etl-nightly-main");
        assertThat(cfg.approvals().groups()).containsOnlyKeys("dba", "security");
        assertThat(cfg.approvals().groups().get("security").required()).isEqualTo(2);
        assertThat(cfg.approvals().mail().password()).isEqualTo("smtp-pw");
        assertThat(cfg.approvals().linkKeyFile()).isEqualTo(dir.resolve("data/approval-link.key"));
    }
}
