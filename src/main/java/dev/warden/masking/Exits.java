package dev.warden.masking;

import dev.warden.sql.SqlTokens;
import dev.warden.sql.SqlTokens.Tok;
import dev.warden.sql.Statement;
import dev.warden.sql.Statement.Clause;
import dev.warden.sql.Statement.ColumnRef;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The ways protected values could leave other than in a result Warden can mask: copied into
 * another table (CREATE TABLE AS, SELECT INTO, INSERT ... SELECT, data-modifying CTEs, UPDATE ...
 * SET x = ssn), exported with COPY ... TO, or revealed one guess at a time by a predicate or sort
 * on a masked column. Each is refused for an identity that sees the column masked; the message
 * says what to do instead. Also the ways the configuration could stop matching (a schema renamed)
 * and routine bodies Warden cannot follow.
 *
 * <p>One file on purpose: it is the one list of exits, checked in one order, and each check is a
 * short token scan. A reviewer reading for a missing exit should find every one here.
 */
public final class Exits {
    private Exits() {
    }

    /** Why the statement must not run, or null when it may. */
    public static String check(Statement s, ProtectedCatalog.Snapshot cat, TargetMasking.Methods methods) {
        return s == null ? null : check(s, s.text(), cat, methods);
    }

    /**
     * Why the statement must not run, or null when it may. {@code text} is the statement as sent:
     * an analysis shared through a cache keyed by the statement's shape carries the text of the
     * first statement of that shape, whose string literals (a DO block's body) may differ.
     */
    public static String check(Statement s, String text, ProtectedCatalog.Snapshot cat, TargetMasking.Methods methods) {
        return check(s, text, cat, methods, true);
    }

