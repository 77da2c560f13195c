package dev.warden.recording;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;

/**
 * The replay page and its JSON API on Warden's HTTP port (routes/http/recordings.camel.yaml). The page
 * itself holds no data and needs no login; it asks for an API key, keeps it in memory only and sends
 * it as {@code Authorization: Bearer} to the API, which answers 401 without a configured key. Keys in
 * the query string are not accepted. Runs on the route's worker threads (blocking JDBC and file reads).
 */
public final class RecordingApi implements Processor {
    public static final String OP = "WardenRecordingOp";
    private final RecordingIndex index;
    private final RecordingSettings settings;
    private final List<byte[]> keys = new ArrayList<>();
    private final String page;

    public RecordingApi(RecordingIndex index, RecordingSettings settings, List<String> apiKeys) {
        this.index = index;
        this.settings = settings;
        apiKeys.forEach(k -> keys.add(k.getBytes(StandardCharsets.UTF_8)));
        try (InputStream in = RecordingApi.class.getResourceAsStream("replay.html")) {
            this.page = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("replay.html is missing from the Warden jar", e);
        }
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        Message in = exchange.getIn();
        Message out = exchange.getMessage();
        String op = in.getHeader(OP, String.class);
        out.setHeader("Cache-Control", "no-store");
        out.setHeader("X-Content-Type-Options", "nosniff");
        if ("page".equals(op)) {
            out.setHeader(Exchange.CONTENT_TYPE, "text/html; charset=utf-8");
            out.setHeader("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; "
                    + "style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'");
            out.setBody(page);
            return;
        }
        out.setHeader(Exchange.CONTENT_TYPE, "application/json");
        if (!authorized(in.getHeader("Authorization", String.class))) {
            out.setHeader(Exchange.HTTP_RESPONSE_CODE, 401);
            out.setHeader("WWW-Authenticate", "Bearer");
            out.setBody("{\"error\":\"send Authorization: Bearer <one of http.apiKeys>\"}");
            return;
        }
        if (index == null) {
            out.setHeader(Exchange.HTTP_RESPONSE_CODE, 404);
            out.setBody("{\"error\":\"recording is disabled (recording.enabled: false)\"}");
            return;
        }
        try {
            if ("list".equals(op)) {
                out.setBody(list(in));
            } else {
                String id = in.getHeader("id", String.class);
                RecordingIndex.SessionRow s = index.session(id);
                if (s == null) {
                    out.setHeader(Exchange.HTTP_RESPONSE_CODE, 404);
                    out.setBody("{\"error\":\"no recorded session with that id\"}");
                    return;
                }
                String rows = in.getHeader("rows", String.class);
                int max = rows == null ? 20 : Math.max(0, Math.min(1000, Integer.parseInt(rows)));
                Transcript t = new RecordingReader(index, settings.directory()).transcript(s, max);
                ObjectNode o = JsonRead.MAPPER.createObjectNode();
                o.set("session", session(s));
                o.set("steps", JsonRead.MAPPER.valueToTree(t.steps()));
                out.setBody(JsonRead.MAPPER.writeValueAsString(o));
            }
        } catch (IllegalArgumentException e) {
            out.setHeader(Exchange.HTTP_RESPONSE_CODE, 400);
            ObjectNode o = JsonRead.MAPPER.createObjectNode().put("error", e.getMessage());
            out.setBody(JsonRead.MAPPER.writeValueAsString(o));
        }
    }

    private String list(Message in) throws Exception {
        RecordingIndex.Filter f = new RecordingIndex.Filter(in.getHeader("identity", String.class),
                in.getHeader("ciRun", String.class), in.getHeader("target", String.class),
                time(in.getHeader("since", String.class), "since"), time(in.getHeader("until", String.class), "until"), 200);
        ArrayNode a = JsonRead.MAPPER.createArrayNode();
        for (RecordingIndex.SessionRow s : index.sessions(f)) {
            a.add(session(s));
        }
        return JsonRead.MAPPER.writeValueAsString(JsonRead.MAPPER.createObjectNode().set("sessions", a));
    }

    private static ObjectNode session(RecordingIndex.SessionRow s) {
        ObjectNode o = JsonRead.MAPPER.createObjectNode();
        o.put("id", s.session());
        o.put("instance", s.instance());
        o.put("target", s.target());
        o.put("user", s.user());
        o.put("identity", s.subject());
        o.put("ciRepository", s.ciRepository());
        o.put("ciRun", s.ciRun());
        o.put("client", s.client());
        o.put("started", s.started() == null ? null : s.started().toString());
        o.put("ended", s.ended() == null ? null : s.ended().toString());
        o.put("statements", s.statements());
        o.put("chunks", s.chunks());
        o.put("droppedMessages", s.droppedMessages());
        return o;
    }

    private static Instant time(String s, String what) {
        if (s == null || s.isBlank()) {
            return null;
        }
        try {
            return s.length() == 10 ? LocalDate.parse(s).atStartOfDay(ZoneOffset.UTC).toInstant() : Instant.parse(s);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(what + ": expected a time such as 2025-03-01T12:00:00Z or a date");
        }
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
