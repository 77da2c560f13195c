package dev.warden.sql;

import static dev.warden.sql.SqlTokenScan.isPunct;
import static dev.warden.sql.SqlTokenScan.matching;
import static dev.warden.sql.SqlTokenScan.word;

import dev.warden.sql.SqlCommand.Verdict;
import dev.warden.sql.SqlLexer.Token;
import dev.warden.sql.SqlLexer.Tokens;
import dev.warden.sql.Statement.Clause;
import dev.warden.sql.Statement.CopyDirection;
import dev.warden.sql.Statement.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns SQL text into {@link Statement} facts for the policy rules. The lexer splits the text and
 * decides each statement's kind from its leading words; JSqlParser supplies the structure of DML
 * (tables, columns, functions) where it can; statements that wrap another (EXPLAIN, PREPARE,
 * DECLARE, COPY (query), CREATE TABLE AS, CREATE RULE) have the wrapped one analysed as
 * {@code inner}. Where the two readings differ the more dangerous one wins, and nothing escapes
 * {@link #analyze}: a failure yields an unparsed statement with the lexer's kind.
 *
 * <p>Thread-safe and cheap to share: it holds no per-call state.
 */
public final class SqlAnalyzer {

    /** EXPLAIN EXPLAIN EXPLAIN ... is not SQL; past this the inner statement is not analysed. */
    private static final int MAX_NESTING = 8;

    /** Risk order, most dangerous first: when lexer and parser disagree, the earlier kind wins. */
    private static final List<Kind> RISK = List.of(Kind.UNKNOWN, Kind.DCL, Kind.DDL, Kind.DO, Kind.COPY,
            Kind.DELETE, Kind.MERGE, Kind.UPDATE, Kind.INSERT, Kind.CALL, Kind.EXECUTE, Kind.SET, Kind.RESET,
            Kind.MAINTENANCE, Kind.PREPARE, Kind.DECLARE, Kind.EXPLAIN, Kind.UTILITY, Kind.FETCH, Kind.CLOSE,
            Kind.DEALLOCATE, Kind.TRANSACTION, Kind.SELECT);

    private final boolean standardConformingStrings;

    public SqlAnalyzer() {
        this(true);
    }

    /**
     * @param standardConformingStrings the session's standard_conforming_strings: when off, a
     *        backslash escapes a quote in '...' strings, which moves statement boundaries
     */
    public SqlAnalyzer(boolean standardConformingStrings) {
        this.standardConformingStrings = standardConformingStrings;
    }

    /**
     * Splits a simple-Query string and analyses each statement in order. A SET search_path among
     * them applies to the statements after it, as it would on the server.
     */
    public List<Statement> analyze(String sql, List<String> searchPath) {
        List<String> texts;
        try {
            texts = SqlLexer.split(sql, standardConformingStrings);
        } catch (RuntimeException | StackOverflowError e) {
            return List.of(failed(sql == null ? "" : sql));
        }
        List<Statement> out = new ArrayList<>(texts.size());
        List<String> path = searchPath;
        for (String text : texts) {
            Statement s = analyzeOne(text, path);
            out.add(s);
            List<String> next = searchPathFrom(s);
            if (next != null) {
                path = next;
            }
        }
        return out;
    }

    /** Analyses one statement (already split). Never throws. */
    public Statement analyzeOne(String statementSql, List<String> searchPath) {
        String text = statementSql == null ? "" : statementSql;
        try {
            return analyze(text, searchPath, 0);
        } catch (RuntimeException | StackOverflowError e) {
            return failed(text);
        }
    }

    /**
     * The search_path a statement sets, for the proxy to track: SET [SESSION|LOCAL] search_path
     * TO/= a, "B", 'c'; SELECT set_config('search_path', 'a, b', ...); and the server default
     * ("$user", public) for SET search_path TO DEFAULT, RESET search_path, RESET ALL and DISCARD
     * ALL. Null when the statement does not change it.
     */
    public static List<String> searchPathFrom(Statement s) {
        return s == null ? null : searchPathFrom(s.text());
    }

    /**
     * {@link #searchPathFrom(Statement)} for raw statement text. Use this one when the Statement
     * came from a cache keyed by fingerprint: fingerprints fold literals, so a cached
     * "SET search_path = 'a'" would otherwise stand in for "SET search_path = 'evil'".
     */
    public static List<String> searchPathFrom(String statementSql) {
        try {
            return SqlSearchPath.from(statementSql);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private Statement failed(String text) {
        Kind kind = Kind.UNKNOWN;
        String command = "";
        String fingerprint = "";
        try {
            Verdict v = SqlCommand.classify(SqlLexer.tokens(text, standardConformingStrings).list());
            kind = v.kind();
            command = v.command();
            fingerprint = SqlLexer.fingerprint(text);
        } catch (RuntimeException | StackOverflowError e) {
            // keep what we have: an unparsed statement of the kind found so far
        }
        return new Facts().build(kind, command, text, fingerprint, false);
    }

    private Statement analyze(String text, List<String> path, int depth) {
        Tokens toks = SqlLexer.tokens(text, standardConformingStrings);
        List<Token> t = toks.list();
        Verdict v = SqlCommand.classify(t);
        Kind kind = v.kind();
        String command = v.command();
        String fingerprint = SqlLexer.fingerprint(text);
        boolean clean = !toks.incomplete() && !toks.unbalanced();
        Facts f = new Facts();
        if (depth > MAX_NESTING) {
            return f.build(kind, command, text, fingerprint, false);
        }
        SqlNames names = new SqlNames(path);
        int main = v.mainIndex();
        boolean parsed = clean;
        switch (kind) {
            case SELECT, INSERT, UPDATE, DELETE, MERGE -> {
                if (command.equals("TRUNCATE")) {
                    SqlDdl.tables(t, v, names, f);
                    break;
                }
                net.sf.jsqlparser.statement.Statement ast = clean ? SqlParse.parse(text, t) : null;
                if (ast != null && collected(ast, names, f)) {
                    kind = riskier(kind, parserKind(ast));
                } else {
                    f = new Facts();
                    parsed = false;
                    SqlTokenScan.dmlTables(t, main, names, f, kind == Kind.SELECT);
                    f.hasWhere = (kind == Kind.UPDATE || kind == Kind.DELETE) && SqlTokenScan.hasWhere(t, main);
                }
                f.createsTable |= kind == Kind.SELECT && SqlDdl.depth0(t, main, "INTO") > 0;
                SqlTokenScan.functions(t, 0, t.size(), f, false);
                if (kind == Kind.SELECT && f.createsTable) {
                    command = "SELECT INTO";
                }
            }
            case DDL, DCL -> {
                net.sf.jsqlparser.statement.Statement ast = clean ? SqlParse.parse(text, t) : null;
                parsed = ast != null;
                kind = ast == null ? kind : riskier(kind, parserKind(ast));
                SqlDdl.tables(t, v, names, f);
                boolean innerParsed = wrapped(text, t, v, path, depth, f);
                parsed |= clean && innerParsed;
                SqlTokenScan.functions(t, 0, t.size(), f, true);
            }
            case COPY -> parsed &= copy(text, t, main, names, f, path, depth);
            case EXPLAIN -> parsed &= explain(text, t, main, f, path, depth);
            case PREPARE -> {
                int k = main + 1;
                f.preparedName = SqlTokenScan.part(t, k);
                k = isPunct(t, k + 1, '(') ? matching(t, k + 1) + 1 : k + 1;
                parsed &= word(t, k).equals("AS") && inner(text, t, k + 1, t.size(), path, depth, f, false);
            }
            case EXECUTE -> {
                f.preparedName = SqlTokenScan.part(t, main + 1);
                SqlTokenScan.functions(t, main + 2, t.size(), f, false);
            }
            case DEALLOCATE -> {
                int k = word(t, main + 1).equals("PREPARE") ? main + 2 : main + 1;
                f.preparedName = word(t, k).equals("ALL") ? null : SqlTokenScan.part(t, k);
            }
            case DECLARE -> {
                int k = SqlDdl.depth0(t, main, "CURSOR");
                k = k < 0 ? -1 : SqlDdl.depth0(t, k, "FOR");
                parsed &= k > 0 && inner(text, t, k + 1, t.size(), path, depth, f, false);
            }
            case CALL -> {
                // CALL p(args) reads like SELECT p(args): that gives the procedure and what its arguments call
                Statement call = main + 1 < t.size()
                        ? analyze("SELECT " + text.substring(t.get(main + 1).start()), path, depth + 1) : null;
                f.absorb(call, false);
                parsed &= call != null && call.parsed();
            }
            case MAINTENANCE, UTILITY -> SqlDdl.tables(t, v, names, f);
            case UNKNOWN -> {
                parsed = false;
                SqlTokenScan.dmlTables(t, main, names, f, false);
                SqlTokenScan.functions(t, 0, t.size(), f, false);
            }
            default -> {
                // TRANSACTION, SET, RESET, DO, FETCH, CLOSE: the leading words say it all
            }
        }
        return f.build(kind, command, text, fingerprint, parsed);
    }

    /** Walks the parse tree into f; false if the walk failed on a tree shape it did not expect. */
    private static boolean collected(net.sf.jsqlparser.statement.Statement ast, SqlNames names, Facts f) {
        try {
            SqlAstCollector.collect(ast, names, f);
            return true;
        } catch (RuntimeException | StackOverflowError e) {
            return false;
        }
    }

    /** CREATE TABLE/VIEW ... AS query and CREATE RULE actions: analysed as inner statements. */
    private boolean wrapped(String text, List<Token> t, Verdict v, List<String> path, int depth, Facts f) {
        String c = v.command();
        if (c.equals("CREATE TABLE") || c.equals("CREATE MATERIALIZED VIEW") || c.equals("CREATE VIEW")) {
            int[] r = SqlDdl.createAsQuery(t, v.mainIndex());
            if (r == null) {
                return false;
            }
            f.createsTable = !c.equals("CREATE VIEW");
            return inner(text, t, r[0], r[1], path, depth, f, false);
        }
        if (c.equals("CREATE RULE")) {
            boolean all = true;
            for (int[] r : SqlDdl.ruleActions(t, v.mainIndex())) {
                Statement a = sub(text, t, r[0], r[1], path, depth);
                f.inner = f.inner == null ? a : f.inner;
                f.absorb(a, true);
                all &= a != null && a.parsed();
            }
            return all && SqlDdl.depth0(t, v.mainIndex(), "DO") > 0;
        }
        return false;
    }

    private boolean copy(String text, List<Token> t, int main, SqlNames names, Facts f, List<String> path, int depth) {
        int k = main + 1;
        String table = null;
        List<String> cols = new ArrayList<>();
        boolean ok = true;
        if (isPunct(t, k, '(')) {
            ok = inner(text, t, k + 1, matching(t, k), path, depth, f, false);
        } else {
            k = word(t, k).equals("BINARY") ? k + 1 : k;
            SqlTokenScan.Name n = SqlTokenScan.name(t, k);
            if (n == null) {
                return false;
            }
            table = names.table(n.parts());
            int close = isPunct(t, n.next(), '(') ? matching(t, n.next()) : -1;
            if (close > 0) {
                for (int p = n.next() + 1; p < close; p++) {
                    String c = SqlTokenScan.part(t, p);
                    if (c != null) {
                        cols.add(c);
                    }
                }
            }
        }
        k = copyDirectionIndex(t, main);
        String dir = word(t, k);
        f.copyDirection = dir.equals("FROM") ? CopyDirection.FROM
                : dir.equals("TO") ? CopyDirection.TO : CopyDirection.NONE;
        f.copyProgram = word(t, k + 1).equals("PROGRAM");
        if (table != null) {
            boolean in = f.copyDirection == CopyDirection.FROM;
            if (in) {
                f.write(table);
            } else {
                f.read(table);
            }
            Clause clause = in ? Clause.SET : Clause.SELECT;
            if (cols.isEmpty()) {
                cols.add("*");
            }
            for (String c : cols) {
                f.column(table, c, clause);
            }
        }
        SqlTokenScan.functions(t, k, t.size(), f, false);
        return ok && f.copyDirection != CopyDirection.NONE;
    }

    /** Index of COPY's FROM or TO: after "(query)" or after the table name and its column list. */
    private static int copyDirectionIndex(List<Token> t, int main) {
        int k = main + 1;
        if (isPunct(t, k, '(')) {
            return matching(t, k) + 1;
        }
        k = word(t, k).equals("BINARY") ? k + 1 : k;
        SqlTokenScan.Name n = SqlTokenScan.name(t, k);
        k = n == null ? k : n.next();
        return isPunct(t, k, '(') ? matching(t, k) + 1 : k;
    }

    /** Whether a COPY statement's FROM/TO names a file on the database server (a string, not STDIN/STDOUT/PROGRAM). */
    static boolean copiesServerFile(String text) {
        try {
            List<Token> t = SqlLexer.tokens(text, true).list();
            Verdict v = SqlCommand.classify(t);
            int k = copyDirectionIndex(t, v.mainIndex());
            return v.kind() == Kind.COPY && SqlTokenScan.oneOf(word(t, k), "FROM", "TO")
                    && k + 1 < t.size() && t.get(k + 1).type() == SqlScanner.STRING;
        } catch (RuntimeException e) {
            return true; // cannot tell: the dangerous reading
        }
    }

    /** EXPLAIN [ANALYZE] [VERBOSE] stmt or EXPLAIN (option [value], ...) stmt. */
    private boolean explain(String text, List<Token> t, int main, Facts f, List<String> path, int depth) {
        int k = main + 1;
        boolean analyze = false;
        if (isPunct(t, k, '(')) {
            int close = matching(t, k);
            for (int p = k + 1; p < close; p++) {
                if ((p == k + 1 || isPunct(t, p - 1, ',')) && SqlTokenScan.oneOf(word(t, p), "ANALYZE", "ANALYSE")) {
                    Token value = p + 1 < close && !isPunct(t, p + 1, ',') ? t.get(p + 1) : null;
                    analyze = value == null || !SqlTokenScan.oneOf(value.text().replace("'", "").toUpperCase(Locale.ROOT),
                            "FALSE", "OFF", "0", "NO");
                }
            }
            k = close + 1;
        } else {
            while (SqlTokenScan.oneOf(word(t, k), "ANALYZE", "ANALYSE", "VERBOSE")) {
                analyze |= !word(t, k).equals("VERBOSE");
                k++;
            }
        }
        boolean ok = inner(text, t, k, t.size(), path, depth, f, analyze);
        Statement in = f.inner;
        if (analyze && in != null) {
            f.explainAnalyzeWrite = in.writes();
            f.createsTable = in.createsTable();
            f.dataModifyingCte = in.dataModifyingCte();
        }
        return ok;
    }

    /** Analyses tokens [from, to) as the inner statement; absorbs what it reads (and writes when it runs). */
    private boolean inner(String text, List<Token> t, int from, int to, List<String> path, int depth, Facts f,
            boolean runs) {
        Statement in = sub(text, t, from, to, path, depth);
        f.inner = in;
        f.absorb(in, runs);
        return in != null && in.parsed();
    }

    private Statement sub(String text, List<Token> t, int from, int to, List<String> path, int depth) {
        if (from < 0 || from >= to || to > t.size()) {
            return null;
        }
        return analyze(text.substring(t.get(from).start(), t.get(to - 1).end()), path, depth + 1);
    }

    private static Kind riskier(Kind a, Kind b) {
        if (b == null) {
            return a;
        }
        return RISK.indexOf(a) <= RISK.indexOf(b) ? a : b;
    }

    /** The parser's reading of the kind; null when its class says nothing PostgreSQL-specific. */
    private static Kind parserKind(net.sf.jsqlparser.statement.Statement st) {
        if (st instanceof net.sf.jsqlparser.statement.drop.Drop d && d.getType() != null
                && SqlTokenScan.oneOf(d.getType().toUpperCase(Locale.ROOT), "ROLE", "USER", "GROUP")) {
            return Kind.DCL;
        }
        return switch (st.getClass().getSimpleName()) {
            case "PlainSelect", "SetOperationList", "ParenthesedSelect", "Values", "TableStatement" -> Kind.SELECT;
            case "Insert", "Upsert" -> Kind.INSERT;
            case "Update" -> Kind.UPDATE;
            case "Delete", "Truncate" -> Kind.DELETE;
            case "Merge" -> Kind.MERGE;
            case "CreateTable", "CreateView", "AlterView", "CreateIndex", "Alter", "Drop", "CreateFunction",
                    "CreateProcedure", "CreateSchema", "CreateSequence", "AlterSequence", "Comment",
                    "AlterSystemStatement", "RenameTableStatement", "CreateSynonym", "PurgeStatement" -> Kind.DDL;
            case "Grant" -> Kind.DCL;
            default -> null;
        };
    }
}
