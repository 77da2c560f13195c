package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The default rulepack (rules/guardrails.drl) enforced through the real gateway: refused
 * statements get 42501 naming the rule, never reach PostgreSQL (checked in the server's own
 * pg_stat_statements), and leave the session consistent; ordinary work passes untouched.
 */
class PolicyEnforcementIT {
    static TestGateway gw;

    @BeforeAll
    static void start() throws Exception {
        try (Connection c = SharedPostgres.get().superuser(SharedPostgres.APP_DB); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        }
        // the target is a staging database, so DDL (HOLD on production) can set up the tables
        gw = TestGateway.builder().rules(Path.of("rules")).target("staging", String.join("\n",
                "    host: 127.0.0.1",
                "    port: " + SharedPostgres.get().port(),
                "    database: " + SharedPostgres.APP_DB,
                "    user: " + SharedPostgres.APP_ROLE,
                "    password: " + SharedPostgres.APP_PASSWORD,
                "    sslmode: disable",
                "    environment: staging", "")).start();
        try (Connection c = gw.connectAs(TestGateway.USER, TestGateway.PASSWORD, "staging"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS policy_accounts (id int PRIMARY KEY, balance int)");
        }
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @BeforeEach
    void rows() throws Exception {
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            s.execute("DELETE FROM policy_accounts WHERE id > 0");
            s.execute("INSERT INTO policy_accounts VALUES (1, 100), (2, 200), (3, 300)");
        }
    }

    private static int rowCount() throws SQLException {
        try (Connection c = gw.connect(); ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM policy_accounts")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** How often the server itself executed statements containing this marker. */
    private static long serverCalls(String marker) throws SQLException {
        try (Connection c = SharedPostgres.get().superuser(SharedPostgres.APP_DB);
             PreparedStatement ps = c.prepareStatement("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE ?")) {
            ps.setString(1, "%" + marker + "%");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static Consumer<SQLException> refusedBy(String rule) {
        return e -> {
            assertThat(e.getSQLState()).isEqualTo("42501");
            assertThat(e.getMessage()).contains(rule);
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void deleteWithoutWhereIsBlockedAndNeverReachesTheServer(String mode) throws Exception {
        String marker = "blk_" + mode;
        try (Connection c = gw.connect("preferQueryMode=" + mode); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("DELETE FROM policy_accounts /* " + marker + " */"))
                    .isInstanceOfSatisfying(SQLException.class, refusedBy("UPDATE or DELETE without WHERE is blocked"));
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
        }
        assertThat(rowCount()).isEqualTo(3);
        assertThat(serverCalls(marker)).isZero();
    }

    @Test
    void multiStatementQueryWithOneBlockedStatementRunsNoneOfThem() throws Exception {
        try (Connection c = gw.connect("preferQueryMode=simple"); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("UPDATE policy_accounts SET balance = 0 WHERE id = 1; TRUNCATE policy_accounts"))
                    .isInstanceOfSatisfying(SQLException.class, refusedBy("TRUNCATE is blocked"));
        }
        try (Connection c = gw.connect(); ResultSet rs = c.createStatement().executeQuery("SELECT balance FROM policy_accounts WHERE id = 1")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(100);
        }
    }

    @Test
    void ddlOnAProductionTargetNeedsApproval() throws Exception {
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("CREATE TABLE policy_sneaky (n int)"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("42501");
                        assertThat(e.getMessage()).contains("requires approval by dba");
                    });
        }
        assertThat(serverCalls("policy_sneaky")).isZero();
    }

    @Test
    void serverFileFunctionsAreBlockedWhateverTheSpelling() throws Exception {
        try (Connection c = gw.connect("preferQueryMode=simple"); Statement s = c.createStatement()) {
            for (String sql : new String[] {
                    "SELECT pg_read_file('/etc/passwd')",
                    "select PG_READ_FILE ( '/etc/passwd' )",
                    "SELECT x FROM (SELECT pg_catalog.pg_read_file('/etc/hostname') AS x) q",
                    "/* harmless */ SELECT 1 AS a, pg_ls_dir('.')"}) {
                assertThatThrownBy(() -> s.execute(sql)).as(sql)
                        .isInstanceOfSatisfying(SQLException.class, refusedBy("Server file access functions are blocked"));
            }
        }
    }

    @Test
    void blockedStatementInsideATransactionAbortsItOnBothSides() throws Exception {
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("UPDATE policy_accounts SET balance = 1 WHERE id = 2");
            assertThatThrownBy(() -> s.execute("UPDATE policy_accounts SET balance = 0"))
                    .isInstanceOfSatisfying(SQLException.class, refusedBy("UPDATE or DELETE without WHERE is blocked"));
            assertThatThrownBy(() -> s.execute("SELECT 1"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("25P02"));
            c.rollback();
            try (ResultSet rs = s.executeQuery("SELECT balance FROM policy_accounts WHERE id = 2")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(200);
            }
        }
    }

    @Test
    void blockedStatementInAPipelinedBatchStopsTheBatch() throws Exception {
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            s.addBatch("UPDATE policy_accounts SET balance = 7 WHERE id = 1");
            s.addBatch("DELETE FROM policy_accounts");
            s.addBatch("UPDATE policy_accounts SET balance = 9 WHERE id = 3");
            assertThatThrownBy(s::executeBatch).isInstanceOf(BatchUpdateException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getMessage() + ((SQLException) e).getNextException())
                            .contains("UPDATE or DELETE without WHERE is blocked"));
        }
        assertThat(rowCount()).isEqualTo(3);
    }

    @Test
    void preparedDeleteWithoutWhereIsBlockedAtPrepare() throws Exception {
        try (Connection c = gw.connect("preferQueryMode=simple"); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("PREPARE wipe AS DELETE FROM policy_accounts"))
                    .isInstanceOfSatisfying(SQLException.class, refusedBy("UPDATE or DELETE without WHERE is blocked"));
            // the statement was never prepared, so there is nothing to EXECUTE
            assertThatThrownBy(() -> s.execute("EXECUTE wipe"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("26000"));
        }
        assertThat(rowCount()).isEqualTo(3);
    }

    @Test
    void backslashQuoteTrickUnderNonStandardStringsCannotHideAStatement() throws Exception {
        try (Connection c = gw.connect("preferQueryMode=simple"); Statement s = c.createStatement()) {
            s.execute("SET standard_conforming_strings = off");
            // with the setting off, PostgreSQL reads \' as a quote inside the string, so the string
            // ends one quote later than a standard reading says, and the DELETE is a statement of its own
            assertThatThrownBy(() -> s.execute("SELECT 'x\\'' ; DELETE FROM policy_accounts; --'"))
                    .isInstanceOfSatisfying(SQLException.class, refusedBy("UPDATE or DELETE without WHERE is blocked"));
        }
        assertThat(rowCount()).isEqualTo(3);
    }

    @Test
    void ordinaryWorkPassesUntouched() throws Exception {
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("SET LOCAL statement_timeout = '5s'");
            s.execute("UPDATE policy_accounts SET balance = balance + 1 WHERE id = 1");
            try (PreparedStatement ps = c.prepareStatement("SELECT balance FROM policy_accounts WHERE id = ?")) {
                ps.setInt(1, 1);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(101);
                }
            }
            c.commit();
        }
    }
}
