package dev.warden.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.sql.Statement;
import dev.warden.sql.Statement.Kind;
import org.junit.jupiter.api.Test;

class SqlShapeTest {
    static Statement copy(String text) {
        return Stmt.of(Kind.COPY, "COPY", text).build();
    }

    @Test
    void headSkipsCommentsAndFoldsWhitespace() {
        Statement s = Stmt.of(Kind.SET, "SET ROLE", "  -- line\n /* outer /* nested */ still comment */\n\tSET \n  ROLE admin").fingerprint(null).build();
        assertThat(SqlShape.head(s)).isEqualTo("SET ROLE admin");
        assertThat(SqlShape.leadsWith(s, "set role\\b")).isTrue();
        assertThat(SqlShape.leadsWith(s, "role")).isFalse(); // anchored at the start
        String huge = "SELECT " + "x, ".repeat(100_000) + "1";
        assertThat(SqlShape.head(Stmt.of(Kind.SELECT, "SELECT", huge).fingerprint(null).build())).hasSize(SqlShape.HEAD);
    }

    @Test
    void theFingerprintIsPreferredSoLiteralsCannotMatter() {
        Statement s = Stmt.of(Kind.SELECT, "SELECT", "SELECT 'alter system'").fingerprint("select ?").build();
        assertThat(SqlShape.head(s)).isEqualTo("select ?");
        Statement noText = new Statement(Kind.UNKNOWN, null, null, null, false, java.util.List.of(), java.util.List.of(),
                java.util.List.of(), java.util.Set.of(), false, false, false, Statement.CopyDirection.NONE, false, false, null, null);
        assertThat(SqlShape.head(noText)).isEmpty();
        assertThat(SqlShape.copiesServerFile(noText)).isFalse();
    }

    @Test
    void callsAnyIgnoresTheSchema() {
        Statement s = Stmt.of(Kind.SELECT, "SELECT", "SELECT pg_catalog.pg_read_file(?)").functions("pg_catalog.pg_read_file").build();
        assertThat(SqlShape.callsAny(s, "pg_read_file|lo_export")).isTrue();
        assertThat(SqlShape.callsAny(s, "pg_read")).isFalse(); // whole names only
    }

    @Test
    void copyEndpoints() {
        assertThat(SqlShape.copiesServerFile(copy("COPY t TO '/tmp/x'"))).isTrue();
        assertThat(SqlShape.copiesServerFile(copy("copy t (a, b) from ? with (format csv)"))).isTrue();
        assertThat(SqlShape.copiesServerFile(copy("COPY \"from\" FROM '/x'"))).isTrue();
        assertThat(SqlShape.copiesServerFile(copy("COPY t FROM 'unterminated"))).isTrue();
        assertThat(SqlShape.copiesServerFile(copy("COPY t FROM STDIN"))).isFalse();
        assertThat(SqlShape.copiesServerFile(copy("COPY t TO stdout;"))).isFalse();
        assertThat(SqlShape.copiesServerFile(copy("COPY t TO PROGRAM 'gzip > /x'"))).isFalse(); // its own rule
        assertThat(SqlShape.copiesServerFile(copy("COPY (SELECT a FROM t WHERE b SIMILAR TO 'x') TO STDOUT"))).isFalse();
        assertThat(SqlShape.copiesServerFile(copy("COPY (SELECT * FROM stdin) TO '/tmp/f'"))).isTrue();
        assertThat(SqlShape.copiesServerFile(copy("COPY tfrom_to TO STDOUT"))).isFalse();
    }
}
