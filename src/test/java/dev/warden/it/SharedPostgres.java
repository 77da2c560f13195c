package dev.warden.it;

import dev.warden.cli.demo.EmbeddedTarget;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.SQLException;

/**
 * One embedded PostgreSQL 17 for the whole test JVM (starting one costs seconds). TCP logins need
 * SCRAM passwords, as on a real server. Role {@code warden_app} (password {@link #APP_PASSWORD}) owns
 * database {@code appdb}; the superuser is reachable only through {@link EmbeddedTarget#superuser}.
 */
public final class SharedPostgres {
    public static final String APP_ROLE = "warden_app";
    public static final String APP_PASSWORD = "app-secret-9f3e";
    public static final String APP_DB = "appdb";

    private static EmbeddedTarget pg;

    private SharedPostgres() {
    }

    public static synchronized EmbeddedTarget get() {
        if (pg == null) {
            try {
                EmbeddedTarget t = EmbeddedTarget.start();
                t.createRole(APP_ROLE, APP_PASSWORD, APP_DB);
                t.requirePasswords(false);
                pg = t;
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        t.close();
                    } catch (IOException ignored) {
                        // the JVM is going away
                    }
                }));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }
        return pg;
    }

    /** Creates database {@code db}, owned by the application role, unless it exists. */
    public static void ensureDatabase(String db) throws SQLException {
        try (java.sql.Connection c = get().superuser("postgres"); java.sql.Statement s = c.createStatement()) {
            java.sql.ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + db + "'");
            if (!rs.next()) {
                s.execute("CREATE DATABASE " + db + " OWNER " + APP_ROLE);
            }
        }
    }

    /** A target's connection settings in warden.yaml (indented under the target's name) for database {@code db}. */
    public static String targetYaml(String db) {
        return String.join("\n",
                "    host: 127.0.0.1",
                "    port: " + get().port(),
                "    database: " + db,
                "    user: " + APP_ROLE,
                "    password: " + APP_PASSWORD,
                "    sslmode: disable", "");
    }
}
