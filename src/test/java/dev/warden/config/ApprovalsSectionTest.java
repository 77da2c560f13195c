package dev.warden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.warden.approval.ApprovalSettings;
import dev.warden.approval.ApprovalSettings.MailTls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApprovalsSectionTest {
    private static final WardenConfig.Http HTTP = new WardenConfig.Http(true, "127.0.0.1", 8432, List.of());
    @TempDir
    Path dir;

    private ApprovalSettings parse(String yaml, Map<String, String> env) throws Exception {
        var root = new ObjectMapper(new YAMLFactory()).readTree(yaml.isEmpty() ? "{}" : yaml);
        return ApprovalsSection.parse(new Node(root, "").get("approvals"), dir, new Secrets(env, dir), HTTP);
    }

    private void refused(String yaml, String message) {
        assertThatThrownBy(() -> parse(yaml, Map.of())).isInstanceOf(ConfigException.class).hasMessageContaining(message);
    }

    @Test
    void withoutTheSectionApprovalsAreOnWithoutGroupsOrMail() throws Exception {
        ApprovalSettings s = parse("", Map.of());
        assertThat(s.enabled()).isTrue();
        assertThat(s.publicUrl()).isEqualTo("http://127.0.0.1:8432");
        assertThat(s.timeout()).isEqualTo(Duration.ofMinutes(15));
        assertThat(s.failFastValidity()).isEqualTo(Duration.ofHours(1));
        assertThat(s.linkKeyFile()).isEqualTo(dir.resolve("data/approval-link.key"));
        assertThat(s.groups()).isEmpty();
        assertThat(s.mail().enabled()).isFalse();
    }

    @Test
    void everyKey() throws Exception {
        ApprovalSettings s = parse("""
                approvals:
                  enabled: true
                  publicUrl: https://warden.example.com/
                  timeout: 30m
                  failFastValidity: 2h
                  pollInterval: 500ms
                  linkKeyFile: keys/link.key
                  groups:
                    dba:
                      reviewers: [a@example.com, B@example.com]
                      required: 2
                  mail:
                    host: smtp.example.com
                    tls: smtps
                    username: warden
                    password: ${env:SMTP_PW}
                    from: warden@example.com
                """, Map.of("SMTP_PW", "s3cret"));
        assertThat(s.publicUrl()).isEqualTo("https://warden.example.com");
        assertThat(s.timeout()).isEqualTo(Duration.ofMinutes(30));
        assertThat(s.failFastValidity()).isEqualTo(Duration.ofHours(2));
        assertThat(s.pollInterval()).isEqualTo(Duration.ofMillis(500));
        assertThat(s.linkKeyFile()).isEqualTo(dir.resolve("keys/link.key"));
        assertThat(s.groups().get("dba").required()).isEqualTo(2);
        assertThat(s.groups().get("dba").hasMember("b@example.com")).isTrue();
        assertThat(s.mail().enabled()).isTrue();
        assertThat(s.mail().tls()).isEqualTo(MailTls.SMTPS);
        assertThat(s.mail().port()).isEqualTo(465);
        assertThat(s.mail().password()).isEqualTo("s3cret");
        assertThat(s.mail().toString()).doesNotContain("s3cret");
    }

    @Test
    void mistakesNameTheKey() {
        refused("approvals: {timeout: 0s}", "approvals.timeout: must be longer than 0");
        refused("approvals: {publicUrl: 'ftp://x'}", "approvals.publicUrl: expected an http(s) URL");
        refused("approvals: {groups: {dba: {reviewers: [not-an-address]}}}", "approvals.groups.dba.reviewers[0]: expected a mail address");
        refused("approvals: {groups: {dba: {reviewers: [a@x.org], required: 2}}}", "approvals.groups.dba.required: expected a whole number between 1 and 1");
        refused("approvals: {groups: {dba: {reviewers: []}}}", "approvals.groups.dba.reviewers: must list at least one reviewer");
        refused("approvals: {groups: {dba: {reviewers: [a@x.org, A@x.org]}}}", "listed twice");
        refused("approvals: {mail: {enabled: true}}", "approvals.mail.host: is required");
        refused("approvals: {mail: {host: h, tls: ssl}}", "approvals.mail.tls: expected one of none, starttls, smtps");
        refused("approvals: {mail: {host: h, username: u}}", "approvals.mail: give both username and password");
        refused("approvals: {grups: {}}", "approvals.grups: unknown key");
    }
}
