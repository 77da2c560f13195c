package dev.warden.proxy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.audit.AuditLog;
import dev.warden.audit.AuditSearch;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;

/**
 * {@code GET /api/audit} (bean {@code auditApi}): the audit search as JSON, one page at a time.
 * Audit records hold statement texts, so the caller must present one of {@code http.apiKeys} as
 * {@code Authorization: Bearer <key>}; with no keys configured the endpoint is closed.
 */
public final class AuditApiProcessor implements Processor {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final AuditLog audit;
    private final List<byte[]> keys = new ArrayList<>();

    AuditApiProcessor(AuditLog audit, List<String> apiKeys) {
        this.audit = audit;
        for (String k : apiKeys) {
            keys.add(k.getBytes(StandardCharsets.UTF_8));
        }
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        Message in = exchange.getIn();
        Message out = exchange.getMessage();
        out.setHeader(Exchange.CONTENT_TYPE, "application/json");
        if (!authorized(in.getHeader("Authorization", String.class))) {
            out.setHeader(Exchange.HTTP_RESPONSE_CODE, 401);
            out.setHeader("WWW-Authenticate", "Bearer");
            out.setBody("{\"error\":\"an API key from http.apiKeys is required (Authorization: Bearer <key>)\"}");
            return;
        }
        AuditSearch.Query q;
        try {
            String limit = in.getHeader("limit", String.class);
            q = new AuditSearch.Query(in.getHeader("identity", String.class), time(in.getHeader("from", String.class)),
                    time(in.getHeader("to", String.class)), in.getHeader("verdict", String.class),
                    in.getHeader("kind", String.class), in.getHeader("session", String.class),
                    in.getHeader("target", String.class), in.getHeader("instance", String.class),
                    limit == null ? 100 : Integer.parseInt(limit), in.getHeader("cursor", String.class));
        } catch (RuntimeException e) {
            out.setHeader(Exchange.HTTP_RESPONSE_CODE, 400);
            out.setBody(JSON.writeValueAsString(Map.of("error", String.valueOf(e.getMessage()))));
            return;
        }
        AuditSearch.Page page = audit.search(q);
        Map<String, Object> body = new LinkedHashMap<>();
        List<Map<String, Object>> entries = new ArrayList<>();
        for (AuditSearch.Entry e : page.entries()) {
            entries.add(e.toMap());
        }
        body.put("entries", entries);
        body.put("nextCursor", page.nextCursor());
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

    private static Instant time(String s) {
        if (s == null || s.isBlank()) {
            return null;
        }
        return s.length() == 10 ? LocalDate.parse(s).atStartOfDay(ZoneOffset.UTC).toInstant() : Instant.parse(s);
    }
}