    /**
     * The same, for the text as split and read with {@code standard_conforming_strings} on or (false) off: a
     * session that may have it off is checked under both readings, so that a statement hidden in a "string" by
     * one of them is still seen.
     */
    public static String check(Statement s, String text, ProtectedCatalog.Snapshot cat, TargetMasking.Methods methods,
                               boolean standardStrings) {
        if (s == null) {
            return null;
        }
        String inner = check(s.inner(), cat, methods);
        if (inner != null) {
            return inner;
        }
        if (!anyMasked(cat, methods)) {
            return null;
        }
        List<Tok> toks = SqlTokens.of(text, standardStrings);
        String hidden = calledFrom(toks, SQL_TEXT_FUNCTIONS);
        if (hidden != null) {
            return "it calls " + hidden + ", which runs SQL given as a string that Warden cannot see or mask";
        }
        String stats = namedFrom(toks, STATISTICS);
        if (stats != null) {
            return "it reads " + stats + ", whose sample values (most common values, histograms) come from protected "
                    + "columns unmasked";
        }
        boolean routine = s.kind() == Statement.Kind.DO || (s.kind() == Statement.Kind.DDL && definesRoutine(toks));
        List<String> bodies = s.kind() == Statement.Kind.DO || s.kind() == Statement.Kind.DDL ? bodies(toks, routine)
                : List.of();
        if (bodies == null) {
            return "it holds a procedural body written in a string with backslash escapes (or nested too deeply), which "
                    + "Warden does not decode, so it cannot tell what the body reads; write the body in dollar quotes "
                    + "($$ ... $$)";
        }
        if (!bodies.isEmpty() && bodyReadsProtected(bodies, cat, routine)) {
            return "its procedural body reads a relation or column with protected data, or runs dynamic SQL (EXECUTE), "
                    + "which Warden cannot mask or follow (it could copy or print the values); run the queries as plain "
                    + "statements";
        }
        String schema = renamedProtectedSchema(toks, cat);
        for (int i = 0; schema == null && i < bodies.size(); i++) {
            schema = renamedProtectedSchema(SqlTokens.of(bodies.get(i)), cat);
        }
        if (schema != null) {
            return "it renames schema " + schema + ", which holds relations with protected columns: the masking "
                    + "configuration names them by schema, so after a restart they would no longer be found and masked; "
                    + "schema changes there are for a grant that sees the columns unmasked, together with a change of "
                    + "the configuration";
        }
        Lineage.Result lin = Lineage.of(text, cat);
        if (!lin.touchesProtected()) {
            return null;
        }
        if (s.kind() == Statement.Kind.DDL && changesRelation(toks)) {
            return "it changes a relation with protected columns (renames, new or generated columns, triggers, rules, "
                    + "policies could carry the values out of the masking); schema changes there are for a grant that "
                    + "sees the columns unmasked";
        }
        String sink = calledFrom(toks, SINKS);
        if (sink != null) {
            return "it passes values to " + sink + ", which keeps them where they can be read back unmasked "
                    + "(settings, notifications, large objects, sequences, lock keys)";
        }
        Set<String> known = new HashSet<>();
        for (String t : s.tables()) {
            known.addAll(cat.columnsByTable().getOrDefault(t.substring(t.indexOf('.') + 1), Set.of()));
        }
        if (!s.parsed()) {
            if (anyMasked(cat, methods)) {
                return "Warden could not analyse this statement, and it reads a relation with protected columns, so it "
                        + "cannot tell which values it would reveal; write it as a plain SELECT";
            }
            return null;
        }
        for (ColumnRef c : s.columns()) {
            DataClass cls = protectedClass(c, cat);
            if (cls == null || methods.of(cls).isNone()) {
                continue;
            }
            if ((c.clause() == Clause.WHERE || c.clause() == Clause.JOIN || c.clause() == Clause.GROUP_ORDER)
                    && !methods.predicateAllowed(cls)) {
                return "it filters, joins, groups or sorts on protected column " + c.column() + " (" + cls.id()
                        + "), which would reveal values you see masked; filter on an unprotected column instead";
            }
        }
        boolean copies = s.createsTable() || s.dataModifyingCte() || s.kind() == Statement.Kind.INSERT
                || s.kind() == Statement.Kind.MERGE || (s.kind() == Statement.Kind.DDL && s.writes());
        boolean export = s.kind() == Statement.Kind.COPY && s.copyDirection() == Statement.CopyDirection.TO;
        if (copies || export) {
            String what = suspicious(s, cat, methods, known, copies);
            if (what != null || (export && s.columns().isEmpty() && anyMasked(cat, methods))) {
                return export
                        ? "COPY ... TO would export protected columns" + (what == null ? "" : " (" + what + ")")
                        + " unmasked; use SELECT, whose results Warden masks, or COPY only unprotected columns"
                        : "it copies protected data (" + what + ") into another table, where it would no longer be "
                        + "protected; copy only unprotected columns";
            }
        }
        if (s.kind() == Statement.Kind.UPDATE) {
            String copied = updateCopies(toks, cat, methods, known);
            if (copied != null) {
                return "it copies protected column " + copied + " into another column; set values from literals or "
                        + "unprotected columns";
            }
        }
        String position = positionalSort(toks, lin, methods);
        if (position != null) {
            return "it groups or sorts by the position of protected column " + position + ", which would reveal values "
                    + "you see masked; sort on an unprotected column instead";
        }
        return null;
    }

    /** Functions that run SQL handed to them as text: the statement inside is invisible to Warden. */
    private static final Set<String> SQL_TEXT_FUNCTIONS = Set.of("query_to_xml", "query_to_xmlschema",
            "query_to_xml_and_xmlschema", "table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema",
            "cursor_to_xml", "cursor_to_xmlschema", "schema_to_xml", "schema_to_xmlschema", "schema_to_xml_and_xmlschema",
            "database_to_xml", "database_to_xmlschema", "database_to_xml_and_xmlschema", "ts_stat", "dblink",
            "dblink_exec", "dblink_open", "dblink_send_query");
    /** Catalogs holding sample values of every column (ANALYZE statistics). */
    private static final Set<String> STATISTICS = Set.of("pg_stats", "pg_statistic", "pg_stats_ext",
            "pg_stats_ext_exprs", "pg_statistic_ext_data");
    /** Functions that keep a value somewhere a later statement can read it without naming a protected relation. */
    private static final Set<String> SINKS = Set.of("set_config", "pg_notify", "lo_from_bytea", "lo_put", "lowrite",
            "lo_import", "lo_export", "setval", "pg_advisory_lock", "pg_advisory_lock_shared", "pg_advisory_xact_lock",
            "pg_advisory_xact_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_lock_shared",
            "pg_try_advisory_xact_lock", "pg_try_advisory_xact_lock_shared", "pg_logical_emit_message",
            "pg_file_write", "dblink_exec");
    private static final Set<String> ORDER_END = Set.of("limit", "offset", "fetch", "for", "having", "window", "union",
            "intersect", "except", "order", "group");

