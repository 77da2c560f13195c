package dev.warden.audit;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the audit trail: records matching a filter, chain by chain in position order (which is the
 * order each instance received them), a page at a time (keyset pagination on chain and position,
 * so pages stay stable while records are appended). Filters other than time and instance are
 * applied to each record's content as it is read, so narrow searches with a time window. Statement records come with their
 * outcome. Used by {@code ./warden audit search} and meant for {@code GET /api/audit}.
 */
public final class AuditSearch {
    public static final int MAX_LIMIT = 10_000;

    /**
     * @param identity matches the subject, CI repository, CI actor or issuer exactly (a trailing * matches a prefix)
     * @param from     records at or after this time (null: no bound)
     * @param to       records before this time (null: no bound)
     * @param verdict  statement records with this decision (null: any)
     * @param kind     statement (default), outcome, session, approval, lifecycle, prune, or all
     * @param session  records of this session (null: any)
     * @param target   records for this target (null: any)
     * @param instance records of this Warden instance (null: any)
     * @param limit    page size, 1..{@link #MAX_LIMIT}
     * @param cursor   {@link Page#nextCursor()} of the previous page, or null for the first
     */
    public record Query(String identity, Instant from, Instant to, String verdict, String kind, String session,
                        String target, String instance, int limit, String cursor) {
        public Query {
            if (limit < 1 || limit > MAX_LIMIT) {
                throw new IllegalArgumentException("limit must be between 1 and " + MAX_LIMIT);
            }
            kind = kind == null ? RecordCodec.STATEMENT : kind.toLowerCase();
            if (!List.of("all", RecordCodec.STATEMENT, RecordCodec.OUTCOME, RecordCodec.SESSION, RecordCodec.LIFECYCLE,
                    RecordCodec.PRUNE, RecordCodec.APPROVAL, RecordCodec.RECORDING).contains(kind)) {
                throw new IllegalArgumentException(
                        "kind must be one of all, statement, outcome, session, approval, recording, lifecycle, prune");
            }
        }

        public static Query statements(int limit) {
            return new Query(null, null, null, null, null, null, null, null, limit, null);
        }
    }

