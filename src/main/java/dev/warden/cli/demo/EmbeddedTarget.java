package dev.warden.cli.demo;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * An embedded PostgreSQL 17 (io.zonky) set up like a real target: TCP logins need a SCRAM-SHA-256
 * password (so Warden's upstream login is exercised for real), the local superuser keeps trust for
 * set-up. Used by {@code ./warden demo} and by the tests.
 */
public final class EmbeddedTarget implements AutoCloseable {
    private final EmbeddedPostgres pg;

    private EmbeddedTarget(EmbeddedPostgres pg) {
        this.pg = pg;
    }

    public static EmbeddedTarget start() throws IOException {
        return new EmbeddedTarget(EmbeddedPostgres.builder()
                .setServerConfig("password_encryption", "scram-sha-256")
                .setServerConfig("max_connections", "300")
                // lets tests (and demo users) see exactly which statements the server executed
                .setServerConfig("shared_preload_libraries", "pg_stat_statements")
                .setServerConfig("pg_stat_statements.track", "all")
                .start());
    }

    public static EmbeddedTarget start(EmbeddedPostgres.Builder builder) throws IOException {
        return new EmbeddedTarget(builder.setServerConfig("password_encryption", "scram-sha-256")
                .setServerConfig("max_connections", "300").start());
    }

    public int port() {
        return pg.getPort();
    }

    public EmbeddedPostgres postgres() {
        return pg;
    }

    /** A superuser connection to a database (over the trusted local path). */
    public Connection superuser(String database) throws SQLException {
        return pg.getDatabase("postgres", database).getConnection();
    }

    /** A connection as a password-holding role, over TCP like any client. */
    public Connection connect(String user, String password, String database) throws SQLException {
        return java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port() + "/" + database, user, password);
    }

    /** Creates a login role with a SCRAM password, and a database it owns when {@code database} is not null. */
    public void createRole(String role, String password, String database) throws SQLException {
        try (Connection c = superuser("postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + role + " LOGIN PASSWORD '" + password.replace("'", "''") + "'");
            if (database != null) {
                s.execute("CREATE DATABASE " + database + " OWNER " + role);
            }
        }
    }

    /**
     * Makes every TCP login other than the superuser's use SCRAM-SHA-256, as a production server
     * would; {@code hostssl} instead of {@code host} when TLS-only is wanted.
     */
    public void requirePasswords(boolean tlsOnly) throws SQLException, IOException {
        try (Connection c = superuser("postgres"); Statement s = c.createStatement()) {
            Path hba;
            try (ResultSet rs = s.executeQuery("SHOW hba_file")) {
                rs.next();
                hba = Path.of(rs.getString(1));
            }
            String kind = tlsOnly ? "hostssl" : "host";
            Files.writeString(hba, String.join("\n",
                    "local all all trust",
                    "host all postgres 127.0.0.1/32 trust",
                    "host all postgres ::1/128 trust",
                    kind + " all all 127.0.0.1/32 scram-sha-256",
                    kind + " all all ::1/128 scram-sha-256",
                    ""));
            s.execute("SELECT pg_reload_conf()");
        }
    }

    @Override
    public void close() throws IOException {
        pg.close();
    }
}