    /** The first of {@code names} called as a function in the statement (tokens outside strings), or null. */
    private static String calledFrom(List<Tok> toks, Set<String> names) {
        for (int i = 0; i + 1 < toks.size(); i++) {
            Tok t = toks.get(i);
            if (t.type() == SqlTokens.Type.NAME && names.contains(t.text()) && toks.get(i + 1).is("(")) {
                return t.text();
            }
        }
        return null;
    }

    private static String namedFrom(List<Tok> toks, Set<String> names) {
        for (Tok t : toks) {
            if (t.type() == SqlTokens.Type.NAME && names.contains(t.text())) {
                return t.text();
            }
        }
        return null;
    }

    /** ALTER ... of a relation, or CREATE TRIGGER / RULE / POLICY on one (the caller checked it names a protected one). */
    private static boolean changesRelation(List<Tok> toks) {
        if (toks.isEmpty()) {
            return false;
        }
        if (toks.get(0).isWord("alter")) {
            return true;
        }
        if (!toks.get(0).isWord("create")) {
            return false;
        }
        for (int i = 1; i < Math.min(toks.size(), 5); i++) {
            Tok t = toks.get(i);
            if (t.isWord("trigger") || t.isWord("rule") || t.isWord("policy")) {
                return true;
            }
        }
        return false;
    }

    /** ORDER BY 2 / GROUP BY 2 where output 2 is a protected column the identity sees masked: its name, or null. */
    private static String positionalSort(List<Tok> toks, Lineage.Result lin, TargetMasking.Methods methods) {
        Lineage.Output[] outputs = lin.outputs();
        if (outputs == null) {
            return null;
        }
        int depth = 0;
        for (int i = 0; i + 1 < toks.size(); i++) {
            Tok t = toks.get(i);
            if (t.is("(")) {
                depth++;
            } else if (t.is(")")) {
                depth--;
            } else if (depth == 0 && (t.isWord("order") || t.isWord("group")) && toks.get(i + 1).isWord("by")) {
                for (int j = i + 2; j < toks.size(); j++) {
                    Tok u = toks.get(j);
                    if (u.type() == SqlTokens.Type.NAME && !u.quoted() && ORDER_END.contains(u.text()) || u.is(";")) {
                        break;
                    }
                    boolean itemStart = j == i + 2 || toks.get(j - 1).is(",");
                    boolean itemEnd = j + 1 >= toks.size() || toks.get(j + 1).is(",") || toks.get(j + 1).type() == SqlTokens.Type.NAME;
                    if (u.type() == SqlTokens.Type.NUMBER && itemStart && itemEnd) {
                        int k;
                        try {
                            k = Integer.parseInt(u.text());
                        } catch (NumberFormatException e) {
                            continue;
                        }
                        if (k >= 1 && k <= outputs.length && outputs[k - 1] != null) {
                            DataClass cls = outputs[k - 1].cls();
                            if (!methods.of(cls).isNone() && !methods.predicateAllowed(cls)) {
                                return "#" + k + " (" + cls.id() + ")";
                            }
                        }
                    }
                }
            }
        }
        return null;
    }

