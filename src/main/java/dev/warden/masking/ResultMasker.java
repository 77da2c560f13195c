package dev.warden.masking;

import dev.warden.identity.Identity;
import dev.warden.policy.TargetFact;
import dev.warden.sql.SqlLexer;
import dev.warden.wire.BackendCodec;
import dev.warden.wire.BackendMessage;
import dev.warden.wire.BackendMessage.RowDescription.Field;
import dev.warden.wire.FrontendCodec;
import dev.warden.wire.FrontendMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The row rewriter of one session on a target with masking. It follows the protocol in both
 * directions (which Query statement, Parse/Bind/Describe/Execute the server is answering), so that
 * each RowDescription — or, for an Execute without Describe, the statement's earlier description
 * plus the result formats of its Bind — yields a plan: which cells to mask and how. DataRows of a
 * result with nothing to mask, and every other message, pass as the same buffer; a masked DataRow is
 * rebuilt with only its masked cells changed.
 *
 * <p>Runs on the session's event loop only; it never blocks (the catalog is read elsewhere and
 * only looked up here). When it cannot tell what a result holds — no catalog yet, a DataRow with no
 * description — it masks every cell to NULL rather than guess.
 *
 * <p>One file on purpose: it is the per-session protocol follower (Parse/Bind/Describe/Execute,
 * RowDescription → plan → DataRow) whose state must move in step with the wire; methods, catalog,
 * lineage and detectors live elsewhere.
 */
public final class ResultMasker {
    private static final int MAX_NAMES = 1000;

    private sealed interface Pending permits QueryP, ParseP, BindP, DescribeP, ExecuteP, CloseP, SyncP {
    }

    private static final class QueryP implements Pending {
        final List<String> statements;
        int index;

        QueryP(List<String> statements) {
            this.statements = statements;
        }
    }

    private record ParseP() implements Pending {
    }

    private record BindP() implements Pending {
    }

    private record DescribeP(byte kind, String name) implements Pending {
    }

    private record ExecuteP(String portal) implements Pending {
    }

    private record CloseP() implements Pending {
    }

    private record SyncP() implements Pending {
    }

    private static final class Prepared {
        final String sql;
        List<Field> fields;

        Prepared(String sql) {
            this.sql = sql;
        }
    }

    private record Portal(Prepared statement, short[] formats) {
    }

    /** Which cells of a result are masked, and how. */
    record Plan(int[] columns, MaskMethod[] methods, int[] types, boolean[] binary, boolean[] detectOnly, String[] labels) {
    }

    /** What was masked in one statement's result, for its audit record. */
    public record Masked(List<String> columns, long cells, SealedOriginals.Originals originals) {
        public Masked(List<String> columns, long cells) {
            this(columns, cells, null);
        }
    }

    private final TargetMasking tm;
    private final Identity who;
    private final TargetFact fact;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final Map<String, Prepared> statements = lru();
    private final Map<String, Portal> portals = lru();
    private final Map<String, Lineage.Result> lineages = lru();
    private long lineageVersion = -1;
    /** A DECLARE or PREPARE in this session touched protected relations: FETCH/EXECUTE results are judged as such. */
    private boolean protectedDeferred;
    private Plan plan;
    private boolean planResolved;
    private final Map<String, Boolean> maskedColumns = new LinkedHashMap<>();
    private long maskedCells;
    /** Original values of this statement's masked cells, for sealing (only with sealOriginals). */
    private SealedOriginals.Originals originals;
    private Masked completed;

    public ResultMasker(TargetMasking tm, Identity who, TargetFact fact) {
        this.tm = tm;
        this.who = who;
        this.fact = fact;
    }

    public TargetMasking target() {
        return tm;
    }

    // ------------------------------------------------------------------ client → server

