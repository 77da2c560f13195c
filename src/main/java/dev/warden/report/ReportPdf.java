package dev.warden.report;

import com.lowagie.text.Chunk;
import com.lowagie.text.Document;
import com.lowagie.text.DocumentException;
import com.lowagie.text.Element;
import com.lowagie.text.Font;
import com.lowagie.text.FontFactory;
import com.lowagie.text.PageSize;
import com.lowagie.text.Paragraph;
import com.lowagie.text.Phrase;
import com.lowagie.text.pdf.PdfPCell;
import com.lowagie.text.pdf.PdfPTable;
import com.lowagie.text.pdf.PdfWriter;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The report as PDF (OpenPDF), with the same sections and figures as the HTML page, as tables. Uses
 * the standard Helvetica font (Windows-1252): characters outside it in statement texts are dropped
 * in the PDF only — the JSON keeps every character.
 */
public final class ReportPdf {
    private static final Font TITLE = FontFactory.getFont(FontFactory.HELVETICA_BOLD, 15);
    private static final Font H2 = FontFactory.getFont(FontFactory.HELVETICA_BOLD, 12);
    private static final Font H3 = FontFactory.getFont(FontFactory.HELVETICA_BOLD, 10);
    private static final Font BODY = FontFactory.getFont(FontFactory.HELVETICA, 9);
    private static final Font SMALL = FontFactory.getFont(FontFactory.HELVETICA, 7);
    private static final Font MONO = FontFactory.getFont(FontFactory.COURIER, 6.5f);
    private static final Font GUIDANCE = FontFactory.getFont(FontFactory.HELVETICA_OBLIQUE, 7.5f, Color.DARK_GRAY);
    private static final Font BANNER = FontFactory.getFont(FontFactory.HELVETICA_BOLD, 10);

    private ReportPdf() {
    }

