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
 * says what to do instead.
 */
public final class Exits {
    private Exits() {
    }

    /** Why the statement must not run, or null when it may. */
    public static String check(Statement s, ProtectedCatalog.Snapshot cat, TargetMasking.Methods methods) {
        if (s == null) {
            return null;
        }
        String inner = check(s.inner(), cat, methods);
        if (inner != null) {
            return inner;
        }
        Lineage.Result lin = Lineage.of(s.text(), cat);
        if (!lin.touchesProtected()) {
            if ((s.kind() == Statement.Kind.DO || s.kind() == Statement.Kind.DDL) && bodyNamesProtected(s.text(), cat)
                    && anyMasked(cat, methods)) {
                return "its procedural body reads a relation with protected columns, which Warden cannot mask or follow "
                        + "(it could copy or print the values); run the queries as plain statements";
            }
            return null;
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
            String copied = updateCopies(s.text(), cat, methods);
            if (copied != null) {
                return "it copies protected column " + copied + " into another column; set values from literals or "
                        + "unprotected columns";
            }
        }
        return null;
    }

    /** A DO block or a function/procedure body (a string to the lexer) that names a protected relation. */
    private static boolean bodyNamesProtected(String sql, ProtectedCatalog.Snapshot cat) {
        for (Tok t : SqlTokens.of(sql)) {
            if (t.type() != SqlTokens.Type.STRING) {
                continue;
            }
            String body = t.text().toLowerCase(java.util.Locale.ROOT);
            for (String rel : cat.protectedTables()) {
                if (java.util.regex.Pattern.compile("(?<![a-z0-9_$])" + java.util.regex.Pattern.quote(
                        rel.toLowerCase(java.util.Locale.ROOT)) + "(?![a-z0-9_$])").matcher(body).find()) {
                    return true;
                }
            }
        }
        return false;
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

    /** UPDATE ... SET a = <expr naming a protected column>: the protected column's name, or null. */
    private static String updateCopies(String sql, ProtectedCatalog.Snapshot cat, TargetMasking.Methods methods) {
        List<Tok> toks = SqlTokens.of(sql);
        int depth = 0;
        boolean inSet = false;
        for (int i = 0; i < toks.size(); i++) {
            Tok t = toks.get(i);
            if (t.is("(")) {
                depth++;
            } else if (t.is(")")) {
                depth--;
            } else if (depth == 0 && t.isWord("set")) {
                inSet = true;
            } else if (depth == 0 && (t.isWord("from") || t.isWord("where") || t.isWord("returning"))) {
                inSet = false;
            } else if (inSet && t.type() == SqlTokens.Type.NAME) {
                boolean target = i + 1 < toks.size() && toks.get(i + 1).is("=") && (i == 0 || !toks.get(i - 1).is("="));
                DataClass cls = cat.protectedColumns().get(t.text());
                if (!target && cls != null && !methods.of(cls).isNone()
                        && !(i + 1 < toks.size() && toks.get(i + 1).is("."))) {
                    return t.text();
                }
            }
        }
        return null;
    }
}
