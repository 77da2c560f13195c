package dev.warden.sql;

import static dev.warden.sql.SqlTokenScan.isPunct;
import static dev.warden.sql.SqlTokenScan.matching;
import static dev.warden.sql.SqlTokenScan.word;

import dev.warden.sql.SqlLexer.Token;
import dev.warden.sql.SqlTokenScan.Name;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Tables named by DDL, DCL and utility statements, read from the tokens: JSqlParser knows too
 * little of PostgreSQL's DDL to rely on. A table that a statement creates, alters, drops, grants
 * on or truncates is written; one it only locks, vacuums or refreshes is read.
 */
final class SqlDdl {

    private SqlDdl() {
    }

    private static final Set<String> RELATIONS = Set.of("TABLE", "VIEW", "MATERIALIZED VIEW", "FOREIGN TABLE");
    private static final Set<String> ON_TABLE = Set.of("TRIGGER", "POLICY", "RULE", "INDEX");
    private static final Set<String> NOT_TABLES = Set.of("SCHEMA", "DATABASE", "FUNCTION", "PROCEDURE", "ROUTINE",
            "SEQUENCE", "ALL", "LANGUAGE", "TYPE", "DOMAIN", "FOREIGN", "LARGE", "TABLESPACE", "PARAMETER");

    /** Reads the tables of a statement whose command is not DML into f. */
    static void tables(List<Token> t, SqlCommand.Verdict v, SqlNames names, Facts f) {
        int i = v.mainIndex();
        String cmd = v.command();
        int sp = cmd.indexOf(' ');
        String verb = sp < 0 ? cmd : cmd.substring(0, sp);
        String object = sp < 0 ? "" : cmd.substring(sp + 1);
        int j = SqlCommand.objectIndex(t, i) + SqlCommand.objectWords(t, SqlCommand.objectIndex(t, i));
        switch (verb) {
            case "CREATE", "ALTER", "DROP" -> {
                if (RELATIONS.contains(object)) {
                    j = skip(t, j, "IF", "NOT", "EXISTS", "ONLY");
                    list(t, j, verb.equals("DROP"), names, f, true);
                    related(t, j, names, f);
                } else if (ON_TABLE.contains(object) && !(verb.equals("ALTER") && object.equals("INDEX"))) {
                    int on = depth0(t, j, object.equals("RULE") && verb.equals("CREATE") ? "TO" : "ON");
                    if (on > 0) {
                        list(t, skip(t, on + 1, "ONLY"), false, names, f, true);
                    }
                }
            }
            case "TRUNCATE", "LOCK" -> list(t, skip(t, i + 1, "TABLE", "ONLY"), true, names, f, verb.equals("TRUNCATE"));
            case "GRANT", "REVOKE" -> {
                int on = depth0(t, i + 1, "ON");
                if (on > 0 && !NOT_TABLES.contains(word(t, on + 1))) {
                    list(t, skip(t, on + 1, "TABLE"), true, names, f, true);
                }
            }
            case "COMMENT" -> comment(t, i, names, f);
            case "VACUUM", "ANALYZE", "CLUSTER" -> list(t, options(t, i + 1), true, names, f, false);
            case "REINDEX" -> {
                int k = options(t, i + 1);
                if (word(t, k).equals("TABLE")) {
                    list(t, skip(t, k + 1, "CONCURRENTLY"), false, names, f, false);
                }
            }
            case "REFRESH" -> list(t, skip(t, i + 3, "CONCURRENTLY"), false, names, f, false);
            default -> {
            }
        }
    }

    /** CREATE TABLE ... PARTITION OF parent (attaches to, so changes, the parent), INHERITS/LIKE (reads). */
    private static void related(List<Token> t, int from, SqlNames names, Facts f) {
        for (int k = from; k < t.size(); k++) {
            String u = word(t, k);
            if (u.equals("PARTITION") && word(t, k + 1).equals("OF")) {
                list(t, k + 2, false, names, f, true);
            } else if ((u.equals("ATTACH") || u.equals("DETACH")) && word(t, k + 1).equals("PARTITION")) {
                list(t, k + 2, false, names, f, true);
            } else if (u.equals("INHERITS") && isPunct(t, k + 1, '(')) {
                list(t, k + 2, true, names, f, false);
            } else if (u.equals("LIKE") && k > 0 && (isPunct(t, k - 1, '(') || isPunct(t, k - 1, ','))) {
                list(t, k + 1, false, names, f, false);
            }
        }
    }

    private static void comment(List<Token> t, int i, SqlNames names, Facts f) {
        int k = i + 2; // COMMENT ON
        String what = word(t, k);
        if (what.equals("COLUMN")) {
            Name n = SqlTokenScan.name(t, k + 1);
            if (n != null && n.parts().size() >= 2) {
                f.write(names.table(n.parts().subList(0, n.parts().size() - 1)));
            }
        } else if (what.equals("TABLE") || what.equals("VIEW")) {
            list(t, k + 1, false, names, f, true);
        } else if (what.equals("MATERIALIZED") || what.equals("FOREIGN")) {
            list(t, k + 2, false, names, f, true);
        }
    }

