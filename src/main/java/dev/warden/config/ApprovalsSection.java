package dev.warden.config;

import dev.warden.approval.ApprovalSettings;
import dev.warden.approval.ApprovalSettings.Group;
import dev.warden.approval.ApprovalSettings.Mail;
import dev.warden.approval.ApprovalSettings.MailTls;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code approvals:} section of warden.yaml (see config/warden.yaml and docs/approvals.md). Every
 * key is optional: without the section approvals are enabled with no reviewer groups (so every
 * HOLD naming a group fails until one is configured) and no mail.
 */
public final class ApprovalsSection {
    static final Set<String> KEYS = Set.of("enabled", "publicUrl", "timeout", "failFastValidity", "linkKeyFile",
            "groups", "mail", "pollInterval");
    private static final Set<String> GROUP_KEYS = Set.of("reviewers", "required");
    private static final Set<String> MAIL_KEYS = Set.of("enabled", "host", "port", "tls", "username", "password", "from");
    private static final String ADDRESS = "[^\\s@<>,;\"]+@[^\\s@<>,;\"]+";

    private ApprovalsSection() {
    }

    static ApprovalSettings parse(Node a, Path baseDir, Secrets secrets, WardenConfig.Http http) {
        Path base = baseDir == null ? Path.of("").toAbsolutePath() : baseDir.toAbsolutePath();
        a.allowOnly(KEYS);
        boolean enabled = a.get("enabled").bool(true);

        Node pu = a.get("publicUrl");
        String publicUrl = pu.text("http://" + http.host() + ":" + http.port()).trim();
        try {
            URI u = new URI(publicUrl);
            if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null
                    || u.getQuery() != null || u.getFragment() != null) {
                throw pu.error("expected an http(s) URL without query, such as https://warden.example.com, got '" + publicUrl + "'");
            }
        } catch (URISyntaxException e) {
            throw pu.error("expected an http(s) URL such as https://warden.example.com, got '" + publicUrl + "'");
        }

        Duration timeout = positive(a.get("timeout"), ApprovalSettings.DEFAULT_TIMEOUT);
        Duration validity = positive(a.get("failFastValidity"), ApprovalSettings.DEFAULT_FAIL_FAST_VALIDITY);
        Duration poll = positive(a.get("pollInterval"), ApprovalSettings.DEFAULT_POLL_INTERVAL);
        if (poll.compareTo(Duration.ofMillis(50)) < 0 || poll.compareTo(Duration.ofSeconds(10)) > 0) {
            throw a.get("pollInterval").error("expected between 50ms and 10s");
        }
        Node lk = a.get("linkKeyFile");
        Path linkKey = lk.isMissing() ? base.resolve("data").resolve("approval-link.key") : base.resolve(lk.requiredText());

        Map<String, Group> groups = new LinkedHashMap<>();
        for (Map.Entry<String, Node> e : a.get("groups").entries().entrySet()) {
            String name = e.getKey();
            Node g = e.getValue();
            if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
                throw g.error("a group name must be 1 to 64 of A-Z a-z 0-9 . _ -");
            }
            if (g.isMissing()) {
                throw g.error("is empty; a group needs reviewers");
            }
            g.allowOnly(GROUP_KEYS);
            List<String> reviewers = new ArrayList<>();
            for (Node r : g.get("reviewers").items()) {
                String who = r.requiredText().trim();
                if (!who.matches(ADDRESS) && !who.matches("api-key:[A-Za-z0-9._-]{1,64}")) {
                    throw r.error("expected a mail address (or api-key:<index> for an API key acting as reviewer), got '" + who + "'");
                }
                if (reviewers.stream().anyMatch(x -> x.equalsIgnoreCase(who))) {
                    throw r.error("reviewer '" + who + "' is listed twice");
                }
                reviewers.add(who);
            }
            if (reviewers.isEmpty()) {
                throw g.get("reviewers").error("must list at least one reviewer");
            }
            int required = g.get("required").integer(1, 1, reviewers.size());
            groups.put(name, new Group(name, reviewers, required));
        }

        Node m = a.get("mail");
        m.allowOnly(MAIL_KEYS);
        Mail mail = Mail.off();
        if (!m.isMissing()) {
            String host = m.get("host").text(null);
            boolean mailOn = m.get("enabled").bool(host != null);
            if (mailOn && (host == null || host.isBlank())) {
                throw m.get("host").error("is required when mail is enabled");
            }
            MailTls tls = m.get("tls").choice(MailTls.class, MailTls.STARTTLS);
            int port = m.get("port").integer(switch (tls) {
                case NONE -> 25;
                case STARTTLS -> 587;
                case SMTPS -> 465;
            }, 1, 65535);
            String user = m.get("username").text(null);
            String password = secrets.resolve(m.get("password").text(null), m.get("password").path());
            if ((user == null) != (password == null)) {
                throw m.error("give both username and password, or neither");
            }
            String from = m.get("from").text("warden@" + (host == null ? "localhost" : host)).trim();
            if (!from.matches(ADDRESS)) {
                throw m.get("from").error("expected a mail address, got '" + from + "'");
            }
            mail = new Mail(mailOn, host, port, tls, user, password, from);
        }
        return new ApprovalSettings(enabled, publicUrl, timeout, validity, linkKey, groups, mail, poll);
    }

    private static Duration positive(Node n, Duration dflt) {
        Duration d = n.duration(dflt);
        if (d.isZero() || d.isNegative()) {
            throw n.error("must be longer than 0");
        }
        return d;
    }
}
