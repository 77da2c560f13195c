package dev.warden.report;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The report as one self-contained HTML page for people: no scripts, no external resources, charts
 * as inline SVG drawn here. Everything from the audit store is escaped — statement texts, user names
 * and failure reasons are chosen by whoever connected, i.e. potentially by an attacker.
 */
public final class ReportHtml {
    private ReportHtml() {
    }

    static final Map<String, String> VERDICT_COLOURS = Map.of("allow", "#2e7d32", "block", "#c62828", "hold", "#ef6c00",
            "mask", "#1565c0", "none", "#757575");

    public static byte[] render(EvidenceReport r) {
        StringBuilder h = new StringBuilder(16_384);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">")
                .append("<title>").append(esc(r.title())).append("</title><style>")
                .append("body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}")
                .append("table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:3px 6px;")
                .append("text-align:left;vertical-align:top;font-size:.9em}th{background:#f3f3f3}")
                .append(".num{text-align:right}.guidance{color:#555;font-size:.85em}.ok{background:#e8f5e9;border:2px solid #2e7d32}")
                .append(".failed{background:#ffebee;border:4px solid #c62828}.banner{padding:1em;margin:1em 0;font-weight:bold}")
                .append("code,pre{white-space:pre-wrap;word-break:break-all;font-size:.85em}.signoff td{height:2em;min-width:20em}")
                .append("</style></head><body>\n");
        h.append("<h1>").append(esc(r.title())).append("</h1>\n");
        h.append("<p>Report <code>").append(esc(r.id())).append("</code>, generated ").append(esc(r.generatedAt()))
                .append(" by ").append(esc(r.generatedBy())).append(". Period [").append(esc(r.scope().from()))
                .append(", ").append(esc(r.scope().to())).append(") (").append(esc(r.scope().timeZone()))
                .append("), target ").append(esc(r.scope().target() == null ? "all" : r.scope().target())).append(".</p>\n");
        EvidenceReport.Integrity in = r.integrity();
        h.append("<div id=\"integrity-banner\" class=\"banner ").append(in.ok() ? "ok" : "failed").append("\">")
                .append(in.ok() ? "Audit trail integrity: " : "WARNING — audit trail integrity: ")
                .append(esc(in.verdict())).append("</div>\n");

        h.append("<h2>Records covered</h2>\n<p>Every figure below is recomputed from these audit records "
                + "(table <code>audit_block</code>, per chain, positions first..last with a time in the period).</p>");
        table(h, List.of("instance", "first seq", "last seq", "records in period", "records for this target"),
                r.coverage().stream().map(c -> List.<Object>of(c.instance(), c.firstSeq(), c.lastSeq(), c.records(),
                        c.recordsForTarget())).toList());

        EvidenceReport.Activity a = r.activity();
        section(h, "activity", "Activity", a.guidance());
        h.append("<p>").append(a.statements()).append(" statements, ").append(a.logins()).append(" successful logins.</p>");
        table(h, List.of("verdict", "statements"), rows(a.byVerdict()));
        h.append(perDayChart(a));

        EvidenceReport.Identities ids = r.identities();
        section(h, "identities", "Identity inventory", ids.guidance());
        h.append("<p>").append(ids.nonHuman()).append(" non-human (CI) identities, ").append(ids.staticUsers())
                .append(" static users.").append(ids.truncated() ? " The list was cut at the limit." : "").append("</p>");
        table(h, List.of("kind", "issuer", "subject", "repository", "workflows", "runs", "recent run ids", "grants",
                "targets", "sessions", "statements", "blocked", "first seen", "last seen"),
                ids.rows().stream().map(i -> List.<Object>of(nz(i.kind()), nz(i.issuer()), nz(i.subject()), nz(i.repository()),
                        String.join(", ", i.workflows()), i.runs(), String.join(", ", i.runIds()),
                        String.join(", ", i.grants()), String.join(", ", i.targets()), i.sessions(), i.statements(),
                        i.blocked(), nz(i.firstSeen()), nz(i.lastSeen()))).toList());
        h.append(topIdentitiesChart(ids));

