package dev.warden.audit;

import dev.warden.identity.Identity;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the canonical payloads of statement records and of their folded outcomes straight into
 * bytes, for the audit writer thread (it used to run on the event loops): the same bytes as {@code Canonical.encode(RecordCodec.statement(...))}
 * and {@code Canonical.encode(RecordCodec.folded(...))}, without building maps, boxing or an
 * intermediate String. The members are written in the order {@link java.util.TreeMap} gives them
 * (String.compareTo), null members left out, exactly as {@link Canonical} does; StatementEncoderTest
 * holds the two paths to the same bytes. A change to the record shape goes into {@link RecordCodec}
 * and here together.
 *
 * <p>What is constant for a session (its id, client address, identity, target, upstream role) is
 * encoded once into a {@link Session}. Callers can keep one ({@link #forSession}); the convenience
 * {@link #statement(String, StatementRecord, boolean, BindParameterCodec)} keeps the recently used
 * ones per thread, by session id, reused while the record's session fields are the same. Thread-safe: the buffers and caches are
 * per thread, a {@link Session} is immutable.
 */
final class StatementEncoder {
    /**
     * Sessions kept per thread (least recently used dropped): the writer thread encodes every session's
     * statements, and a miss costs about as much as the old map-based encoding. Some 1 KB each with a CI
     * identity, so at most ~2 MB.
     */
    static final int SESSIONS_PER_THREAD = 2048;
    /** A buffer grown beyond this for one huge statement is not kept for the thread. */
    private static final int KEEP_BYTES = 64 * 1024;

    private static final ThreadLocal<State> STATE = ThreadLocal.withInitial(State::new);

    // the keys as their canonical bytes, with the colon
    private static final byte[] APPROVAL = key("approval");
    private static final byte[] APPROVER = key("approver");
    private static final byte[] BINDS = key("binds");
    private static final byte[] CLIENT = key("client");
    private static final byte[] FINGERPRINT = key("fingerprint");
    private static final byte[] ID = key("id");
    private static final byte[] IDENTITY = key("identity");
    private static final byte[] MASKED = key("masked");
    private static final byte[] MODE = key("mode");
    private static final byte[] RECEIVED = key("received");
    private static final byte[] SESSION = key("session");
    private static final byte[] STRICT = key("strict");
    private static final byte[] TARGET = key("target");
    private static final byte[] TEXT = key("text");
    private static final byte[] UPSTREAM_ROLE = key("upstreamRole");
    private static final byte[] VALUES = key("values");
    private static final byte[] VERDICT = key("verdict");
    private static final byte[] DECISION = key("decision");
    private static final byte[] RULES = key("rules");
    private static final byte[] RULES_VERSION = key("rulesVersion");

    private static final byte[] BYTES_TO_CLIENT = key("bytesToClient");
    private static final byte[] CELLS = key("cells");
    private static final byte[] COLUMNS = key("columns");
    private static final byte[] COMPLETED = key("completed");
    private static final byte[] DURATION_MICROS = key("durationMicros");
    private static final byte[] ERROR = key("error");
    private static final byte[] EVENT = key("event");
    private static final byte[] FORWARDED = key("forwarded");
    private static final byte[] ROWS = key("rows");
    private static final byte[] SEALED_ORIGINALS = key("sealedOriginals");
    private static final byte[] SQL_STATE = key("sqlState");
    private static final byte[] TAG = key("tag");

    private StatementEncoder() {
    }

    /**
     * The canonical members that are constant for one session, encoded once. Immutable; reuse it for
     * every statement whose record has these session fields.
     */
    static final class Session {
        final String sessionId;
        final Identity identity;
        final String clientAddress;
        final String target;
        final String upstreamRole;
        // complete members ("key":value), null when the member is left out
        private final byte[] client;
        private final byte[] identityMember;
        private final byte[] session;
        private final byte[] targetMember;
        private final byte[] upstreamRoleMember;

        private Session(String sessionId, Identity identity, String clientAddress, String target, String upstreamRole) {
            this.sessionId = sessionId;
            this.identity = identity;
            this.clientAddress = clientAddress;
            this.target = target;
            this.upstreamRole = upstreamRole;
            this.client = member(CLIENT, clientAddress);
            this.identityMember = identity == null ? null
                    : concat(IDENTITY, Canonical.encode(RecordCodec.identity(identity)));
            this.session = member(SESSION, sessionId);
            this.targetMember = member(TARGET, target);
            this.upstreamRoleMember = member(UPSTREAM_ROLE, upstreamRole);
        }

        /** Whether {@code r} has this session's fields (same objects, or equal ones). */
        boolean matches(StatementRecord r) {
            return same(sessionId, r.sessionId()) && same(identity, r.identity())
                    && same(clientAddress, r.clientAddress()) && same(target, r.target())
                    && same(upstreamRole, r.upstreamRole());
        }

        private static boolean same(Object a, Object b) {
            return a == b || a != null && a.equals(b);
        }

        private static byte[] member(byte[] key, String value) {
            return value == null ? null : concat(key, Canonical.encode(value));
        }
    }

    /** The constant part of the records of one session: keep it and pass it to {@link #statement(Session, String, StatementRecord, boolean, BindParameterCodec)}. */
    static Session forSession(String sessionId, Identity identity, String clientAddress, String target,
                              String upstreamRole) {
        return new Session(sessionId, identity, clientAddress, target, upstreamRole);
    }

    static Session forSession(StatementRecord r) {
        return forSession(r.sessionId(), r.identity(), r.clientAddress(), r.target(), r.upstreamRole());
    }

    /**
     * The same bytes as {@code Canonical.encode(RecordCodec.statement(id, r, strict, binds))}, with the
     * session part from this thread's cache (made on first use).
     */
    static byte[] statement(String id, StatementRecord r, boolean strict, BindParameterCodec binds) {
        return statementView(id, r, strict, binds).toByteArray();
    }

    /**
     * The bytes of {@link #statement(String, StatementRecord, boolean, BindParameterCodec)} in this thread's
     * buffer, without copying them out: valid until this thread's next statement encoding. The audit
     * writer copies them straight into the record's envelope.
     */
    static Canonical.Bytes statementView(String id, StatementRecord r, boolean strict, BindParameterCodec binds) {
        State st = STATE.get();
        return write(st.statementBuffer(), st.session(r), id, r, strict, binds);
    }

    /**
     * The same bytes as {@code Canonical.encode(RecordCodec.statement(id, r, strict, binds))}, with the
     * session part from {@code session} — used only when it {@link Session#matches matches} {@code r}.
     */
    static byte[] statement(Session session, String id, StatementRecord r, boolean strict, BindParameterCodec binds) {
        State st = STATE.get();
        Session s = session.matches(r) ? session : st.session(r);
        return write(st.statementBuffer(), s, id, r, strict, binds).toByteArray();
    }

    /** The same bytes as {@code Canonical.encode(RecordCodec.folded(received, o))}. */
    static byte[] folded(Instant received, StatementOutcome o) {
        return foldedView(received, o).toByteArray();
    }

    /**
     * The bytes of {@link #folded} in this thread's buffer for outcomes (not the statements' one), valid
     * until this thread's next outcome encoding.
     */
    static Canonical.Bytes foldedView(Instant received, StatementOutcome o) {
        State st = STATE.get();
        Canonical.Bytes out = st.outcomeBuffer();
        out.reset();
        out.put('{');
        out.key(BYTES_TO_CLIENT);
        out.number(o.bytesToClient());
        out.key(COMPLETED);
        out.time(o.completed());
        Instant start = o.forwarded() != null ? o.forwarded() : received;
        out.key(DURATION_MICROS);
        out.number(Math.max(0, Duration.between(start, o.completed()).toNanos() / 1000));
        if (o.errorMessage() != null) {
            out.key(ERROR);
            out.string(o.errorMessage());
        }
        out.key(EVENT);
        out.string(o.event());
        if (o.forwarded() != null) {
            out.key(FORWARDED);
            out.time(o.forwarded());
        }
        if (!o.maskedColumns().isEmpty()) {
            out.key(MASKED);
            out.put('{');
            out.key(CELLS);
            out.number(o.maskedCells());
            out.key(COLUMNS);
            array(out, o.maskedColumns());
            out.put('}');
        }
        out.key(ROWS);
        out.number(o.rows());
        if (o.sealedOriginals() != null) {
            out.key(SEALED_ORIGINALS);
            out.string(o.sealedOriginals());
        }
        if (o.sqlState() != null) {
            out.key(SQL_STATE);
            out.string(o.sqlState());
        }
        if (o.commandTag() != null) {
            out.key(TAG);
            out.string(o.commandTag());
        }
        out.put('}');
        return out;
    }

    // the members in String.compareTo order of their keys, as the TreeMap of RecordCodec.statement has them
    private static Canonical.Bytes write(Canonical.Bytes out, Session s, String id, StatementRecord r, boolean strict,
                                         BindParameterCodec binds) {
        out.reset();
        out.put('{');
        StatementRecord.Approval a = r.approval();
        if (a != null) {
            out.key(APPROVAL);
            out.put('{');
            if (a.approver() != null) {
                out.key(APPROVER);
                out.string(a.approver());
            }
            out.key(ID);
            out.string(a.id());
            out.put('}');
        }
        List<String> params = r.bindParameters();
        if (!params.isEmpty()) {
            out.key(BINDS);
            out.put('{');
            out.key(MODE);
            out.string(binds.modeName());
            out.key(VALUES);
            out.put('[');
            for (int i = 0, n = params.size(); i < n; i++) {
                if (i > 0) {
                    out.put(',');
                }
                String v = params.get(i);
                if (v == null) {
                    out.put(NULL);
                } else {
                    binds.encodeInto(out, v);
                }
            }
            out.put(']');
            out.put('}');
        }
        member(out, s.client);
        if (r.fingerprint() != null) {
            out.key(FINGERPRINT);
            out.string(r.fingerprint());
        }
        if (id != null) {
            out.key(ID);
            out.string(id);
        }
        member(out, s.identityMember);
        out.key(MASKED);
        array(out, r.maskedColumns());
        out.key(RECEIVED);
        out.time(r.received());
        member(out, s.session);
        out.key(STRICT);
        out.bool(strict);
        member(out, s.targetMember);
        if (r.text() != null) {
            out.key(TEXT);
            out.string(r.text());
        }
        member(out, s.upstreamRoleMember);
        StatementRecord.Verdict v = r.verdict();
        if (v != null) {
            out.key(VERDICT);
            out.put('{');
            if (v.decision() != null) {
                out.key(DECISION);
                out.string(v.decision());
            }
            if (v.rules() != null) {
                out.key(RULES);
                array(out, v.rules());
            }
            if (v.rulesVersion() != null) {
                out.key(RULES_VERSION);
                out.string(v.rulesVersion());
            }
            out.put('}');
        }
        out.put('}');
        return out;
    }

    private static void member(Canonical.Bytes out, byte[] member) {
        if (member != null) {
            out.comma();
            out.put(member);
        }
    }

    private static void array(Canonical.Bytes out, List<String> items) {
        out.put('[');
        for (int i = 0, n = items.size(); i < n; i++) {
            if (i > 0) {
                out.put(',');
            }
            String x = items.get(i);
            if (x == null) {
                out.put(NULL);
            } else {
                out.string(x);
            }
        }
        out.put(']');
    }

    private static final byte[] NULL = {'n', 'u', 'l', 'l'};

    private static byte[] key(String name) {
        return (Canonical.encodeToString(name) + ":").getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** One thread's buffer and its recently used sessions. */
    private static final class State {
        private Canonical.Bytes statements = new Canonical.Bytes(1024);
        private Canonical.Bytes outcomes = new Canonical.Bytes(512);
        final Map<String, Session> sessions = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Session> eldest) {
                return size() > SESSIONS_PER_THREAD;
            }
        };

        Session session(StatementRecord r) {
            Session s = sessions.get(r.sessionId());
            if (s == null || !s.matches(r)) {
                s = forSession(r);
                sessions.put(r.sessionId(), s);
            }
            return s;
        }

        /** The statements' buffer, emptied; one grown beyond {@link #KEEP_BYTES} by a huge statement is dropped first. */
        Canonical.Bytes statementBuffer() {
            statements = emptied(statements, 1024);
            return statements;
        }

        /** The outcomes' buffer, emptied in the same way. */
        Canonical.Bytes outcomeBuffer() {
            outcomes = emptied(outcomes, 512);
            return outcomes;
        }

        private static Canonical.Bytes emptied(Canonical.Bytes b, int capacity) {
            if (b.buf.length > KEEP_BYTES) {
                return new Canonical.Bytes(capacity);
            }
            b.reset();
            return b;
        }
    }
}
