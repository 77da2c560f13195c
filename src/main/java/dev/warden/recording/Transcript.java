package dev.warden.recording;

import dev.warden.wire.BackendCodec;
import dev.warden.wire.BackendMessage;
import dev.warden.wire.FrontendCodec;
import dev.warden.wire.FrontendMessage;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Turns a session's recorded entries into {@link Step}s: statements (simple and extended protocol,
 * fast-path calls), result tables (the first {@code maxRows} rows and the row count), notices, errors,
 * notifications, COPY in both directions, gaps. Streaming: it keeps only the steps and the rows it
 * shows, so a recording of millions of rows replays in little memory.
 *
 * <p>Why statements are matched to Warden's notes by client message number: the client's messages are
 * recorded when they arrive, Warden's decision about them only later (after the rules, the audit and
 * maybe a person's approval), and a Query may hold several statements.
 */
public final class Transcript {
    private final int maxRows;
    private final List<Step> steps = new ArrayList<>();
    private final Map<String, String> prepared = new HashMap<>();
    private final Map<String, String> portals = new HashMap<>();
    private final Map<Long, Integer> stepByFrame = new HashMap<>();
    private long clientFrames;
    private boolean ready;
    // the result being collected
    private List<String> columns;
    private short[] formats = new short[0];
    private List<List<String>> rows;
    private long rowCount;
    private long resultAt;
    private boolean copyOut;
    private boolean copyIn;
    private long copyBytes;
    private long copyLines;
    private int lastStatement = -1;
    private int withheld;

    public Transcript(int maxRows) {
        this.maxRows = Math.max(0, maxRows);
    }

    public List<Step> steps() {
        return steps;
    }

    /** The session's opening line (who, where, when). */
    public void session(RecordingIndex.SessionRow s) {
        String who = s.subject() != null ? s.subject() : s.user();
        String ci = s.ciRepository() == null ? "" : " — CI " + s.ciRepository() + (s.ciRun() == null ? "" : " run " + s.ciRun());
        add("session", s.started() == null ? 0 : s.started().getEpochSecond() * 1_000_000L + s.started().getNano() / 1000,
                who + " (" + (s.user() == null ? "?" : s.user()) + ") → target " + s.target() + ci
                        + (s.client() == null ? "" : " from " + s.client()), null, null, null, 0, null, null, s.session(), false);
    }

    public void accept(Entry e) {
        try {
            switch (e.kind()) {
                case Entry.CLIENT -> client(e);
                case Entry.SERVER -> server(e);
                case Entry.WARDEN -> warden(e);
                case Entry.GAP -> gap(e);
                default -> add("gap", e.micros(), "unknown entry kind " + (char) e.kind(), null, null, null, 0, null, null,
                        null, true);
            }
        } catch (RuntimeException ex) {
            add("error", e.micros(), "this recorded message could not be decoded: " + ex.getMessage(), null, null, null, 0,
                    null, null, null, true);
        }
    }

    /** Chunks that are gone: pruned by retention, or missing. */
    public void missing(long at, String why) {
        flushResult(at);
        add("gap", at, why, null, null, null, 0, null, null, null, true);
    }

    /**
     * The entries that follow (up to the next chunk) are not attested by the audit: a chunk whose
     * audit record is not in the store. Marked so that no one takes them for a verified recording.
     */
    public void unattested(long at, String why) {
        flushResult(at);
        add("unattested", at, why, null, null, null, 0, null, null, null, true);
    }

    /**
     * A chunk not shown because it is not the one the audit attests (modified, or misattributed by the
     * index): a gap, counted by {@link #withheld()}.
     */
    public void withheld(long at, String why) {
        withheld++;
        missing(at, why);
    }

    /** How many chunks {@link #withheld(long, String)} left out: replay exits 1 when there was one. */
    public int withheld() {
        return withheld;
    }

    public void finish() {
        flushResult(steps.isEmpty() ? 0 : steps.get(steps.size() - 1).at());
    }

