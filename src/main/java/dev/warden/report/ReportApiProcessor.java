package dev.warden.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.report.ReportSettings.Format;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;

/**
 * Bean {@code reportApi} (routes/http/reports.camel.yaml); header {@code WardenReportOp} says what:
 * {@code page} (GET /reports, an HTML list), {@code list} (GET /api/reports), {@code download}
 * (GET /api/reports/{id}?format=html|pdf|json|csv[&signature=true]) or {@code create}
 * (POST /api/reports {"from","to","target"}). Reports show who did what to customer data, so every
 * call needs one of {@code http.apiKeys} as {@code Authorization: Bearer <key>} (compared in
 * constant time); with no keys configured the API is closed.
 */
public final class ReportApiProcessor implements Processor {
    public static final String OP = "WardenReportOp";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final ReportService service;
    private final List<byte[]> keys = new ArrayList<>();

    public ReportApiProcessor(ReportService service, List<String> apiKeys) {
        this.service = service;
        for (String k : apiKeys) {
            keys.add(k.getBytes(StandardCharsets.UTF_8));
        }
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        Message in = exchange.getIn();
        Message out = exchange.getMessage();
        String op = in.getHeader(OP, String.class);
        if (!authorized(in.getHeader("Authorization", String.class))) {
            out.setHeader(Exchange.HTTP_RESPONSE_CODE, 401);
            out.setHeader("WWW-Authenticate", "Bearer");
            json(out, Map.of("error", "an API key from http.apiKeys is required (Authorization: Bearer <key>)"));
            return;
        }
        try {
            switch (op == null ? "" : op) {
                case "page" -> page(out);
                case "list" -> json(out, Map.of("reports", entries()));
                case "download" -> download(in, out);
                case "create" -> create(in, out);
                default -> {
                    out.setHeader(Exchange.HTTP_RESPONSE_CODE, 404);
                    json(out, Map.of("error", "no such report operation"));
                }
            }
        } catch (IllegalArgumentException e) {
            out.setHeader(Exchange.HTTP_RESPONSE_CODE, 400);
            json(out, Map.of("error", String.valueOf(e.getMessage())));
        }
    }

    private List<Map<String, Object>> entries() throws Exception {
        List<Map<String, Object>> list = new ArrayList<>();
        for (ReportIndex.Entry e : service.index().list(1000)) {
            list.add(toMap(e));
        }
        return list;
    }

    private static Map<String, Object> toMap(ReportIndex.Entry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", e.id());
        m.put("kind", e.kind());
        m.put("target", e.target());
        m.put("from", e.from().toString());
        m.put("to", e.to().toString());
        m.put("status", e.status());
        m.put("claimedBy", e.claimedBy());
        m.put("claimedAt", e.claimedAt().toString());
        m.put("completedAt", e.completedAt() == null ? null : e.completedAt().toString());
        m.put("formats", e.formats());
        m.put("sha256", e.sha256());
        m.put("integrityOk", e.integrityOk());
        m.put("detail", e.detail());
        Map<String, String> links = new LinkedHashMap<>();
        for (String f : e.formats()) {
            links.put(f, "/api/reports/" + e.id() + "?format=" + f);
        }
        m.put("links", links);
        return m;
    }

    private void page(Message out) throws Exception {
        StringBuilder h = new StringBuilder("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<title>Warden evidence reports</title><style>body{font-family:system-ui,sans-serif;margin:2em}"
                + "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px}.bad{color:#c62828;"
                + "font-weight:bold}</style></head><body><h1>Evidence reports</h1><table><tr><th>report</th><th>kind</th>"
                + "<th>target</th><th>from</th><th>to</th><th>status</th><th>integrity</th><th>files</th></tr>");
        for (ReportIndex.Entry e : service.index().list(1000)) {
            h.append("<tr><td>").append(ReportHtml.esc(e.id())).append("</td><td>").append(ReportHtml.esc(e.kind()))
                    .append("</td><td>").append(ReportHtml.esc(e.target())).append("</td><td>").append(e.from())
                    .append("</td><td>").append(e.to()).append("</td><td>").append(ReportHtml.esc(e.status()))
                    .append("</td><td").append(Boolean.FALSE.equals(e.integrityOk()) ? " class=\"bad\">FAILED" : ">")
                    .append(Boolean.TRUE.equals(e.integrityOk()) ? "verified" : "").append("</td><td>");
            for (String f : e.formats()) {
                h.append("<a href=\"/api/reports/").append(ReportHtml.esc(e.id())).append("?format=")
                        .append(ReportHtml.esc(f)).append("\">").append(ReportHtml.esc(f)).append("</a> ");
            }
            h.append("</td></tr>");
        }
        h.append("</table><p>Downloads need the API key too (Authorization: Bearer). Check a file with "
                + "<code>./warden report verify FILE</code>.</p></body></html>");
        out.setHeader(Exchange.CONTENT_TYPE, "text/html; charset=utf-8");
        out.setBody(h.toString());
    }

