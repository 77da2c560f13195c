package dev.warden.audit;

import dev.warden.identity.Identity;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Builds the payload of each record type as a canonical tree (see docs/audit.md, "Record types"),
 * and the searchable columns that are stored beside it ({@link Projection}). The columns are derived
 * from the payload alone, so verification recomputes them from the hashed content and notices a
 * column that was changed on its own.
 */
final class RecordCodec {
    static final String STATEMENT = "statement";
    static final String OUTCOME = "outcome";
    static final String SESSION = "session";
    static final String LIFECYCLE = "lifecycle";
    static final String PRUNE = "prune";
    static final String APPROVAL = "approval";
    static final String RECORDING = "recording";

    /** Longest text kept in a searchable column (the payload keeps everything). */
    static final int COLUMN_CHARS = 200;

    private RecordCodec() {
    }

    static Map<String, Object> statement(String id, StatementRecord r, boolean strict, BindParameterCodec binds) {
        Map<String, Object> p = new TreeMap<>();
        p.put("id", id);
        p.put("session", r.sessionId());
        p.put("received", r.received());
        p.put("identity", identity(r.identity()));
        p.put("client", r.clientAddress());
        p.put("target", r.target());
        p.put("upstreamRole", r.upstreamRole());
        p.put("text", r.text());
        p.put("fingerprint", r.fingerprint());
        if (!r.bindParameters().isEmpty()) {
            p.put("binds", Map.of("mode", binds.modeName(), "values", binds.encode(r.bindParameters())));
        }
        if (r.verdict() != null) {
            Map<String, Object> v = new TreeMap<>();
            v.put("decision", r.verdict().decision());
            v.put("rules", r.verdict().rules());
            v.put("rulesVersion", r.verdict().rulesVersion());
            p.put("verdict", v);
        }
        if (r.approval() != null) {
            Map<String, Object> a = new TreeMap<>();
            a.put("id", r.approval().id());
            a.put("approver", r.approval().approver());
            p.put("approval", a);
        }
        p.put("masked", r.maskedColumns());
        p.put("strict", strict);
        return p;
    }

    static Map<String, Object> outcome(String id, String statementId, String sessionId, Instant received,
                                       StatementOutcome o) {
        Map<String, Object> p = folded(received, o);
        p.put("id", id);
        p.put("statement", statementId);
        p.put("session", sessionId);
        return p;
    }

    /** The outcome as it is folded into its statement's record (the record names the statement already). */
    static Map<String, Object> folded(Instant received, StatementOutcome o) {
        Map<String, Object> p = new TreeMap<>();
        p.put("event", o.event());
        p.put("forwarded", o.forwarded());
        p.put("completed", o.completed());
        p.put("tag", o.commandTag());
        p.put("rows", o.rows());
        p.put("bytesToClient", o.bytesToClient());
        p.put("sqlState", o.sqlState());
        p.put("error", o.errorMessage());
        if (!o.maskedColumns().isEmpty()) {
            // only when something was masked, so records without masking encode exactly as before
            p.put("masked", Map.of("columns", o.maskedColumns(), "cells", o.maskedCells()));
        }
        if (o.sealedOriginals() != null) {
            // only with masking.sealOriginals: the auditors' ciphertext, opened with ./warden audit unseal
            p.put("sealedOriginals", o.sealedOriginals());
        }
        Instant start = o.forwarded() != null ? o.forwarded() : received;
        p.put("durationMicros", Math.max(0, Duration.between(start, o.completed()).toNanos() / 1000));
        return p;
    }

    static Map<String, Object> session(String id, SessionEvent e) {
        Map<String, Object> p = new TreeMap<>();
        p.put("id", id);
        p.put("session", e.sessionId());
        p.put("event", e.kind().name().toLowerCase());
        p.put("at", e.at());
        p.put("client", e.clientAddress());
        p.put("identity", identity(e.identity()));
        p.put("target", e.target());
        p.put("user", e.user());
        p.put("detail", e.detail());
        if (e.totals() != null) {
            Map<String, Object> t = new TreeMap<>();
            t.put("statements", e.totals().statements());
            t.put("bytesFromClient", e.totals().bytesFromClient());
            t.put("bytesToClient", e.totals().bytesToClient());
            t.put("durationMicros", e.totals().duration() == null ? null : e.totals().duration().toNanos() / 1000);
            p.put("totals", t);
        }
        return p;
    }

    static Map<String, Object> approval(String id, ApprovalEvent e) {
        Map<String, Object> p = new TreeMap<>();
        p.put("id", id);
        p.put("approval", e.approvalId());
        p.put("event", e.event());
        p.put("at", e.at());
        p.put("session", e.sessionId());
        p.put("statement", e.statementRecordId());
        p.put("identity", identity(e.identity()));
        p.put("target", e.target());
        p.put("reviewer", e.reviewer());
        p.put("client", e.from());
        p.put("detail", e.detail() == null ? null : new TreeMap<>(e.detail()));
        return p;
    }

    static Map<String, Object> recording(String id, RecordingEvent e) {
        Map<String, Object> p = new TreeMap<>(e.detail());
        p.put("id", id);
        p.put("event", e.event());
        p.put("at", e.at());
        p.put("session", e.sessionId());
        p.put("target", e.target());
        return p;
    }

    static Map<String, Object> lifecycle(String id, String event, Instant at, String keyId) {
        return lifecycle(id, event, at, keyId, null);
    }