    /** Sees one message on its way to the server (not consumed). */
    public void clientFrame(ByteBuf f) {
        if (f.readableBytes() < 5) {
            return;
        }
        byte type = f.getByte(f.readerIndex());
        switch (type) {
            case 'Q' -> {
                String sql = ((FrontendMessage.Query) FrontendCodec.decode(f)).sql();
                List<String> parts = SqlLexer.split(sql);
                parts.forEach(this::noteDeferred);
                pending.add(new QueryP(parts));
            }
            case 'F' -> pending.add(new QueryP(List.of()));
            case 'P' -> {
                var p = (FrontendMessage.Parse) FrontendCodec.decode(f);
                noteDeferred(p.sql());
                statements.put(p.name(), new Prepared(p.sql()));
                pending.add(new ParseP());
            }
            case 'B' -> {
                var b = (FrontendMessage.Bind) FrontendCodec.decode(f);
                portals.put(b.portal(), new Portal(statements.get(b.statement()), b.resultFormats()));
                pending.add(new BindP());
            }
            case 'D' -> {
                var d = (FrontendMessage.Describe) FrontendCodec.decode(f);
                pending.add(new DescribeP(d.kind(), d.name()));
            }
            case 'E' -> pending.add(new ExecuteP(((FrontendMessage.Execute) FrontendCodec.decode(f)).portal()));
            case 'C' -> {
                var c = (FrontendMessage.Close) FrontendCodec.decode(f);
                (c.kind() == 'S' ? statements : portals).remove(c.name());
                pending.add(new CloseP());
            }
            case 'S' -> pending.add(new SyncP());
            default -> {
                // Flush, COPY data, Terminate: nothing comes back for them
            }
        }
    }

    /**
     * DECLARE and PREPARE produce no rows themselves; their query's rows come later with FETCH or
     * EXECUTE, which carry only a name. Remember whether any such query touched protected relations.
     */
    private void noteDeferred(String sql) {
        if (protectedDeferred || sql.length() < 7) {
            return;
        }
        String head = sql.stripLeading();
        if (head.regionMatches(true, 0, "declare", 0, 7) || head.regionMatches(true, 0, "prepare", 0, 7)
                || head.regionMatches(true, 0, "/*", 0, 2) || head.regionMatches(true, 0, "--", 0, 2)) {
            List<String> lead = SqlLexer.leadingWords(sql, 1);
            String first = lead.isEmpty() ? "" : lead.get(0).toLowerCase(Locale.ROOT);
            if (first.equals("declare") || first.equals("prepare")) {
                ProtectedCatalog.Snapshot cat = tm.catalog().current();
                protectedDeferred = cat == null || Lineage.of(sql, cat).touchesProtected();
            }
        }
    }

    // ------------------------------------------------------------------ server → client

    /** One server message; returns it, or its masked replacement (the original is then released). */
    public ByteBuf serverMessage(ByteBuf frame, ByteBufAllocator alloc) {
        byte type = frame.getByte(frame.readerIndex());
        Pending head = pending.peekFirst();
        switch (type) {
            case 'D' -> {
                if (!planResolved) {
                    resolveExecutePlan(head);
                }
                return plan == null ? frame : rewrite(frame, alloc);
            }
            case 'T' -> onRowDescription(frame, head);
            case 'n' -> {
                if (head instanceof DescribeP) {
                    pending.removeFirst();
                }
            }
            case '1' -> popIf(head, ParseP.class);
            case '2' -> popIf(head, BindP.class);
            case '3' -> popIf(head, CloseP.class);
            case 'C', 'I', 's' -> {
                if (type == 'C' && ddlTag(frame)) {
                    tm.catalog().invalidate();
                }
                statementDone();
                if (head instanceof QueryP q) {
                    q.index++;
                } else if (head instanceof ExecuteP) {
                    pending.removeFirst();
                }
            }
            case 'E' -> {
                frame = scrubError(frame, head, alloc);
                statementDone();
                if (!(head instanceof QueryP)) {
                    // the server skips everything up to Sync
                    while (!pending.isEmpty() && !(pending.peekFirst() instanceof SyncP)) {
                        pending.removeFirst();
                    }
                }
            }
            case 'Z' -> {
                Pending p;
                while ((p = pending.pollFirst()) != null && !(p instanceof SyncP) && !(p instanceof QueryP)) {
                    // answered implicitly
                }
                plan = null;
                planResolved = false;
            }
            case 'N' -> frame = scrubError(frame, head, alloc);
            default -> {
                // parameter status, notifications, COPY, ParameterDescription: unchanged
            }
        }
        return frame;
    }

    private static final java.util.regex.Pattern QUOTED = java.util.regex.Pattern.compile("\"[^\"]*\"");
    private static final java.util.regex.Pattern KEY_VALUE = java.util.regex.Pattern.compile("\\)=\\(.*\\)");
    private static final java.util.regex.Pattern ROW = java.util.regex.Pattern.compile("(contains|row) \\(.*\\)");
    private static final java.util.regex.Pattern AFTER_COLON = java.util.regex.Pattern.compile(": .*");
    private static final java.util.regex.Pattern REFUSAL_STAND_IN =
            java.util.regex.Pattern.compile("function warden_refused_[0-9a-f]{32}\\(\\) does not exist");
    private static final java.util.regex.Pattern DIGITS = java.util.regex.Pattern.compile("\\d{5,}");

