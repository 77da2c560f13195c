package dev.warden.sql;

import dev.warden.sql.SqlLexer.Token;
import dev.warden.sql.Statement.Kind;
import java.util.List;
import java.util.Set;

/**
 * The lexer's reading of a statement: its kind and command from the leading words, following
 * PostgreSQL's grammar for every top-level command. It needs no parser, so it also decides for
 * statements JSqlParser does not know, and it is the reading the parser's is checked against.
 *
 * <p>Commands are the leading words with modifiers dropped (OR REPLACE, TEMP, UNIQUE, ...) and a
 * few synonyms folded (END is COMMIT, ABORT is ROLLBACK, ANALYSE is ANALYZE, VALUES and TABLE are
 * SELECT), so rules have one spelling to test.
 */
final class SqlCommand {

    record Verdict(Kind kind, String command, int mainIndex) {
    }

    private SqlCommand() {
    }

    private static final Set<String> CREATE_MODIFIERS = Set.of("TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL",
            "UNIQUE", "TRUSTED", "PROCEDURAL", "RECURSIVE");

    static String w(List<Token> t, int i) {
        return i >= 0 && i < t.size() && t.get(i).type() == SqlScanner.WORD ? t.get(i).word() : "";
    }

    /** Index of the first token after any opening parentheses: "(SELECT 1) UNION (SELECT 2)". */
    static int first(List<Token> t) {
        int i = 0;
        while (i < t.size() && t.get(i).is('(')) {
            i++;
        }
        return i;
    }

    static Verdict classify(List<Token> t) {
        int i = first(t);
        String w0 = w(t, i);
        String w1 = w(t, i + 1);
        return switch (w0) {
            case "SELECT", "VALUES", "TABLE" -> new Verdict(Kind.SELECT, "SELECT", i);
            case "WITH" -> withMain(t, i);
            case "INSERT" -> new Verdict(Kind.INSERT, "INSERT", i);
            case "UPDATE" -> new Verdict(Kind.UPDATE, "UPDATE", i);
            case "DELETE" -> new Verdict(Kind.DELETE, "DELETE", i);
            case "MERGE" -> new Verdict(Kind.MERGE, "MERGE", i);
            case "TRUNCATE" -> new Verdict(Kind.DELETE, "TRUNCATE", i);
            case "COPY" -> new Verdict(Kind.COPY, "COPY", i);
            case "CREATE", "ALTER", "DROP" -> ddl(t, i, w0);
            case "GRANT", "REVOKE" -> new Verdict(Kind.DCL, w0, i);
            case "REASSIGN" -> new Verdict(Kind.DCL, "REASSIGN OWNED", i);
            case "COMMENT" -> new Verdict(Kind.DDL, "COMMENT", i);
            case "SECURITY" -> new Verdict(Kind.DDL, "SECURITY LABEL", i);
            case "IMPORT" -> new Verdict(Kind.DDL, "IMPORT FOREIGN SCHEMA", i);
            case "SET" -> set(t, i);
            case "RESET" -> new Verdict(Kind.RESET, switch (w1) {
                case "ROLE" -> "RESET ROLE";
                case "SESSION", "SESSION_AUTHORIZATION" -> "RESET SESSION AUTHORIZATION";
                case "ALL" -> "RESET ALL";
                default -> "RESET";
            }, i);
            case "BEGIN" -> new Verdict(Kind.TRANSACTION, "BEGIN", i);
            case "START" -> new Verdict(Kind.TRANSACTION, "START TRANSACTION", i);
            case "COMMIT", "END" -> new Verdict(Kind.TRANSACTION,
                    w1.equals("PREPARED") ? "COMMIT PREPARED" : "COMMIT", i);
            case "ROLLBACK", "ABORT" -> new Verdict(Kind.TRANSACTION, w1.equals("PREPARED") ? "ROLLBACK PREPARED"
                    : w1.equals("TO") || w(t, i + 2).equals("TO") ? "ROLLBACK TO SAVEPOINT" : "ROLLBACK", i);
            case "SAVEPOINT" -> new Verdict(Kind.TRANSACTION, "SAVEPOINT", i);
            case "RELEASE" -> new Verdict(Kind.TRANSACTION, "RELEASE SAVEPOINT", i);
            case "PREPARE" -> w1.equals("TRANSACTION") && i + 2 < t.size() && t.get(i + 2).type() == SqlScanner.STRING
                    ? new Verdict(Kind.TRANSACTION, "PREPARE TRANSACTION", i)
                    : new Verdict(Kind.PREPARE, "PREPARE", i);
            case "DO" -> new Verdict(Kind.DO, "DO", i);
            case "CALL" -> new Verdict(Kind.CALL, "CALL", i);
            case "EXECUTE" -> new Verdict(Kind.EXECUTE, "EXECUTE", i);
            case "DEALLOCATE" -> new Verdict(Kind.DEALLOCATE,
                    w1.equals("ALL") || (w1.equals("PREPARE") && w(t, i + 2).equals("ALL")) ? "DEALLOCATE ALL"
                            : "DEALLOCATE", i);
            case "DECLARE" -> new Verdict(Kind.DECLARE, "DECLARE", i);
            case "FETCH" -> new Verdict(Kind.FETCH, "FETCH", i);
            case "MOVE" -> new Verdict(Kind.FETCH, "MOVE", i);
            case "CLOSE" -> new Verdict(Kind.CLOSE, "CLOSE", i);
            case "EXPLAIN" -> new Verdict(Kind.EXPLAIN, "EXPLAIN", i);
            case "VACUUM", "CLUSTER", "REINDEX", "CHECKPOINT" -> new Verdict(Kind.MAINTENANCE, w0, i);
            case "ANALYZE", "ANALYSE" -> new Verdict(Kind.MAINTENANCE, "ANALYZE", i);
            case "REFRESH" -> new Verdict(Kind.MAINTENANCE, "REFRESH MATERIALIZED VIEW", i);
            case "SHOW", "LISTEN", "NOTIFY", "UNLISTEN", "LOAD", "LOCK" -> new Verdict(Kind.UTILITY, w0, i);
            case "DISCARD" -> new Verdict(Kind.UTILITY, w1.isEmpty() ? "DISCARD" : "DISCARD " + w1, i);
            default -> new Verdict(Kind.UNKNOWN, w0, i);
        };
    }

