package dev.warden.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SqlLexerTest {

    static Stream<Arguments> splits() {
        return Stream.of(
                Arguments.of("SELECT 1; DROP TABLE t", List.of("SELECT 1", "DROP TABLE t")),
                Arguments.of("SELECT $$; DROP TABLE t; $$", List.of("SELECT $$; DROP TABLE t; $$")),
                Arguments.of("SELECT $a$ $$ ; $a$; DROP TABLE x", List.of("SELECT $a$ $$ ; $a$", "DROP TABLE x")),
                Arguments.of("SELECT $tag$ $TAG$ ; $tag$; SELECT 2", List.of("SELECT $tag$ $TAG$ ; $tag$", "SELECT 2")),
                Arguments.of("SELECT $1; SELECT $2", List.of("SELECT $1", "SELECT $2")),
                Arguments.of("SELECT x$$y; SELECT 2", List.of("SELECT x$$y", "SELECT 2")),
                Arguments.of("SELECT 'a;b'; SELECT \"x;y\"", List.of("SELECT 'a;b'", "SELECT \"x;y\"")),
                Arguments.of("SELECT 'it''s;'; SELECT 2", List.of("SELECT 'it''s;'", "SELECT 2")),
                Arguments.of("SELECT E'\\';'; SELECT 2", List.of("SELECT E'\\';'", "SELECT 2")),
                Arguments.of("SELECT U&'a;b', U&\"c;d\"; SELECT 2", List.of("SELECT U&'a;b', U&\"c;d\"", "SELECT 2")),
                Arguments.of("SELECT B'01;', X'1F'; SELECT 2", List.of("SELECT B'01;', X'1F'", "SELECT 2")),
                Arguments.of("SELECT 1 /* ; /* ; */ ; */; SELECT 2", List.of("SELECT 1 /* ; /* ; */ ; */", "SELECT 2")),
                Arguments.of("SELECT 1 -- ;\n; SELECT 2", List.of("SELECT 1", "SELECT 2")),
                Arguments.of("/* x */ DROP TABLE t", List.of("/* x */ DROP TABLE t")),
                Arguments.of("-- c\nDROP TABLE t", List.of("-- c\nDROP TABLE t")),
                Arguments.of("CREATE RULE r AS ON INSERT TO t DO INSTEAD (INSERT INTO u VALUES (1); DELETE FROM v); SELECT 1",
                        List.of("CREATE RULE r AS ON INSERT TO t DO INSTEAD (INSERT INTO u VALUES (1); DELETE FROM v)",
                                "SELECT 1")),
                Arguments.of("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; SELECT 3",
                        List.of("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END",
                                "SELECT 3")),
                Arguments.of("create or replace procedure p() language sql begin atomic "
                                + "insert into t values (case when true then 1 end); end; drop table t",
                        List.of("create or replace procedure p() language sql begin atomic "
                                + "insert into t values (case when true then 1 end); end", "drop table t")),
                Arguments.of("BEGIN; SELECT 1; END;", List.of("BEGIN", "SELECT 1", "END")),
                Arguments.of(";;; ;", List.of()),
                Arguments.of("  SELECT 1  ;  ", List.of("SELECT 1")),
                Arguments.of("-- only a comment", List.of()),
                Arguments.of("/* only */ ; -- comments", List.of()),
                Arguments.of("SELECT 1; /* unterminated", List.of("SELECT 1", "/* unterminated")),
                Arguments.of("SELECT 'unterminated; DROP TABLE t", List.of("SELECT 'unterminated; DROP TABLE t")),
                Arguments.of("SELECT $$unterminated; DROP TABLE t", List.of("SELECT $$unterminated; DROP TABLE t")),
                Arguments.of("SELECT (1; DROP TABLE t", List.of("SELECT (1; DROP TABLE t")),
                Arguments.of("SELECT 1); DROP TABLE t", List.of("SELECT 1)", "DROP TABLE t")),
                Arguments.of("SELECT 1 /* c */ ; SELECT 2", List.of("SELECT 1 /* c */", "SELECT 2")),
                Arguments.of("", List.of()),
                Arguments.of(null, List.of()));
    }

    @ParameterizedTest
    @MethodSource("splits")
    void splitsAtTopLevelSemicolonsOnly(String sql, List<String> expected) {
        assertThat(SqlLexer.split(sql)).containsExactlyElementsOf(expected);
    }

    @Test
    void standardConformingStringsOffMovesTheBoundary() {
        String sql = "SELECT 'a\\'; DROP TABLE t; --'";
        assertThat(SqlLexer.split(sql)).containsExactly("SELECT 'a\\'", "DROP TABLE t");
        assertThat(SqlLexer.split(sql, false)).containsExactly(sql);
    }

    @Test
    void equivalentStatementsShareAFingerprint() {
        assertThat(SqlLexer.fingerprint("SELECT * FROM t WHERE id = 5"))
                .isEqualTo(SqlLexer.fingerprint("select *  from T where id=6 -- x"))
                .isEqualTo(SqlLexer.fingerprint("/* app */ SELECT\n\t*\nFROM t WHERE id = $1"))
                .isEqualTo("select * from t where id = ?");
        assertThat(SqlLexer.fingerprint("SELECT a FROM t WHERE id IN (1, 2, 3)"))
                .isEqualTo(SqlLexer.fingerprint("select a from t where id in ($1)"))
                .isEqualTo(SqlLexer.fingerprint("SELECT a FROM t WHERE id in ('x','y')"))
                .isEqualTo("select a from t where id in (?)");
        assertThat(SqlLexer.fingerprint("SELECT 'a', E'b\\'', $$c$$, $q$d$q$, U&'e', B'1', X'F', N'g'"))
                .isEqualTo("select ?, ?, ?, ?, ?, ?, ?, ?");
        assertThat(SqlLexer.fingerprint("SELECT 1, 1.5, 1e5, .5, 0x1F, 1_000, 2.5E-3"))
                .isEqualTo("select ?, ?, ?, ?, ?, ?, ?");
        assertThat(SqlLexer.fingerprint("SELECT 1 /* a /* nested */ b */ + 2"))
                .isEqualTo(SqlLexer.fingerprint("SELECT 3+4"));
        assertThat(SqlLexer.fingerprint("SELECT x::int FROM s.t WHERE a->>'k' = 'v'"))
                .isEqualTo("select x::int from s.t where a ->> ? = ?");
        assertThat(SqlLexer.fingerprint("SELECT count(*) FROM t"))
                .isEqualTo(SqlLexer.fingerprint("SELECT COUNT ( * ) FROM T"));
        assertThat(SqlLexer.fingerprint("INSERT INTO t (a, b) VALUES (1, 'x')"))
                .isEqualTo("insert into t(a, b) values (?, ?)");
    }

    @Test
    void differentStatementsDoNot() {
        assertThat(SqlLexer.fingerprint("SELECT * FROM \"T\"")).isNotEqualTo(SqlLexer.fingerprint("SELECT * FROM t"))
                .isEqualTo("select * from \"T\"");
        assertThat(SqlLexer.fingerprint("SELECT a FROM t")).isNotEqualTo(SqlLexer.fingerprint("SELECT b FROM t"));
        assertThat(SqlLexer.fingerprint("SELECT * FROM t WHERE id = 1"))
                .isNotEqualTo(SqlLexer.fingerprint("SELECT * FROM t WHERE id > 1"));
        assertThat(SqlLexer.fingerprint("DELETE FROM t WHERE true"))
                .isNotEqualTo(SqlLexer.fingerprint("DELETE FROM t WHERE false"));
        assertThat(SqlLexer.fingerprint("SELECT * FROM t WHERE a IN (1, b)")).isEqualTo("select * from t where a in (?, b)");
        assertThat(SqlLexer.fingerprint("SELECT 1; DROP TABLE t")).contains("drop table");
        assertThat(SqlLexer.fingerprint("SELECT $$; DROP TABLE t; $$")).isEqualTo("select ?");
        assertThat(SqlLexer.fingerprint("SELECT 'unterminated")).isEqualTo("select ?");
        assertThat(SqlLexer.fingerprint(null)).isEmpty();
    }

    @Test
    void literalsThatDecideFactsAreKept() {
        assertThat(SqlLexer.fingerprint("SET search_path = 'bank', public")).isEqualTo("set search_path = 'bank', public");
        assertThat(SqlLexer.fingerprint("set role = 'admin'")).isNotEqualTo(SqlLexer.fingerprint("set role = 'dba'"));
        assertThat(SqlLexer.fingerprint("SELECT set_config('search_path', 'x', false), 5"))
                .isEqualTo("select set_config('search_path', 'x', false), ?");
        assertThat(SqlLexer.fingerprint("EXPLAIN (ANALYZE 0) DELETE FROM t WHERE id = 1"))
                .isEqualTo("explain (analyze 0) delete from t where id = ?")
                .isNotEqualTo(SqlLexer.fingerprint("EXPLAIN (ANALYZE 1) DELETE FROM t WHERE id = 1"));
        assertThat(SqlLexer.fingerprint("SELECT * FROM U&\"t!0061b\" UESCAPE '!' WHERE a = 'x'"))
                .isEqualTo("select * from U&\"t!0061b\" uescape '!' where a = ?");
    }

    @Test
    void leadingWordsSkipCommentsAndParentheses() {
        assertThat(SqlLexer.leadingWords("/* x */ drop  table t CASCADE", 3)).containsExactly("DROP", "TABLE", "T");
        assertThat(SqlLexer.leadingWords("-- c\nSELECT 1", 2)).containsExactly("SELECT");
        assertThat(SqlLexer.leadingWords("((select 1)) union select 2", 5)).containsExactly("SELECT");
        assertThat(SqlLexer.leadingWords("alter /* a */ system -- b\n set x = 1", 2)).containsExactly("ALTER", "SYSTEM");
        assertThat(SqlLexer.leadingWords("CREATE TABLE \"X\" (a int)", 5)).containsExactly("CREATE", "TABLE");
        assertThat(SqlLexer.leadingWords("   ", 3)).isEmpty();
        assertThat(SqlLexer.leadingWords("SELECT 1", 0)).isEmpty();
    }

    @Test
    void tokensFlagUnterminatedAndUnbalancedInput() {
        assertThat(SqlLexer.tokens("SELECT 'abc", true).incomplete()).isTrue();
        assertThat(SqlLexer.tokens("SELECT 1 /* x /* y */", true).incomplete()).isTrue();
        assertThat(SqlLexer.tokens("SELECT $q$ x", true).incomplete()).isTrue();
        assertThat(SqlLexer.tokens("SELECT \"x", true).incomplete()).isTrue();
        assertThat(SqlLexer.tokens("SELECT E'\\'", true).incomplete()).isTrue();
        assertThat(SqlLexer.tokens("SELECT (1", true).unbalanced()).isTrue();
        assertThat(SqlLexer.tokens("SELECT 1)", true).unbalanced()).isTrue();
        SqlLexer.Tokens ok = SqlLexer.tokens("SELECT U&\"d\\0061\" FROM t WHERE a = $1 -- c", true);
        assertThat(ok.incomplete()).isFalse();
        assertThat(ok.unbalanced()).isFalse();
        assertThat(ok.list()).extracting(SqlLexer.Token::text)
                .containsExactly("SELECT", "U&\"d\\0061\"", "FROM", "t", "WHERE", "a", "=", "$1");
    }

    @Test
    void operatorsFollowPostgresRules() {
        assertThat(SqlLexer.tokens("a=-1", true).list()).extracting(SqlLexer.Token::text)
                .containsExactly("a", "=", "-", "1");
        assertThat(SqlLexer.tokens("a @- 1", true).list()).extracting(SqlLexer.Token::text)
                .containsExactly("a", "@-", "1");
        assertThat(SqlLexer.tokens("a*/*c*/b", true).list()).extracting(SqlLexer.Token::text)
                .containsExactly("a", "*", "b");
        assertThat(SqlLexer.tokens("x::text||'a'", true).list()).extracting(SqlLexer.Token::text)
                .containsExactly("x", "::", "text", "||", "'a'");
    }

    @Test
    void fingerprintIsFast() {
        String q = "SELECT id, name, email FROM customers c WHERE c.id = 42 AND status IN (1, 2, 3) ORDER BY name";
        long sink = 0;
        for (int i = 0; i < 200_000; i++) {
            sink += SqlLexer.fingerprint(q).length();
        }
        int n = 500_000;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            sink += SqlLexer.fingerprint(q).length();
        }
        double us = (System.nanoTime() - t0) / 1000.0 / n;
        // printed, not asserted: timing depends on the machine
        System.out.printf("SqlLexer.fingerprint: %.3f us per %d-char statement (%d)%n", us, q.length(), sink % 10);
        assertThat(sink).isPositive();
    }
}