    /** One record: where it is in which chain, and its payload as stored (plus the outcome, for statements). */
    public record Entry(String instanceId, long seq, String kind, String event, Instant at, String recordId,
                        Map<String, Object> record, Map<String, Object> outcome) {

        /** For JSON (REST, JSON lines): instance, seq, kind, event, at (ISO-8601), id, record, outcome. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("instance", instanceId);
            m.put("seq", seq);
            m.put("kind", kind);
            m.put("event", event);
            m.put("at", at.toString());
            m.put("id", recordId);
            m.put("record", record);
            if (outcome != null) {
                m.put("outcome", outcome);
            }
            return m;
        }
    }

    /** A page of entries; {@code nextCursor} is null on the last page. */
    public record Page(List<Entry> entries, String nextCursor) {
    }

    private AuditSearch() {
    }

    /** How far past a page a statement's separate outcome record is looked for. */
    static final int OUTCOME_LOOKAHEAD = 200_000;

    public static Page search(Connection c, Query q) throws SQLException {
        String afterInstance = null;
        long afterSeq = 0;
        if (q.cursor() != null) {
            String[] k = decodeCursor(q.cursor());
            afterInstance = k[0];
            afterSeq = Long.parseLong(k[1]);
        }
        List<Entry> entries = new ArrayList<>();
        boolean[] more = {false};
        RecordScan.byTime(c, q.instance(), q.from(), q.to(), afterInstance, afterSeq, r -> {
            if (!q.kind().equals("all") && !q.kind().equals(r.type())) {
                return true;
            }
            Map<String, Object> envelope;
            RecordCodec.Projection p;
            try {
                envelope = r.envelope();
                p = StoredRecord.projection(envelope);
            } catch (RuntimeException e) {
                envelope = null;
                p = null;
            }
            if (p != null && !matches(q, p)) {
                return true;
            }
            if (p == null && (q.identity() != null || q.verdict() != null || q.session() != null || q.target() != null)) {
                return true; // unreadable: only shown when nothing filters on its content
            }
            if (entries.size() == q.limit()) {
                more[0] = true;
                return false;
            }
            entries.add(new Entry(r.instance(), r.seq(), r.type(), p == null ? null : p.event(), r.at(),
                    p == null ? null : p.recordId(), payload(envelope, "payload"), payload(envelope, "outcome")));
            return true;
        });
        List<Entry> page = withOutcomes(c, entries);
        String next = null;
        if (more[0]) {
            Entry last = page.get(page.size() - 1);
            next = encodeCursor(last.instanceId() + "|" + last.seq());
        }
        return new Page(page, next);
    }

    private static boolean matches(Query q, RecordCodec.Projection p) {
        if (q.identity() != null) {
            boolean prefix = q.identity().endsWith("*");
            String v = prefix ? q.identity().substring(0, q.identity().length() - 1) : q.identity();
            boolean any = false;
            for (String f : new String[] {p.subject(), p.repository(), p.actor(), p.issuer()}) {
                if (f != null && (prefix ? f.startsWith(v) : f.equals(v))) {
                    any = true;
                    break;
                }
            }
            if (!any) {
                return false;
            }
        }
        return (q.verdict() == null || q.verdict().equals(p.verdict()))
                && (q.session() == null || q.session().equals(p.sessionId()))
                && (q.target() == null || q.target().equals(p.target()));
    }

    /**
     * Statements whose outcome was not folded into their record get it from the outcome record that
     * names them, looked for after them in their chain (up to {@link #OUTCOME_LOOKAHEAD} records past
     * the page).
     */
    private static List<Entry> withOutcomes(Connection c, List<Entry> entries) throws SQLException {
        Map<String, Map<String, Long>> wanted = new HashMap<>(); // instance -> id -> seq
        for (Entry e : entries) {
            if (e.kind().equals(RecordCodec.STATEMENT) && e.outcome() == null && e.recordId() != null) {
                wanted.computeIfAbsent(e.instanceId(), k -> new HashMap<>()).put(e.recordId(), e.seq());
            }
        }
        if (wanted.isEmpty()) {
            return entries;
        }
        Map<String, Map<String, Object>> outcomes = new HashMap<>();
        for (Map.Entry<String, Map<String, Long>> w : wanted.entrySet()) {
            long from = w.getValue().values().stream().mapToLong(Long::longValue).min().orElseThrow();
            long to = w.getValue().values().stream().mapToLong(Long::longValue).max().orElseThrow() + OUTCOME_LOOKAHEAD;
            int[] left = {w.getValue().size()};
            RecordScan.chain(c, w.getKey(), from, to, r -> {
                if (RecordCodec.OUTCOME.equals(r.type())) {
                    try {
                        Map<String, Object> p = r.payload();
                        Object ref = p.get("statement");
                        if (ref != null && w.getValue().containsKey(ref.toString())
                                && outcomes.putIfAbsent(ref.toString(), p) == null) {
                            left[0]--;
                        }
                    } catch (RuntimeException ignored) {
                        // unreadable: verification names it
                    }
                }
                return left[0] > 0;
            });
        }
        List<Entry> out = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            out.add(e.kind().equals(RecordCodec.STATEMENT) && e.outcome() == null
                    ? new Entry(e.instanceId(), e.seq(), e.kind(), e.event(), e.at(), e.recordId(), e.record(),
                    outcomes.get(e.recordId())) : e);
        }
        return out;
    }

    /** The envelope's {@code payload} (or folded {@code outcome}: null when absent) of a stored record. */
    private static Map<String, Object> payload(Map<String, Object> envelope, String key) {
        try {
            if (envelope == null) {
                throw new IllegalArgumentException("unreadable");
            }
            Object p = envelope.get(key);
            if (p == null && key.equals("outcome")) {
                return null;
            }
            if (p instanceof Map<?, ?> m) {
                @SuppressWarnings("unchecked")
                Map<String, Object> typed = (Map<String, Object>) m;
                return typed;
            }
        } catch (IllegalArgumentException ignored) {
            // shown as unreadable below; verification names the problem
        }
        Map<String, Object> bad = new LinkedHashMap<>();
        bad.put("unreadable", true);
        return bad;
    }

    private static String encodeCursor(String s) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String[] decodeCursor(String cursor) {
        try {
            String s = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            int bar = s.lastIndexOf('|');
            if (bar <= 0) {
                throw new IllegalArgumentException();
            }
            String[] k = {s.substring(0, bar), s.substring(bar + 1)};
            Long.parseLong(k[1]);
            return k;
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a valid cursor: " + cursor);
        }
    }
}