    static Map<String, Object> lifecycle(String id, String event, Instant at, String keyId, Map<String, Object> detail) {
        Map<String, Object> p = new TreeMap<>();
        if (detail != null) {
            p.put("detail", new TreeMap<>(detail));
        }
        p.put("id", id);
        p.put("event", event);
        p.put("at", at);
        p.put("keyId", keyId);
        p.put("software", "Warden");
        return p;
    }

    static Map<String, Object> prune(String id, Instant at, long firstKept, Checkpoint anchor, Instant cutoff,
                                     Duration retention, long deleted) {
        Map<String, Object> p = new TreeMap<>();
        p.put("id", id);
        p.put("event", "prune");
        p.put("at", at);
        p.put("firstKept", firstKept);
        p.put("anchorCheckpoint", anchor.number());
        p.put("anchorHead", Canonical.hex(anchor.head()));
        p.put("cutoff", cutoff);
        p.put("retention", retention.toString());
        p.put("deleted", deleted);
        return p;
    }

    static Map<String, Object> identity(Identity i) {
        if (i == null) {
            return null;
        }
        Map<String, Object> m = new TreeMap<>();
        m.put("kind", i.kind().name().toLowerCase());
        m.put("subject", i.subject());
        m.put("issuer", i.issuer());
        m.put("grant", i.grant());
        m.put("mappingRule", i.mappingRule());
        if (!i.ci().isEmpty()) {
            m.put("ci", new TreeMap<>(i.ci()));
        }
        return m;
    }

    /** The searchable columns of a record, derived from its type and payload only. */
    public record Projection(String kind, String event, Instant at, String recordId, String sessionId, String refId,
                      Long refSeq, String subject, String issuer, String repository, String actor, String target,
                      String clientAddr, String verdict, String sqlState) {

        Projection withSqlState(String state) {
            return new Projection(kind, event, at, recordId, sessionId, refId, refSeq, subject, issuer, repository,
                    actor, target, clientAddr, verdict, col(state));
        }

        List<Object> values() {
            return java.util.Arrays.asList(kind, event, at, recordId, sessionId, refId, refSeq, subject, issuer,
                    repository, actor, target, clientAddr, verdict, sqlState);
        }

        static final List<String> COLUMNS = List.of("kind", "event", "at", "record_id", "session_id", "ref_id",
                "ref_seq", "subject", "issuer", "repository", "actor", "target", "client_addr", "verdict", "sqlstate");
    }

    /** The columns of a statement record with its outcome folded in (the outcome's SQLSTATE is searchable). */
    static Projection project(String type, Map<String, Object> p, Map<String, Object> foldedOutcome) {
        Projection pr = project(type, p);
        return foldedOutcome == null ? pr : pr.withSqlState(str(foldedOutcome.get("sqlState")));
    }

    @SuppressWarnings("unchecked")
    static Projection project(String type, Map<String, Object> p) {
        Map<String, Object> ident = (Map<String, Object>) p.get("identity");
        Map<String, Object> ci = ident == null ? null : (Map<String, Object>) ident.get("ci");
        Map<String, Object> verdict = (Map<String, Object>) p.get("verdict");
        String event;
        Object at;
        switch (type) {
            case STATEMENT -> {
                event = null;
                at = p.get("received");
            }
            case OUTCOME -> {
                event = str(p.get("event"));
                at = p.get("completed");
            }
            default -> {
                event = str(p.get("event"));
                at = p.get("at");
            }
        }
        Object firstKept = p.get("firstKept");
        return new Projection(type, col(event), toInstant(at), col(str(p.get("id"))), col(str(p.get("session"))),
                col(str(p.get(APPROVAL.equals(type) ? "approval" : "statement"))), firstKept instanceof Number n ? n.longValue() : null,
                col(ident == null ? null : str(ident.get("subject"))), col(ident == null ? null : str(ident.get("issuer"))),
                col(ci == null ? null : str(ci.get("repository"))), col(ci == null ? null : str(ci.get("actor"))),
                col(str(p.get("target"))), col(str(p.get("client"))),
                col(verdict == null ? null : str(verdict.get("decision"))), col(str(p.get("sqlState"))));
    }

    /**
     * A statement record's time as its block states it: exactly {@code project(STATEMENT, statement(...)).at()},
     * without building the payload (the event loop queues the record with it; the writer encodes the rest).
     */
    static java.time.Instant statementAt(StatementRecord r) {
        return r.received().truncatedTo(java.time.temporal.ChronoUnit.MICROS);
    }

    private static Instant toInstant(Object o) {
        if (o instanceof Instant i) {
            return i.truncatedTo(java.time.temporal.ChronoUnit.MICROS);
        }
        if (o instanceof String s) {
            return Canonical.parseTime(s);
        }
        throw new IllegalArgumentException("record has no time");
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }

    /** Column text: at most {@link #COLUMN_CHARS} chars, no NUL (PostgreSQL text cannot hold it), no split pair. */
    static String col(String s) {
        if (s == null) {
            return null;
        }
        String t = Canonical.wellFormed(s);
        if (t.indexOf('\0') >= 0) {
            t = t.replace('\0', '\uFFFD');
        }
        if (t.length() > COLUMN_CHARS) {
            int end = Character.isHighSurrogate(t.charAt(COLUMN_CHARS - 1)) ? COLUMN_CHARS - 1 : COLUMN_CHARS;
            t = t.substring(0, end);
        }
        return t;
    }
}