        EvidenceReport.ClassifiedAccess ca = r.classifiedAccess();
        section(h, "classified", "Access to classified data", ca.guidance());
        h.append("<p>Classified tables: ").append(esc(ca.classifiedTables().toString())).append(". ")
                .append(ca.statements()).append(" statements, ").append(ca.rowsReturned()).append(" rows returned, ")
                .append(ca.maskedStatements()).append(" masked, ").append(ca.unmaskedStatements()).append(" unmasked.</p>");
        table(h, List.of("table", "statements", "rows returned", "masked", "unmasked"), ca.tables().stream()
                .map(t -> List.<Object>of(t.table(), t.statements(), t.rowsReturned(), t.masked(), t.unmasked())).toList());
        table(h, List.of("identity", "statements", "rows returned", "unmasked"), ca.readers().stream()
                .map(t -> List.<Object>of(t.subject(), t.statements(), t.rowsReturned(), t.unmasked())).toList());
        if (!ca.maskedColumns().isEmpty()) {
            table(h, List.of("masked column", "statements", "cells"), ca.maskedColumns().stream()
                    .map(m -> List.<Object>of(m.column(), m.statements(), m.cells() == null ? "not recorded" : m.cells()))
                    .toList());
        }

        EvidenceReport.Privileged p = r.privileged();
        section(h, "privileged", "Privileged operations", p.guidance());
        h.append("<p>").append(p.total()).append(" privileged statements (DDL, DCL, held for approval).")
                .append(p.notListed() > 0 ? " " + p.notListed() + " more are counted but not listed." : "").append("</p>");
        table(h, List.of("status", "statements"), rows(p.byStatus()));
        table(h, List.of("record", "at", "identity", "target", "command", "statement", "decision", "outcome", "status",
                "approval", "reviewer", "time to decide"), p.operations().stream().map(o -> List.<Object>of(o.record(),
                o.at(), nz(o.subject()), nz(o.target()), nz(o.command()), new Code(o.text()), o.decision(),
                nz(o.outcome()), o.status(), o.approval() == null ? "" : o.approval().id(),
                o.approval() == null ? "" : nz(o.approval().reviewer()),
                o.approval() == null || o.approval().secondsToDecide() == null ? "" : o.approval().secondsToDecide() + " s"))
                .toList());

        EvidenceReport.Exceptions e = r.exceptions();
        section(h, "exceptions", "Exceptions", e.guidance());
        table(h, List.of("exception", "count"), List.of(
                List.of("blocked statements", e.blockedStatements()),
                List.of("approvals denied", e.approvalsDenied()),
                List.of("approvals expired", e.approvalsExpired()),
                List.of("failed logins", e.failedLogins()),
                List.of("sessions ended by token expiry", e.sessionsEndedByTokenExpiry()),
                List.of("sessions ended by revocation", e.sessionsEndedByRevocation()),
                List.of("sessions interrupted by an unclean stop", e.sessionsInterrupted()),
                List.of("statements not run: audit unavailable (53400)", e.statementsNotRunAuditDown())));
        table(h, List.of("blocked by rule", "statements"), rows(e.blockedByRule()));
        table(h, List.of("failed login reason", "attempts"), rows(e.failedLoginsByReason()));
        table(h, List.of("failed login user", "attempts"), rows(e.failedLoginsByUser()));
        table(h, List.of("record", "at", "identity", "statement", "rules"), e.blockedExamples().stream()
                .map(o -> List.<Object>of(o.record(), o.at(), nz(o.subject()), new Code(o.text()), String.join("; ", o.rules())))
                .toList());

        section(h, "integrity", "Integrity of the audit trail", in.guidance());
        h.append("<p><strong>").append(esc(in.verdict())).append("</strong></p>");
        h.append("<p>Trusted signing key id(s): ").append(esc(String.join(", ", in.trustedKeyIds()))).append("</p>");
        for (EvidenceReport.Chain c : in.chains()) {
            h.append("<h3>Chain ").append(esc(c.instance())).append(c.ok() ? " — verifies" : " — FAILED").append("</h3>");
            h.append("<pre>").append(esc(c.summary())).append("</pre>");
            checkpoint(h, "Signed checkpoint before the period", c.before());
            checkpoint(h, "Signed checkpoint closing the period", c.after());
        }
        table(h, List.of("gap: instance", "record", "at", "detail"), in.gaps().stream().map(g -> List.<Object>of(
                nz(g.instance()), g.seq() == null ? "" : g.seq(), nz(g.at()), g.detail())).toList());

        EvidenceReport.Effectiveness ef = r.effectiveness();
        section(h, "effectiveness", "Control effectiveness", ef.guidance());
        table(h, List.of("rules version", "first seen", "last seen", "statements"), ef.rulesVersions().stream()
                .map(v -> List.<Object>of(v.version(), v.firstSeen(), v.lastSeen(), v.statements())).toList());
        table(h, List.of("rules changed at", "from", "to"), ef.rulesChanges().stream()
                .map(c -> List.<Object>of(c.at(), c.from(), c.to())).toList());
        EvidenceReport.Latency l = ef.approvalLatency();
        h.append("<p>").append(l.decided()).append(" approvals decided; median ").append(secs(l.medianSeconds()))
                .append(", 90th percentile ").append(secs(l.p90Seconds())).append(", longest ").append(secs(l.maxSeconds()))
                .append(".</p>");
        h.append(latencyChart(l));
        h.append("<p>Masking coverage: ").append(esc(ef.masking().coverage())).append(".</p>");

