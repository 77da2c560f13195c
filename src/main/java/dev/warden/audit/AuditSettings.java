package dev.warden.audit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything the audit trail is configured with (the {@code audit:} section of warden.yaml, parsed
 * by {@code dev.warden.config.AuditSection}). Paths are absolute; secrets already resolved.
 *
 * @param store              where records go
 * @param durability         default durability for statements that are not privileged
 * @param batchWindow        batched mode: how long the writer gathers records before committing
 * @param queueCapacity      statements waiting for the writer beyond which new statements are refused
 * @param strictTimeout      how long a strict statement waits for its record to be durable before it is refused;
 *                           also how long a write may hang before the store counts as unavailable
 * @param checkpointEvery    sign a checkpoint after this many records ...
 * @param checkpointInterval ... or after this much time with new records, whichever comes first
 * @param signingKeyFile     PKCS#8 PEM Ed25519 private key
 * @param generateSigningKey write a new key to {@code signingKeyFile} (and its public key beside it) if it is missing
 * @param bindParameters     how bind parameter values are stored
 * @param sealKey            AES key (16, 24 or 32 bytes) for {@link BindMode#SEALED}, else null
 * @param hashKeyFile        HMAC key file for {@link BindMode#HASH}; generated (32 random bytes) if missing
 * @param retention          records older than this are pruned
 * @param instanceId         this instance's chain id, or null to use (or create) {@code instanceIdFile}
 * @param instanceIdFile     where a generated instance id is kept
 * @param syncInterval       embedded H2 store only: how often the writer forces the file to disk (and so the
 *                           most a power loss can take); zero: never (H2's own behaviour)
 * @param journal            embedded H2 file store with a sync interval only: batches go to a write-ahead journal
 *                           file and into the store once per sync interval ({@link AuditJournal}); false: each
 *                           batch is one store commit
 */
public record AuditSettings(Store store, Durability durability, Duration batchWindow, int queueCapacity,
                            Duration strictTimeout, int checkpointEvery, Duration checkpointInterval,
                            Path signingKeyFile, boolean generateSigningKey, BindMode bindParameters, byte[] sealKey,
                            Path hashKeyFile, Duration retention, String instanceId, Path instanceIdFile,
                            Duration syncInterval, boolean journal) {

    public enum Durability { BATCHED, STRICT }

    public enum BindMode { HASH, SEALED, PLAIN }

    public static final Duration DEFAULT_RETENTION = Duration.ofDays(7 * 365);
    public static final Duration DEFAULT_SYNC_INTERVAL = Duration.ofSeconds(1);

    public AuditSettings {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(signingKeyFile, "signingKeyFile");
        Objects.requireNonNull(syncInterval, "syncInterval");
        if (syncInterval.isNegative()) {
            throw new IllegalArgumentException("syncInterval: must not be negative");
        }
        if (bindParameters == BindMode.SEALED && sealKey == null) {
            throw new IllegalArgumentException("bindParameters: sealed needs a sealKey");
        }
        if (instanceId != null && !instanceId.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("instanceId: 1 to 64 of A-Z a-z 0-9 . _ -");
        }
    }

    /**
     * The control store: a JDBC URL ({@code jdbc:h2:...} or {@code jdbc:postgresql:...}) and the
     * credentials of the application role; optionally a separate schema-owner role that runs the
     * migrations, so that the application role gets only SELECT and INSERT on the audit tables.
     */
    public record Store(String url, String user, String password, String schemaUser, String schemaPassword) {
        public Store {
            Objects.requireNonNull(url, "url");
        }

        /**
         * The embedded H2 file store at {@code file} (H2 adds ".mv.db"). Commits reach the file before
         * they return ({@code WRITE_DELAY=0}). Audit blocks arrive zstd-compressed ({@link RecordBlock}),
         * so H2's own page compression stays off: its LZF took 70 % of the writer's CPU.
         * {@code CACHE_SIZE=4096} (KB; H2's default is 16 MB): the writer only appends and seldom reads a
         * page back; with a 2 MB cache the GC threads used about half the CPU under the benchmark, and 4 MB
         * (with zstd level -1 then) measured ~1 µs less CPU per statement (docs/performance.md, run 11);
         * 512 KB made no difference (docs/performance.md 18.).
         * {@code PAGE_SIZE=2048} (H2's default 4096; it is H2's page split size, read at every open, so it
         * applies to existing files too): every commit rewrites the right-most leaf of each index, and
         * smaller leaves made the file 45 % smaller for 7 KB blocks and 20 % for 20 KB, at 4–11 % less
         * CPU per commit (docs/performance.md, run 14).
         */
        public static Store h2File(Path file) {
            return new Store("jdbc:h2:file:" + file.toAbsolutePath() + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0;CACHE_SIZE=4096;PAGE_SIZE=2048",
                    "sa", "", null, null);
        }

        public boolean isPostgres() {
            return url.startsWith("jdbc:postgresql:");
        }

        @Override
        public String toString() {
            return "Store[" + url + " user=" + user + (schemaUser == null ? "" : " schemaUser=" + schemaUser) + "]";
        }
    }

    /** Defaults with everything under {@code dataDir}: H2 store {@code dataDir/audit}, generated keys. */
    public static AuditSettings defaults(Path dataDir) {
        Path d = dataDir.toAbsolutePath();
        return new AuditSettings(Store.h2File(d.resolve("audit")), Durability.BATCHED, Duration.ofMillis(5), 10_000,
                Duration.ofSeconds(2), 10_000, Duration.ofSeconds(10), d.resolve("audit-signing-key.pem"), true,
                BindMode.HASH, null, d.resolve("audit-hash.key"), DEFAULT_RETENTION, null, d.resolve("audit-instance-id"),
                DEFAULT_SYNC_INTERVAL, true);
    }

    public AuditSettings withStore(Store s) {
        return new AuditSettings(s, durability, batchWindow, queueCapacity, strictTimeout, checkpointEvery,
                checkpointInterval, signingKeyFile, generateSigningKey, bindParameters, sealKey, hashKeyFile, retention,
                instanceId, instanceIdFile, syncInterval, journal);
    }

    public AuditSettings withDurability(Durability d, Duration window) {
        return new AuditSettings(store, d, window, queueCapacity, strictTimeout, checkpointEvery, checkpointInterval,
                signingKeyFile, generateSigningKey, bindParameters, sealKey, hashKeyFile, retention, instanceId,
                instanceIdFile, syncInterval, journal);
    }

    public AuditSettings withQueue(int capacity, Duration strictTimeoutValue) {
        return new AuditSettings(store, durability, batchWindow, capacity, strictTimeoutValue, checkpointEvery,
                checkpointInterval, signingKeyFile, generateSigningKey, bindParameters, sealKey, hashKeyFile, retention,
                instanceId, instanceIdFile, syncInterval, journal);
    }

    public AuditSettings withCheckpoints(int every, Duration interval) {
        return new AuditSettings(store, durability, batchWindow, queueCapacity, strictTimeout, every, interval,
                signingKeyFile, generateSigningKey, bindParameters, sealKey, hashKeyFile, retention, instanceId,
                instanceIdFile, syncInterval, journal);
    }

    public AuditSettings withSigningKey(Path file, boolean generate) {
        return new AuditSettings(store, durability, batchWindow, queueCapacity, strictTimeout, checkpointEvery,
                checkpointInterval, file, generate, bindParameters, sealKey, hashKeyFile, retention, instanceId,
                instanceIdFile, syncInterval, journal);
    }

    public AuditSettings withBindParameters(BindMode mode, byte[] key) {
        return new AuditSettings(store, durability, batchWindow, queueCapacity, strictTimeout, checkpointEvery,
                checkpointInterval, signingKeyFile, generateSigningKey, mode, key, hashKeyFile, retention, instanceId,
                instanceIdFile, syncInterval, journal);
    }

    public AuditSettings withRetention(Duration r) {
        return new AuditSettings(store, durability, batchWindow, queueCapacity, strictTimeout, checkpointEvery,
                checkpointInterval, signingKeyFile, generateSigningKey, bindParameters, sealKey, hashKeyFile, r,
                instanceId, instanceIdFile, syncInterval, journal);
    }

    public AuditSettings withSyncInterval(Duration interval) {
        return new AuditSettings(store, durability, batchWindow, queueCapacity, strictTimeout, checkpointEvery,
                checkpointInterval, signingKeyFile, generateSigningKey, bindParameters, sealKey, hashKeyFile, retention,
                instanceId, instanceIdFile, interval, journal);
    }

    public AuditSettings withJournal(boolean on) {
        return new AuditSettings(store, durability, batchWindow, queueCapacity, strictTimeout, checkpointEvery,
                checkpointInterval, signingKeyFile, generateSigningKey, bindParameters, sealKey, hashKeyFile, retention,
                instanceId, instanceIdFile, syncInterval, on);
    }

    /** Whether batches go through the journal: asked for, an embedded H2 file store, and a sync interval. */
    public boolean journalled() {
        return journal && !syncInterval.isZero() && AuditJournal.pathFor(store) != null;
    }

    public AuditSettings withInstanceId(String id) {
        return new AuditSettings(store, durability, batchWindow, queueCapacity, strictTimeout, checkpointEvery,
                checkpointInterval, signingKeyFile, generateSigningKey, bindParameters, sealKey, hashKeyFile, retention,
                id, instanceIdFile, syncInterval, journal);
    }

    @Override
    public String toString() {
        return "AuditSettings[" + store + " durability=" + durability + " batchWindow=" + batchWindow + " queueCapacity="
                + queueCapacity + " checkpointEvery=" + checkpointEvery + " checkpointInterval=" + checkpointInterval
                + " signingKey=" + signingKeyFile + " bindParameters=" + bindParameters + " retention=" + retention
                + " instanceId=" + instanceId + " syncInterval=" + syncInterval + " journal=" + journal + "]";
    }
}