    /**
     * Errors and notices. PostgreSQL quotes the offending value in many of them ({@code invalid
     * input syntax for type integer: "123-45-6789"}, {@code Key (ssn)=(...) already exists},
     * {@code Failing row contains (...)}, {@code date field value out of range: 123456789-01-01}):
     * for a statement that touches protected relations, quoted values, key values, failing rows,
     * whatever follows a colon and runs of five or more digits are redacted in the message, detail,
     * hint and context, so that a failing cast or constraint cannot read them out. The content
     * detectors run over every error and notice, whatever the statement (a function may raise a
     * notice with values it read).
     */
    private ByteBuf scrubError(ByteBuf frame, Pending head, ByteBufAllocator alloc) {
        ProtectedCatalog.Snapshot cat = tm.catalog().current();
        String sql = head instanceof QueryP q && q.index < q.statements.size() ? q.statements.get(q.index)
                : head instanceof ExecuteP x && portals.get(x.portal()) != null && portals.get(x.portal()).statement() != null
                ? portals.get(x.portal()).statement().sql : null;
        boolean touches = cat == null || (sql == null ? protectedDeferred : lineage(sql, cat).touchesProtected());
        boolean notice = frame.getByte(frame.readerIndex()) == 'N';
        var err = notice ? null : (BackendMessage.ErrorResponse) BackendCodec.decode(frame);
        Map<Character, String> fields = new LinkedHashMap<>(notice ? noticeFields(frame) : err.fields());
        if (!notice && REFUSAL_STAND_IN.matcher(fields.getOrDefault('M', "")).matches()) {
            return frame; // Warden's own refusal (StatementBlocker's stand-in), replaced downstream by its nonce
        }
        boolean changed = false;
        for (char k : new char[] {'M', 'D', 'H', 'W', 'q'}) {
            String v = fields.get(k);
            if (v == null) {
                continue;
            }
            String out = v;
            if (touches) {
                out = QUOTED.matcher(out).replaceAll("\"****\"");
                out = KEY_VALUE.matcher(out).replaceAll(")=(****)");
                out = ROW.matcher(out).replaceAll("$1 (****)");
                if (k == 'M' || k == 'D') {
                    out = AFTER_COLON.matcher(out).replaceAll(": ****");
                }
                out = DIGITS.matcher(out).replaceAll("****");
            }
            out = tm.detectors().redact(out);
            if (!out.equals(v)) {
                fields.put(k, out);
                changed = true;
            }
        }
        if (!changed) {
            return frame;
        }
        ByteBuf out = alloc.buffer(frame.readableBytes());
        if (notice) {
            out.writeByte('N').writeInt(0);
            fields.forEach((k, v) -> {
                out.writeByte(k);
                out.writeCharSequence(v, StandardCharsets.UTF_8);
                out.writeByte(0);
            });
            out.writeByte(0);
            out.setInt(1, out.writerIndex() - 1);
        } else {
            BackendCodec.encode(new BackendMessage.ErrorResponse(fields), out);
        }
        frame.release();
        return out;
    }

    /** The fields of a NoticeResponse (same layout as an ErrorResponse). */
    private static Map<Character, String> noticeFields(ByteBuf frame) {
        Map<Character, String> f = new LinkedHashMap<>();
        int p = frame.readerIndex() + 5;
        int end = frame.readerIndex() + 1 + frame.getInt(frame.readerIndex() + 1);
        while (p < end && frame.getByte(p) != 0) {
            char code = (char) frame.getByte(p++);
            int z = frame.indexOf(p, end, (byte) 0);
            if (z < 0) {
                break;
            }
            f.put(code, frame.toString(p, z - p, StandardCharsets.UTF_8));
            p = z + 1;
        }
        return f;
    }

    /** What was masked in the statement that completed last (taken once), or null. */
    public Masked takeCompleted() {
        Masked m = completed;
        completed = null;
        return m;
    }

    private void statementDone() {
        if (!maskedColumns.isEmpty()) {
            completed = new Masked(List.copyOf(maskedColumns.keySet()), maskedCells, originals);
            maskedColumns.clear();
            maskedCells = 0;
        } else {
            completed = null;
        }
        originals = null;
        plan = null;
        planResolved = false;
    }