        EvidenceReport.SignOff s = r.signOff();
        section(h, "signoff", "Review sign-off", s.guidance());
        h.append("<p>Sent to: ").append(esc(s.recipients().isEmpty() ? "(no recipients configured)"
                : String.join(", ", s.recipients()))).append("</p><p>").append(esc(s.attestation())).append("</p>");
        h.append("<table class=\"signoff\"><tr><th>Reviewer name</th><td></td></tr><tr><th>Role</th><td></td></tr>")
                .append("<tr><th>Date</th><td></td></tr><tr><th>Signature</th><td></td></tr>")
                .append("<tr><th>Findings / follow-up</th><td></td></tr></table>");
        h.append("<p class=\"guidance\">Check this file against its signature: <code>./warden report verify FILE "
                + "--public-key audit-signing-key.pub.pem</code> (docs/reports.md).</p>");
        h.append("</body></html>\n");
        return h.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A cell printed as code. */
    private record Code(String text) {
    }

    private static void section(StringBuilder h, String id, String title, List<String> guidance) {
        h.append("\n<h2 id=\"").append(id).append("\">").append(esc(title)).append("</h2>\n<p class=\"guidance\">Serves: ")
                .append(esc(String.join("; ", guidance))).append("</p>\n");
    }

    private static void checkpoint(StringBuilder h, String title, EvidenceReport.CheckpointRef c) {
        h.append("<p>").append(esc(title)).append(": ");
        if (c == null) {
            h.append("none</p>");
            return;
        }
        h.append("#").append(c.number()).append(" at record ").append(c.seq()).append(", ").append(esc(c.time()))
                .append(", key ").append(esc(c.keyId())).append("</p><pre>").append(esc(c.body())).append('\n')
                .append(esc(c.signature())).append("</pre>");
    }

    private static List<List<Object>> rows(Map<String, Long> m) {
        List<List<Object>> out = new ArrayList<>();
        m.forEach((k, v) -> out.add(List.of(k, v)));
        return out;
    }

    private static Object nz(Object o) {
        return o == null ? "" : o;
    }

