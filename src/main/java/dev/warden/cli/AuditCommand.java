package dev.warden.cli;

import dev.warden.audit.AuditSettings;
import dev.warden.audit.SigningKeys;
import dev.warden.config.AuditSection;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./warden audit ...}: verify the tamper-evident audit trail, search it, export checkpoints. */
@Command(name = "audit", description = "Verify, search and export the audit trail.",
        subcommands = {AuditVerifyCommand.class, AuditSearchCommand.class, AuditExportCommand.class,
                AuditUnsealCommand.class, AuditSealKeygenCommand.class, AuditCompactCommand.class})
public final class AuditCommand implements Runnable {
    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** Where the store is and which public keys to trust: from a config file or given directly. */
    static final class StoreOptions {
        @Option(names = "--config", description = "Warden config file: its audit section names the store and the "
                + "signing key (whose public half is then trusted).")
        Path config;

        @Option(names = "--store", description = "JDBC URL of the audit store (jdbc:postgresql://… or jdbc:h2:…), "
                + "or the path of an embedded H2 store (without .mv.db).")
        String store;

        @Option(names = "--user", description = "Database user for --store.")
        String user;

        @Option(names = "--password-env", description = "Environment variable holding the password for --store "
                + "(default ${DEFAULT-VALUE}).", defaultValue = "WARDEN_AUDIT_PASSWORD")
        String passwordEnv;

        @Option(names = "--public-key", description = "Ed25519 public key (PEM) that checkpoints must be signed with; "
                + "repeat for keys used over time. A PKCS#8 private key file works too.")
        List<Path> publicKeys = new ArrayList<>();

        AuditSettings.Store resolveStore() {
            if (store != null) {
                if (store.startsWith("jdbc:")) {
                    String u = user != null ? user : store.startsWith("jdbc:h2:") ? "sa" : null;
                    String p = System.getenv(passwordEnv);
                    return new AuditSettings.Store(store, u, p != null ? p : store.startsWith("jdbc:h2:") ? "" : null,
                            null, null);
                }
                return AuditSettings.Store.h2File(Path.of(store));
            }
            if (config != null) {
                return AuditSection.fromConfigFile(config, System.getenv()).store();
            }
            throw new CommandLine.ParameterException(new CommandLine(new AuditCommand()),
                    "give --config FILE or --store JDBC_URL");
        }

        List<PublicKey> resolveKeys() throws IOException {
            List<PublicKey> keys = new ArrayList<>();
            for (Path p : publicKeys) {
                keys.add(SigningKeys.readPublic(p));
            }
            if (keys.isEmpty() && config != null) {
                AuditSettings s = AuditSection.fromConfigFile(config, System.getenv());
                Path pub = SigningKeys.publicKeyFileFor(s.signingKeyFile());
                keys.add(SigningKeys.readPublic(Files.exists(s.signingKeyFile()) ? s.signingKeyFile() : pub));
            }
            if (keys.isEmpty()) {
                throw new IOException("give --public-key FILE (or --config FILE with the signing key)");
            }
            return keys;
        }

        Connection connect() throws SQLException {
            AuditSettings.Store s = resolveStore();
            Properties p = new Properties();
            if (s.user() != null) {
                p.setProperty("user", s.user());
            }
            if (s.password() != null) {
                p.setProperty("password", s.password());
            }
            // reading tools must never create an empty store where the operator mistyped a path
            String url = s.url().startsWith("jdbc:h2:file:") && !s.url().toUpperCase().contains("IFEXISTS")
                    ? s.url() + ";IFEXISTS=TRUE" : s.url();
            Connection c;
            try {
                c = DriverManager.getConnection(url, p);
            } catch (SQLException e) {
                String hint = s.url().startsWith("jdbc:h2:file:") && String.valueOf(e.getMessage()).contains("in use")
                        ? " (a running Warden holds the embedded H2 store; stop it, or copy the .mv.db and .journal "
                        + "files and point --store at the copy)" : s.url().startsWith("jdbc:h2:file:")
                        && String.valueOf(e.getMessage()).contains("not found")
                        ? " (no audit store at that path: give the path without .mv.db, e.g. data/audit)" : "";
                throw new SQLException("cannot open the audit store " + s.url() + ": " + e.getMessage() + hint, e);
            }
            try {
                // records a stopped Warden journaled but had not stored yet (docs/audit.md, "Storage")
                String applied = new dev.warden.audit.AuditStore(s).applyJournal(c);
                if (applied != null) {
                    System.err.println("warden: audit store " + s.url() + ": " + applied);
                }
            } catch (SQLException e) {
                c.close();
                throw e;
            }
            return c;
        }
    }

    /** An instant (2025-03-01T12:00:00Z) or a date (2025-03-01, meaning its start in UTC). */
    static Instant parseTime(String s, String option) {
        if (s == null) {
            return null;
        }
        try {
            return s.length() == 10 ? LocalDate.parse(s).atStartOfDay(ZoneOffset.UTC).toInstant() : Instant.parse(s);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(option + ": expected a time such as 2025-03-01T12:00:00Z or a date "
                    + "such as 2025-03-01, got '" + s + "'");
        }
    }
}
