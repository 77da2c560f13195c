package dev.warden.sql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.sql.Statement.Clause;
import dev.warden.sql.Statement.ColumnRef;
import dev.warden.sql.Statement.CopyDirection;
import dev.warden.sql.Statement.Kind;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class SqlAnalyzerTest {

    private static final List<String> PATH = List.of("$user", "public");
    private final SqlAnalyzer analyzer = new SqlAnalyzer();

    static Stream<SqlAnalyzerCases.Case> cases() {
        return SqlAnalyzerCases.all().stream();
    }

    @Test
    void theTableIsBigEnough() {
        assertThat(SqlAnalyzerCases.all()).hasSizeGreaterThanOrEqualTo(150);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void analyses(SqlAnalyzerCases.Case c) {
        List<Statement> all = analyzer.analyze(c.sql(), PATH);
        assertThat(all).as("one statement").hasSize(1);
        Statement s = all.get(0);
        Set<String> flags = list(c.flags()).isEmpty() ? Set.of() : new HashSet<>(list(c.flags()));
        assertThat(s.kind()).as("kind").isEqualTo(Kind.valueOf(c.kind()));
        assertThat(s.command()).as("command").isEqualTo(c.command());
        assertThat(s.tables()).as("tables").containsExactlyInAnyOrderElementsOf(list(c.tables()));
        assertThat(s.writtenTables()).as("writtenTables").containsExactlyInAnyOrderElementsOf(list(c.written()));
        assertThat(s.functions()).as("functions").containsExactlyInAnyOrderElementsOf(list(c.functions()));
        assertThat(s.hasWhere()).as("hasWhere").isEqualTo(flags.contains("where"));
        assertThat(s.dataModifyingCte()).as("dataModifyingCte").isEqualTo(flags.contains("dmcte"));
        assertThat(s.createsTable()).as("createsTable").isEqualTo(flags.contains("creates"));
        assertThat(s.copyDirection()).as("copyDirection").isEqualTo(flags.contains("copy=FROM") ? CopyDirection.FROM
                : flags.contains("copy=TO") ? CopyDirection.TO : CopyDirection.NONE);
        assertThat(s.copyProgram()).as("copyProgram").isEqualTo(flags.contains("program"));
        assertThat(s.explainAnalyzeWrite()).as("explainAnalyzeWrite").isEqualTo(flags.contains("eaw"));
        assertThat(s.writes()).as("writes()").isEqualTo(flags.contains("writes"));
        assertThat(s.parsed()).as("parsed").isEqualTo(!flags.contains("unparsed"));
        assertThat(s.preparedName()).as("preparedName").isEqualTo(flag(flags, "prep="));
        String inner = flag(flags, "inner=");
        assertThat(s.inner() == null ? null : s.inner().kind().name()).as("inner").isEqualTo(inner);
        assertThat(s.text()).isEqualTo(SqlLexer.split(c.sql()).get(0));
        assertThat(s.fingerprint()).isEqualTo(SqlLexer.fingerprint(s.text()));
    }

    private static List<String> list(String csv) {
        return csv.isEmpty() ? List.of() : Arrays.asList(csv.split(","));
    }

    private static String flag(Set<String> flags, String prefix) {
        return flags.stream().filter(f -> f.startsWith(prefix)).map(f -> f.substring(prefix.length())).findFirst()
                .orElse(null);
    }

    @Test
    void splitsMultiStatementQueries() {
        List<Statement> s = analyzer.analyze("SELECT 1; DROP TABLE t", PATH);
        assertThat(s).extracting(Statement::kind).containsExactly(Kind.SELECT, Kind.DDL);
        assertThat(s.get(1).writtenTables()).containsExactly("public.t");

        assertThat(analyzer.analyze("SELECT $$; DROP TABLE t; $$", PATH)).singleElement()
                .satisfies(x -> assertThat(x.writes()).isFalse());

        List<Statement> p = analyzer.analyze("PREPARE p AS DELETE FROM t; EXECUTE p", PATH);
        assertThat(p).extracting(Statement::kind).containsExactly(Kind.PREPARE, Kind.EXECUTE);
        assertThat(p).extracting(Statement::preparedName).containsExactly("p", "p");
        assertThat(p.get(0).inner().writes()).isTrue();
        assertThat(p.get(0).writes()).isFalse();

        assertThat(analyzer.analyze("SELECT 1 /* ; */; -- ;\n; ;", PATH)).hasSize(1);
        assertThat(analyzer.analyze("", PATH)).isEmpty();
        assertThat(analyzer.analyze(null, PATH)).isEmpty();
    }

    @Test
    void searchPathQualifiesNamesAndFollowsSetWithinTheQuery() {
        List<Statement> s = analyzer.analyze("SELECT * FROM a; SET search_path TO bank, public; SELECT * FROM b; "
                + "SET LOCAL search_path = \"B\", 'c d'; SELECT * FROM c; RESET search_path; SELECT * FROM d; "
                + "SELECT set_config('search_path', 'evil, public', false); SELECT * FROM e", PATH);
        assertThat(s).extracting(x -> x.tables().isEmpty() ? "" : x.tables().get(0))
                .containsExactly("public.a", "", "bank.b", "", "B.c", "", "public.d", "", "evil.e");
        assertThat(analyzer.analyzeOne("SELECT * FROM x", List.of("$user", "sales")).tables()).containsExactly("sales.x");
        assertThat(analyzer.analyzeOne("SELECT * FROM x", List.of("pg_catalog", "hr")).tables()).containsExactly("hr.x");
        assertThat(analyzer.analyzeOne("SELECT * FROM x", List.of()).tables()).containsExactly("public.x");
        assertThat(analyzer.analyzeOne("SELECT * FROM x", null).tables()).containsExactly("public.x");
        assertThat(analyzer.analyzeOne("SELECT * FROM pg_roles", List.of("bank")).tables())
                .containsExactly("pg_catalog.pg_roles");
    }

    @Test
    void searchPathFromRecognisesEverySpelling() {
        assertThat(path("SET search_path TO bank, public")).containsExactly("bank", "public");
        assertThat(path("set SESSION search_path = Bank, \"Public\"")).containsExactly("bank", "Public");
        assertThat(path("SET LOCAL search_path TO 'a,b', \"$user\"")).containsExactly("a,b", "$user");
        assertThat(path("SET search_path TO DEFAULT")).containsExactly("$user", "public");
        assertThat(path("RESET search_path")).containsExactly("$user", "public");
        assertThat(path("RESET ALL")).containsExactly("$user", "public");
        assertThat(path("DISCARD ALL")).containsExactly("$user", "public");
        assertThat(path("SELECT set_config('search_path', 'x, \"Y\"', true)")).containsExactly("x", "Y");
        assertThat(path("SELECT set_config('work_mem', '1MB', true)")).isNull();
        assertThat(path("SET work_mem = '1MB'")).isNull();
        assertThat(path("SET ROLE admin")).isNull();
        assertThat(path("SELECT 1")).isNull();
        assertThat(SqlAnalyzer.searchPathFrom((Statement) null)).isNull();
        assertThat(SqlAnalyzer.searchPathFrom((String) null)).isNull();
        assertThat(SqlAnalyzer.searchPathFrom("set search_path = evil")).containsExactly("evil");
        assertThat(SqlAnalyzer.searchPathFrom("SELECT pg_catalog.set_config('search_path', 'e', false)"))
                .containsExactly("e");
    }

    private List<String> path(String sql) {
        return SqlAnalyzer.searchPathFrom(analyzer.analyzeOne(sql, PATH));
    }

    @Test
    void columnsAreResolvedPerClauseThroughAliases() {
        Statement s = analyzer.analyzeOne("SELECT c.name, o.total FROM customers c JOIN orders o ON o.cid = c.id "
                + "WHERE c.ssn = '1' GROUP BY c.name ORDER BY o.total", PATH);
        assertThat(s.columns()).contains(
                new ColumnRef("public.customers", "name", Clause.SELECT),
                new ColumnRef("public.orders", "total", Clause.SELECT),
                new ColumnRef("public.orders", "cid", Clause.JOIN),
                new ColumnRef("public.customers", "id", Clause.JOIN),
                new ColumnRef("public.customers", "ssn", Clause.WHERE),
                new ColumnRef("public.customers", "name", Clause.GROUP_ORDER),
                new ColumnRef("public.orders", "total", Clause.GROUP_ORDER));

        assertThat(analyzer.analyzeOne("SELECT name FROM customers, orders", PATH).columns())
                .containsExactly(new ColumnRef(null, "name", Clause.SELECT));
        assertThat(analyzer.analyzeOne("SELECT * FROM customers", PATH).columns())
                .containsExactly(new ColumnRef("public.customers", "*", Clause.SELECT));
        assertThat(analyzer.analyzeOne("SELECT count(*) FROM customers", PATH).columns()).isEmpty();

        // a scalar subquery in the select list returns data; one in WHERE only filters
        assertThat(analyzer.analyzeOne("SELECT (SELECT ssn FROM customers c WHERE c.id = o.cid) FROM orders o", PATH)
                .columns()).contains(new ColumnRef("public.customers", "ssn", Clause.SELECT),
                        new ColumnRef("public.orders", "cid", Clause.WHERE));
        assertThat(analyzer.analyzeOne("SELECT * FROM orders WHERE cid IN (SELECT id FROM customers WHERE ssn > '1')",
                PATH).columns()).contains(new ColumnRef("public.customers", "id", Clause.WHERE),
                        new ColumnRef("public.customers", "ssn", Clause.WHERE));

        Statement u = analyzer.analyzeOne("UPDATE customers SET ssn = upper(ssn) WHERE id = 1 RETURNING ssn", PATH);
        assertThat(u.columns()).containsExactly(new ColumnRef("public.customers", "ssn", Clause.SET),
                new ColumnRef("public.customers", "id", Clause.WHERE),
                new ColumnRef("public.customers", "ssn", Clause.RETURNING));

        Statement i = analyzer.analyzeOne("INSERT INTO t AS x (a, b) VALUES (1, 2) ON CONFLICT (a) "
                + "DO UPDATE SET b = EXCLUDED.b WHERE x.c > 0 RETURNING x.id", PATH);
        assertThat(i.columns()).contains(new ColumnRef("public.t", "a", Clause.SET),
                new ColumnRef("public.t", "c", Clause.WHERE), new ColumnRef("public.t", "id", Clause.RETURNING));

        assertThat(analyzer.analyzeOne("COPY customers (ssn, name) TO STDOUT", PATH).columns())
                .containsExactly(new ColumnRef("public.customers", "ssn", Clause.SELECT),
                        new ColumnRef("public.customers", "name", Clause.SELECT));
        assertThat(analyzer.analyzeOne("SELECT \"SSN\" FROM \"Customers\"", PATH).columns())
                .containsExactly(new ColumnRef("public.Customers", "SSN", Clause.SELECT));
    }

    @Test
    void rulesConvenienceMethodsWork() {
        Statement s = analyzer.analyzeOne("SELECT pg_catalog.pg_read_file('/etc/passwd') FROM bank.customers", PATH);
        assertThat(s.calls("pg_read_file")).isTrue();
        assertThat(s.calls("pg_catalog.pg_read_file")).isTrue();
        assertThat(s.calls("read_file")).isFalse();
        assertThat(s.touches("bank.customers")).isTrue();
    }

    @Test
    void copyServerFilesAreToldApart() {
        assertThat(analyzer.analyzeOne("COPY customers TO '/tmp/x'", PATH).copyServerFile()).isTrue();
        assertThat(analyzer.analyzeOne("COPY t (a) FROM E'/etc/passwd' WITH (FORMAT text)", PATH).copyServerFile())
                .isTrue();
        assertThat(analyzer.analyzeOne("COPY (SELECT 1) TO '/tmp/y'", PATH).copyServerFile()).isTrue();
        assertThat(analyzer.analyzeOne("COPY customers TO STDOUT", PATH).copyServerFile()).isFalse();
        assertThat(analyzer.analyzeOne("COPY t FROM STDIN", PATH).copyServerFile()).isFalse();
        assertThat(analyzer.analyzeOne("COPY t FROM PROGRAM 'cat /etc/passwd'", PATH).copyServerFile()).isFalse();
        assertThat(analyzer.analyzeOne("SELECT '/tmp/x'", PATH).copyServerFile()).isFalse();
    }

    @Test
    void clauseWordsBeforeParenthesesAreNotCalls() {
        assertThat(analyzer.analyzeOne("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY a) FROM t "
                + "WHERE x = 1 LIMIT (1) OFFSET (2)", PATH).functions()).containsExactly("percentile_cont");
        assertThat(analyzer.analyzeOne("SELECT left(name, 2), right(name, 1) FROM t", PATH).functions())
                .containsExactlyInAnyOrder("left", "right");
        assertThat(analyzer.analyzeOne("SELECT * FROM t WHERE x = 1 LIMIT (1) garbage", PATH).functions()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"\u0000", "'", "\"", "$", "$$", "$a", "$1$", "/*", "*/", "--", "U&", "U&'", "E'\\",
        "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((",
        ")))))", "SELECT ((((((((((((((((((((((((((((1))))))))))))))))))))))))))))", "EXPLAIN EXPLAIN EXPLAIN",
        "PREPARE", "PREPARE p", "PREPARE p AS", "EXECUTE", "COPY", "COPY (", "COPY t", "DECLARE c CURSOR",
        "CREATE RULE r AS ON", "CREATE TABLE x AS", "CALL", "DEALLOCATE", "SET", "SET search_path", "WITH x AS (",
        "SELECT * FROM", "DELETE FROM", "UPDATE", "INSERT INTO", "MERGE", "GRANT", "\uD800", "SELECT '\uDC00'",
        "SELECT 1e", "SELECT 0x", "SELECT .", "SELECT $1abc", "SELECT U&\"\\+FFFFFF\"", "SELECT U&\"\\DFFF\""})
    void neverThrows(String sql) {
        List<Statement> all = analyzer.analyze(sql, PATH);
        for (Statement s : all) {
            assertThat(s.kind()).isNotNull();
            assertThat(s.command()).isNotNull();
            assertThat(s.fingerprint()).isNotNull();
        }
        assertThat(analyzer.analyzeOne(sql, PATH)).isNotNull();
    }

    @Test
    void deepNestingIsNotParsedButStillClassified() {
        String deep = "SELECT " + "(".repeat(500) + "1" + ")".repeat(500) + " FROM t";
        Statement s = analyzer.analyzeOne(deep, PATH);
        assertThat(s.kind()).isEqualTo(Kind.SELECT);
        assertThat(s.parsed()).isFalse();
        assertThat(s.tables()).containsExactly("public.t");
    }

    @Test
    void standardConformingStringsOffIsHonoured() {
        String sql = "SELECT 'a\\'; DROP TABLE t; --'";
        assertThat(new SqlAnalyzer(true).analyze(sql, PATH)).extracting(Statement::kind)
                .containsExactly(Kind.SELECT, Kind.DDL);
        assertThat(new SqlAnalyzer(false).analyze(sql, PATH)).extracting(Statement::kind)
                .containsExactly(Kind.SELECT);
    }

    @Test
    void analysisSpeedIsPrinted() {
        String q = "SELECT c.id, c.name FROM customers c JOIN orders o ON o.cid = c.id WHERE o.total > 100";
        for (int i = 0; i < 300; i++) {
            analyzer.analyzeOne(q, PATH);
        }
        int n = 1000;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            analyzer.analyzeOne(q, PATH);
        }
        System.out.printf("SqlAnalyzer.analyzeOne: %.1f us per statement%n", (System.nanoTime() - t0) / 1000.0 / n);
    }
}
