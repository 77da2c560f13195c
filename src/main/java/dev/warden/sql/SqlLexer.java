package dev.warden.sql;

import static dev.warden.sql.SqlScanner.COMMENT;
import static dev.warden.sql.SqlScanner.EOF;
import static dev.warden.sql.SqlScanner.NUMBER;
import static dev.warden.sql.SqlScanner.OP;
import static dev.warden.sql.SqlScanner.PARAM;
import static dev.warden.sql.SqlScanner.PUNCT;
import static dev.warden.sql.SqlScanner.QIDENT;
import static dev.warden.sql.SqlScanner.STRING;
import static dev.warden.sql.SqlScanner.WORD;
import static dev.warden.sql.SqlScanner.WS;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A PostgreSQL-aware lexer. It follows the server's own scanner (scan.l) closely enough that Warden
 * and PostgreSQL agree on where strings, comments and statements begin and end: that agreement is
 * what stops {@code SELECT $$; DROP TABLE t; $$} from being read as two statements, or a DROP from
 * hiding behind a comment. It never throws: an unterminated string or comment becomes a token
 * flagged incomplete, which makes the statement suspicious instead of crashing the analysis.
 *
 * <p>One instance scans one string; the static methods are the public API. Scanning allocates
 * nothing per token, so {@link #fingerprint} stays cheap on the hot path.
 */
public final class SqlLexer {

    /** One significant token (whitespace and comments are not kept). */
    record Token(int type, int start, int end, char prefix, boolean incomplete, String text) {
        /** Upper-cased text of an unquoted word, null for any other token. */
        String word() {
            return type == WORD ? text.toUpperCase(Locale.ROOT) : null;
        }

        boolean is(char c) {
            return (type == PUNCT || type == OP) && text.length() == 1 && text.charAt(0) == c;
        }

        boolean isName() {
            return type == WORD || type == QIDENT;
        }
    }

    /** The significant tokens of a statement plus what the server would complain about. */
    record Tokens(List<Token> list, boolean incomplete, boolean unbalanced) {
    }

    // ---------------------------------------------------------------- public API

    /** Splits a simple-Query string into its statements (standard_conforming_strings on). */
    public static List<String> split(String sql) {
        return split(sql, true);
    }

    /**
     * Splits at top-level semicolons: not inside strings, dollar quotes, comments, parentheses
     * (CREATE RULE bodies) or a CREATE FUNCTION's BEGIN ATOMIC ... END. Each statement's text runs
     * from its first token to its last one that is not a line comment (so re-joining with ";" can
     * never swallow the separator); statements with nothing but whitespace and comments are dropped
     * unless they hold an unterminated comment, which stays visible as something suspicious.
     */
    public static List<String> split(String sql, boolean standardConformingStrings) {
        List<String> out = new ArrayList<>();
        SqlScanner lx = new SqlScanner(sql, standardConformingStrings);
        int stmtStart = -1, lastEnd = -1, depth = 0, words = 0, beginDepth = 0;
        boolean significant = false, suspicious = false, create = false, routine = false;
        for (int t = lx.next(); t != EOF; t = lx.next()) {
            if (t == WS) {
                continue;
            }
            if (t == PUNCT && lx.charAt0() == ';' && depth == 0 && beginDepth == 0) {
                if (significant || suspicious) {
                    out.add(lx.s.substring(stmtStart, lastEnd));
                }
                stmtStart = -1;
                significant = suspicious = create = routine = false;
                words = beginDepth = 0;
                continue;
            }
            if (stmtStart < 0) {
                stmtStart = lx.start;
            }
            if (!(t == COMMENT && lx.prefix == '-')) {
                lastEnd = lx.end;
            }
            suspicious |= lx.incomplete;
            if (t == COMMENT) {
                continue;
            }
            significant = true;
            if (t == PUNCT) {
                char c = lx.charAt0();
                depth = c == '(' ? depth + 1 : c == ')' ? Math.max(0, depth - 1) : depth;
            } else if (t == WORD) {
                // psql's rule: inside CREATE [OR REPLACE] FUNCTION/PROCEDURE, BEGIN and CASE open
                // a block that END closes, and semicolons inside a block do not end the statement
                words++;
                if (routine) {
                    if (lx.wordIs("BEGIN") || lx.wordIs("CASE")) {
                        beginDepth++;
                    } else if (lx.wordIs("END") && beginDepth > 0) {
                        beginDepth--;
                    }
                } else if (words == 1) {
                    create = lx.wordIs("CREATE");
                } else if (create && (lx.wordIs("FUNCTION") || lx.wordIs("PROCEDURE"))) {
                    routine = true;
                } else {
                    create = create && words <= 3 && (lx.wordIs("OR") || lx.wordIs("REPLACE"));
                }
            }
        }
        if (stmtStart >= 0 && (significant || suspicious)) {
            out.add(lx.s.substring(stmtStart, lastEnd));
        }
        return out;
    }

    /**
     * The statement's shape: literals and $n become '?', IN lists of them collapse to IN (?),
     * comments go, whitespace is canonical, unquoted words are lower case, quoted identifiers are
     * kept exactly. One pass, no regular expressions, no token objects: it runs on every statement.
     *
     * <p>Statements with one fingerprint get the same facts, so a cache may be keyed by it. Where a
     * literal decides a fact, it is therefore kept: in SET and RESET (search_path, role), in
     * set_config(...) arguments, in EXPLAIN's option list (ANALYZE 0 vs 1), after UESCAPE, and
     * after COPY's FROM/TO (a server file name, not STDIN).
     */
    public static String fingerprint(String statementSql) {
        SqlScanner lx = new SqlScanner(statementSql, true);
        StringBuilder sb = new StringBuilder(lx.n);
        int prevType = EOF, prevWordAt = -1, depth = 0, listAt = -1, listDepth = -1, listItems = 0;
        int words = 0, keepFrom = Integer.MAX_VALUE;
        char prevChar = 0;
        boolean prevIn = false, keepAll = false, keepNext = false, keepParen = false, copy = false;
        for (int t = lx.next(); t != EOF; t = lx.next()) {
            if (t == WS || t == COMMENT) {
                continue;
            }
            boolean keep = keepAll || keepNext || depth >= keepFrom;
            boolean literal = !keep && (t == STRING || t == NUMBER || t == PARAM);
            char c = (t == PUNCT || t == OP) && lx.end - lx.start == 1 ? lx.charAt0() : 0;
            boolean cast = t == OP && lx.end - lx.start == 2 && lx.charAt0() == ':' && lx.s.charAt(lx.start + 1) == ':';
            if (sb.length() > 0 && spaceBefore(sb, prevType, prevChar, prevWordAt, t, c, cast)) {
                sb.append(' ');
            }
            if (listAt >= 0 && depth == listDepth && !(literal || c == ',' || c == ')')) {
                listAt = -1; // not a plain list of literals: keep it as written
            }
            if (c == ')' && listAt >= 0 && depth == listDepth && listItems > 0) {
                sb.setLength(listAt);
                sb.append('?');
                listAt = -1;
            }
            if (literal) {
                sb.append('?');
                listItems++;
            } else if (t == WORD) {
                prevWordAt = sb.length();
                if (++words == 1) {
                    keepAll = lx.wordIs("SET") || lx.wordIs("RESET");
                    keepParen = lx.wordIs("EXPLAIN");
                    copy = lx.wordIs("COPY");
                } else {
                    keepParen = lx.end - lx.start == 10 && lx.wordIs("SET_CONFIG");
                }
                for (int i = lx.start; i < lx.end; i++) {
                    char ch = lx.s.charAt(i);
                    sb.append(ch >= 'A' && ch <= 'Z' ? (char) (ch + 32) : ch);
                }
            } else {
                sb.append(lx.s, lx.start, lx.end);
            }
            keepNext = t == WORD && (lx.wordIs("UESCAPE")
                    || (copy && depth == 0 && (lx.wordIs("FROM") || lx.wordIs("TO"))));
            if (c == '(') {
                depth++;
                if (keepParen && keepFrom == Integer.MAX_VALUE) {
                    keepFrom = depth;
                }
                if (prevIn) {
                    listAt = sb.length();
                    listDepth = depth;
                    listItems = 0;
                }
            } else if (c == ')') {
                keepFrom = depth == keepFrom ? Integer.MAX_VALUE : keepFrom;
                depth--;
            }
            keepParen &= t == WORD;
            prevType = t;
            prevChar = cast ? ':' : c;
            prevIn = t == WORD && lx.wordIs("IN");
        }
        return sb.toString();
    }

    /** Words after which '(' is not a call, so the fingerprint keeps a space: "in (?)", "values (?)". */
    private static final Set<String> SPACED_BEFORE_PAREN = Set.of("in", "values", "as", "exists", "on", "using",
            "from", "join", "and", "or", "not", "where", "select", "into", "table", "with", "over", "filter",
            "then", "else", "when", "any", "all", "some", "lateral", "by", "returning", "set", "materialized", "to",
            "union", "intersect", "except", "explain", "copy", "vacuum", "analyze", "do", "instead", "conflict");

    private static boolean spaceBefore(StringBuilder sb, int prevType, char prevChar, int prevWordAt, int t, char c,
            boolean cast) {
        if (prevChar == '(' || prevChar == '[' || prevChar == '.' || prevChar == ':') {
            return false;
        }
        if (c == ')' || c == ']' || c == ',' || c == '.' || c == ';' || c == '[' || cast) {
            return false;
        }
        if (c == '(' && (prevType == WORD || prevType == QIDENT)) {
            return prevType == WORD && SPACED_BEFORE_PAREN.contains(sb.substring(prevWordAt));
        }
        return true;
    }

    /**
     * The first n keyword/identifier words, upper case, skipping comments and opening parentheses
     * in front; stops at the first token that is not an unquoted word.
     */
    public static List<String> leadingWords(String statementSql, int n) {
        List<String> out = new ArrayList<>(Math.max(0, n));
        SqlScanner lx = new SqlScanner(statementSql, true);
        for (int t = lx.next(); t != EOF && out.size() < n; t = lx.next()) {
            if (t == WS || t == COMMENT || (t == PUNCT && lx.charAt0() == '(' && out.isEmpty())) {
                continue;
            }
            if (t != WORD) {
                break;
            }
            out.add(lx.s.substring(lx.start, lx.end).toUpperCase(Locale.ROOT));
        }
        return out;
    }

    /** The significant tokens of one statement, with whether anything was unterminated or unbalanced. */
    static Tokens tokens(String statementSql, boolean standardConformingStrings) {
        SqlScanner lx = new SqlScanner(statementSql, standardConformingStrings);
        List<Token> out = new ArrayList<>();
        boolean incomplete = false;
        int depth = 0;
        boolean unbalanced = false;
        for (int t = lx.next(); t != EOF; t = lx.next()) {
            incomplete |= lx.incomplete;
            if (t == WS || t == COMMENT) {
                continue;
            }
            if (t == PUNCT) {
                char c = lx.charAt0();
                depth += c == '(' ? 1 : c == ')' ? -1 : 0;
                unbalanced |= depth < 0;
            }
            out.add(new Token(t, lx.start, lx.end, lx.prefix, lx.incomplete, lx.s.substring(lx.start, lx.end)));
        }
        return new Tokens(out, incomplete, unbalanced || depth != 0);
    }
}
