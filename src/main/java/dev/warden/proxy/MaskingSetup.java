package dev.warden.proxy;

import dev.warden.config.WardenConfig;
import dev.warden.masking.DataClass;
import dev.warden.masking.ProtectedCatalog;
import dev.warden.masking.TargetMasking;
import dev.warden.policy.PolicyEngine;
import java.security.SecureRandom;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the masking of every target that has a {@code masking:} section and owns the one thread
 * that reads their catalogs (blocking JDBC, so never an event loop). A target without masking has
 * no entry here and its sessions never touch the masking code.
 */
final class MaskingSetup implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("dev.warden.masking");

    private final ExecutorService catalogThread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "warden-masking-catalog");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, TargetMasking> targets = new HashMap<>();

    MaskingSetup(WardenConfig config, PolicyEngine policy, SecureRandom random) {
        for (WardenConfig.Target t : config.targets().values()) {
            WardenConfig.Masking m = t.masking();
            if (m == null) {
                continue;
            }
            Map<String, DataClass> columns = new HashMap<>();
            Set<DataClass> classes = EnumSet.noneOf(DataClass.class);
            m.columns().forEach((c, cls) -> {
                columns.put(c, DataClass.parse(cls));
                classes.add(DataClass.parse(cls));
            });
            byte[] key = m.tokenKey();
            if (key == null) {
                key = new byte[32];
                random.nextBytes(key);
                LOG.warn("target {} has no masking.tokenKeyFile: tokens are stable only until Warden restarts", t.name());
            }
            ProtectedCatalog catalog = new ProtectedCatalog(t.name(), "jdbc:postgresql://" + t.host() + ":" + t.port() + "/"
                    + t.database(), jdbcProperties(t), columns, new LinkedHashSet<>(t.classifiedTables()), catalogThread);
            TargetMasking tm = new TargetMasking(t.name(), catalog, key, new LinkedHashSet<>(m.detectors()),
                    m.defaults(), classes, policy);
            if (m.sealOriginals() != null) {
                try {
                    tm.sealOriginals(new dev.warden.masking.SealedOriginals(m.sealOriginals().keyset(),
                            m.sealOriginals().maxBytes()));
                } catch (java.security.GeneralSecurityException e) {
                    throw new IllegalStateException("target " + t.name() + ": masking.sealOriginals.publicKeyset "
                            + m.sealOriginals().publicKeyset() + " cannot encrypt: " + e.getMessage(), e);
                }
                LOG.info("target {}: originals of masked cells are sealed for the auditors with {}", t.name(),
                        m.sealOriginals().publicKeyset());
            }
            targets.put(t.name(), tm);
        }
    }

    private static Properties jdbcProperties(WardenConfig.Target t) {
        Properties p = new Properties();
        p.setProperty("user", t.user());
        if (t.password() != null) {
            p.setProperty("password", t.password());
        }
        p.setProperty("ApplicationName", "warden-masking-catalog");
        p.setProperty("connectTimeout", Long.toString(Math.max(1, t.connectTimeout().toSeconds())));
        p.setProperty("sslmode", switch (t.sslmode()) {
            case DISABLE -> "disable";
            case REQUIRE -> "require";
            case VERIFY_FULL -> "verify-full";
        });
        if (t.sslRootCert() != null) {
            p.setProperty("sslrootcert", t.sslRootCert().toString());
        }
        return p;
    }

    /** The target's masking, or null when it has none. */
    TargetMasking target(String name) {
        return targets.get(name);
    }

    @Override
    public void close() {
        targets.values().forEach(t -> t.catalog().close());
        catalogThread.shutdown();
        try {
            catalogThread.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
