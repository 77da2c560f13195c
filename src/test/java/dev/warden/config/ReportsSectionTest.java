package dev.warden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.report.ReportSettings;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportsSectionTest {
    private static final String BASE = """
            targets:
              bank:
                host: db.internal
                user: warden_bank
                classifiedTables: [customers]
            """;

    @TempDir
    Path dir;

    private WardenConfig parse(String reports, Map<String, String> env) {
        return ConfigLoader.parse(BASE + reports, new Secrets(env, dir), dir);
    }

    @Test
    void withoutTheSectionReportsRunDailyAndMonthlyInEveryFormatUnderData() {
        ReportSettings r = parse("", Map.of()).reports();
        assertThat(r.enabled()).isTrue();
        assertThat(r.daily().cron()).isEqualTo("0 0 6 * * ?");
        assertThat(r.monthly().cron()).isEqualTo("0 0 6 1 * ?");
        assertThat(r.timeZone()).isEqualTo(ZoneId.of("UTC"));
        assertThat(r.outputDir()).isEqualTo(dir.toAbsolutePath().resolve("data/reports"));
        assertThat(r.formats()).containsExactly(ReportSettings.Format.values());
        assertThat(r.mail()).isNull();
        assertThat(r.classifiedTablesOf("bank")).containsExactly("public.customers");
    }

    @Test
    void everyKeyIsRead() {
        ReportSettings r = parse("""
                reports:
                  daily: {cron: "0 30 5 * * ?"}
                  monthly: {enabled: false}
                  timeZone: America/New_York
                  outputDir: out/reports
                  targets: [bank]
                  formats: [pdf]
                  recipients: [audit@bank.example]
                  mail: {host: smtp.bank.example, tls: smtps, username: u, password: "${env:PW}", from: w@bank.example}
                """, Map.of("PW", "secret")).reports();
        assertThat(r.daily().cron()).isEqualTo("0 30 5 * * ?");
        assertThat(r.monthly().enabled()).isFalse();
        assertThat(r.formats()).containsExactly(ReportSettings.Format.PDF, ReportSettings.Format.JSON);
        assertThat(r.mail().port()).isEqualTo(465);
        assertThat(r.mail().password()).isEqualTo("secret");
        assertThat(r.mail().toString()).doesNotContain("secret");
        assertThat(r.targets()).isEqualTo(List.of("bank"));
    }

    @Test
    void mistakesNameTheKeyToFix() {
        assertThatThrownBy(() -> parse("reports:\n  daily: {cron: \"every day\"}\n", Map.of()))
                .hasMessageStartingWith("reports.daily.cron: expected a Quartz cron expression");
        assertThatThrownBy(() -> parse("reports:\n  recipients: [a@b.example]\n", Map.of()))
                .hasMessageStartingWith("reports.mail: is required when recipients are listed");
        assertThatThrownBy(() -> parse("reports:\n  targets: [nope]\n", Map.of()))
                .hasMessageContaining("'nope' is not a configured target");
        assertThatThrownBy(() -> parse("reports:\n  formats: [docx]\n", Map.of()))
                .hasMessageContaining("unknown report format 'docx'");
        assertThatThrownBy(() -> parse("reports:\n  mail: {host: h, from: f@x.example, tls: ssl}\n", Map.of()))
                .hasMessageStartingWith("reports.mail.tls: expected one of none, starttls, smtps");
        assertThatThrownBy(() -> parse("reports:\n  timeZone: Mars/Olympus\n", Map.of()))
                .hasMessageStartingWith("reports.timeZone:");
    }
}
