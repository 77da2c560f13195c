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
 * Reads the audit trail: records matching a filter, oldest first, a page at a time (keyset
 * pagination, so pages stay stable while records are appended). Statement records come with their
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

    public static Page search(Connection c, Query q) throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT instance_id, seq, kind, event, at, record_id, body "
                + "FROM audit_record WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (!q.kind().equals("all")) {
            sql.append(" AND kind = ?");
            args.add(q.kind());
        }
        if (q.identity() != null) {
            boolean prefix = q.identity().endsWith("*");
            String v = prefix ? q.identity().substring(0, q.identity().length() - 1).replace("\\", "\\\\")
                    .replace("%", "\\%").replace("_", "\\_") + "%" : q.identity();
            String op = prefix ? " LIKE ? ESCAPE '\\'" : " = ?";
            sql.append(" AND (subject").append(op).append(" OR repository").append(op).append(" OR actor").append(op)
                    .append(" OR issuer").append(op).append(")");
            for (int i = 0; i < 4; i++) {
                args.add(v);
            }
        }
        add(sql, args, "verdict", q.verdict());
        add(sql, args, "session_id", q.session());
        add(sql, args, "target", q.target());
        add(sql, args, "instance_id", q.instance());
        if (q.from() != null) {
            sql.append(" AND at >= ?");
            args.add(StoreSql.utc(q.from()));
        }
        if (q.to() != null) {
            sql.append(" AND at < ?");
            args.add(StoreSql.utc(q.to()));
        }
        if (q.cursor() != null) {
            String[] k = decodeCursor(q.cursor());
            Object at = StoreSql.utc(Instant.parse(k[0]));
            sql.append(" AND (at > ? OR (at = ? AND (instance_id > ? OR (instance_id = ? AND seq > ?))))");
            args.addAll(List.of(at, at, k[1], k[1], Long.parseLong(k[2])));
        }
        sql.append(" ORDER BY at, instance_id, seq FETCH FIRST ").append(q.limit() + 1).append(" ROWS ONLY");
        List<Entry> entries = new ArrayList<>();
        boolean more = false;
        try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (entries.size() == q.limit()) {
                        more = true;
                        break;
                    }
                    entries.add(new Entry(rs.getString("instance_id"), rs.getLong("seq"), rs.getString("kind"),
                            rs.getString("event"), StoreSql.instant(rs, "at"), rs.getString("record_id"),
                            payload(rs.getBytes("body"), "payload"), payload(rs.getBytes("body"), "outcome")));
                }
            }
        }
        entries = withOutcomes(c, entries);
        String next = null;
        if (more) {
            Entry last = entries.get(entries.size() - 1);
            next = encodeCursor(Canonical.time(last.at()) + "|" + last.instanceId() + "|" + last.seq());
        }
        return new Page(entries, next);
    }

    private static void add(StringBuilder sql, List<Object> args, String column, String value) {
        if (value != null) {
            sql.append(" AND ").append(column).append(" = ?");
            args.add(value);
        }
    }

    private static List<Entry> withOutcomes(Connection c, List<Entry> entries) throws SQLException {
        List<String> ids = new ArrayList<>();
        for (Entry e : entries) {
            if (e.kind().equals(RecordCodec.STATEMENT) && e.outcome() == null) {
                ids.add(e.recordId());
            }
        }
        if (ids.isEmpty()) {
            return entries;
        }
        Map<String, Map<String, Object>> outcomes = new HashMap<>();
        for (int from = 0; from < ids.size(); from += 500) {
            List<String> part = ids.subList(from, Math.min(ids.size(), from + 500));
            try (PreparedStatement ps = c.prepareStatement("SELECT ref_id, body FROM audit_record WHERE kind = 'outcome' "
                    + "AND ref_id IN (" + "?, ".repeat(part.size() - 1) + "?)")) {
                for (int i = 0; i < part.size(); i++) {
                    ps.setString(i + 1, part.get(i));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        outcomes.put(rs.getString(1), payload(rs.getBytes(2), "payload"));
                    }
                }
            }
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
    private static Map<String, Object> payload(byte[] body, String key) {
        try {
            Object p = Canonical.decodeObject(body).get(key);
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
            String[] k = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8).split("\\|", 3);
            if (k.length != 3) {
                throw new IllegalArgumentException();
            }
            Instant.parse(k[0]);
            Long.parseLong(k[2]);
            return k;
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a valid cursor: " + cursor);
        }
    }
}
