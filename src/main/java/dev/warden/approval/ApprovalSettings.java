package dev.warden.approval;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The {@code approvals:} section of warden.yaml (parsed by {@code dev.warden.config.ApprovalsSection});
 * paths absolute, secrets resolved. The requests live in the audit's control store.
 *
 * @param enabled          false: no approval service; held statements can then only be refused
 * @param publicUrl        base of the links in mails and notices, without a trailing slash
 * @param timeout          a request not decided by then expires
 * @param failFastValidity fail-fast mode: how long after its approval a request may still be used (once)
 * @param linkKeyFile      HMAC key of the mail links (base64; generated, mode 0600, when missing)
 * @param groups           reviewer groups by name
 * @param mail             the SMTP server the notification route sends through
 * @param pollInterval     how often an instance looks for decisions taken on other instances and for expired requests
 */
public record ApprovalSettings(boolean enabled, String publicUrl, Duration timeout, Duration failFastValidity,
                               Path linkKeyFile, Map<String, Group> groups, Mail mail, Duration pollInterval) {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(15);
    public static final Duration DEFAULT_FAIL_FAST_VALIDITY = Duration.ofHours(1);
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(300);

    public ApprovalSettings {
        Objects.requireNonNull(publicUrl, "publicUrl");
        Objects.requireNonNull(linkKeyFile, "linkKeyFile");
        groups = Map.copyOf(groups);
        Objects.requireNonNull(mail, "mail");
        while (publicUrl.endsWith("/")) {
            publicUrl = publicUrl.substring(0, publicUrl.length() - 1);
        }
    }

    /** A named set of reviewers; {@code required} approvals from distinct members release a request. */
    public record Group(String name, List<String> reviewers, int required) {
        public Group {
            reviewers = List.copyOf(reviewers);
            if (required < 1 || required > reviewers.size()) {
                throw new IllegalArgumentException("group " + name + ": required must be between 1 and the number of reviewers");
            }
        }

        /** Reviewer addresses compare case-insensitively (mail addresses in practice are). */
        public boolean hasMember(String reviewer) {
            return reviewer != null && reviewers.stream().anyMatch(r -> r.equalsIgnoreCase(reviewer));
        }
    }

    public enum MailTls { NONE, STARTTLS, SMTPS }

    /** SMTP for the notification route; {@code enabled} false (or no host) sends no mail. */
    public record Mail(boolean enabled, String host, int port, MailTls tls, String username, String password,
                       String from) {
        public static Mail off() {
            return new Mail(false, null, 25, MailTls.NONE, null, null, "warden@localhost");
        }

        @Override
        public String toString() {
            // never print the password
            return "Mail[" + (enabled ? host + ":" + port + " tls=" + tls + " from=" + from
                    + (username == null ? "" : " user=" + username) : "off") + "]";
        }
    }

    /** Defaults (no groups, no mail) with the link key under {@code dataDir}. */
    public static ApprovalSettings defaults(Path dataDir, String publicUrl) {
        return new ApprovalSettings(true, publicUrl, DEFAULT_TIMEOUT, DEFAULT_FAIL_FAST_VALIDITY,
                dataDir.toAbsolutePath().resolve("approval-link.key"), Map.of(), Mail.off(), DEFAULT_POLL_INTERVAL);
    }

    public ApprovalSettings withTimeout(Duration t) {
        return new ApprovalSettings(enabled, publicUrl, t, failFastValidity, linkKeyFile, groups, mail, pollInterval);
    }

    public ApprovalSettings withGroups(Map<String, Group> g) {
        return new ApprovalSettings(enabled, publicUrl, timeout, failFastValidity, linkKeyFile, g, mail, pollInterval);
    }

    public ApprovalSettings withMail(Mail m) {
        return new ApprovalSettings(enabled, publicUrl, timeout, failFastValidity, linkKeyFile, groups, m, pollInterval);
    }
}