    private void client(Entry e) {
        long frame = clientFrames++;
        FrontendMessage m = FrontendCodec.decode(Unpooled.wrappedBuffer(e.data()));
        if (m instanceof FrontendMessage.Query q) {
            statement(frame, e.micros(), q.sql());
        } else if (m instanceof FrontendMessage.Parse p) {
            prepared.put(p.name(), p.sql());
        } else if (m instanceof FrontendMessage.Bind b) {
            String sql = prepared.getOrDefault(b.statement(), "(prepared statement \"" + b.statement() + "\")");
            StringBuilder t = new StringBuilder(sql);
            if (b.paramValues().length > 0) {
                t.append("\n  -- parameters:");
                for (int i = 0; i < b.paramValues().length; i++) {
                    byte[] v = b.paramValues()[i];
                    boolean binary = b.paramFormats().length == 1 ? b.paramFormats()[0] == 1
                            : b.paramFormats().length > i && b.paramFormats()[i] == 1;
                    t.append(i == 0 ? " $" : ", $").append(i + 1).append(" = ").append(value(v, binary));
                }
            }
            portals.put(b.portal(), t.toString());
        } else if (m instanceof FrontendMessage.Execute x) {
            statement(frame, e.micros(), portals.getOrDefault(x.portal(), "(portal)"));
        } else if (m instanceof FrontendMessage.FunctionCall f) {
            statement(frame, e.micros(), "-- fast-path call of function OID " + f.functionOid());
        } else if (m instanceof FrontendMessage.CopyData d) {
            copyBytes += d.data().length;
            copyLines += lines(d.data());
        } else if (m instanceof FrontendMessage.CopyDone d) {
            if (copyIn) {
                add("copy-in", e.micros(), "COPY data sent: " + copyLines + " line(s), " + copyBytes + " bytes", null, null,
                        null, copyLines, null, null, null, false);
                copyIn = false;
            }
        } else if (m instanceof FrontendMessage.CopyFail f) {
            add("copy-in", e.micros(), "COPY aborted by the client: " + f.message(), null, null,
                null, 0, null, null, null, false);
        } else if (m instanceof FrontendMessage.Terminate t) {
            add("end", e.micros(), "client ended the session", null, null, null, 0, null,
                null, null, false);
        } else {
        }
    }

    private void statement(long frame, long at, String sql) {
        flushResult(at);
        add("statement", at, sql, new ArrayList<>(), null, null, 0, null, null, null, false);
        lastStatement = steps.size() - 1;
        stepByFrame.put(frame, lastStatement);
    }

    private void server(Entry e) {
        BackendMessage m = BackendCodec.decode(Unpooled.wrappedBuffer(e.data()));
        if (m instanceof BackendMessage.RowDescription rd) {
            flushResult(e.micros());
            columns = new ArrayList<>();
            rd.fields().forEach(f -> columns.add(f.name()));
            formats = new short[rd.fields().size()];
            for (int i = 0; i < formats.length; i++) {
                formats[i] = rd.fields().get(i).format();
            }
            rows = new ArrayList<>();
            rowCount = 0;
            resultAt = e.micros();
        } else if (m instanceof BackendMessage.DataRow d) {
            if (rows == null) {
                rows = new ArrayList<>();
                columns = new ArrayList<>(); // a portal resumed after PortalSuspended: no new RowDescription
                rowCount = 0;
                resultAt = e.micros();
            }
            rowCount++;
            if (rows.size() < maxRows) {
                List<String> r = new ArrayList<>(d.values().length);
                for (int i = 0; i < d.values().length; i++) {
                    byte[] v = d.values()[i];
                    boolean binary = i < formats.length && formats[i] == 1;
                    r.add(v == null ? null : binary ? "\\x" + HexFormat.of().formatHex(v)
                            : new String(v, StandardCharsets.UTF_8));
                }
                rows.add(r);
            }
        } else if (m instanceof BackendMessage.CommandComplete c) {
            if (copyOut) {
                add("copy-out", e.micros(), "COPY data received: " + copyLines + " line(s), " + copyBytes + " bytes",
                        null, null, rows, copyLines, c.tag(), null, null, false);
                copyOut = false;
                rows = null;
            } else {
                completeResult(e.micros(), c.tag());
            }
        } else if (m instanceof BackendMessage.PortalSuspended) {
            completeResult(e.micros(), "(portal suspended: more rows on the next fetch)");
        } else if (m instanceof BackendMessage.EmptyQueryResponse q) {
            add("result", e.micros(), "(empty query)", null, null, null, 0, null,
                null, null, false);
        } else if (m instanceof BackendMessage.ErrorResponse err) {
            flushResult(e.micros());
            String msg = err.fields().getOrDefault('M', "");
            add("error", e.micros(), msg, null, null, null, 0, err.severity(), err.sqlState(),
                    join(err.fields().get('D'), err.fields().get('H')), byWarden(err.sqlState(), msg));
        } else if (m instanceof BackendMessage.NoticeResponse n) {
            String msg = n.fields().getOrDefault('M', "");
            add("notice", e.micros(), msg, null, null, null, 0, n.severity(), n.sqlState(),
                    join(n.fields().get('D'), n.fields().get('H')), msg.contains("approval") || msg.startsWith("Warden"));
        } else if (m instanceof BackendMessage.NotificationResponse n) {
            add("notification", e.micros(), "Asynchronous notification \""
                + n.channel() + "\"" + (n.payload().isEmpty() ? "" : " with payload \"" + n.payload() + "\"")
                + " received from server process with PID " + n.processId() + ".", null, null, null, 0, null, null,
                n.channel(), false);
        } else if (m instanceof BackendMessage.CopyOutResponse c) {
            flushResult(e.micros());
            copyOut = true;
            copyBytes = 0;
            copyLines = 0;
            rows = new ArrayList<>();
        } else if (m instanceof BackendMessage.CopyInResponse c) {
            flushResult(e.micros());
            copyIn = true;
            copyBytes = 0;
            copyLines = 0;
        } else if (m instanceof BackendMessage.CopyData d) {
            copyBytes += d.data().length;
            copyLines += lines(d.data());
            if (rows != null && rows.size() < maxRows) {
                rows.add(List.of(new String(d.data(), StandardCharsets.UTF_8).stripTrailing()));
            }
        } else if (m instanceof BackendMessage.ParameterStatus p) {
            if (ready) {
                add("parameter", e.micros(), p.name() + " = " + p.value(), null, null, null, 0, null, null, p.value(), false);
            }
        } else if (m instanceof BackendMessage.ReadyForQuery r) {
            flushResult(e.micros());
            ready = true;
        } else {
        }
    }

