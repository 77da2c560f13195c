package dev.warden.audit;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.function.IntFunction;
import org.slf4j.Logger;

/**
 * Versioned tables of one component (approvals, recordings, …) in the audit's control store: a
 * {@code <component>_schema_version} table, migrations applied in order under a PostgreSQL advisory
 * lock (several instances may start together), run as the schema owner when one is configured,
 * which then grants the application role what the component needs. Mirrors {@link AuditStore#migrate}
 * for components outside the audit.
 *
 * @param component   table-name prefix, e.g. "approval"
 * @param lockKey     the advisory lock key (distinct per component)
 * @param latest      the newest schema version
 * @param statements  the DDL of each version
 * @param appTables   tables the application role may read, insert and update (split roles only)
 */
public record ComponentSchema(String component, long lockKey, int latest, IntFunction<List<String>> statements,
                              List<String> appTables) {

    /** Brings the component's tables to {@link #latest}; a no-op (one query) when they are there already. */
    public void migrate(AuditSettings.Store settings, Logger log) throws SQLException {
        boolean postgres = settings.isPostgres();
        boolean split = settings.schemaUser() != null && !settings.schemaUser().equals(settings.user());
        try (Connection c = connect(settings.url(), settings.user(), settings.password())) {
            if (version(c) >= latest) {
                return;
            }
        }
        try (Connection c = connect(settings.url(), split ? settings.schemaUser() : settings.user(),
                split ? settings.schemaPassword() : settings.password())) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                if (postgres) {
                    s.execute("SELECT pg_advisory_xact_lock(" + lockKey + ")");
                }
                s.execute("CREATE TABLE IF NOT EXISTS " + component + "_schema_version (version INT PRIMARY KEY, "
                        + "applied_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP)");
                int v;
                try (ResultSet rs = s.executeQuery("SELECT COALESCE(MAX(version), 0) FROM " + component + "_schema_version")) {
                    rs.next();
                    v = rs.getInt(1);
                }
                for (int next = v + 1; next <= latest; next++) {
                    for (String sql : statements.apply(next)) {
                        s.execute(sql);
                    }
                    s.execute("INSERT INTO " + component + "_schema_version (version) VALUES (" + next + ")");
                    log.info("{} store: schema migrated to version {}", component, next);
                }
                if (postgres && split) {
                    String app = AuditStore.quoteIdent(settings.user());
                    s.execute("GRANT SELECT, INSERT, UPDATE ON " + String.join(", ", appTables) + " TO " + app);
                    s.execute("GRANT SELECT ON " + component + "_schema_version TO " + app);
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /**
     * A small connection pool on the control store for a component's own work (its threads, never an
     * event loop); a store that is down at start is reported by {@link #migrate}, not here.
     */
    public static com.zaxxer.hikari.HikariDataSource pool(AuditSettings.Store settings, String poolName, int size,
                                                         boolean autoCommit, String applicationName) {
        com.zaxxer.hikari.HikariConfig h = new com.zaxxer.hikari.HikariConfig();
        h.setJdbcUrl(settings.url());
        if (settings.user() != null) {
            h.setUsername(settings.user());
        }
        if (settings.password() != null) {
            h.setPassword(settings.password());
        }
        h.setPoolName(poolName);
        h.setMaximumPoolSize(size);
        h.setMinimumIdle(1);
        h.setAutoCommit(autoCommit);
        h.setConnectionTimeout(5000);
        h.setInitializationFailTimeout(-1);
        if (settings.isPostgres()) {
            h.addDataSourceProperty("connectTimeout", "3");
            h.addDataSourceProperty("socketTimeout", "30");
            h.addDataSourceProperty("tcpKeepAlive", "true");
            h.addDataSourceProperty("ApplicationName", applicationName);
        }
        return new com.zaxxer.hikari.HikariDataSource(h);
    }

    private int version(Connection c) {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COALESCE(MAX(version), 0) FROM " + component + "_schema_version")) {
            rs.next();
            return rs.getInt(1);
        } catch (SQLException e) {
            return 0;
        }
    }

    private static Connection connect(String url, String user, String password) throws SQLException {
        Properties p = new Properties();
        if (user != null) {
            p.setProperty("user", user);
        }
        if (password != null) {
            p.setProperty("password", password);
        }
        return DriverManager.getConnection(url, p);
    }
}
