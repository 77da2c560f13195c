package dev.warden.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The lexer and analyser hold for any input, not only for SQL someone thought of. */
class SqlPropertiesTest {

    private static final SqlAnalyzer ANALYZER = new SqlAnalyzer();

    /** SQL-ish text: fragments that open and close the lexer's states, glued together at random. */
    @Provide
    Arbitrary<String> sqlish() {
        Arbitrary<String> fragments = Arbitraries.of("SELECT", " ", "\n", ";", "'", "''", "\"", "$$", "$a$", "$1",
                "/*", "*/", "--", "E'", "\\", "U&", "U&'", "U&\"", "B'", "(", ")", ",", ".", "::", "-", "*", "/", "a",
                "t", "1", "1e5", ".5", "0x1F", "DROP TABLE t", "FROM", "WHERE", "IN", "WITH d AS (", "DELETE FROM t",
                "CREATE FUNCTION f() BEGIN ATOMIC", "CASE", "END", "EXPLAIN ANALYZE", "PREPARE p AS", "COPY", "UESCAPE",
                "x$$", "SET search_path TO", "CREATE RULE r AS ON INSERT TO t DO (", "INSERT INTO u VALUES (1)");
        Arbitrary<String> sqlPieces = fragments.list().ofMaxSize(25).map(l -> String.join("", l));
        Arbitrary<String> any = Arbitraries.strings().ofMaxLength(60);
        return Arbitraries.oneOf(sqlPieces, sqlPieces, any);
    }

    @Property(tries = 1000)
    void lexerNeverThrows(@ForAll("sqlish") String sql) {
        SqlLexer.split(sql);
        SqlLexer.split(sql, false);
        SqlLexer.fingerprint(sql);
        SqlLexer.leadingWords(sql, 3);
    }

    @Property(tries = 300)
    void analyzeNeverThrows(@ForAll("sqlish") String sql) {
        List<Statement> all = ANALYZER.analyze(sql, List.of("$user", "public"));
        assertThat(all).hasSize(SqlLexer.split(sql).size());
        for (Statement s : all) {
            assertThat(s.kind()).isNotNull();
            assertThat(s.writes() || !s.writes()).isTrue();
            SqlAnalyzer.searchPathFrom(s);
        }
    }

    @Property(tries = 1000)
    void splittingIsStableUnderRejoining(@ForAll("sqlish") String sql) {
        List<String> once = SqlLexer.split(sql);
        List<String> again = SqlLexer.split(String.join(";", once));
        assertThat(again).containsExactlyElementsOf(once);
        for (String s : once) {
            assertThat(SqlLexer.split(s)).containsExactly(s);
        }
    }

    /**
     * Statements that share a fingerprint share every fact: the proxy caches analyses by
     * fingerprint, so a fact that depended on a folded literal would let one statement vouch for
     * another (EXPLAIN (ANALYZE 0) for EXPLAIN (ANALYZE 1), WHERE ... OR 1 = 2 for OR 1 = 1).
     */
    @Property(tries = 300)
    void sameFingerprintSameFacts(@ForAll("templates") String template, @ForAll("literals") List<String> a,
            @ForAll("literals") List<String> b) {
        String x = fill(template, a);
        String y = fill(template, b);
        if (!SqlLexer.fingerprint(x).equals(SqlLexer.fingerprint(y))) {
            return;
        }
        assertThat(facts(ANALYZER.analyzeOne(y, List.of("public")))).as(x + " vs " + y)
                .isEqualTo(facts(ANALYZER.analyzeOne(x, List.of("public"))));
    }

    private static String fill(String template, List<String> literals) {
        StringBuilder sb = new StringBuilder();
        int n = 0;
        for (char c : template.toCharArray()) {
            sb.append(c == '#' ? literals.get(n++ % literals.size()) : String.valueOf(c));
        }
        return sb.toString();
    }

    private static List<Object> facts(Statement s) {
        return List.of(s.kind(), s.command(), s.tables(), s.writtenTables(), s.columns(), s.functions(),
                s.hasWhere(), s.dataModifyingCte(), s.createsTable(), s.copyDirection(), s.copyProgram(),
                s.explainAnalyzeWrite(), s.parsed(), String.valueOf(s.preparedName()), s.writes(),
                String.valueOf(s.inner() == null ? null : s.inner().kind()),
                String.valueOf(SqlAnalyzer.searchPathFrom(s)), s.copyServerFile());
    }

    @Provide
    Arbitrary<String> templates() {
        return Arbitraries.of("DELETE FROM t WHERE id = # OR # = #", "UPDATE t SET a = # WHERE # = # AND b = #",
                "DELETE FROM t WHERE # = # AND NOT #", "EXPLAIN (ANALYZE #) DELETE FROM t", "EXPLAIN (ANALYZE #, COSTS #) "
                        + "UPDATE t SET a = #", "SET search_path = #, #", "SET role = #",
                "SELECT set_config('search_path', #, false)", "SELECT set_config(#, #, #)",
                "SELECT * FROM U&\"t!0061b\" UESCAPE #", "COPY t FROM #", "SELECT * FROM t WHERE a IN (#, #)",
                "INSERT INTO t VALUES (#, #) ON CONFLICT DO NOTHING", "SELECT # INTO x FROM t WHERE a = #",
                "EXPLAIN ANALYZE SELECT # FROM t", "PREPARE p AS SELECT # FROM t WHERE a > #", "CALL p(#, #)",
                "SELECT f(#) FROM t LIMIT #");
    }

    @Provide
    Arbitrary<List<String>> literals() {
        return Arbitraries.of("1", "0", "2.5", "1e5", "0x1F", "'x'", "'on'", "'off'", "'false'", "'a,b'", "E'\\''",
                "$$a$$", "$1", "'!'", "'#'", "B'01'").list().ofMinSize(1).ofMaxSize(4);
    }

    /** Whitespace and comments between tokens never change a fingerprint. */
    @Property(tries = 500)
    void fingerprintIgnoresLayout(@ForAll("tokens") List<String> tokens, @ForAll("separators") List<String> seps) {
        StringBuilder plain = new StringBuilder();
        StringBuilder fancy = new StringBuilder();
        for (int i = 0; i < tokens.size(); i++) {
            plain.append(' ').append(tokens.get(i));
            fancy.append(seps.isEmpty() ? " " : seps.get(i % seps.size())).append(tokens.get(i));
        }
        assertThat(SqlLexer.fingerprint(fancy.toString())).isEqualTo(SqlLexer.fingerprint(plain.toString()));
    }

    @Provide
    Arbitrary<List<String>> tokens() {
        return Arbitraries.of("SELECT", "select", "a", "\"A\"", "'x'", "E'y'", "$$z$$", "1", "2.5", "$1", "(", ")",
                ",", "=", "<>", "+", "-", "*", "IN", "FROM", "t", "s.t", "::", "int", "WHERE", "AND").list()
                .ofMinSize(1).ofMaxSize(20);
    }

    @Provide
    Arbitrary<List<String>> separators() {
        return Arbitraries.of(" ", "  ", "\n", "\t", " /* c */ ", "/* a /* b */ c */", " -- c\n", "\r\n")
                .list().ofMaxSize(5);
    }
}
