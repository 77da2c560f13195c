package dev.warden.sql;

import dev.warden.sql.SqlLexer.Token;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What the token stream alone tells about tables and functions. It backs up the parser: for
 * statements JSqlParser cannot parse it is all Warden has, so it errs towards reporting too much
 * (a false table or function name is harmless to a rule; a missed one is not).
 */
final class SqlTokenScan {

    private SqlTokenScan() {
    }

    /** Words that are syntax, never a table or alias name (PostgreSQL's reserved words and DML glue). */
    static final Set<String> KEYWORDS = Set.of("ALL", "ANALYSE", "ANALYZE", "AND", "ANY", "ARRAY", "AS", "ASC",
            "ASYMMETRIC", "BETWEEN", "BOTH", "BY", "CASE", "CAST", "CHECK", "COLLATE", "COLUMN", "CONSTRAINT", "CREATE",
            "CROSS", "CURRENT_CATALOG", "CURRENT_DATE", "CURRENT_ROLE", "CURRENT_SCHEMA", "CURRENT_TIME",
            "CURRENT_TIMESTAMP", "CURRENT_USER", "DEFAULT", "DEFERRABLE", "DELETE", "DESC", "DISTINCT", "DO", "ELSE",
            "END", "EXCEPT", "EXISTS", "FALSE", "FETCH", "FILTER", "FOR", "FOREIGN", "FROM", "FULL", "GRANT", "GROUP",
            "HAVING", "ILIKE", "IN", "INITIALLY", "INNER", "INSERT", "INTERSECT", "INTO", "IS", "JOIN", "LATERAL",
            "LEADING", "LEFT", "LIKE", "LIMIT", "LOCALTIME", "LOCALTIMESTAMP", "MERGE", "NATURAL", "NOT", "NULL",
            "OFFSET", "ON", "ONLY", "OR", "ORDER", "OUTER", "OVER", "PLACING", "PRIMARY", "REFERENCES", "RETURNING",
            "RIGHT", "SELECT", "SESSION_USER", "SET", "SIMILAR", "SOME", "SYMMETRIC", "TABLE", "TABLESAMPLE", "THEN",
            "TO", "TRAILING", "TRUE", "UNION", "UNIQUE", "UPDATE", "USER", "USING", "VALUES", "VARIADIC", "WHEN",
            "WHERE", "WINDOW", "WITH", "RETURN", "CALL", "EXECUTE", "PERFORM", "INTERVAL", "ESCAPE", "MATCHED",
            "NOTHING", "CONFLICT", "OVERLAPS", "CURRENT");

    /** Words followed by '(' that are syntax rather than a function call. */
    static final Set<String> NOT_CALLS = Set.of("INSERT", "UPDATE", "INSTEAD", "ALSO", "IN", "VALUES", "AS",
            "EXISTS", "ANY", "ALL", "SOME", "ON",
            "USING", "FROM", "JOIN", "WHERE", "AND", "OR", "NOT", "SELECT", "OVER", "FILTER", "WITHIN", "INTO",
            "TABLE", "ROW", "CAST", "ARRAY", "CASE", "WHEN", "THEN", "ELSE", "LATERAL", "BY", "RETURNING", "SET",
            "MATERIALIZED", "CONFLICT", "KEY", "UNIQUE", "CHECK", "INCLUDE", "WITH", "OPTIONS", "PARTITION", "SETS",
            "ROLLUP", "CUBE", "SYSTEM", "BERNOULLI", "EXTRACT", "TRIM", "TREAT", "RANGE", "LIST", "HASH", "INHERITS",
            "IS", "LIKE", "ILIKE", "BETWEEN", "OVERLAPS", "DISTINCT", "DO", "FOR", "TO", "DEFAULT", "EXCLUDE",
            "REFERENCES", "GROUPING", "GROUP", "ORDER", "EXPLAIN", "COPY", "VACUUM", "ANALYZE", "ANALYSE", "CLUSTER",
            "REINDEX", "PRIMARY", "FOREIGN", "GENERATED", "IDENTITY", "STORED", "VARCHAR", "CHAR", "CHARACTER",
            "VARYING", "NUMERIC", "DECIMAL", "BIT", "VARBIT", "TIMESTAMP", "TIMESTAMPTZ", "TIME", "TIMETZ", "INTERVAL",
            "FLOAT", "UNION", "INTERSECT", "EXCEPT", "RETURNS", "ROWS", "NULLS", "CURRENT", "ORDINALITY", "STRICT");