    /** Comma-separated names from k, each maybe followed by '*' or a column list; written or read. */
    private static void list(List<Token> t, int k, boolean many, SqlNames names, Facts f, boolean write) {
        while (k < t.size()) {
            k = skip(t, k, "ONLY");
            Name n = SqlTokenScan.name(t, k);
            if (n == null) {
                return;
            }
            String table = names.table(n.parts());
            if (write) {
                f.write(table);
            } else {
                f.read(table);
            }
            k = n.next();
            if (isPunct(t, k, '*')) {
                k++;
            }
            if (isPunct(t, k, '(')) {
                k = matching(t, k) + 1;
            }
            if (!many || !isPunct(t, k, ',')) {
                return;
            }
            k++;
        }
    }

    /** Skips VACUUM/ANALYZE/CLUSTER/REINDEX options: "(opt, ...)" and FULL, FREEZE, VERBOSE, ANALYZE. */
    private static int options(List<Token> t, int k) {
        while (true) {
            if (isPunct(t, k, '(')) {
                k = matching(t, k) + 1;
            } else if (Set.of("FULL", "FREEZE", "VERBOSE", "ANALYZE", "ANALYSE").contains(word(t, k))) {
                k++;
            } else {
                return k;
            }
        }
    }

    private static int skip(List<Token> t, int k, String... words) {
        boolean moved = true;
        while (moved) {
            moved = false;
            for (String w : words) {
                if (word(t, k).equals(w)) {
                    k++;
                    moved = true;
                }
            }
        }
        return k;
    }

    /** First index at or after from where the word occurs outside parentheses, or -1. */
    static int depth0(List<Token> t, int from, String w) {
        int depth = 0;
        for (int k = from; k < t.size(); k++) {
            depth += t.get(k).is('(') ? 1 : t.get(k).is(')') ? -1 : 0;
            if (depth == 0 && word(t, k).equals(w)) {
                return k;
            }
        }
        return -1;
    }

    /**
     * CREATE TABLE / MATERIALIZED VIEW / VIEW ... AS query: the token range [start, end) of the
     * query, without a trailing WITH [NO] DATA or WITH [CASCADED|LOCAL] CHECK OPTION; null if none.
     */
    static int[] createAsQuery(List<Token> t, int from) {
        int depth = 0;
        for (int k = from; k < t.size(); k++) {
            depth += t.get(k).is('(') ? 1 : t.get(k).is(')') ? -1 : 0;
            if (depth != 0 || !word(t, k).equals("AS")) {
                continue;
            }
            String next = word(t, k + 1);
            if (isPunct(t, k + 1, '(') || Set.of("SELECT", "WITH", "VALUES", "TABLE", "EXECUTE").contains(next)) {
                int end = t.size();
                int with = depth0(t, k + 1, "WITH");
                while (with > k + 1 && with < end) {
                    String a = word(t, with + 1);
                    String b = word(t, with + 2);
                    if ((a.equals("DATA") || (a.equals("NO") && b.equals("DATA")) || a.equals("CHECK")
                            || a.equals("CASCADED") || a.equals("LOCAL")) && tailFrom(t, with)) {
                        end = with;
                        break;
                    }
                    with = depth0(t, with + 1, "WITH");
                }
                return new int[] {k + 1, end};
            }
        }
        return null;
    }

    private static boolean tailFrom(List<Token> t, int k) {
        for (int p = k; p < t.size(); p++) {
            if (t.get(p).type() != SqlScanner.WORD) {
                return false;
            }
        }
        return true;
    }

    /** CREATE RULE ... DO [ALSO|INSTEAD] { NOTHING | command | ( command ; command ... ) }: the commands' ranges. */
    static List<int[]> ruleActions(List<Token> t, int from) {
        List<int[]> out = new ArrayList<>();
        int k = depth0(t, from, "DO");
        if (k < 0) {
            return out;
        }
        k = skip(t, k + 1, "ALSO", "INSTEAD");
        if (word(t, k).equals("NOTHING") || k >= t.size()) {
            return out;
        }
        if (!isPunct(t, k, '(')) {
            out.add(new int[] {k, t.size()});
            return out;
        }
        int close = matching(t, k);
        int start = k + 1;
        int depth = 0;
        for (int p = k + 1; p < close; p++) {
            depth += t.get(p).is('(') ? 1 : t.get(p).is(')') ? -1 : 0;
            if (depth == 0 && isPunct(t, p, ';')) {
                if (p > start) {
                    out.add(new int[] {start, p});
                }
                start = p + 1;
            }
        }
        if (close > start) {
            out.add(new int[] {start, close});
        }
        return out;
    }
}