    /**
     * The texts of the string literals in a DO block or DDL statement (a routine's body), with the literals
     * inside those bodies in turn (a DO block that creates a function), decoded as PostgreSQL reads them.
     * Null when a body uses backslash escapes outside dollar quotes (E'', U&'', or '' with
     * {@code standard_conforming_strings} off), which this does not decode, or when bodies nest deeper than
     * {@link #MAX_BODY_DEPTH} or number more than {@link #MAX_BODIES}: the caller refuses then.
     */
    static List<String> bodies(List<Tok> toks, boolean strict) {
        List<String> out = new java.util.ArrayList<>();
        return collectBodies(toks, 1, out, strict) ? out : null;
    }

    /** Whether a DDL statement's text defines a function or procedure (whose string is a body that runs later). */
    static boolean definesRoutine(List<Tok> toks) {
        for (Tok t : toks) {
            if (t.isWord("function") || t.isWord("procedure")) {
                return true;
            }
        }
        return false;
    }

    static final int MAX_BODY_DEPTH = 4;
    static final int MAX_BODIES = 64;

    private static boolean collectBodies(List<Tok> toks, int depth, List<String> out, boolean strict) {
        for (Tok t : toks) {
            if (t.type() != SqlTokens.Type.STRING) {
                continue;
            }
            String lit = t.text();
            String body;
            if (lit.startsWith("$")) {
                int open = lit.indexOf('$', 1);
                if (open < 0 || lit.length() < 2 * (open + 1)) {
                    return false;
                }
                body = lit.substring(open + 1, lit.length() - open - 1);
            } else if (lit.startsWith("'") && lit.endsWith("'") && lit.length() >= 2 && lit.indexOf('\\') < 0) {
                body = lit.substring(1, lit.length() - 1).replace("''", "'");
            } else if (strict) {
                return false; // E'...', U&'...', B'', X'' or a backslash: not decoded here
            } else {
                out.add(lit); // a literal of other DDL, undecoded: still searched for protected names as written
                continue;
            }
            if (depth > MAX_BODY_DEPTH || out.size() >= MAX_BODIES) {
                return !strict;
            }
            out.add(body);
            if (!collectBodies(SqlTokens.of(body), depth + 1, out, strict)) {
                return false;
            }
        }
        return true;
    }

    private static String renamedProtectedSchema(List<Tok> toks, ProtectedCatalog.Snapshot cat) {
        for (int i = 0; i + 3 < toks.size(); i++) {
            if (toks.get(i).isWord("alter") && toks.get(i + 1).isWord("schema")
                    && toks.get(i + 2).type() == SqlTokens.Type.NAME && toks.get(i + 3).isWord("rename")) {
                String schema = toks.get(i + 2).text();
                for (ProtectedCatalog.Column c : cat.byOrigin().values()) {
                    if (c.relation().startsWith(schema + ".")) {
                        return schema;
                    }
                }
            }
        }
        return null;
    }

    /**
     * A DO block or a function/procedure body (decoded, nested bodies included) that names a relation
     * with protected data, calls a function that runs SQL from a string, or — in a DO block or a
     * function/procedure definition — names a protected column or runs dynamic SQL, which can assemble
     * any name from pieces.
     */
    private static boolean bodyReadsProtected(List<String> bodies, ProtectedCatalog.Snapshot cat, boolean routine) {
        for (String raw : bodies) {
            String body = raw.toLowerCase(java.util.Locale.ROOT);
            Set<String> words = new HashSet<>();
            for (Tok w : SqlTokens.of(raw)) {
                if (w.type() == SqlTokens.Type.NAME) {
                    words.add(w.text().toLowerCase(java.util.Locale.ROOT));
                }
            }
            for (String rel : cat.protectedTables()) {
                String r = rel.toLowerCase(java.util.Locale.ROOT);
                if (containsWord(body, r) || words.contains(r)) {
                    return true;
                }
            }
            for (String col : cat.protectedColumns().keySet()) {
                if (routine && words.contains(col.toLowerCase(java.util.Locale.ROOT))) {
                    return true;
                }
            }
            for (String f : SQL_TEXT_FUNCTIONS) {
                if (containsWord(body, f)) {
                    return true;
                }
            }
            if (routine && (words.contains("execute") || containsWord(body, "execute"))) {
                return true;
            }
        }
        return false;
    }