    /** Words that, right before name(, mean the parentheses hold columns or a type modifier, not arguments. */
    private static final Set<String> DECLARES = Set.of("INTO", "TABLE", "REFERENCES", "FUNCTION", "PROCEDURE",
            "AGGREGATE", "ROUTINE", "TYPE", "AS", "VIEW", "EXISTS", "WITH", "INDEX", "TRIGGER", "UPDATE", "KEY");

    record Name(List<String> parts, int next) {
    }

    static boolean oneOf(String w, String... options) {
        for (String o : options) {
            if (o.equals(w)) {
                return true;
            }
        }
        return false;
    }

    static String word(List<Token> t, int i) {
        return SqlCommand.w(t, i);
    }

    static boolean isPunct(List<Token> t, int i, char c) {
        return i >= 0 && i < t.size() && t.get(i).is(c);
    }

    /** A name part at i (a non-keyword word or a quoted identifier), or null. */
    static String part(List<Token> t, int i) {
        if (i < 0 || i >= t.size()) {
            return null;
        }
        Token tok = t.get(i);
        if (tok.type() == SqlScanner.QIDENT) {
            char esc = '\\';
            if (word(t, i + 1).equals("UESCAPE") && i + 2 < t.size() && t.get(i + 2).text().length() == 3) {
                esc = t.get(i + 2).text().charAt(1);
            }
            return SqlNames.ident(tok, esc);
        }
        return tok.type() == SqlScanner.WORD && !KEYWORDS.contains(tok.word()) ? SqlNames.ident(tok, '\\') : null;
    }

    /** A possibly qualified name at i (a.b.c), or null; skips a UESCAPE clause after U&"" parts. */
    static Name name(List<Token> t, int i) {
        List<String> parts = new ArrayList<>(3);
        int k = i;
        while (true) {
            String p = part(t, k);
            if (p == null) {
                return parts.isEmpty() ? null : new Name(parts, k - 1);
            }
            parts.add(p);
            k++;
            if (word(t, k).equals("UESCAPE")) {
                k += 2;
            }
            if (!isPunct(t, k, '.')) {
                return new Name(parts, k);
            }
            k++;
        }
    }

    /** Index of the ')' closing the '(' at open, or t.size() when it is never closed. */
    static int matching(List<Token> t, int open) {
        int depth = 0;
        for (int k = open; k < t.size(); k++) {
            if (t.get(k).is('(')) {
                depth++;
            } else if (t.get(k).is(')') && --depth == 0) {
                return k;
            }
        }
        return t.size();
    }