    private void download(Message in, Message out) throws Exception {
        String id = in.getHeader("id", String.class);
        String fmt = in.getHeader("format", String.class);
        Format format = Format.of(fmt == null || fmt.isBlank() ? "json" : fmt);
        Optional<Path> file = id == null ? Optional.empty() : service.file(id, format);
        if (file.isEmpty()) {
            out.setHeader(Exchange.HTTP_RESPONSE_CODE, 404);
            json(out, Map.of("error", "no " + format.extension() + " file for report '" + id + "'"));
            return;
        }
        boolean sig = "true".equals(in.getHeader("signature", String.class));
        Path f = sig ? ReportSignature.sigFileFor(file.get()) : file.get();
        out.setHeader(Exchange.CONTENT_TYPE, sig ? "text/plain; charset=utf-8" : format.contentType());
        out.setHeader("Content-Disposition", "attachment; filename=\"" + id + "." + format.extension()
                + (sig ? ".sig" : "") + "\"");
        out.setHeader("X-Content-Type-Options", "nosniff");
        if (format == Format.HTML && !sig) {
            out.setHeader("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
        }
        out.setBody(Files.readAllBytes(f));
    }

    private void create(Message in, Message out) throws Exception {
        byte[] body = in.getBody(byte[].class);
        JsonNode req;
        try {
            req = JSON.readTree(body == null ? new byte[0] : body);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("expected a JSON body such as {\"from\":\"2026-11-01\",\"to\":\"2026-11-30\","
                    + "\"target\":\"bank\"}");
        }
        if (req == null || !req.hasNonNull("from") || !req.hasNonNull("to")) {
            throw new IllegalArgumentException("'from' and 'to' are required, e.g. {\"from\":\"2026-11-01\",\"to\":\"2026-11-30\"}");
        }
        ZoneId zone = service.settings().timeZone();
        String target = req.hasNonNull("target") ? req.get("target").asText() : null;
        if (target != null && !service.settings().classifiedTables().containsKey(target)) {
            throw new IllegalArgumentException("unknown target '" + target + "'");
        }
        ReportGenerator.Request r = new ReportGenerator.Request(time(req.get("from").asText(), zone, false, "from"),
                time(req.get("to").asText(), zone, true, "to"), target, "adhoc");
        ReportService.Run run = service.runAdhoc(r);
        out.setHeader(Exchange.HTTP_RESPONSE_CODE, 201);
        out.setHeader("Location", "/api/reports/" + run.id());
        json(out, toMap(service.index().get(run.id()).orElseThrow()));
    }

    /** A date (its start; for the end of a period: the start of the next day) or an instant. */
    static Instant time(String s, ZoneId zone, boolean end, String field) {
        try {
            if (s.length() == 10) {
                LocalDate d = LocalDate.parse(s);
                return (end ? d.plusDays(1) : d).atStartOfDay(zone).toInstant();
            }
            return Instant.parse(s);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(field + ": expected a date such as 2026-11-01 or an instant such as "
                    + "2026-11-01T00:00:00Z, got '" + s + "'");
        }
    }

    private static void json(Message out, Object body) throws Exception {
        out.setHeader(Exchange.CONTENT_TYPE, "application/json");
        out.setBody(JSON.writeValueAsString(body));
    }

    private boolean authorized(String header) {
        if (header == null || !header.startsWith("Bearer ") || keys.isEmpty()) {
            return false;
        }
        byte[] given = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        boolean ok = false;
        for (byte[] k : keys) {
            ok |= MessageDigest.isEqual(k, given);
        }
        return ok;
    }
}