    public static byte[] render(EvidenceReport r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Document doc = new Document(PageSize.A4.rotate(), 30, 30, 30, 30);
        try {
            PdfWriter.getInstance(doc, out);
            doc.addTitle(r.title());
            doc.addCreator("Warden");
            doc.open();
            doc.add(new Paragraph(r.title(), TITLE));
            doc.add(new Paragraph("Report " + r.id() + ", generated " + r.generatedAt() + " by " + r.generatedBy()
                    + ". Period [" + r.scope().from() + ", " + r.scope().to() + ") (" + r.scope().timeZone() + "), target "
                    + (r.scope().target() == null ? "all" : r.scope().target()) + ".", BODY));
            EvidenceReport.Integrity in = r.integrity();
            PdfPTable banner = new PdfPTable(1);
            banner.setWidthPercentage(100);
            banner.setSpacingBefore(8);
            PdfPCell bc = new PdfPCell(new Phrase((in.ok() ? "Audit trail integrity: " : "WARNING - audit trail integrity: ")
                    + in.verdict(), BANNER));
            bc.setBackgroundColor(in.ok() ? new Color(0xe8, 0xf5, 0xe9) : new Color(0xff, 0xcd, 0xd2));
            bc.setBorderColor(in.ok() ? new Color(0x2e, 0x7d, 0x32) : new Color(0xc6, 0x28, 0x28));
            bc.setBorderWidth(in.ok() ? 1 : 3);
            bc.setPadding(6);
            banner.addCell(bc);
            doc.add(banner);

            h2(doc, "Records covered", null);
            table(doc, List.of("instance", "first seq", "last seq", "records in period", "records for this target"),
                    r.coverage().stream().map(c -> List.<Object>of(c.instance(), c.firstSeq(), c.lastSeq(), c.records(),
                            c.recordsForTarget())).toList());

            EvidenceReport.Activity a = r.activity();
            h2(doc, "Activity", a.guidance());
            doc.add(new Paragraph("Statements: " + a.statements() + "   Successful logins: " + a.logins(), BODY));
            table(doc, List.of("verdict", "statements"), rows(a.byVerdict()));
            List<List<Object>> days = new ArrayList<>();
            for (EvidenceReport.Day d : a.perDay()) {
                days.add(List.of(d.day(), d.byVerdict().toString()));
            }
            table(doc, List.of("day", "statements by verdict"), days);

            EvidenceReport.Identities ids = r.identities();
            h2(doc, "Identity inventory", ids.guidance());
            doc.add(new Paragraph("Non-human (CI) identities: " + ids.nonHuman() + "   Static users: " + ids.staticUsers(), BODY));
            table(doc, List.of("kind", "issuer", "subject", "repository", "workflows", "runs", "grants", "sessions",
                    "statements", "first seen", "last seen"), ids.rows().stream().map(i -> List.<Object>of(nz(i.kind()),
                    nz(i.issuer()), nz(i.subject()), nz(i.repository()), String.join(", ", i.workflows()), i.runs(),
                    String.join(", ", i.grants()), i.sessions(), i.statements(), nz(i.firstSeen()), nz(i.lastSeen())))
                    .toList());

            EvidenceReport.ClassifiedAccess ca = r.classifiedAccess();
            h2(doc, "Access to classified data", ca.guidance());
            doc.add(new Paragraph("Classified tables: " + ca.classifiedTables() + "   Statements on classified tables: "
                    + ca.statements() + "   Rows returned: " + ca.rowsReturned() + "   Masked: " + ca.maskedStatements()
                    + "   Unmasked: " + ca.unmaskedStatements(), BODY));
            table(doc, List.of("table", "statements", "rows returned", "masked", "unmasked"), ca.tables().stream()
                    .map(t -> List.<Object>of(t.table(), t.statements(), t.rowsReturned(), t.masked(), t.unmasked())).toList());
            table(doc, List.of("identity", "statements", "rows returned", "unmasked"), ca.readers().stream()
                    .map(t -> List.<Object>of(t.subject(), t.statements(), t.rowsReturned(), t.unmasked())).toList());
            if (!ca.maskedColumns().isEmpty()) {
                table(doc, List.of("masked column", "statements", "cells"), ca.maskedColumns().stream()
                        .map(m -> List.<Object>of(m.column(), m.statements(), m.cells() == null ? "not recorded" : m.cells()))
                        .toList());
            }

            EvidenceReport.Privileged p = r.privileged();
            h2(doc, "Privileged operations", p.guidance());
            doc.add(new Paragraph("Privileged statements: " + p.total()
                    + (p.notListed() > 0 ? " (" + p.notListed() + " not listed)" : ""), BODY));
            table(doc, List.of("status", "statements"), rows(p.byStatus()));
            table(doc, List.of("record", "at", "identity", "command", "statement", "decision", "outcome", "status",
                    "approval", "reviewer", "time to decide"), p.operations().stream().map(o -> List.<Object>of(o.record(),
                    o.at(), nz(o.subject()), nz(o.command()), new Mono(o.text()), o.decision(), nz(o.outcome()), o.status(),
                    o.approval() == null ? "" : o.approval().id(), o.approval() == null ? "" : nz(o.approval().reviewer()),
                    o.approval() == null || o.approval().secondsToDecide() == null ? ""
                            : o.approval().secondsToDecide() + " s")).toList());

            EvidenceReport.Exceptions e = r.exceptions();
            h2(doc, "Exceptions", e.guidance());
            table(doc, List.of("exception", "count"), List.of(
                    List.of("Blocked statements", e.blockedStatements()),
                    List.of("Approvals denied", e.approvalsDenied()),
                    List.of("Approvals expired", e.approvalsExpired()),
                    List.of("Failed logins", e.failedLogins()),
                    List.of("Sessions ended by token expiry", e.sessionsEndedByTokenExpiry()),
                    List.of("Sessions ended by revocation", e.sessionsEndedByRevocation()),
                    List.of("Sessions interrupted by an unclean stop", e.sessionsInterrupted()),
                    List.of("Statements not run: audit unavailable", e.statementsNotRunAuditDown())));
            table(doc, List.of("blocked by rule", "statements"), rows(e.blockedByRule()));
            table(doc, List.of("failed login reason", "attempts"), rows(e.failedLoginsByReason()));
            table(doc, List.of("record", "at", "identity", "statement", "rules"), e.blockedExamples().stream()
                    .map(o -> List.<Object>of(o.record(), o.at(), nz(o.subject()), new Mono(o.text()),
                            String.join("; ", o.rules()))).toList());

            h2(doc, "Integrity of the audit trail", in.guidance());
            doc.add(new Paragraph(in.verdict(), H3));
            doc.add(new Paragraph("Trusted signing key id(s): " + String.join(", ", in.trustedKeyIds()), BODY));
            for (EvidenceReport.Chain c : in.chains()) {
                doc.add(new Paragraph("Chain " + c.instance() + (c.ok() ? " - verifies" : " - FAILED"), H3));
                doc.add(new Paragraph(c.summary(), BODY));
                checkpoint(doc, "Signed checkpoint before the period", c.before());
                checkpoint(doc, "Signed checkpoint closing the period", c.after());
            }
            table(doc, List.of("gap: instance", "record", "at", "detail"), in.gaps().stream().map(g -> List.<Object>of(
                    nz(g.instance()), g.seq() == null ? "" : g.seq(), nz(g.at()), g.detail())).toList());

            EvidenceReport.Effectiveness ef = r.effectiveness();
            h2(doc, "Control effectiveness", ef.guidance());
            table(doc, List.of("rules version", "first seen", "last seen", "statements"), ef.rulesVersions().stream()
                    .map(v -> List.<Object>of(v.version(), v.firstSeen(), v.lastSeen(), v.statements())).toList());
            table(doc, List.of("rules changed at", "from", "to"), ef.rulesChanges().stream()
                    .map(c -> List.<Object>of(c.at(), c.from(), c.to())).toList());
            EvidenceReport.Latency l = ef.approvalLatency();
            doc.add(new Paragraph("Approvals decided: " + l.decided() + "   median " + secs(l.medianSeconds())
                    + "   90th percentile " + secs(l.p90Seconds()) + "   longest " + secs(l.maxSeconds()), BODY));
            table(doc, List.of("time to decide", "approvals"), l.buckets().stream()
                    .map(b -> List.<Object>of(b.label(), b.count())).toList());
            doc.add(new Paragraph("Masking coverage: " + ef.masking().coverage(), BODY));

            EvidenceReport.SignOff s = r.signOff();
            h2(doc, "Review sign-off", s.guidance());
            doc.add(new Paragraph("Sent to: " + (s.recipients().isEmpty() ? "(no recipients configured)"
                    : String.join(", ", s.recipients())), BODY));
            doc.add(new Paragraph(s.attestation(), BODY));
            PdfPTable sign = new PdfPTable(new float[] {1, 3});
            sign.setWidthPercentage(70);
            sign.setHorizontalAlignment(Element.ALIGN_LEFT);
            sign.setSpacingBefore(6);
            for (String f : List.of("Reviewer name", "Role", "Date", "Signature", "Findings / follow-up")) {
                sign.addCell(new PdfPCell(new Phrase(f, BODY)));
                PdfPCell blank = new PdfPCell(new Phrase(" ", BODY));
                blank.setMinimumHeight(22);
                sign.addCell(blank);
            }
            doc.add(sign);
            doc.add(new Paragraph("Check this file against its signature: ./warden report verify FILE --public-key "
                    + "audit-signing-key.pub.pem (docs/reports.md).", GUIDANCE));
            doc.close();
        } catch (DocumentException e) {
            throw new IllegalStateException("cannot render the report as PDF: " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    private record Mono(String text) {
    }

    private static void h2(Document doc, String title, List<String> guidance) {
        Paragraph p = new Paragraph(title, H2);
        p.setSpacingBefore(10);
        doc.add(p);
        if (guidance != null) {
            doc.add(new Paragraph("Serves: " + String.join("; ", guidance), GUIDANCE));
        }
    }

    private static void checkpoint(Document doc, String title, EvidenceReport.CheckpointRef c) {
        if (c == null) {
            doc.add(new Paragraph(title + ": none", BODY));
            return;
        }
        doc.add(new Paragraph(title + ": #" + c.number() + " at record " + c.seq() + ", " + c.time() + ", key " + c.keyId(),
                BODY));
        Paragraph p = new Paragraph();
        p.add(new Chunk(c.body() + "\n" + c.signature(), MONO));
        doc.add(p);
    }

    private static List<List<Object>> rows(Map<String, Long> m) {
        List<List<Object>> out = new ArrayList<>();
        m.forEach((k, v) -> out.add(List.of(k, v)));
        return out;
    }

    private static Object nz(Object o) {
        return o == null ? "" : o;
    }

    private static String secs(Long s) {
        return s == null ? "n/a" : s + " s";
    }

    private static void table(Document doc, List<String> head, List<List<Object>> rows) {
        if (rows.isEmpty()) {
            doc.add(new Paragraph("none", SMALL));
            return;
        }
        PdfPTable t = new PdfPTable(head.size());
        t.setWidthPercentage(head.size() <= 3 ? 60 : 100);
        t.setHorizontalAlignment(Element.ALIGN_LEFT);
        t.setSpacingBefore(4);
        t.setSpacingAfter(4);
        t.setHeaderRows(1);
        for (String h : head) {
            PdfPCell c = new PdfPCell(new Phrase(h, H3));
            c.setBackgroundColor(new Color(0xf0, 0xf0, 0xf0));
            t.addCell(c);
        }
        for (List<Object> row : rows) {
            for (Object o : row) {
                PdfPCell c = o instanceof Mono m ? new PdfPCell(new Phrase(m.text() == null ? "" : m.text(), MONO))
                        : new PdfPCell(new Phrase(String.valueOf(o), SMALL));
                if (o instanceof Number) {
                    c.setHorizontalAlignment(Element.ALIGN_RIGHT);
                }
                t.addCell(c);
            }
        }
        doc.add(t);
    }
}
