package dev.warden.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Parse-text shortcut gives exactly what the lexer and the shape cache give, and stays bounded. */
class StatementAnalysisTest {
    private static final List<String> PATH = List.of("$user", "public");
    private static final List<String> OTHER_PATH = List.of("bank", "public");

    @Test
    void parsedTextsAnalyseAsBefore() {
        StatementAnalysis a = new StatementAnalysis();
        for (String sql : new String[] {"SELECT abalance FROM pgbench_accounts WHERE aid = $1",
                "select 1; drop table customers", "SELECT 'a;b' /* ; */ FROM t -- ;\n",
                "UPDATE accounts SET balance = $1 WHERE id = $2", "SELECT $$x;y$$, E'\\\\'"}) {
            for (int i = 0; i < 3; i++) { // first a miss, then hits
                assertThat(a.splitParsed(sql)).isEqualTo(a.split(sql));
                for (String part : a.split(sql)) {
                    Statement viaText = a.analyzeParsed(part, PATH);
                    Statement viaShape = a.analyze(part, PATH);
                    assertThat(viaText.fingerprint()).isEqualTo(viaShape.fingerprint());
                    assertThat(viaText.kind()).isEqualTo(viaShape.kind());
                    assertThat(viaText.writtenTables()).isEqualTo(viaShape.writtenTables());
                }
            }
        }
    }

    @Test
    void theSearchPathIsPartOfTheKey() {
        StatementAnalysis a = new StatementAnalysis();
        String sql = "INSERT INTO accounts VALUES ($1)";
        Statement inPublic = a.analyzeParsed(sql, PATH);
        Statement inBank = a.analyzeParsed(sql, OTHER_PATH);
        assertThat(inPublic.writtenTables()).isEqualTo(a.analyze(sql, PATH).writtenTables());
        assertThat(inBank.writtenTables()).isEqualTo(a.analyze(sql, OTHER_PATH).writtenTables());
    }

    @Test
    void aSprayOfTextsAndLongTextsStillAnalyseCorrectly() {
        StatementAnalysis a = new StatementAnalysis();
        for (int i = 0; i < 5000; i++) { // beyond the text maps' bound: they are cleared, answers stay right
            String sql = "SELECT " + i + " FROM t" + (i % 7);
            assertThat(a.splitParsed(sql)).containsExactly(sql);
            assertThat(a.analyzeParsed(sql, PATH).fingerprint()).isEqualTo(a.analyze(sql, PATH).fingerprint());
        }
        String longText = "SELECT " + "x, ".repeat(2000) + "y FROM t";
        assertThat(a.splitParsed(longText)).isEqualTo(a.split(longText));
        assertThat(a.analyzeParsed(longText, PATH).fingerprint()).isEqualTo(a.analyze(longText, PATH).fingerprint());
    }
}