    private void popIf(Pending head, Class<?> kind) {
        if (kind.isInstance(head)) {
            pending.removeFirst();
        }
    }

    private void onRowDescription(ByteBuf frame, Pending head) {
        List<Field> fields = ((BackendMessage.RowDescription) BackendCodec.decode(frame)).fields();
        if (head instanceof DescribeP d) {
            pending.removeFirst();
            if (d.kind() == 'S') {
                Prepared p = statements.get(d.name());
                if (p != null) {
                    p.fields = fields;
                }
                return;
            }
            Portal portal = portals.get(d.name());
            if (portal != null && portal.statement() != null) {
                portal.statement().fields = fields;
            }
            // the plan for the Execute that follows is made when its first row arrives
            return;
        }
        String sql = head instanceof QueryP q && q.index < q.statements.size() ? q.statements.get(q.index) : null;
        plan = plan(sql, fields, null);
        planResolved = true;
    }

    private void resolveExecutePlan(Pending head) {
        planResolved = true;
        if (head instanceof ExecuteP x) {
            Portal p = portals.get(x.portal());
            if (p != null && p.statement() != null && p.statement().fields != null) {
                plan = plan(p.statement().sql, p.statement().fields, p.formats());
                return;
            }
        }
        plan = blind();
    }

    /** Rows whose description Warden never saw: every cell becomes NULL. */
    private static Plan blind() {
        return new Plan(null, null, null, null, null, new String[] {"<undescribed result>"});
    }