    /**
     * WITH ... main: the main statement is the first SELECT/INSERT/UPDATE/DELETE/MERGE/VALUES/TABLE
     * word outside the CTE bodies' parentheses.
     */
    private static Verdict withMain(List<Token> t, int i) {
        int depth = 0;
        for (int k = i + 1; k < t.size(); k++) {
            Token tok = t.get(k);
            if (depth == 0 && tok.is('(') && t.get(k - 1).is(')')) {
                return new Verdict(Kind.SELECT, "SELECT", k); // WITH x AS (...) (SELECT ...)
            }
            if (tok.is('(')) {
                depth++;
            } else if (tok.is(')')) {
                depth--;
            } else if (depth == 0 && tok.type() == SqlScanner.WORD) {
                String u = tok.word();
                switch (u) {
                    case "SELECT", "VALUES", "TABLE" -> {
                        return new Verdict(Kind.SELECT, "SELECT", k);
                    }
                    case "INSERT", "UPDATE", "DELETE", "MERGE" -> {
                        return new Verdict(Kind.valueOf(u), u, k);
                    }
                    default -> {
                    }
                }
            }
        }
        return new Verdict(Kind.UNKNOWN, "WITH", i);
    }

    /** Index just after CREATE/ALTER/DROP and its modifiers: where the object type starts. */
    static int objectIndex(List<Token> t, int i) {
        int j = i + 1;
        if (w(t, i).equals("CREATE")) {
            if (w(t, j).equals("OR") && w(t, j + 1).equals("REPLACE")) {
                j += 2;
            }
            while (CREATE_MODIFIERS.contains(w(t, j))
                    || (w(t, j).equals("DEFAULT") && w(t, j + 1).equals("CONVERSION"))
                    || (w(t, j).equals("CONSTRAINT") && w(t, j + 1).equals("TRIGGER"))) {
                j++;
            }
        }
        return j;
    }

    /** Number of words naming the object type at j: "TABLE", "MATERIALIZED VIEW", "FOREIGN DATA WRAPPER". */
    static int objectWords(List<Token> t, int j) {
        String a = w(t, j);
        String b = w(t, j + 1);
        return switch (a) {
            case "" -> 0;
            case "FOREIGN" -> b.equals("DATA") ? 3 : b.equals("TABLE") ? 2 : 1;
            case "TEXT" -> b.equals("SEARCH") ? 3 : 1;
            case "MATERIALIZED", "EVENT", "ACCESS", "LARGE" -> b.isEmpty() ? 1 : 2;
            case "USER" -> b.equals("MAPPING") ? 2 : 1;
            case "OPERATOR" -> b.equals("CLASS") || b.equals("FAMILY") ? 2 : 1;
            case "DEFAULT" -> b.equals("PRIVILEGES") ? 2 : 1;
            default -> 1;
        };
    }

    private static Verdict ddl(List<Token> t, int i, String verb) {
        int j = objectIndex(t, i);
        int words = objectWords(t, j);
        StringBuilder cmd = new StringBuilder(verb);
        for (int k = 0; k < words; k++) {
            cmd.append(' ').append(w(t, j + k));
        }
        String command = cmd.toString();
        String object = w(t, j);
        boolean roles = (object.equals("ROLE") || object.equals("GROUP") || object.equals("OWNED")
                || (object.equals("USER") && words == 1) || (object.equals("DEFAULT") && words == 2));
        return new Verdict(roles ? Kind.DCL : Kind.DDL, command, i);
    }

    /**
     * SET: ROLE and SESSION AUTHORIZATION (also spelled as the GUCs role / session_authorization)
     * change whose privileges the session has, so they get their own command.
     */
    private static Verdict set(List<Token> t, int i) {
        int j = i + 1;
        String a = w(t, j);
        if ((a.equals("SESSION") || a.equals("LOCAL"))
                && !(a.equals("SESSION")
                        && (w(t, j + 1).equals("AUTHORIZATION") || w(t, j + 1).equals("CHARACTERISTICS")))) {
            j++;
            a = w(t, j);
        }
        String command = switch (a) {
            case "ROLE" -> "SET ROLE";
            case "SESSION_AUTHORIZATION" -> "SET SESSION AUTHORIZATION";
            case "SESSION" -> w(t, j + 1).equals("AUTHORIZATION") ? "SET SESSION AUTHORIZATION" : "SET";
            case "TRANSACTION" -> "SET TRANSACTION";
            case "CONSTRAINTS" -> "SET CONSTRAINTS";
            default -> "SET";
        };
        return new Verdict(Kind.SET, command, i);
    }
}
