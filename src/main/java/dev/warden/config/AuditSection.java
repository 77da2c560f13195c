package dev.warden.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.warden.audit.AuditSettings;
import dev.warden.audit.AuditSettings.BindMode;
import dev.warden.audit.AuditSettings.Durability;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code audit:} section of warden.yaml (see config/warden.yaml and docs/audit.md). Every key is
 * optional; without the section the audit uses an embedded H2 store and generated keys under
 * {@code data/} next to the config file. Relative paths resolve against the config file's directory.
 */
public final class AuditSection {
    static final Set<String> KEYS = Set.of("store", "durability", "batchWindow", "queueCapacity", "strictTimeout",
            "checkpointEvery", "checkpointInterval", "signingKey", "bindParameters", "sealKey", "hashKey", "retention",
            "instanceId", "syncInterval", "journal");
    private static final Pattern LONG_DURATION = Pattern.compile("(\\d+)\\s*(d|y)");

    private AuditSection() {
    }

    /** Parses the section ({@code auditNode} may be missing: all defaults). */
    static AuditSettings parse(Node a, Path baseDir, Secrets secrets) {
        Path base = baseDir == null ? Path.of("").toAbsolutePath() : baseDir.toAbsolutePath();
        Path data = base.resolve("data");
        a.allowOnly(KEYS);
        AuditSettings d = AuditSettings.defaults(data);

        AuditSettings.Store store = store(a.get("store"), base, secrets);
        Durability durability = a.get("durability").choice(Durability.class, Durability.BATCHED);
        Duration window = a.get("batchWindow").duration(d.batchWindow());
        if (window.toMillis() > 1000) {
            throw a.get("batchWindow").error("at most 1s (records wait this long before they are durable)");
        }
        int capacity = a.get("queueCapacity").integer(d.queueCapacity(), 16, 1_000_000);
        Duration strictTimeout = positive(a.get("strictTimeout"), d.strictTimeout());
        int every = a.get("checkpointEvery").integer(d.checkpointEvery(), 1, 10_000_000);
        Duration interval = positive(a.get("checkpointInterval"), d.checkpointInterval());

        Node sk = a.get("signingKey");
        String keyText = sk.text("generate").trim();
        Path keyFile;
        boolean generate = keyText.equals("generate");
        if (generate) {
            keyFile = d.signingKeyFile();
        } else {
            keyFile = base.resolve(keyText);
            if (!Files.isReadable(keyFile)) {
                throw sk.error("file " + keyFile + " does not exist or is not readable (use 'generate' to have one made)");
            }
        }

        BindMode mode = a.get("bindParameters").choice(BindMode.class, BindMode.HASH);
        byte[] sealKey = null;
        Node sn = a.get("sealKey");
        String sealText = secrets.resolve(sn.text(null), sn.path());
        if (mode == BindMode.SEALED) {
            if (sealText == null || sealText.isBlank()) {
                throw sn.error("is required when bindParameters is sealed (base64 of a 16, 24 or 32 byte AES key)");
            }
            try {
                sealKey = Base64.getDecoder().decode(sealText.trim());
            } catch (IllegalArgumentException e) {
                throw sn.error("expected base64 of a 16, 24 or 32 byte AES key");
            }
            if (sealKey.length != 16 && sealKey.length != 24 && sealKey.length != 32) {
                throw sn.error("expected base64 of a 16, 24 or 32 byte AES key, got " + sealKey.length + " bytes");
            }
        } else if (sealText != null) {
            throw sn.error("only used when bindParameters is sealed");
        }
        Path hashKey = a.get("hashKey").isMissing() ? d.hashKeyFile() : base.resolve(a.get("hashKey").requiredText());

        Duration retention = retention(a.get("retention"), d.retention());
        Node in = a.get("instanceId");
        String instanceId = in.text(null);
        if (instanceId != null && !instanceId.matches("[A-Za-z0-9._-]{1,64}")) {
            throw in.error("expected 1 to 64 of A-Z a-z 0-9 . _ -, got '" + instanceId + "'");
        }
        Duration sync = a.get("syncInterval").duration(d.syncInterval());
        if (sync.isNegative() || sync.toMillis() > 60_000) {
            throw a.get("syncInterval").error("expected 0s (never) up to 60s");
        }
        if (!sync.isZero() && sync.toMillis() < 10) {
            throw a.get("syncInterval").error("at least 10ms, or 0s for never (each sync forces the file to disk)");
        }
        return new AuditSettings(store, durability, window, capacity, strictTimeout, every, interval, keyFile, generate,
                mode, sealKey, hashKey, retention, instanceId, d.instanceIdFile(), sync, a.get("journal").bool(d.journal()));
    }

