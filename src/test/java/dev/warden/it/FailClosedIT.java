package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * If the statements route cannot decide — it throws, or ends without forwarding or rejecting —
 * the statement must not reach PostgreSQL, and the client must be told why.
 */
class FailClosedIT {
    @TempDir
    static Path dir;

    @BeforeAll
    static void canaryTable() throws Exception {
        try (TestGateway gw = TestGateway.builder().start(); Connection c = gw.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS fail_closed_canary (n int)");
            s.execute("TRUNCATE fail_closed_canary");
        }
    }

    private static Path routes(String name, String steps) throws Exception {
        return TestGateway.statementsRoute(dir.resolve(name), "", steps);
    }

    private static int canaryRows() throws Exception {
        try (TestGateway gw = TestGateway.builder().start(); Connection c = gw.connect();
             ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM fail_closed_canary")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void routeThatThrowsBlocksTheStatementWithAnInternalError() throws Exception {
        Path r = routes("throws", "        - throwException:\n            exceptionType: java.lang.IllegalStateException\n            message: policy store unreachable");
        try (TestGateway gw = TestGateway.builder().routes(r).start(); Connection c = gw.connect("preferQueryMode=simple", "assumeMinServerVersion=10")) {
            assertThatThrownBy(() -> c.createStatement().execute("INSERT INTO fail_closed_canary VALUES (1)"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("XX000");
                        assertThat(e.getMessage()).contains("was not run").contains("policy store unreachable");
                    });
            // the session itself survives: the next statement gets the same clear refusal, not a hang
            assertThatThrownBy(() -> c.createStatement().execute("SELECT 1"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("XX000"));
        }
        assertThat(canaryRows()).isZero();
    }

    @Test
    void routeThatDecidesNothingBlocksExtendedProtocolStatementsToo() throws Exception {
        Path r = routes("undecided", "        - log:\n            message: \"looked at it, decided nothing\"");
        try (TestGateway gw = TestGateway.builder().routes(r).start(); Connection c = gw.connect("assumeMinServerVersion=10")) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO fail_closed_canary VALUES (?)")) {
                ps.setInt(1, 2);
                assertThatThrownBy(ps::executeUpdate)
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).isEqualTo("XX000");
                            assertThat(e.getMessage()).contains("ended without a decision");
                        });
            }
        }
        assertThat(canaryRows()).isZero();
    }
}
