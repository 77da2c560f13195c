package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.audit.AuditSettings;
import dev.warden.audit.AuditStore;
import dev.warden.audit.SigningKeys;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bounded memory: a period of one million statement records (about 500 MB of record bodies) is
 * reported on by {@code ./warden report} in a separate JVM limited to a 48 MB heap. Loading the period
 * would fail with OutOfMemoryError; streaming with a cursor and aggregating per identity does not.
 * The records are stored as the writer stores them, in blocks of {@value #PER_BLOCK} (one {@code
 * audit_block} row each, about 640 KB, columns agreeing with the contents), so the scan must also
 * hold no more than a few blocks at a time: 16 per fetch did not fit. (The blocks are written straight into the store by this test, so their
 * hashes are not a chain: the integrity section fails, as it must, and the command exits with status 1.)
 */
class ReportMemoryIT {
    static final int RECORDS = 1_000_000;
    static final int PER_BLOCK = 1000;
    static final Instant START = Instant.parse("2026-11-01T00:00:00Z");

    /**
     * A statement record with its outcome folded in, as a canonical body (keys sorted, as the audit
     * writes them): 50 CI identities, 1 % blocked, rows 0..6, a 200-character comment in the text.
     */
    static byte[] body(long g) {
        String decision = g % 100 == 0 ? "block" : "allow";
        return ("{\"instance\":\"mem\",\"outcome\":{\"durationMicros\":10,\"event\":\"ok\",\"rows\":" + (g % 7)
                + ",\"tag\":\"SELECT\"},\"payload\":{\"fingerprint\":\"SELECT * FROM customers WHERE id = ?\","
                + "\"id\":\"r" + g + "\",\"identity\":{\"ci\":{\"repository\":\"acme/app" + (g % 50) + "\","
                + "\"runId\":\"" + (g % 5000) + "\",\"workflow\":\"nightly.yml\"},\"grant\":\"etl\","
                + "\"issuer\":\"https://token.actions.githubusercontent.com\",\"kind\":\"oidc\","
                + "\"subject\":\"repo:acme/app" + (g % 50) + "\"},\"session\":\"s" + (g % 1000) + "\","
                + "\"target\":\"bank\",\"text\":\"SELECT * FROM customers WHERE id = " + (g % 10) + " /* "
                + "x".repeat(200) + " */\",\"verdict\":{\"decision\":\"" + decision
                + "\",\"rules\":[],\"rulesVersion\":\"v1\"}},\"seq\":" + g + ",\"type\":\"statement\",\"v\":1}")
                .getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aMillionRecordPeriodIsAggregatedInASmallHeap(@TempDir Path dir) throws Exception {
        String url = fillStore(n -> PER_BLOCK);
        Path out = dir.resolve("report.json");
        Path err = dir.resolve("stderr.txt");
        Path stdout = dir.resolve("stdout.txt");
        Process p = report(dir, url, out, err, stdout, "-Xmx48m");
        assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
        String stderr = Files.readString(err);
        // -XX:+ExitOnOutOfMemoryError exits with 3 and says so on standard output
        String why = stderr + Files.readString(stdout);
        assertThat(p.exitValue()).as(why).isEqualTo(1); // 1: the report was written; integrity failed (see above)
        assertThat(why).contains("reading audit records: 1,000,000 / 1,000,000 (100%)").doesNotContain("OutOfMemory");

        JsonNode r = new ObjectMapper().readTree(out.toFile());
        assertThat(r.at("/coverage/0/records").asLong()).isEqualTo(RECORDS);
        assertThat(r.at("/activity/statements").asLong()).isEqualTo(RECORDS);
        assertThat(r.at("/activity/byVerdict/block").asLong()).isEqualTo(RECORDS / 100);
        assertThat(r.at("/exceptions/blockedStatements").asLong()).isEqualTo(RECORDS / 100);
        assertThat(r.at("/identities/nonHuman").asLong()).isEqualTo(50);
        assertThat(r.at("/identities/rows/0/runs").asLong()).isEqualTo(100);
        assertThat(r.at("/classifiedAccess/statements").asLong()).isEqualTo(RECORDS);
        long rows = 0;
        for (long g = 1; g <= RECORDS; g++) {
            rows += g % 7;
        }
        assertThat(r.at("/classifiedAccess/rowsReturned").asLong()).isEqualTo(rows);
        assertThat(r.at("/integrity/ok").asBoolean()).isFalse();
        assertThat(r.at("/exceptions/blockedExamples").size()).isLessThanOrEqualTo(25);
        assertThat(List.of(new File(out + ".sig").exists())).containsExactly(true);
    }

    /**
     * A quiet stretch (blocks of 10 records) then a busy one (blocks of 2000, the writer's largest
     * batch: ~1.3 MB each). RecordScan sizes its fetches from the blocks it has seen, so the first
     * fetch of the busy stretch still asks for 16 blocks (~41 MB as the driver's hex text) and the
     * 48 MB heap runs out. 49,985 quiet blocks = 1 + 16 × 3124: the busy stretch starts a fetch.
     */
    @Test
    void aBurstOfFullBlocksAfterAQuietStretchStaysInASmallHeap(@TempDir Path dir) throws Exception {
        String url = fillStore(n -> n < 49_985 ? 10 : 2000);
        Path out = dir.resolve("report.json");
        Path err = dir.resolve("stderr.txt");
        Path stdout = dir.resolve("stdout.txt");
        Process p = report(dir, url, out, err, stdout, "-Xmx48m");
        assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
        String why = Files.readString(err) + Files.readString(stdout);
        assertThat(p.exitValue()).as(why).isEqualTo(1);
        assertThat(why).contains("reading audit records: 1,000,000 / 1,000,000 (100%)").doesNotContain("OutOfMemory");
        assertThat(new ObjectMapper().readTree(out.toFile()).at("/activity/statements").asLong()).isEqualTo(RECORDS);
    }

    /**
     * A new PostgreSQL audit store holding the {@link #RECORDS} records in blocks, block {@code n}
     * (from 0) holding {@code perBlock.applyAsInt(n)} records; its URL.
     */
    static String fillStore(IntUnaryOperator perBlock) throws Exception {
        String schema = "mem_" + Long.toHexString(System.nanoTime());
        try (Connection c = SharedPostgres.get().superuser("postgres"); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = 'report_store'")) {
                if (!rs.next()) {
                    s.execute("CREATE DATABASE report_store");
                }
            }
        }
        String base = "jdbc:postgresql://127.0.0.1:" + SharedPostgres.get().port() + "/report_store";
        try (Connection c = DriverManager.getConnection(base, "postgres", ""); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        String url = base + "?currentSchema=" + schema;
        new AuditStore(new AuditSettings.Store(url, "postgres", "", null, null)).migrate();
        try (Connection c = DriverManager.getConnection(url, "postgres", "")) {
            c.setAutoCommit(false);
            byte[] zero = new byte[AuditBlocks.HASH];
            try (PreparedStatement ps = c.prepareStatement(AuditBlocks.INSERT)) {
                int n = 0;
                for (int first = 1; first <= RECORDS; ) {
                    int size = perBlock.applyAsInt(n);
                    List<AuditBlocks.Frame> frames = new ArrayList<>(size);
                    for (int g = first; g < first + size && g <= RECORDS; g++) {
                        frames.add(new AuditBlocks.Frame(g, START.plusMillis(50L * g), "statement", body(g), zero, zero));
                    }
                    first += size;
                    AuditBlocks.addBlock(ps, "mem", frames);
                    if (++n % 20 == 0) {
                        ps.executeBatch();
                        c.commit();
                    }
                }
                ps.executeBatch();
                c.commit();
            }
            try (Statement s = c.createStatement()) {
                s.execute("ANALYZE audit_block");
            }
            c.commit();
        }
        return url;
    }

    /** Starts {@code ./warden report} on the store for 2026-11-01, target bank, in a JVM with the given options. */
    static Process report(Path dir, String url, Path out, Path err, Path stdout, String... jvm) throws Exception {
        Path key = dir.resolve("signing.pem");
        if (!Files.exists(key)) {
            SigningKeys.generate(key);
        }
        Path config = dir.resolve("warden.yaml");
        Files.writeString(config, String.join("\n",
                "targets:",
                "  bank:",
                "    host: db.example",
                "    user: warden",
                "    classifiedTables: [public.customers]",
                "audit:",
                "  store:",
                "    url: " + url,
                "    user: postgres",
                "  signingKey: " + key, ""));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(List.of(jvm));
        cmd.addAll(List.of("-XX:+ExitOnOutOfMemoryError", "-cp", System.getProperty("java.class.path"),
                "dev.warden.cli.WardenCli", "report", "--config", config.toString(), "--from", "2026-11-01",
                "--to", "2026-11-01", "--target", "bank", "--out", out.toString()));
        return new ProcessBuilder(cmd).redirectError(err.toFile()).redirectOutput(stdout.toFile()).start();
    }
}
