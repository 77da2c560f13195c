package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The masking configuration names protected columns by schema-qualified name. Renaming the schema
 * (or the table, or the column) behind Warden's back must not turn protection off:
 * <ul>
 *   <li>a masked session's {@code ALTER SCHEMA … RENAME} of a schema holding protected relations is
 *       refused (42501), also quoted and inside a DO block, while schemas without protected data can
 *       still be renamed;</li>
 *   <li>a rename done directly on PostgreSQL (a DBA, another tool) keeps the column protected by its
 *       table OID and number after Warden reloads its catalog.</li>
 * </ul>
 */
class MaskingRenameIT {
    static final String DB = "renamedb";
    static final String SSN = "321-54-9876";
    static TestGateway gw;

    @BeforeAll
    static void start() throws Exception {
        SharedPostgres.ensureDatabase(DB);
        gw = TestGateway.builder().rules(Path.of("src/test/resources/rules-masking"))
                .target("bank", SharedPostgres.targetYaml(DB) + String.join("\n",
                        "    masking:",
                        "      columns:",
                        "        bank.customers.ssn: ssn", ""))
                .start();
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    /** A fresh schema {@code bank} with one customer, created directly on PostgreSQL. */
    @BeforeEach
    void data() throws SQLException {
        try (Connection c = direct(); Statement s = c.createStatement()) {
            for (String schema : List.of("bank", "b2", "b3", "scratch", "scratch2", "moved")) {
                s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
            s.execute("CREATE SCHEMA bank");
            s.execute("CREATE TABLE bank.customers (id int PRIMARY KEY, ssn text, city text)");
            s.execute("INSERT INTO bank.customers VALUES (1, '" + SSN + "', 'Boston')");
        }
    }

    static Connection direct() throws SQLException {
        return SharedPostgres.get().connect(SharedPostgres.APP_ROLE, SharedPostgres.APP_PASSWORD, DB);
    }

    static Connection masked() throws SQLException {
        return gw.connectAs(TestGateway.USER, TestGateway.PASSWORD, "bank");
    }

    static String one(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }

    static void assertRefusedRename(String sql) {
        assertThatThrownBy(() -> {
            try (Connection c = masked(); Statement s = c.createStatement()) {
                s.execute(sql);
            }
        }).isInstanceOf(SQLException.class).satisfies(e -> {
            assertThat(((SQLException) e).getSQLState()).isEqualTo("42501");
            assertThat(e.getMessage()).contains("renames schema bank");
        });
    }

    static void assertRefused(String sql, String messagePart) {
        assertThatThrownBy(() -> {
            try (Connection c = masked(); Statement s = c.createStatement()) {
                s.execute(sql);
            }
        }).isInstanceOf(SQLException.class).satisfies(e -> {
            assertThat(((SQLException) e).getSQLState()).isEqualTo("42501");
            assertThat(e.getMessage()).contains(messagePart);
        });
    }

    static boolean schemaExists(String name) throws SQLException {
        try (Connection c = direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 1 FROM pg_namespace WHERE nspname = '" + name + "'")) {
            return rs.next();
        }
    }

    @Test
    void maskedSessionCannotRenameASchemaWithProtectedColumns() throws Exception {
        try (Connection c = masked()) {
            assertThat(one(c, "SELECT ssn FROM bank.customers")).isNotEqualTo(SSN).endsWith("9876");
        }
        assertRefusedRename("ALTER SCHEMA bank RENAME TO b2");
        assertRefusedRename("alter   schema \"bank\" /* c */ rename to b2");
        assertRefusedRename("DO $$ BEGIN ALTER SCHEMA bank RENAME TO b3; END $$");
        assertRefusedRename("DO 'BEGIN ALTER SCHEMA bank RENAME TO b3; END'");
        assertRefusedRename("CREATE FUNCTION hop() RETURNS void LANGUAGE sql AS $f$ ALTER SCHEMA bank RENAME TO b3 $f$");
        // a routine created by a DO block, its body in plain quotes inside the dollar quotes
        assertRefusedRename("DO $o$ BEGIN CREATE FUNCTION public.hop2() RETURNS void LANGUAGE sql AS "
                + "'ALTER SCHEMA bank RENAME TO b3'; PERFORM public.hop2(); END $o$");
        // escapes Warden does not decode: refused as such
        assertRefused("DO E'BEGIN ALTER SCHEMA \\x62ank RENAME TO b3; END'", "backslash escapes");
        assertRefused("CREATE FUNCTION hop3() RETURNS void LANGUAGE sql AS U&'ALTER SCHEMA \\0062ank RENAME TO b3'",
                "backslash escapes");
        // standard_conforming_strings off: PostgreSQL ends the string at \' and runs the ALTER
        // (raw bytes, one Query message: a driver would split the string itself)
        try (RawPgClient raw = RawPgClient.login(gw.port(), TestGateway.USER, TestGateway.PASSWORD, "bank", "rename")) {
            raw.write(RawPgClient.query("SET standard_conforming_strings = off"));
            raw.readUntil('Z');
            raw.write(RawPgClient.query("SELECT 'x\\'' ; ALTER SCHEMA bank RENAME TO b3; --'"));
            List<RawPgClient.Msg> out = raw.readUntil('Z');
            assertThat(out.stream().anyMatch(m -> m.isError() && "42501".equals(m.sqlState())))
                    .as("refused: %s", out).isTrue();
        }
        // built at run time: refused as dynamic SQL in a routine that Warden cannot follow
        assertThatThrownBy(() -> {
            try (Connection c = masked(); Statement s = c.createStatement()) {
                s.execute("DO $$ BEGIN EXECUTE 'ALTER SCHEMA ' || 'ba' || 'nk RENAME TO b3'; END $$");
            }
        }).isInstanceOf(SQLException.class).satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
        assertThat(schemaExists("bank")).as("the schema was not renamed").isTrue();
        assertThat(schemaExists("b2") || schemaExists("b3")).isFalse();
        try (Connection c = masked()) {
            assertThat(one(c, "SELECT ssn FROM bank.customers")).isNotEqualTo(SSN);
        }
    }

    @Test
    void schemasWithoutProtectedColumnsCanStillBeRenamed() throws Exception {
        try (Connection c = masked(); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA scratch");
            s.execute("CREATE TABLE scratch.notes (id int, ssn text)"); // same column name, not configured
            s.execute("ALTER SCHEMA scratch RENAME TO scratch2");
        }
        assertThat(schemaExists("scratch2")).isTrue();
    }

    @Test
    void renamesDoneDirectlyOnPostgresKeepTheColumnProtected() throws Exception {
        try (Connection c = masked()) {
            // the table was created directly: the first read finds it unknown (masked whole) and has the
            // catalog reloaded; the second is masked as the configured column (the class's format)
            assertThat(one(c, "SELECT ssn FROM bank.customers")).isNotEqualTo(SSN);
            assertThat(one(c, "SELECT ssn FROM bank.customers")).isEqualTo("***-**-9876");
        }
        try (Connection c = direct(); Statement s = c.createStatement()) {
            s.execute("ALTER SCHEMA bank RENAME TO b2");
            s.execute("ALTER TABLE b2.customers RENAME TO clients");
            s.execute("ALTER TABLE b2.clients RENAME COLUMN ssn TO tax_id");
            s.execute("CREATE SCHEMA moved");
            s.execute("ALTER TABLE b2.clients SET SCHEMA moved");
        }
        try (Connection c = masked(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE scratch_marker (x int)"); // DDL through Warden: the catalog is reloaded
            s.execute("DROP TABLE scratch_marker");
            assertThat(one(c, "SELECT tax_id FROM moved.clients")).as("the renamed column is still masked")
                    .isEqualTo("***-**-9876");
            assertThat(one(c, "SELECT tax_id || '' FROM moved.clients")).doesNotContain("321-54");
            assertThat(one(c, "SELECT city FROM moved.clients")).isEqualTo("Boston");
        }
        try (Connection c = direct()) {
            assertThat(one(c, "SELECT tax_id FROM moved.clients")).as("control: the value is there").isEqualTo(SSN);
        }
    }
}