    private static void table(StringBuilder h, List<String> head, List<List<Object>> rows) {
        if (rows.isEmpty()) {
            h.append("<p><em>none</em></p>\n");
            return;
        }
        h.append("<table><tr>");
        for (String c : head) {
            h.append("<th>").append(esc(c)).append("</th>");
        }
        h.append("</tr>\n");
        for (List<Object> row : rows) {
            h.append("<tr>");
            for (Object c : row) {
                if (c instanceof Number) {
                    h.append("<td class=\"num\">").append(c).append("</td>");
                } else if (c instanceof Code code) {
                    h.append("<td><code>").append(esc(code.text())).append("</code></td>");
                } else {
                    h.append("<td>").append(esc(String.valueOf(c))).append("</td>");
                }
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }

    private static String secs(Long s) {
        if (s == null) {
            return "n/a";
        }
        return s < 120 ? s + " s" : s < 7200 ? (s / 60) + " min" : String.format(Locale.ROOT, "%.1f h", s / 3600.0);
    }

    // ---- charts -------------------------------------------------------------------------------------------

    /** Stacked bars: statements per day, one colour per verdict. */
    static String perDayChart(EvidenceReport.Activity a) {
        List<EvidenceReport.Day> days = a.perDay();
        if (days.isEmpty()) {
            return "<p><em>no statements in the period</em></p>";
        }
        TreeSet<String> verdicts = new TreeSet<>();
        long max = 1;
        for (EvidenceReport.Day d : days) {
            verdicts.addAll(d.byVerdict().keySet());
            max = Math.max(max, d.byVerdict().values().stream().mapToLong(Long::longValue).sum());
        }
        int w = 720;
        int hgt = 240;
        int left = 60;
        int bottom = 40;
        double slot = (w - left - 10.0) / days.size();
        double bar = Math.max(1, slot * 0.8);
        StringBuilder s = new StringBuilder();
        s.append("<svg id=\"chart-per-day\" xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(w).append("\" height=\"")
                .append(hgt + 30).append("\" role=\"img\" aria-label=\"Statements per day by verdict\">");
        s.append("<title>Statements per day by verdict</title>");
        axis(s, left, hgt - bottom, w, max);
        for (int i = 0; i < days.size(); i++) {
            EvidenceReport.Day d = days.get(i);
            double x = left + i * slot + (slot - bar) / 2;
            double y = hgt - bottom;
            for (String v : verdicts) {
                long n = d.byVerdict().getOrDefault(v, 0L);
                if (n == 0) {
                    continue;
                }
                double bh = (hgt - bottom - 10.0) * n / max;
                y -= bh;
                s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                        + "<title>%s %s: %d</title></rect>", x, y, bar, bh, colour(v), esc(d.day()), esc(v), n));
            }
            if (days.size() <= 31) {
                s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"9\" text-anchor=\"middle\">%s</text>",
                        x + bar / 2, hgt - bottom + 12, esc(d.day().substring(5))));
            }
        }
        int lx = left;
        for (String v : verdicts) {
            s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                    + "<text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>", lx, hgt, colour(v), lx + 14, hgt + 9, esc(v)));
            lx += 90;
        }
        return s.append("</svg>\n").toString();
    }

    /** Bars: how many approvals were decided within each time bucket. */
    static String latencyChart(EvidenceReport.Latency l) {
        int w = 520;
        int hgt = 200;
        int left = 60;
        int bottom = 30;
        long max = Math.max(1, l.buckets().stream().mapToLong(EvidenceReport.Bucket::count).max().orElse(1));
        StringBuilder s = new StringBuilder();
        s.append("<svg id=\"chart-approval-latency\" xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(w)
                .append("\" height=\"").append(hgt).append("\" role=\"img\" aria-label=\"Approvals by time to decide\">")
                .append("<title>Approvals by time to decide</title>");
        axis(s, left, hgt - bottom, w, max);
        double slot = (w - left - 10.0) / l.buckets().size();
        for (int i = 0; i < l.buckets().size(); i++) {
            EvidenceReport.Bucket b = l.buckets().get(i);
            double bh = (hgt - bottom - 10.0) * b.count() / max;
            double x = left + i * slot + slot * 0.1;
            s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#1565c0\">"
                    + "<title>%s: %d</title></rect><text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%s</text>",
                    x, hgt - bottom - bh, slot * 0.8, bh, esc(b.label()), b.count(), x + slot * 0.4, hgt - bottom + 14,
                    esc(b.label())));
        }
        return s.append("</svg>\n").toString();
    }

    /** Horizontal bars: the ten identities with the most statements. */
    static String topIdentitiesChart(EvidenceReport.Identities ids) {
        List<EvidenceReport.IdentityRow> top = ids.rows().stream()
                .sorted((x, y) -> Long.compare(y.statements(), x.statements())).limit(10).toList();
        if (top.isEmpty()) {
            return "<p><em>no identities in the period</em></p>";
        }
        long max = Math.max(1, top.get(0).statements());
        int w = 720;
        int row = 22;
        int left = 260;
        StringBuilder s = new StringBuilder();
        s.append("<svg id=\"chart-top-identities\" xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(w)
                .append("\" height=\"").append(top.size() * row + 10).append("\" role=\"img\" aria-label=\"Top identities by statements\">")
                .append("<title>Top identities by statements</title>");
        for (int i = 0; i < top.size(); i++) {
            EvidenceReport.IdentityRow r = top.get(i);
            String label = r.subject() == null ? "(unknown)" : r.subject();
            if (label.length() > 40) {
                label = label.substring(0, 40) + "…";
            }
            double bw = (w - left - 80.0) * r.statements() / max;
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%s</text>"
                    + "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>"
                    + "<text x=\"%.1f\" y=\"%d\" font-size=\"11\">%d</text>", left - 6, i * row + 16, esc(label), left,
                    i * row + 4, bw, row - 6, "oidc".equals(r.kind()) ? "#6a1b9a" : "#455a64", left + bw + 4, i * row + 16,
                    r.statements()));
        }
        return s.append("</svg>\n").toString();
    }

    private static void axis(StringBuilder s, int left, int base, int w, long max) {
        s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>"
                + "<line x1=\"%d\" y1=\"10\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>"
                + "<text x=\"%d\" y=\"14\" font-size=\"10\" text-anchor=\"end\">%d</text>"
                + "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">0</text>",
                left, base, w - 5, base, left, left, base, left - 4, max, left - 4, base));
    }

    private static String colour(String verdict) {
        return VERDICT_COLOURS.getOrDefault(verdict, "#9e9e9e");
    }

    /** HTML (and SVG) text and attribute escaping. */
    public static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                case '\0' -> b.append('\uFFFD');
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
