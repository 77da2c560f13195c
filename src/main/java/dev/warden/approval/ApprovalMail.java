package dev.warden.approval;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;

/**
 * Glue between the service and {@code routes/approvals.camel.yaml}: the property placeholders the
 * route's mail endpoint is built from, and the {@link Approvals.Notifier} that hands each reviewer's
 * notification to {@code direct:approval-notify} as a map of plain strings (the route's mail
 * template reads them with {@code ${body[key]}}). The route decides the channels; Java only checks
 * whether the exchange failed.
 */
public final class ApprovalMail {
    public static final String ENDPOINT = "direct:approval-notify";
    /** A route branch that delivered nothing sets this header to "false" (e.g. mail is off). */
    public static final String DELIVERED_HEADER = "wardenDelivered";

    private ApprovalMail() {
    }

    /** {@code warden.approvals.mail.enabled} and {@code warden.approvals.mail.uri} for the route. */
    public static Properties properties(ApprovalSettings.Mail mail) {
        Properties p = new Properties();
        p.setProperty("warden.approvals.mail.enabled", Boolean.toString(mail.enabled()));
        p.setProperty("warden.approvals.mail.from", mail.from());
        p.setProperty("warden.approvals.mail.uri", endpointUri(mail));
        return p;
    }

    /** The camel-mail endpoint: smtp or smtps, credentials as RAW() so no character needs escaping. */
    static String endpointUri(ApprovalSettings.Mail mail) {
        if (!mail.enabled()) {
            return "smtp://localhost:25?from=" + enc(mail.from()); // never used: the route's branch is off
        }
        StringBuilder u = new StringBuilder(mail.tls() == ApprovalSettings.MailTls.SMTPS ? "smtps://" : "smtp://");
        u.append(mail.host()).append(':').append(mail.port());
        u.append("?from=").append(enc(mail.from()));
        u.append("&connectionTimeout=10000");
        if (mail.username() != null) {
            u.append("&username=RAW(").append(mail.username()).append(")");
            u.append("&password=RAW(").append(mail.password()).append(")");
        }
        if (mail.tls() == ApprovalSettings.MailTls.STARTTLS) {
            u.append("&additionalJavaMailProperties=#approvalMailProperties");
        }
        return u.toString();
    }

    /** Java Mail properties for STARTTLS (required, not opportunistic: a downgrade must fail). */
    public static Properties javaMailProperties(ApprovalSettings.Mail mail) {
        Properties p = new Properties();
        if (mail.tls() == ApprovalSettings.MailTls.STARTTLS) {
            p.setProperty("mail.smtp.starttls.enable", "true");
            p.setProperty("mail.smtp.starttls.required", "true");
        }
        p.setProperty("mail.smtp.timeout", "10000");
        p.setProperty("mail.smtp.writetimeout", "10000");
        return p;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** Sends each notification through the route; a failed exchange throws (the service records the failure). */
    public static Approvals.Notifier notifier(ProducerTemplate template) {
        return n -> {
            Exchange done = template.send(ENDPOINT, ex -> {
                ex.getIn().setHeader("To", n.reviewer());
                ex.getIn().setBody(fields(n));
            });
            if (done.getException() != null) {
                throw done.getException();
            }
            if ("false".equals(String.valueOf(done.getMessage().getHeader(DELIVERED_HEADER)))) {
                throw new IllegalStateException("no notification channel delivered it (approvals.mail is off)");
            }
        };
    }

    /** Everything the mail template may show, as single-line strings (except the statement block). */
    static Map<String, String> fields(Approvals.Notification n) {
        ApprovalRequest r = n.request();
        Map<String, String> m = new LinkedHashMap<>();
        m.put("id", r.id());
        m.put("reviewer", n.reviewer());
        m.put("requester", line(r.identity().subject()));
        m.put("grant", line(r.identity().grant()));
        String ci = r.identity().ci().isEmpty() ? "-" : line(String.join(", ",
                "repository " + nz(r.identity().ci("repository")), "workflow " + nz(r.identity().ci("workflow")),
                "run " + nz(r.identity().ci("runId")), "actor " + nz(r.identity().ci("actor"))));
        m.put("ci", ci);
        m.put("client", line(nz(r.clientAddress())));
        m.put("target", line(r.target()));
        m.put("group", r.reviewerGroup());
        m.put("required", Integer.toString(r.requiredApprovals()));
        m.put("risk", line(nz(r.risk())));
        m.put("reason", line(nz(r.reason())));
        m.put("rules", line(r.rules().isEmpty() ? "-" : String.join("; ", r.rules())));
        m.put("rulesVersion", line(nz(r.rulesVersion())));
        m.put("expires", r.expires().toString());
        // indented and fenced, so that a statement cannot pass itself off as the mail's own text or links
        StringBuilder s = new StringBuilder();
        for (String l : r.text().split("\r\n|\r|\n", -1)) {
            s.append("    | ").append(Html.visible(l).replace("\r", "\\u000D")).append('\n');
        }
        m.put("statement", s.toString());
        m.put("pageUrl", n.pageUrl());
        m.put("approveUrl", n.approveUrl());
        m.put("denyUrl", n.denyUrl());
        return m;
    }

    private static String nz(String s) {
        return s == null || s.isBlank() ? "-" : s;
    }

    /** One line, no control characters (values end up in mail headers and in plain text). */
    static String line(String s) {
        if (s == null) {
            return "-";
        }
        String t = Html.visible(s.replaceAll("[\\r\\n\\t]", " ")).strip();
        return t.length() > 500 ? t.substring(0, 500) + "…" : t;
    }
}