    private static boolean containsWord(String text, String word) {
        return java.util.regex.Pattern.compile("(?<![a-z0-9_$])" + java.util.regex.Pattern.quote(word)
                + "(?![a-z0-9_$])").matcher(text).find();
    }

    private static boolean anyMasked(ProtectedCatalog.Snapshot cat, TargetMasking.Methods methods) {
        for (DataClass c : cat.protectedColumns().values()) {
            if (!methods.of(c).isNone()) {
                return true;
            }
        }
        return !methods.of(DataClass.FREETEXT).isNone();
    }

    private static DataClass protectedClass(ColumnRef c, ProtectedCatalog.Snapshot cat) {
        DataClass cls = cat.protectedColumns().get(c.column());
        if (cls == null) {
            return null;
        }
        String t = c.table();
        return t == null || cat.protectedTables().contains(t.substring(t.indexOf('.') + 1)) ? cls : null;
    }

    /** A column reference that may carry protected data out: a masked column, *, or a name Warden cannot place. */
    private static String suspicious(Statement s, ProtectedCatalog.Snapshot cat, TargetMasking.Methods methods,
                                     Set<String> known, boolean copies) {
        for (ColumnRef c : s.columns()) {
            if (copies && c.clause() == Clause.SET) {
                continue; // the target's own column list
            }
            DataClass cls = protectedClass(c, cat);
            if (cls != null) {
                if (!methods.of(cls).isNone()) {
                    return c.column();
                }
                continue;
            }
            if (c.column().equals("*") && (c.table() == null
                    || cat.protectedTables().contains(c.table().substring(c.table().indexOf('.') + 1)))) {
                return "*";
            }
            if (!c.column().equals("*") && !known.contains(c.column()) && c.clause() != Clause.WHERE
                    && c.clause() != Clause.JOIN && c.clause() != Clause.GROUP_ORDER && anyMasked(cat, methods)) {
                return c.column() + " (a name Warden cannot place, such as a whole row)";
            }
        }
        return null;
    }

    /**
     * UPDATE ... SET a = <expr>: the right-hand side must not carry a protected column, a whole row
     * ({@code reverse(c::text)}), or a name Warden cannot place. Returns what it carries, or null.
     */
    private static String updateCopies(List<Tok> toks, ProtectedCatalog.Snapshot cat, TargetMasking.Methods methods,
                                       Set<String> known) {
        Set<String> safe = new HashSet<>(known);
        safe.removeAll(cat.protectedColumns().keySet());
        int depth = 0;
        boolean inSet = false;
        List<Tok> rhs = null;
        for (int i = 0; i <= toks.size(); i++) {
            Tok t = i < toks.size() ? toks.get(i) : null;
            boolean end = t == null || (depth == 0 && (t.isWord("from") || t.isWord("where") || t.isWord("returning")
                    || t.is(",") || t.is(";")));
            if (inSet && rhs != null && end) {
                Lineage.Output o = Lineage.item(rhs, cat, safe);
                if (o != null && !methods.of(o.cls()).isNone()) {
                    String name = null;
                    for (Tok r : rhs) {
                        if (r.type() == SqlTokens.Type.NAME && cat.protectedColumns().containsKey(r.text())) {
                            name = r.text();
                            break;
                        }
                    }
                    return name != null ? name : "(a whole row or a name Warden cannot place)";
                }
                rhs = null;
            }
            if (t == null) {
                break;
            }
            if (depth == 0 && (t.isWord("from") || t.isWord("where") || t.isWord("returning"))) {
                inSet = false;
            }
            if (t.is("(")) {
                depth++;
            } else if (t.is(")")) {
                depth--;
            }
            if (depth == 0 && t.isWord("set") && rhs == null) {
                inSet = true;
                continue;
            }
            if (!inSet) {
                continue;
            }
            if (rhs == null) {
                if (depth == 0 && t.is("=")) {
                    rhs = new java.util.ArrayList<>();
                }
            } else if (!(depth == 0 && t.is(","))) {
                rhs.add(t);
            }
        }
        return null;
    }
}