    /**
     * Function calls: a name followed by '(' unless the context shows the parentheses hold a column
     * list, a type modifier or a clause (INSERT INTO t (a), x::numeric(10,2), AS t(a int), IN (...)).
     * In DDL, names after ON and USING are tables and index methods too.
     */
    static void functions(List<Token> t, int from, int to, Facts f, boolean ddl) {
        for (int k = Math.max(from, 1); k < to; k++) {
            if (!t.get(k).is('(') || !t.get(k - 1).isName()) {
                continue;
            }
            int s = k - 1;
            while (s - 2 >= from && t.get(s - 1).is('.') && t.get(s - 2).isName()) {
                s -= 2;
            }
            if (s < from) {
                continue; // the name before the range is not ours: EXECUTE p (args)
            }
            Token last = t.get(k - 1);
            if (s == k - 1 && last.type() == SqlScanner.WORD && (NOT_CALLS.contains(last.word())
                    || (KEYWORDS.contains(last.word()) && !oneOf(last.word(), "LEFT", "RIGHT")))) {
                continue; // syntax, not a call: IN (...), VALUES (...), LIMIT (...); left() and right() are calls
            }
            if (s > from && !callContext(t.get(s - 1), ddl)) {
                continue;
            }
            int close = matching(t, k);
            if (word(t, close + 1).equals("AS") && (isPunct(t, close + 2, '(')
                    || word(t, close + 2).equals("MATERIALIZED") || word(t, close + 2).equals("NOT"))) {
                continue; // WITH name (columns) AS (...)
            }
            StringBuilder sb = new StringBuilder();
            for (int p = s; p < k; p += 2) {
                sb.append(p > s ? "." : "").append(SqlNames.ident(t.get(p), '\\'));
            }
            f.function(sb.toString());
        }
    }

    private static boolean callContext(Token prev, boolean ddl) {
        if (prev.type() == SqlScanner.OP && prev.text().equals("::")) {
            return false; // a type: x::varchar(10)
        }
        if (prev.is(')') || prev.type() == SqlScanner.QIDENT) {
            return false; // an alias column list: f(x) t(a int), "tbl" t(a)
        }
        if (prev.type() == SqlScanner.WORD) {
            String u = prev.word();
            if (DECLARES.contains(u) || (ddl && (u.equals("ON") || u.equals("USING")))) {
                return false;
            }
            return KEYWORDS.contains(u); // a bare word before name( is a column or alias: c varchar(10)
        }
        return true;
    }

    /** Names of the CTEs a statement defines: name [(cols)] AS [[NOT] MATERIALIZED] (. */
    static Set<String> cteNames(List<Token> t) {
        Set<String> out = new HashSet<>();
        for (int k = 0; k + 2 < t.size(); k++) {
            if (!t.get(k).isName()) {
                continue;
            }
            int a = isPunct(t, k + 1, '(') ? matching(t, k + 1) + 1 : k + 1;
            if (word(t, a).equals("AS") && (isPunct(t, a + 1, '(') || word(t, a + 1).equals("MATERIALIZED")
                    || (word(t, a + 1).equals("NOT") && word(t, a + 2).equals("MATERIALIZED")))) {
                out.add(SqlNames.ident(t.get(k), '\\'));
            }
        }
        return out;
    }

    /**
     * Tables of a DML statement the parser could not read: after FROM, JOIN, USING, INTO, UPDATE,
     * TABLE; written after INSERT INTO, UPDATE, DELETE FROM, MERGE INTO and a depth-0 SELECT INTO.
     */
    static void dmlTables(List<Token> t, int from, SqlNames names, Facts f, boolean selectKind) {
        Set<String> ctes = cteNames(t);
        List<Boolean> callParens = new ArrayList<>();
        for (int k = from; k < t.size(); k++) {
            Token tok = t.get(k);
            if (tok.is('(')) {
                callParens.add(k > 0 && t.get(k - 1).isName() && !NOT_CALLS.contains(word(t, k - 1)));
                if (oneOf(word(t, k + 1), "INSERT", "UPDATE", "DELETE", "MERGE")) {
                    f.dataModifyingCte |= word(t, k - 1).equals("AS") || word(t, k - 1).equals("MATERIALIZED");
                }
                continue;
            }
            if (tok.is(')')) {
                if (!callParens.isEmpty()) {
                    callParens.remove(callParens.size() - 1);
                }
                continue;
            }
            String prev = word(t, k - 1);
            boolean inCall = !callParens.isEmpty() && callParens.get(callParens.size() - 1);
            switch (word(t, k)) {
                case "FROM" -> {
                    if (!inCall && !prev.equals("DISTINCT")) {
                        refs(t, k + 1, names, f, ctes, prev.equals("DELETE"), true);
                    }
                }
                case "JOIN" -> refs(t, k + 1, names, f, ctes, false, false);
                case "USING" -> refs(t, k + 1, names, f, ctes, false, true);
                case "INTO" -> {
                    if (prev.equals("INSERT") || prev.equals("MERGE")) {
                        refs(t, k + 1, names, f, ctes, true, false);
                    } else if (selectKind && callParens.isEmpty()) {
                        int p = k + 1;
                        while (oneOf(word(t, p), "TEMP", "TEMPORARY", "UNLOGGED", "TABLE")) {
                            p++;
                        }
                        f.createsTable = true;
                        refs(t, p, names, f, ctes, true, false);
                    }
                }
                case "UPDATE" -> {
                    if (!oneOf(prev, "FOR", "KEY", "DO", "THEN", "NO")) {
                        refs(t, k + 1, names, f, ctes, true, false);
                    }
                }
                case "TABLE" -> {
                    if (k == from || isPunct(t, k - 1, '(')
                            || oneOf(prev, "UNION", "INTERSECT", "EXCEPT", "ALL", "DISTINCT")) {
                        refs(t, k + 1, names, f, ctes, false, false);
                    }
                }
                default -> {
                }
            }
        }
    }

