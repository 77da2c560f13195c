package dev.warden.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import dev.warden.approval.ApprovalSettings;
import dev.warden.audit.AuditSettings;
import dev.warden.identity.oidc.OidcSettings;
import dev.warden.recording.RecordingSettings;
import dev.warden.report.ReportSettings;

/** The whole configuration, immutable once loaded and validated. Every key is documented in config/warden.yaml. */
public record WardenConfig(Listen listen, Http http, Limits limits, ClientTls tls, List<User> users, Map<String, Target> targets,
                           OidcSettings oidc, AuditSettings audit, ApprovalSettings approvals, ReportSettings reports,
                           RecordingSettings recording) {

    /** Without a recording section: its defaults (every session recorded under data/recordings). */
    public WardenConfig(Listen listen, Http http, Limits limits, ClientTls tls, List<User> users, Map<String, Target> targets,
                        OidcSettings oidc, AuditSettings audit, ApprovalSettings approvals, ReportSettings reports) {
        this(listen, http, limits, tls, users, targets, oidc, audit, approvals, reports,
                RecordingSettings.defaults(Path.of("data")));
    }

    /** Without approvals and reports sections: their defaults (older configs keep loading). */
    public WardenConfig(Listen listen, Http http, Limits limits, ClientTls tls, List<User> users, Map<String, Target> targets,
                        OidcSettings oidc, AuditSettings audit) {
        this(listen, http, limits, tls, users, targets, oidc, audit,
                ApprovalSettings.defaults(Path.of("data"), "http://" + http.host() + ":" + http.port()),
                ReportSettings.defaults(Path.of("data"), Map.of()));
    }

    /** Without a reports section: its defaults. */
    public WardenConfig(Listen listen, Http http, Limits limits, ClientTls tls, List<User> users, Map<String, Target> targets,
                        OidcSettings oidc, AuditSettings audit, ApprovalSettings approvals) {
        this(listen, http, limits, tls, users, targets, oidc, audit, approvals,
                ReportSettings.defaults(Path.of("data"), Map.of()));
    }

    /** Warden's HTTP port (REST API, approval pages, demo issuer); routes under routes/http/. */
    public record Http(boolean enabled, String host, int port, List<String> apiKeys) {
        @Override
        public String toString() {
            return "Http[" + host + ":" + port + (enabled ? "" : " disabled") + ", " + apiKeys.size() + " API key(s)]";
        }
    }

    /** Where clients connect, and how many Netty event-loop threads serve them (0 = one per core, at most 4). */
    public record Listen(String host, int port, int workerThreads, boolean nativeTransport) {
    }

    /** Protection against clients that send too much or take too long. */
    public record Limits(int maxMessageBytes, Duration startupTimeout, int maxConnections) {
    }

    /** TLS towards clients. {@code required} refuses clients that do not ask for TLS. */
    public record ClientTls(boolean enabled, Path certificate, Path privateKey, boolean required) {
        public static ClientTls off() {
            return new ClientTls(false, null, null, false);
        }
    }

    /** A static user that authenticates to Warden with SCRAM-SHA-256; {@code targets} empty means every target. */
    public record User(String name, String scramVerifier, List<String> targets) {
        public boolean mayUse(String target) {
            return targets.isEmpty() || targets.contains(target);
        }
    }

    /**
     * A target's masking settings ({@code targets.<name>.masking}); null on the target when absent.
     *
     * @param columns      "schema.table.column" to data class ("ssn", "pan", ...)
     * @param tokenKey     key of the {@code token} method (from tokenKeyFile); null = a random key per start
     * @param detectors    content detectors for computed text columns: ssn, pan, iban, aba, email, phone
     * @param defaults     method per data class, overriding the built-in defaults
     * @param sealOriginals originals for auditors (sealOriginals); null = off
     */
    public record Masking(Map<String, String> columns, byte[] tokenKey, List<String> detectors, Map<String, String> defaults,
                          SealOriginals sealOriginals) {
        public Masking {
            columns = Map.copyOf(columns);
            detectors = List.copyOf(detectors);
            defaults = Map.copyOf(defaults);
        }

        public Masking(Map<String, String> columns, byte[] tokenKey, List<String> detectors, Map<String, String> defaults) {
            this(columns, tokenKey, detectors, defaults, null);
        }
    }

    /**
     * {@code targets.<name>.masking.sealOriginals}: the original values of masked cells are sealed
     * with the auditors' Tink hybrid public keyset into the audit record.
     *
     * @param publicKeyset the public keyset file (validated at load: a Tink public keyset for hybrid encryption)
     * @param keyset       the parsed public keyset
     * @param maxBytes     originals kept per statement, at most (then the document says truncated)
     */
    public record SealOriginals(java.nio.file.Path publicKeyset, com.google.crypto.tink.KeysetHandle keyset, int maxBytes) {
    }

    public enum SslMode { DISABLE, REQUIRE, VERIFY_FULL }

    /** An upstream PostgreSQL; the credentials stay in Warden, clients never see them. */
    public record Target(String name, String host, int port, String database, String user, String password,
                         SslMode sslmode, Path sslRootCert, Duration connectTimeout, String environment,
                         List<String> classifiedTables, Map<String, String> roles, boolean allowStaticUsers,
                         Masking masking) {

        /** Tables the rules treat as classified: classifiedTables plus every table with a masked column. */
        public java.util.Set<String> allClassifiedTables() {
            java.util.Set<String> out = new java.util.LinkedHashSet<>(classifiedTables);
            if (masking != null) {
                for (String c : masking.columns().keySet()) {
                    out.add(c.substring(0, c.lastIndexOf('.')));
                }
            }
            return out;
        }

        /** The password Warden uses to log in upstream as {@code role} (the target's user or one of its roles). */
        public String passwordFor(String role) {
            return role.equals(user) ? password : roles.get(role);
        }
        @Override
        public String toString() {
            // never print the password
            return "Target[" + name + " " + user + "@" + host + ":" + port + "/" + database + " sslmode=" + sslmode
                    + " environment=" + environment + "]";
        }
    }

    public Optional<User> user(String name) {
        return users.stream().filter(u -> u.name().equals(name)).findFirst();
    }

    public Optional<Target> target(String name) {
        return Optional.ofNullable(targets.get(name));
    }
}