    Plan plan(String sql, List<Field> fields, short[] bindFormats) {
        ProtectedCatalog.Snapshot cat = tm.catalog().current();
        int n = fields.size();
        if (cat == null) {
            return n == 0 ? null : blind();
        }
        Lineage.Result lin = sql == null ? new Lineage.Result(true, true, null) : lineage(sql, cat);
        TargetMasking.Methods methods = tm.methods(who, fact);
        List<Integer> cols = new ArrayList<>();
        List<MaskMethod> ms = new ArrayList<>();
        List<Boolean> detect = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Field f = fields.get(i);
            MaskMethod m = null;
            String label = null;
            boolean detectOnly = false;
            if (f.tableOid() != 0) {
                ProtectedCatalog.Column c = cat.origin(f.tableOid(), f.columnAttr());
                if (c == null && f.columnAttr() == 0 && cat.hasProtected(f.tableOid())) {
                    // a whole-row reference (SELECT c FROM customers c) carries the relation but no column
                    c = new ProtectedCatalog.Column("<row of " + f.tableOid() + ">", f.name(), DataClass.FREETEXT, true);
                }
                if (c != null) {
                    m = methods.of(c.cls());
                    m = c.derived() ? m.forDerived() : m;
                    label = c.relation() + "." + c.name();
                } else if (!cat.knows(f.tableOid())) {
                    // a relation created after the catalog was read: unknown, so treated as protected
                    tm.catalog().invalidate();
                    m = methods.of(DataClass.FREETEXT).forDerived();
                    label = "<unknown relation " + f.tableOid() + ">." + f.name();
                }
            } else {
                Lineage.Output o = lin.originless(i, n);
                if (o != null) {
                    m = methods.of(o.cls()).forDerived();
                    label = "<computed>." + f.name();
                } else if (lin.touchesClassified() && !tm.detectors().isEmpty() && PgTypes.stringy(f.typeOid())) {
                    m = MaskMethod.NONE;
                    detectOnly = true;
                    label = "<detected>." + f.name();
                }
            }
            if (m != null && (detectOnly || !m.isNone())) {
                cols.add(i);
                ms.add(m);
                detect.add(detectOnly);
                labels.add(label);
            }
        }
        if (cols.isEmpty()) {
            return null;
        }
        int k = cols.size();
        int[] c = new int[k];
        int[] types = new int[k];
        boolean[] bin = new boolean[k];
        boolean[] det = new boolean[k];
        for (int j = 0; j < k; j++) {
            int i = cols.get(j);
            c[j] = i;
            types[j] = fields.get(i).typeOid();
            short fmt = bindFormats == null ? fields.get(i).format()
                    : bindFormats.length == 0 ? 0 : bindFormats.length == 1 ? bindFormats[0] : i < bindFormats.length ? bindFormats[i] : 0;
            bin[j] = fmt == 1;
            det[j] = detect.get(j);
        }
        return new Plan(c, ms.toArray(new MaskMethod[0]), types, bin, det, labels.toArray(new String[0]));
    }

    private Lineage.Result lineage(String sql, ProtectedCatalog.Snapshot cat) {
        if (cat.version() != lineageVersion) {
            lineages.clear();
            lineageVersion = cat.version();
        }
        Lineage.Result r = lineages.get(sql);
        if (r == null) {
            List<String> lead = SqlLexer.leadingWords(sql, 1);
            String first = lead.isEmpty() ? "" : lead.get(0).toLowerCase(Locale.ROOT);
            if (first.equals("fetch") || first.equals("execute") || first.equals("move")) {
                r = protectedDeferred ? new Lineage.Result(true, true, null) : Lineage.of(sql, cat);
            } else {
                r = Lineage.of(sql, cat);
                if (r.touchesProtected() && (first.equals("declare") || first.equals("prepare"))) {
                    protectedDeferred = true;
                }
            }
            lineages.put(sql, r);
        }
        return r;
    }

    private ByteBuf rewrite(ByteBuf frame, ByteBufAllocator alloc) {
        int r = frame.readerIndex();
        int ncols = frame.getUnsignedShort(r + 5);
        ByteBuf out = alloc.buffer(frame.readableBytes() + 16);
        out.writeByte('D').writeInt(0).writeShort(ncols);
        int pos = r + 7;
        int next = 0;
        Plan p = plan;
        boolean all = p.columns() == null;
        SealedOriginals sealer = tm.sealer();
        byte[][] kept = null;
        for (int i = 0; i < ncols; i++) {
            int len = frame.getInt(pos);
            int dataAt = pos + 4;
            pos = dataAt + Math.max(len, 0);
            boolean masked = all || (next < p.columns().length && p.columns()[next] == i);
            if (!masked) {
                out.writeInt(len);
                if (len > 0) {
                    out.writeBytes(frame, dataAt, len);
                }
                continue;
            }
            int j = all ? -1 : next++;
            if (len < 0) {
                out.writeInt(-1);
                continue;
            }
            byte[] value = new byte[len];
            frame.getBytes(dataAt, value);
            byte[] m;
            if (all) {
                m = null;
            } else if (p.detectOnly()[j]) {
                String s = new String(value, StandardCharsets.UTF_8);
                String red = tm.detectors().redact(s);
                m = red == s ? value : red.getBytes(StandardCharsets.UTF_8);
            } else {
                m = tm.masker().mask(p.methods()[j], p.types()[j], p.binary()[j], value);
            }
            if (m != value) {
                maskedCells++;
                maskedColumns.put(all ? p.labels()[0] : p.labels()[j], Boolean.TRUE);
                if (sealer != null) {
                    if (kept == null) {
                        kept = new byte[all ? ncols : p.columns().length][];
                    }
                    kept[all ? i : j] = value; // already a copy of the cell
                }
            }
            if (m == null) {
                out.writeInt(-1);
            } else {
                out.writeInt(m.length).writeBytes(m);
            }
        }
        out.setInt(1, out.writerIndex() - 1);
        frame.release();
        if (kept != null) {
            keepOriginals(sealer, p, kept);
        }
        return out;
    }

    private void keepOriginals(SealedOriginals sealer, Plan p, byte[][] row) {
        if (originals == null) {
            String[] cols;
            if (p.columns() == null) {
                cols = new String[row.length];
                for (int i = 0; i < cols.length; i++) {
                    cols[i] = p.labels()[0] + "#" + (i + 1);
                }
            } else {
                cols = p.labels();
            }
            originals = sealer.collector(cols, p.columns() == null ? null : p.binary());
        }
        if (originals.width() == row.length) {
            originals.add(row);
        }
    }

    private static boolean ddlTag(ByteBuf frame) {
        int at = frame.readerIndex() + 5;
        int n = Math.min(frame.readableBytes() - 5, 8);
        if (n < 4) {
            return false;
        }
        String tag = frame.toString(at, n, StandardCharsets.US_ASCII);
        return tag.startsWith("CREATE") || tag.startsWith("ALTER") || tag.startsWith("DROP") || tag.startsWith("COMMENT") || tag.startsWith("GRANT") || tag.startsWith("REVOKE");
    }

    private static <V> Map<String, V> lru() {
        return new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
                return size() > MAX_NAMES;
            }
        };
    }
}
