package dev.warden.masking;

import dev.warden.sql.SqlTokens;
import dev.warden.sql.SqlTokens.Tok;
import dev.warden.sql.SqlTokens.Type;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Where the result columns of a statement come from when PostgreSQL does not say (RowDescription
 * carries a table OID only for plain column references). Works on tokens, so comments, quoting
 * and case cannot hide a name, and errs on the side of masking:
 *
 * <ul>
 * <li>A statement that names no relation with protected columns needs nothing here.</li>
 * <li>A plain {@code SELECT} (set operations allowed) with no subquery, CTE or {@code *} is
 *     analysed item by item: an output expression is safe only if every name in it is a function,
 *     a type, a keyword, or a column of the statement's tables that is not protected. Any other
 *     name (a protected column, a table alias used as a whole row, a CTE's column) masks it.</li>
 * <li>Anything else that touches protected relations masks every column without origin.</li>
 * </ul>
 */
public final class Lineage {
    /** The class of one protected output; {@code plain} when it is the column itself, not computed from it. */
    public record Output(DataClass cls, boolean plain) {
    }

    /**
     * @param touchesProtected the statement names a relation with protected columns
     * @param outputs          per output position: null when safe, else what it carries; null array when
     *                         the statement could not be analysed per item (then every column without origin is protected)
     */
    public record Result(boolean touchesProtected, boolean touchesClassified, Output[] outputs) {
        static final Result NONE = new Result(false, false, new Output[0]);

        /** What output {@code i} of {@code n} carries when it has no origin; null when it is safe. */
        public Output originless(int i, int n) {
            if (!touchesProtected) {
                return null;
            }
            if (outputs == null || outputs.length != n) {
                return new Output(DataClass.FREETEXT, false);
            }
            return outputs[i];
        }
    }

    private static final Set<String> KEYWORDS = Set.of("case", "when", "then", "else", "end", "and", "or", "not", "null",
            "is", "true", "false", "in", "like", "ilike", "similar", "between", "symmetric", "asymmetric", "distinct", "as",
            "cast", "array", "row", "interval", "collate", "at", "time", "zone", "with", "without", "filter", "where",
            "over", "partition", "by", "order", "asc", "desc", "nulls", "first", "last", "rows", "range", "groups",
            "unbounded", "preceding", "following", "current", "escape", "any", "all", "some", "exists", "leading",
            "trailing", "both", "for", "from", "overlaps", "variadic", "current_date", "current_timestamp", "current_time",
            "current_user", "session_user", "current_role", "current_catalog", "current_schema", "user", "localtime",
            "localtimestamp", "default", "isnull", "notnull", "unknown", "within", "group", "using", "operator",
            "varying", "precision", "character", "double", "timestamp", "date", "text", "integer", "int", "bigint",
            "smallint", "numeric", "decimal", "boolean", "real", "float", "char", "varchar", "bit", "year", "month",
            "day", "hour", "minute", "second", "to", "ordinality", "lateral", "only");
    private static final Set<String> LIST_END = Set.of("from", "into", "where", "group", "having", "window", "order",
            "limit", "offset", "fetch", "for", "union", "intersect", "except");

    private Lineage() {
    }

    /** The lineage of one statement against the protected columns the catalog knows. */
    public static Result of(String sql, ProtectedCatalog.Snapshot cat) {
        List<Tok> toks = SqlTokens.of(sql);
        boolean touches = false;
        boolean classified = false;
        Set<String> safe = new HashSet<>();
        for (Tok t : toks) {
            if (t.type() != Type.NAME) {
                continue;
            }
            if (cat.protectedTables().contains(t.text())) {
                touches = true;
            }
            if (cat.classifiedTables().contains(t.text())) {
                classified = true;
            }
            Set<String> cols = cat.columnsByTable().get(t.text());
            if (cols != null) {
                safe.addAll(cols);
            }
        }
        if (!touches) {
            return classified ? new Result(false, true, new Output[0]) : Result.NONE;
        }
        safe.removeAll(cat.protectedColumns().keySet());
        return new Result(true, true, outputs(toks, cat, safe));
    }

    private static Output[] outputs(List<Tok> toks, ProtectedCatalog.Snapshot cat, Set<String> safe) {
        if (toks.isEmpty() || !toks.get(0).isWord("select")) {
            return null;
        }
        List<List<List<Tok>>> branches = new ArrayList<>();
        int i = 0;
        int n = toks.size();
        while (i < n) {
            if (!toks.get(i).isWord("select")) {
                return null;
            }
            i++;
            if (i < n && toks.get(i).isWord("all")) {
                i++;
            } else if (i < n && toks.get(i).isWord("distinct")) {
                i++;
                if (i < n && toks.get(i).isWord("on")) {
                    i = skipParens(toks, i + 1);
                    if (i < 0) {
                        return null;
                    }
                }
            }
            List<List<Tok>> items = new ArrayList<>();
            List<Tok> item = new ArrayList<>();
            int depth = 0;
            for (; i < n; i++) {
                Tok t = toks.get(i);
                if (t.isWord("select")) {
                    return null; // a subquery: its names could rename anything
                }
                if (t.is("(") || t.is("[")) {
                    depth++;
                } else if (t.is(")") || t.is("]")) {
                    depth--;
                } else if (depth == 0 && (t.is(",") || t.is(";") || (t.type() == Type.NAME && !t.quoted()
                        && LIST_END.contains(t.text())))) {
                    if (!t.is(",")) {
                        break;
                    }
                    items.add(item);
                    item = new ArrayList<>();
                    continue;
                }
                item.add(t);
            }
            items.add(item);
            branches.add(items);
            // to the next set-operation branch, if any; no SELECT may hide in FROM/WHERE/...
            int d = 0;
            for (; i < n; i++) {
                Tok t = toks.get(i);
                if (t.isWord("select")) {
                    if (d != 0) {
                        return null;
                    }
                    break;
                }
                if (t.is("(")) {
                    d++;
                } else if (t.is(")")) {
                    d--;
                } else if (t.isWord("with")) {
                    return null;
                }
            }
        }
        int width = branches.get(0).size();
        Output[] out = new Output[width];
        for (List<List<Tok>> items : branches) {
            if (items.size() != width) {
                return null;
            }
            for (int k = 0; k < width; k++) {
                Output o = item(items.get(k), cat, safe);
                if (o == STAR) {
                    return null;
                }
                if (o != null) {
                    out[k] = out[k] == null || out[k].cls == o.cls ? new Output(o.cls, o.plain && branches.size() == 1)
                            : new Output(DataClass.FREETEXT, false);
                }
            }
        }
        return out;
    }

    private static final Output STAR = new Output(DataClass.FREETEXT, false);

    /** What one select-list item carries: null when safe, STAR for a bare *. */
    static Output item(List<Tok> item, ProtectedCatalog.Snapshot cat, Set<String> safe) {
        List<Tok> e = stripAlias(item);
        if (e.size() == 1 && e.get(0).is("*")) {
            return STAR;
        }
        boolean plain = isPlainReference(e);
        DataClass found = null;
        boolean mixed = false;
        for (int i = 0; i < e.size(); i++) {
            Tok t = e.get(i);
            DataClass c = null;
            if (t.is("*")) {
                boolean countStar = i > 0 && e.get(i - 1).is("(") && i + 1 < e.size() && e.get(i + 1).is(")");
                if (!countStar && !(i > 0 && i + 1 < e.size() && isOperand(e.get(i - 1)) && isOperand(e.get(i + 1)))) {
                    c = DataClass.FREETEXT; // t.* : a whole row
                }
            } else if (t.type() == Type.NAME) {
                DataClass p = cat.protectedColumns().get(t.text());
                boolean qualifier = i + 1 < e.size() && e.get(i + 1).is(".");
                boolean function = i + 1 < e.size() && e.get(i + 1).is("(");
                boolean type = i > 0 && (e.get(i - 1).is("::") || e.get(i - 1).isWord("as"));
                if (p != null && !qualifier && !function) {
                    c = p;
                } else if (qualifier || function || type || (!t.quoted() && KEYWORDS.contains(t.text())) || safe.contains(t.text())) {
                    c = null;
                } else {
                    c = DataClass.FREETEXT; // a name Warden cannot place: an alias as a whole row, a CTE column...
                }
            }
            if (c != null) {
                mixed |= found != null && found != c;
                found = found == null ? c : found;
            }
        }
        if (found == null) {
            return null;
        }
        return new Output(mixed ? DataClass.FREETEXT : found, plain && !mixed);
    }

    private static boolean isOperand(Tok t) {
        return t.type() == Type.NAME || t.type() == Type.NUMBER || t.type() == Type.PARAM || t.type() == Type.STRING
                || t.is(")");
    }

    private static boolean isPlainReference(List<Tok> e) {
        if (e.isEmpty() || e.size() % 2 == 0) {
            return false;
        }
        for (int i = 0; i < e.size(); i++) {
            if (i % 2 == 0 ? e.get(i).type() != Type.NAME : !e.get(i).is(".")) {
                return false;
            }
        }
        return true;
    }

    private static List<Tok> stripAlias(List<Tok> item) {
        int n = item.size();
        if (n >= 3 && item.get(n - 2).isWord("as") && item.get(n - 1).type() == Type.NAME) {
            return item.subList(0, n - 2);
        }
        if (n >= 2 && item.get(n - 1).type() == Type.NAME && !keyword(item.get(n - 1))) {
            Tok before = item.get(n - 2);
            if ((before.type() == Type.NAME && !keyword(before)) || before.type() == Type.STRING
                    || before.type() == Type.NUMBER || before.is(")") || before.is("]")) {
                return item.subList(0, n - 1);
            }
        }
        return item;
    }

    private static boolean keyword(Tok t) {
        return !t.quoted() && KEYWORDS.contains(t.text());
    }

    private static int skipParens(List<Tok> toks, int i) {
        if (i >= toks.size() || !toks.get(i).is("(")) {
            return -1;
        }
        int d = 0;
        for (; i < toks.size(); i++) {
            if (toks.get(i).is("(")) {
                d++;
            } else if (toks.get(i).is(")") && --d == 0) {
                return i + 1;
            }
        }
        return -1;
    }
}