    private boolean byWarden(String state, String msg) {
        if (msg.startsWith("Warden") || msg.startsWith("recording is unavailable") || msg.startsWith("auditing is unavailable")
                || msg.contains("requires approval")) {
            return true;
        }
        if (lastStatement >= 0) {
            for (Step.Decision d : steps.get(lastStatement).statements()) {
                if (d.verdict() != null && !d.verdict().equals("allow") && !d.verdict().equals("mask")) {
                    return "42501".equals(state);
                }
            }
        }
        return false;
    }

    private void warden(Entry e) {
        @SuppressWarnings("unchecked")
        Map<String, Object> j = (Map<String, Object>) JsonRead.parse(e.text());
        if ("statement".equals(j.get("e"))) {
            long frame = ((Number) j.get("frame")).longValue();
            @SuppressWarnings("unchecked")
            List<String> rules = j.get("rules") instanceof List<?> l ? (List<String>) l : List.of();
            Step.Decision d = new Step.Decision((String) j.get("record"), (String) j.get("verdict"), rules,
                    (String) j.get("text"));
            Integer at = stepByFrame.get(frame);
            if (at == null) {
                for (Map.Entry<Long, Integer> s : stepByFrame.entrySet()) {
                    if (s.getKey() > frame && steps.get(s.getValue()).statements().isEmpty()
                            && (at == null || s.getValue() < at)) {
                        at = s.getValue();
                    }
                }
            }
            if (at == null) {
                statement(frame, e.micros(), d.text() == null ? "" : d.text());
                at = steps.size() - 1;
            }
            steps.get(at).statements().add(d);
        }
    }

    private void gap(Entry e) {
        @SuppressWarnings("unchecked")
        Map<String, Object> j = (Map<String, Object>) JsonRead.parse(e.text());
        flushResult(e.micros());
        add("gap", e.micros(), j.get("messages") + " message(s), " + j.get("bytes")
                + " bytes not recorded: the recording could not keep up (recording.overflow: drop-and-mark)", null, null,
                null, ((Number) j.get("messages")).longValue(), null, null, null, true);
    }

    private void completeResult(long at, String tag) {
        if (columns != null) {
            add("result", resultAt, null, null, columns, rows, rowCount, tag, null, null, false);
            columns = null;
            rows = null;
        } else {
            add("result", at, null, null, null, null, 0, tag, null, null, false);
        }
    }

    private void flushResult(long at) {
        if (columns != null && !copyOut) {
            add("result", resultAt, null, null, columns, rows, rowCount, null, null, null, false);
            columns = null;
            rows = null;
        }
    }

    private void add(String kind, long at, String text, List<Step.Decision> decisions, List<String> cols,
                     List<List<String>> rs, long count, String tag, String sqlState, String detail, boolean warden) {
        steps.add(new Step(steps.size() + 1, kind, at, text, decisions == null ? List.of() : decisions, cols, rs, count,
                tag, sqlState, detail, warden));
    }

    private static String join(String a, String b) {
        return a == null ? b : b == null ? a : a + "\n" + b;
    }

    private static long lines(byte[] d) {
        long n = 0;
        for (byte b : d) {
            if (b == '\n') {
                n++;
            }
        }
        return n;
    }

    private static String value(byte[] v, boolean binary) {
        if (v == null) {
            return "NULL";
        }
        if (binary) {
            return "\\x" + HexFormat.of().formatHex(v, 0, Math.min(v.length, 32)) + (v.length > 32 ? "…" : "");
        }
        String s = new String(v, StandardCharsets.UTF_8);
        return "'" + (s.length() > 60 ? s.substring(0, 60) + "…" : s) + "'";
    }
}
