package dev.warden.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On PostgreSQL the schema owner and the application role are separate (as docs/audit.md sets them
 * up): the application role may only SELECT and INSERT, and a trigger rejects UPDATE, DELETE and
 * TRUNCATE from anyone, the owner included.
 */
class PostgresAppendOnlyTest {
    static final String OWNER = "audit_owner_t";
    static final String APP = "audit_app_t";

    @TempDir
    Path dir;

    @Test
    void theApplicationRoleCannotChangeOrRemoveAuditRows() throws Exception {
        String db = "audit_roles";
        try (Connection c = TestStores.pgSuperuser(); Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + db);
            for (String role : List.of(APP, OWNER)) {
                st.execute("DROP ROLE IF EXISTS " + role);
            }
            st.execute("CREATE ROLE " + OWNER + " LOGIN PASSWORD 'owner-pw'");
            st.execute("CREATE ROLE " + APP + " LOGIN PASSWORD 'app-pw'");
            st.execute("CREATE DATABASE " + db + " OWNER " + OWNER);
        }
        String url = TestStores.pgUrl().replace("/" + TestStores.PG_DB, "/" + db);
        AuditSettings.Store store = new AuditSettings.Store(url, APP, "app-pw", OWNER, "owner-pw");
        AuditSettings s = TestStores.settings(dir, store);
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            log.statementReceived(TestStores.statement("s", Instant.now(), "SELECT 1"), true).durable().get();
        }
        try (Connection app = DriverManager.getConnection(url, APP, "app-pw"); Statement st = app.createStatement()) {
            for (String sql : List.of("UPDATE audit_block SET min_at = now()", "DELETE FROM audit_block",
                    "TRUNCATE audit_block", "UPDATE audit_block SET records = records",
                    "UPDATE audit_checkpoint SET seq = 1", "DELETE FROM audit_checkpoint",
                    "ALTER TABLE audit_block DISABLE TRIGGER audit_block_append_only",
                    "UPDATE audit_policy SET min_retention = interval '0 days'")) {
                assertThatThrownBy(() -> st.execute(sql)).as(sql).isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
            }
            // pruning is only possible through audit_prune(), which needs a prune record in the chain
            assertThatThrownBy(() -> st.execute("SELECT audit_prune('i-test', 3)")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("no prune record");
            // the writer's rights are intact
            assertThat(st.executeQuery("SELECT COUNT(*) FROM audit_block").next()).isTrue();
        }
        try (Connection owner = DriverManager.getConnection(url, OWNER, "owner-pw"); Statement st = owner.createStatement()) {
            for (String sql : List.of("UPDATE audit_block SET prune_to = 1", "DELETE FROM audit_block",
                    "TRUNCATE audit_block", "DELETE FROM audit_checkpoint")) {
                assertThatThrownBy(() -> st.execute(sql)).as(sql).isInstanceOf(SQLException.class)
                        .hasMessageContaining("audit rows are append-only");
            }
        }
        try (Connection c = DriverManager.getConnection(url, APP, "app-pw")) {
            assertThat(AuditVerifier.verify(c, List.of(SigningKeys.readPublic(s.signingKeyFile())),
                    AuditVerifier.Options.all()).firstProblem()).isNull();
        }
    }
}
