package dev.warden.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.warden.audit.AuditSettings;
import dev.warden.identity.oidc.OidcSettings;
import dev.warden.report.ReportSettings;
import dev.warden.identity.scram.ScramVerifier;
import java.util.Collections;
import java.util.stream.Collectors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Reads warden.yaml into a validated {@link WardenConfig}; every problem names the key to fix. */
public final class ConfigLoader {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private ConfigLoader() {
    }

    public static WardenConfig load(Path file) {
        return load(file, System.getenv());
    }

    public static WardenConfig load(Path file, Map<String, String> env) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
        Path base = file.toAbsolutePath().getParent();
        return parse(text, new Secrets(env, base), base);
    }

    public static WardenConfig parse(String yaml, Secrets secrets, Path baseDir) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (IOException e) {
            throw new ConfigException("config is not valid YAML: " + e.getMessage(), e);
        }
        Node r = new Node(root, "");
        r.allowOnly(Set.of("listen", "http", "limits", "tls", "users", "targets", "oidc", "audit", "approvals", "reports",
                "recording"));

        Node l = r.get("listen");
        l.allowOnly(Set.of("host", "port", "workerThreads", "nativeTransport"));
        var listen = new WardenConfig.Listen(l.get("host").text("127.0.0.1"), l.get("port").integer(7432, 0, 65535),
                l.get("workerThreads").integer(0, 0, 64), l.get("nativeTransport").bool(true));

        Node h = r.get("http");
        h.allowOnly(Set.of("enabled", "host", "port", "apiKeys"));
        List<String> apiKeys = new ArrayList<>();
        for (Node k : h.get("apiKeys").items()) {
            String key = secrets.resolve(k.requiredText(), k.path());
            if (key.length() < 24) {
                throw k.error("an API key must be at least 24 characters (use a random one, e.g. openssl rand -hex 24)");
            }
            apiKeys.add(key);
        }
        var http = new WardenConfig.Http(h.get("enabled").bool(true), h.get("host").text("127.0.0.1"),
                h.get("port").integer(8432, 0, 65535), List.copyOf(apiKeys));

        Node lim = r.get("limits");
        lim.allowOnly(Set.of("maxMessageBytes", "startupTimeout", "maxConnections"));
        var limits = new WardenConfig.Limits((int) lim.get("maxMessageBytes").bytes(64L << 20, 1024, 1L << 30),
                lim.get("startupTimeout").duration(Duration.ofSeconds(10)),
                lim.get("maxConnections").integer(1000, 1, 1_000_000));

        Node t = r.get("tls");
        t.allowOnly(Set.of("enabled", "certificate", "privateKey", "required"));
        WardenConfig.ClientTls tls = WardenConfig.ClientTls.off();
        boolean tlsOn = t.get("enabled").bool(false);
        boolean required = t.get("required").bool(false);
        if (tlsOn) {
            Path cert = existingFile(t.get("certificate"), baseDir);
            Path key = existingFile(t.get("privateKey"), baseDir);
            tls = new WardenConfig.ClientTls(true, cert, key, required);
        } else if (required) {
            throw t.get("required").error("cannot require TLS while tls.enabled is false");
        }

        List<WardenConfig.User> users = new ArrayList<>();
        for (Node u : r.get("users").items()) {
            u.allowOnly(Set.of("name", "password", "scramVerifier", "targets"));
            String name = u.get("name").requiredText();
            String verifier = u.get("scramVerifier").text(null);
            String password = secrets.resolve(u.get("password").text(null), u.get("password").path());
            if ((verifier == null) == (password == null)) {
                throw u.error("give exactly one of 'password' (hashed at load) or 'scramVerifier'");
            }
            if (verifier != null) {
                try {
                    ScramVerifier.parse(verifier);
                } catch (IllegalArgumentException e) {
                    throw u.get("scramVerifier").error(e.getMessage());
                }
            } else {
                verifier = ScramVerifier.fromPassword(password).format();
            }
            List<String> allowed = new ArrayList<>();
            for (Node n : u.get("targets").items()) {
                allowed.add(n.requiredText());
            }
            if (users.stream().anyMatch(x -> x.name().equals(name))) {
                throw u.get("name").error("user '" + name + "' is defined twice");
            }
            users.add(new WardenConfig.User(name, verifier, List.copyOf(allowed)));
        }

        Map<String, WardenConfig.Target> targets = new LinkedHashMap<>();
        for (Map.Entry<String, Node> e : r.get("targets").entries().entrySet()) {
            Node n = e.getValue();
            n.allowOnly(Set.of("host", "port", "database", "user", "password", "sslmode", "sslrootcert", "connectTimeout",
                    "environment", "classifiedTables", "roles", "allowStaticUsers", "masking"));
            Map<String, String> roles = new LinkedHashMap<>();
            for (Map.Entry<String, Node> role : n.get("roles").entries().entrySet()) {
                roles.put(role.getKey(), secrets.resolve(role.getValue().requiredText(), role.getValue().path()));
            }
            var mode = n.get("sslmode").choice(WardenConfig.SslMode.class, WardenConfig.SslMode.REQUIRE);
            Path rootCert = null;
            if (mode == WardenConfig.SslMode.VERIFY_FULL) {
                rootCert = existingFile(n.get("sslrootcert"), baseDir);
            }
            targets.put(e.getKey(), new WardenConfig.Target(e.getKey(), n.get("host").requiredText(),
                    n.get("port").integer(5432, 1, 65535), n.get("database").text(e.getKey()), n.get("user").requiredText(),
                    secrets.resolve(n.get("password").text(null), n.get("password").path()), mode, rootCert,
                    n.get("connectTimeout").duration(Duration.ofSeconds(5)),
                    n.get("environment").text("production").toLowerCase(), qualifiedTables(n.get("classifiedTables")),
                    Map.copyOf(roles), n.get("allowStaticUsers").bool(true), masking(n.get("masking"), baseDir)));
        }
        if (targets.isEmpty()) {
            throw new ConfigException("targets: at least one upstream target is required");
        }
        for (WardenConfig.User u : users) {
            for (String tn : u.targets()) {
                if (!targets.containsKey(tn)) {
                    throw new ConfigException("users." + u.name() + ".targets: '" + tn + "' is not a configured target");
                }
            }
        }
        OidcSettings oidc = OidcSection.parse(r.get("oidc"), targets.keySet(),
                users.stream().map(WardenConfig.User::name).collect(Collectors.toSet()));
        for (OidcSettings.GrantRule g : oidc.grants()) {
            WardenConfig.Target granted = targets.get(g.target());
            if (g.upstreamRole() != null && granted.passwordFor(g.upstreamRole()) == null) {
                throw new ConfigException("oidc.grants." + g.name() + ".upstreamRole: Warden holds no credentials for role '"
                        + g.upstreamRole() + "' on target '" + g.target() + "'; add it under targets." + g.target() + ".roles");
            }
        }
        AuditSettings audit = AuditSection.parse(r.get("audit"), baseDir == null ? Path.of(".") : baseDir, secrets);
        var approvals = ApprovalsSection.parse(r.get("approvals"), baseDir == null ? Path.of(".") : baseDir, secrets, http);
        Map<String, List<String>> classified = new LinkedHashMap<>();
        targets.forEach((name, target) -> classified.put(name, target.classifiedTables()));
        ReportSettings reports = ReportsSection.parse(r.get("reports"), baseDir == null ? Path.of(".") : baseDir,
                secrets, classified, true);
        var recording = RecordingSection.parse(r.get("recording"), baseDir == null ? Path.of(".") : baseDir,
                targets.keySet());
        return new WardenConfig(listen, http, limits, tls, List.copyOf(users), Collections.unmodifiableMap(targets), oidc,
                audit, approvals, reports, recording);
    }

    /** Table names as the policy sees them: schema-qualified (public. when no schema is given), lower case. */
    private static List<String> qualifiedTables(Node list) {
        List<String> out = new ArrayList<>();
        for (Node t : list.items()) {
            String name = t.requiredText().trim().toLowerCase();
            if (!name.matches("[a-z_][a-z0-9_$]*(\\.[a-z_][a-z0-9_$]*)?")) {
                throw t.error("expected a table name such as public.customers, got '" + t.text(null) + "'");
            }
            out.add(name.contains(".") ? name : "public." + name);
        }
        return List.copyOf(out);
    }

    private static final Set<String> DETECTORS = Set.of("ssn", "pan", "iban", "aba", "email", "phone");

    /** targets.X.masking: protected columns and their classes, token key, detectors, default methods. */
    private static WardenConfig.Masking masking(Node m, Path baseDir) {
        if (m.isMissing()) {
            return null;
        }
        m.allowOnly(Set.of("columns", "tokenKeyFile", "detectors", "defaults", "sealOriginals"));
        Map<String, String> columns = new LinkedHashMap<>();
        for (Map.Entry<String, Node> c : m.get("columns").entries().entrySet()) {
            String name = c.getKey().trim();
            String[] parts = name.split("\\.");
            if (parts.length == 2) {
                name = "public." + name;
            } else if (parts.length != 3) {
                throw c.getValue().error("expected a column such as public.customers.ssn, got '" + c.getKey() + "'");
            }
            try {
                columns.put(name, dev.warden.masking.DataClass.parse(c.getValue().requiredText()).id());
            } catch (IllegalArgumentException e) {
                throw c.getValue().error(e.getMessage());
            }
        }
        List<String> detectors = new ArrayList<>();
        for (Node d : m.get("detectors").items()) {
            String name = d.requiredText().trim().toLowerCase();
            if (!DETECTORS.contains(name)) {
                throw d.error("unknown detector '" + name + "'; use ssn, pan, iban, aba, email or phone");
            }
            detectors.add(name);
        }
        Map<String, String> defaults = new LinkedHashMap<>();
        for (Map.Entry<String, Node> d : m.get("defaults").entries().entrySet()) {
            try {
                String cls = dev.warden.masking.DataClass.parse(d.getKey()).id();
                defaults.put(cls, dev.warden.masking.MaskMethod.parse(d.getValue().requiredText()).toString());
            } catch (IllegalArgumentException e) {
                throw d.getValue().error(e.getMessage());
            }
        }
        byte[] key = null;
        if (!m.get("tokenKeyFile").isMissing()) {
            Path p = existingFile(m.get("tokenKeyFile"), baseDir);
            try {
                key = Files.readAllBytes(p);
            } catch (java.io.IOException e) {
                throw m.get("tokenKeyFile").error("cannot read " + p + ": " + e.getMessage());
            }
            if (key.length < 16) {
                throw m.get("tokenKeyFile").error("the token key in " + p + " is shorter than 16 bytes");
            }
        }
        return new WardenConfig.Masking(columns, key, detectors, defaults, sealOriginals(m.get("sealOriginals"), baseDir));
    }

    /** targets.X.masking.sealOriginals: {publicKeyset: FILE, maxBytes: 64KB}; absent = off. */
    private static WardenConfig.SealOriginals sealOriginals(Node s, Path baseDir) {
        if (s.isMissing()) {
            return null;
        }
        s.allowOnly(Set.of("publicKeyset", "maxBytes"));
        Node file = s.get("publicKeyset");
        if (file.isMissing()) {
            throw s.error("sealOriginals needs publicKeyset: the auditors' Tink public keyset file "
                    + "(create a pair with ./warden audit seal-keygen --out DIR)");
        }
        Path p = existingFile(file, baseDir);
        com.google.crypto.tink.KeysetHandle h;
        try {
            h = dev.warden.masking.SealedOriginals.readPublicKeyset(p);
        } catch (IllegalArgumentException e) {
            throw file.error(e.getMessage());
        }
        int max = (int) s.get("maxBytes").bytes(dev.warden.masking.SealedOriginals.DEFAULT_MAX_BYTES, 1024, 16L << 20);
        return new WardenConfig.SealOriginals(p, h, max);
    }

    private static Path existingFile(Node n, Path baseDir) {
        Path p = baseDir == null ? Path.of(n.requiredText()) : baseDir.resolve(n.requiredText());
        if (!Files.isReadable(p)) {
            throw n.error("file " + p + " does not exist or is not readable");
        }
        return p;
    }
}
