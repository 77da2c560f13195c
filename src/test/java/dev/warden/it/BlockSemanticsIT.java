package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A refused statement must behave on the wire exactly like a statement PostgreSQL itself rejected:
 * the error where the statement's answer would be, the transaction aborted on both sides, the rest
 * of an extended-protocol batch discarded up to Sync, the session usable afterwards, and nothing of
 * the refused statement executed.
 */
class BlockSemanticsIT {
    @TempDir
    static Path dir;
    static TestGateway gw;

    @BeforeAll
    static void start() throws Exception {
        Path routes = Files.createDirectories(dir.resolve("routes"));
        TestGateway.statementsRoute(routes, String.join("\n",
                "- beans:",
                "    - name: blockMarked",
                "      type: dev.warden.it.BlockMarkedStatements", ""),
                "        - process:\n            ref: blockMarked");
        try (TestGateway plain = TestGateway.builder().start(); Connection c = plain.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS block_canary (n int)");
            s.execute("CREATE TABLE IF NOT EXISTS forbidden_zone (n int)");
        }
        gw = TestGateway.builder().routes(routes).start();
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @BeforeEach
    void empty() throws Exception {
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            s.execute("TRUNCATE block_canary");
        }
    }

    private static int canary() throws SQLException {
        try (Connection c = gw.connect(); ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM block_canary")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static void assertRefused(SQLException e) {
        assertThat(e.getSQLState()).isEqualTo("42501");
        assertThat(e.getMessage()).contains("statement refused by test rule").doesNotContain("warden_refused_");
    }

    @Test
    void refusedSimpleQueryReturns42501AndTheSessionContinues() throws Exception {
        try (Connection c = gw.connect("preferQueryMode=simple"); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("DELETE FROM forbidden_zone"))
                    .isInstanceOfSatisfying(SQLException.class, BlockSemanticsIT::assertRefused);
            s.execute("INSERT INTO block_canary VALUES (1)");
        }
        assertThat(canary()).isEqualTo(1);
    }

    @Test
    void multiStatementQueryWithOneRefusedStatementRunsNone() throws Exception {
        try (Connection c = gw.connect("preferQueryMode=simple"); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("INSERT INTO block_canary VALUES (1); SELECT * FROM forbidden_zone"))
                    .isInstanceOfSatisfying(SQLException.class, BlockSemanticsIT::assertRefused);
        }
        assertThat(canary()).isZero();
    }

    @Test
    void refusedStatementInsideATransactionAbortsItOnBothSides() throws Exception {
        for (String mode : new String[] {"simple", "extended"}) {
            try (Connection c = gw.connect("preferQueryMode=" + mode); Statement s = c.createStatement()) {
                c.setAutoCommit(false);
                s.execute("INSERT INTO block_canary VALUES (1)");
                assertThatThrownBy(() -> s.execute("UPDATE forbidden_zone SET n = 2"))
                        .isInstanceOfSatisfying(SQLException.class, BlockSemanticsIT::assertRefused);
                // PostgreSQL agrees that the transaction is aborted
                assertThatThrownBy(() -> s.execute("SELECT 1"))
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("25P02"));
                c.rollback();
                c.setAutoCommit(true);
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM block_canary")) {
                    rs.next();
                    assertThat(rs.getInt(1)).as(mode).isZero();
                }
            }
        }
    }

    @Test
    void refusalInAPipelinedBatchDiscardsTheRestUntilSync() throws Exception {
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            s.addBatch("INSERT INTO block_canary VALUES (1)");
            s.addBatch("INSERT INTO forbidden_zone VALUES (2)");
            s.addBatch("INSERT INTO block_canary VALUES (3)");
            assertThatThrownBy(s::executeBatch).isInstanceOfSatisfying(BatchUpdateException.class, e -> {
                SQLException cause = e.getNextException() != null ? e.getNextException() : e;
                assertThat(cause.getSQLState()).isEqualTo("42501");
            });
            // the batch shared one implicit transaction, so PostgreSQL rolled the first insert back,
            // and discarded the third statement after the error
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM block_canary")) {
                rs.next();
                assertThat(rs.getInt(1)).isZero();
            }
        }
    }

    @Test
    void preparedStatementsKeepWorkingAfterARefusal() throws Exception {
        try (Connection c = gw.connect("prepareThreshold=1");
             PreparedStatement ok = c.prepareStatement("INSERT INTO block_canary VALUES (?)")) {
            for (int i = 0; i < 3; i++) {
                ok.setInt(1, i);
                ok.executeUpdate();
            }
            try (PreparedStatement bad = c.prepareStatement("SELECT * FROM forbidden_zone WHERE n = ?")) {
                bad.setInt(1, 1);
                assertThatThrownBy(bad::executeQuery).isInstanceOfSatisfying(SQLException.class, BlockSemanticsIT::assertRefused);
            }
            for (int i = 3; i < 6; i++) {
                ok.setInt(1, i);
                ok.executeUpdate();
            }
        }
        assertThat(canary()).isEqualTo(6);
    }
}
