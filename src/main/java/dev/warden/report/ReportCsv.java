package dev.warden.report;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The report as CSV for spreadsheets and scripts: one row per figure, {@code section,metric,key,value}
 * (RFC 4180 quoting). Statement texts are not included (they are in the JSON); cells that a
 * spreadsheet would run as a formula are prefixed with an apostrophe.
 */
public final class ReportCsv {
    private ReportCsv() {
    }

    public static byte[] render(EvidenceReport r) {
        StringBuilder b = new StringBuilder("section,metric,key,value\r\n");
        row(b, "report", "id", "", r.id());
        row(b, "report", "from", "", r.scope().from());
        row(b, "report", "to", "", r.scope().to());
        row(b, "report", "target", "", r.scope().target() == null ? "all" : r.scope().target());
        row(b, "report", "generatedAt", "", r.generatedAt());
        for (EvidenceReport.Coverage c : r.coverage()) {
            row(b, "coverage", "firstSeq", c.instance(), c.firstSeq());
            row(b, "coverage", "lastSeq", c.instance(), c.lastSeq());
            row(b, "coverage", "records", c.instance(), c.records());
            row(b, "coverage", "recordsForTarget", c.instance(), c.recordsForTarget());
        }
        var a = r.activity();
        row(b, "activity", "statements", "", a.statements());
        map(b, "activity", "statementsByVerdict", a.byVerdict());
        for (EvidenceReport.Day d : a.perDay()) {
            d.byVerdict().forEach((v, n) -> row(b, "activity", "statementsPerDay", d.day() + " " + v, n));
        }
        row(b, "activity", "logins", "", a.logins());
        var ids = r.identities();
        row(b, "identities", "nonHuman", "", ids.nonHuman());
        row(b, "identities", "static", "", ids.staticUsers());
        for (EvidenceReport.IdentityRow i : ids.rows()) {
            String k = i.kind() + ":" + (i.issuer() == null ? "" : i.issuer() + " ") + i.subject();
            row(b, "identities", "sessions", k, i.sessions());
            row(b, "identities", "statements", k, i.statements());
            row(b, "identities", "runs", k, i.runs());
            row(b, "identities", "repository", k, i.repository());
            row(b, "identities", "grants", k, String.join(" ", i.grants()));
            row(b, "identities", "firstSeen", k, i.firstSeen());
            row(b, "identities", "lastSeen", k, i.lastSeen());
        }
        var ca = r.classifiedAccess();
        row(b, "classifiedAccess", "statements", "", ca.statements());
        row(b, "classifiedAccess", "rowsReturned", "", ca.rowsReturned());
        row(b, "classifiedAccess", "maskedStatements", "", ca.maskedStatements());
        row(b, "classifiedAccess", "unmaskedStatements", "", ca.unmaskedStatements());
        for (EvidenceReport.TableRow t : ca.tables()) {
            row(b, "classifiedAccess", "tableStatements", t.table(), t.statements());
            row(b, "classifiedAccess", "tableRowsReturned", t.table(), t.rowsReturned());
        }
        for (EvidenceReport.ReaderRow t : ca.readers()) {
            row(b, "classifiedAccess", "readerStatements", t.subject(), t.statements());
            row(b, "classifiedAccess", "readerRowsReturned", t.subject(), t.rowsReturned());
        }
        for (EvidenceReport.MaskedColumn m : ca.maskedColumns()) {
            row(b, "classifiedAccess", "maskedColumnStatements", m.column(), m.statements());
            if (m.cells() != null) {
                row(b, "classifiedAccess", "maskedColumnCells", m.column(), m.cells());
            }
        }
        var p = r.privileged();
        row(b, "privileged", "total", "", p.total());
        map(b, "privileged", "byStatus", p.byStatus());
        for (EvidenceReport.Operation o : p.operations()) {
            row(b, "privileged", "operation", o.record(), o.status() + " " + o.command() + " by " + o.subject()
                    + (o.approval() == null ? "" : " approval " + o.approval().id()));
        }
        var e = r.exceptions();
        row(b, "exceptions", "blockedStatements", "", e.blockedStatements());
        map(b, "exceptions", "blockedByRule", e.blockedByRule());
        row(b, "exceptions", "approvalsDenied", "", e.approvalsDenied());
        row(b, "exceptions", "approvalsExpired", "", e.approvalsExpired());
        row(b, "exceptions", "failedLogins", "", e.failedLogins());
        map(b, "exceptions", "failedLoginsByReason", e.failedLoginsByReason());
        map(b, "exceptions", "failedLoginsByUser", e.failedLoginsByUser());
        row(b, "exceptions", "sessionsEndedByTokenExpiry", "", e.sessionsEndedByTokenExpiry());
        row(b, "exceptions", "sessionsEndedByRevocation", "", e.sessionsEndedByRevocation());
        row(b, "exceptions", "sessionsInterrupted", "", e.sessionsInterrupted());
        row(b, "exceptions", "statementsNotRunAuditUnavailable", "", e.statementsNotRunAuditDown());
        var in = r.integrity();
        row(b, "integrity", "ok", "", in.ok());
        row(b, "integrity", "verdict", "", in.verdict());
        for (EvidenceReport.Chain c : in.chains()) {
            row(b, "integrity", "chainOk", c.instance(), c.ok());
            row(b, "integrity", "recordsChecked", c.instance(), c.recordsChecked());
            if (c.before() != null) {
                row(b, "integrity", "checkpointBefore", c.instance(), "#" + c.before().number() + " seq " + c.before().seq());
            }
            if (c.after() != null) {
                row(b, "integrity", "checkpointAfter", c.instance(), "#" + c.after().number() + " seq " + c.after().seq());
            }
        }
        for (EvidenceReport.Gap g : in.gaps()) {
            row(b, "integrity", "gap", g.instance() + (g.seq() == null ? "" : "#" + g.seq()), g.detail());
        }
        var ef = r.effectiveness();
        for (EvidenceReport.RulesVersion v : ef.rulesVersions()) {
            row(b, "effectiveness", "rulesVersionStatements", v.version(), v.statements());
        }
        for (EvidenceReport.RulesChange ch : ef.rulesChanges()) {
            row(b, "effectiveness", "rulesChange", ch.at(), ch.from() + " -> " + ch.to());
        }
        row(b, "effectiveness", "approvalsDecided", "", ef.approvalLatency().decided());
        row(b, "effectiveness", "approvalMedianSeconds", "", ef.approvalLatency().medianSeconds());
        row(b, "effectiveness", "approvalP90Seconds", "", ef.approvalLatency().p90Seconds());
        for (EvidenceReport.Bucket k : ef.approvalLatency().buckets()) {
            row(b, "effectiveness", "approvalLatency", k.label(), k.count());
        }
        row(b, "effectiveness", "maskingCoverage", "", ef.masking().coverage());
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void map(StringBuilder b, String section, String metric, Map<String, Long> m) {
        m.forEach((k, v) -> row(b, section, metric, k, v));
    }

    private static void row(StringBuilder b, Object... cells) {
        List<Object> l = List.of(java.util.Arrays.stream(cells).map(c -> c == null ? "" : c).toArray());
        for (int i = 0; i < l.size(); i++) {
            if (i > 0) {
                b.append(',');
            }
            b.append(cell(String.valueOf(l.get(i))));
        }
        b.append("\r\n");
    }

    static String cell(String s) {
        if (!s.isEmpty() && "=+-@\t\r".indexOf(s.charAt(0)) >= 0 && !s.matches("-?\\d+")) {
            s = "'" + s;
        }
        if (s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r")) {
            return "\"" + s.replace("\"", "\"\"") + "\"";
        }
        return s;
    }
}