    /** Reads table references from i: [ONLY|LATERAL] name [*] [[AS] alias [(cols)]] [, ...]. */
    static void refs(List<Token> t, int i, SqlNames names, Facts f, Set<String> ctes, boolean write, boolean list) {
        int k = i;
        while (k < t.size()) {
            while (word(t, k).equals("ONLY") || word(t, k).equals("LATERAL")
                    || (word(t, k).equals("ROWS") && word(t, k + 1).equals("FROM"))) {
                k += word(t, k).equals("ROWS") ? 2 : 1;
            }
            if (isPunct(t, k, '(')) {
                k = matching(t, k) + 1; // a subquery: its own FROMs are read by the caller's scan
            } else {
                Name n = name(t, k);
                if (n == null) {
                    return;
                }
                k = n.next();
                boolean call = isPunct(t, k, '(');
                if (call) {
                    k = matching(t, k) + 1;
                } else if (!(n.parts().size() == 1 && ctes.contains(n.parts().get(0)))) {
                    String table = names.table(n.parts());
                    if (write) {
                        f.write(table);
                    } else {
                        f.read(table);
                    }
                }
                if (t.size() > k && t.get(k).is('*')) {
                    k++;
                }
            }
            if (word(t, k).equals("AS")) {
                k++;
            }
            if (part(t, k) != null) {
                k++;
                if (isPunct(t, k, '(')) {
                    k = matching(t, k) + 1;
                }
            }
            if (!list || !isPunct(t, k, ',')) {
                return;
            }
            k++;
        }
    }

    /**
     * Whether a WHERE at depth 0 from i could restrict rows: it mentions something that may be a
     * column (or CURRENT OF a cursor), not only constants as in WHERE true or WHERE 1 = 1.
     */
    static boolean hasWhere(List<Token> t, int from) {
        int depth = 0;
        for (int k = from; k < t.size(); k++) {
            Token tok = t.get(k);
            depth += tok.is('(') ? 1 : tok.is(')') ? -1 : 0;
            if (depth != 0 || !word(t, k).equals("WHERE")) {
                continue;
            }
            for (int p = k + 1; p < t.size() && !word(t, p).equals("RETURNING"); p++) {
                Token c = t.get(p);
                if (c.type() == SqlScanner.QIDENT
                        || (c.type() == SqlScanner.WORD
                            && !oneOf(c.word(), "TRUE", "FALSE", "NULL", "AND", "OR", "NOT", "IS", "UNKNOWN"))) {
                    return true;
                }
            }
            return false;
        }
        return false;
    }
}