    /** Reads only the audit section of a config file (for {@code ./warden audit ...}). */
    public static AuditSettings fromConfigFile(Path file, Map<String, String> env) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file));
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
        Path base = file.toAbsolutePath().getParent();
        return parse(new Node(root, "").get("audit"), base, new Secrets(env, base));
    }

    private static AuditSettings.Store store(Node s, Path base, Secrets secrets) {
        if (s.isMissing()) {
            return AuditSettings.Store.h2File(base.resolve("data/audit"));
        }
        String scalar;
        try {
            scalar = s.text(null);
        } catch (ConfigException notScalar) {
            scalar = null;
        }
        if (scalar != null) {
            if (scalar.startsWith("jdbc:")) {
                return jdbc(s, scalar, null, null, null, null);
            }
            return AuditSettings.Store.h2File(base.resolve(scalar));
        }
        s.allowOnly(Set.of("url", "user", "password", "schemaUser", "schemaPassword"));
        String url = s.get("url").requiredText();
        return jdbc(s.get("url"), url, s.get("user").text(null),
                secrets.resolve(s.get("password").text(null), s.get("password").path()), s.get("schemaUser").text(null),
                secrets.resolve(s.get("schemaPassword").text(null), s.get("schemaPassword").path()));
    }

    private static AuditSettings.Store jdbc(Node where, String url, String user, String password, String schemaUser,
                                            String schemaPassword) {
        if (!url.startsWith("jdbc:postgresql:") && !url.startsWith("jdbc:h2:")) {
            throw where.error("expected a jdbc:postgresql: or jdbc:h2: URL, or a file path for the embedded H2 store");
        }
        if (schemaUser != null && !url.startsWith("jdbc:postgresql:")) {
            throw where.error("schemaUser is only used with PostgreSQL");
        }
        if (url.startsWith("jdbc:h2:file:") && !url.toUpperCase().contains("DB_CLOSE_ON_EXIT")) {
            url += ";DB_CLOSE_ON_EXIT=FALSE"; // Warden closes it after the final checkpoint, not H2's own hook
        }
        if (url.startsWith("jdbc:h2:file:") && !url.toUpperCase().contains("WRITE_DELAY")) {
            url += ";WRITE_DELAY=0"; // a commit reaches the file before it returns (H2 otherwise delays it 500 ms)
        }
        if (url.startsWith("jdbc:h2:") && user == null) {
            user = "sa";
            password = password == null ? "" : password;
        }
        return new AuditSettings.Store(url, user, password, schemaUser, schemaPassword);
    }

    private static Duration positive(Node n, Duration dflt) {
        Duration d = n.duration(dflt);
        if (d.isZero() || d.isNegative()) {
            throw n.error("must be longer than 0");
        }
        return d;
    }

    /** Durations with days and years too: 7y (7 × 365 days), 90d, or any of 12h, 30m, 10s. */
    static Duration retention(Node n, Duration dflt) {
        if (n.isMissing()) {
            return dflt;
        }
        Matcher m = LONG_DURATION.matcher(n.text("").trim());
        Duration d;
        if (m.matches()) {
            try {
                long v = Long.parseLong(m.group(1));
                d = Duration.ofDays(Math.multiplyExact(v, m.group(2).equals("y") ? 365L : 1L));
            } catch (ArithmeticException | NumberFormatException e) {
                throw n.error("retention '" + n.text("") + "' is too long");
            }
        } else {
            try {
                d = n.duration(dflt);
            } catch (ConfigException e) {
                throw n.error("expected a retention such as 7y, 400d or 12h, got '" + n.text("") + "'");
            }
        }
        if (d.isZero()) {
            throw n.error("must be longer than 0");
        }
        return d;
    }
}
