package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.audit.AuditSettings;
import dev.warden.audit.AuditStore;
import dev.warden.audit.SigningKeys;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bounded memory: a period of one million statement records (about 500 MB of record bodies) is
 * reported on by {@code ./warden report} in a separate JVM limited to a 48 MB heap. Loading the period
 * would fail with OutOfMemoryError; streaming with a cursor and aggregating per identity does not.
 * (The records are written straight into audit_record by SQL, so their hashes are not a chain: the
 * integrity section fails, as it must, and the command exits with status 1.)
 */
class ReportMemoryIT {
    static final int RECORDS = 1_000_000;

    @Test
    void aMillionRecordPeriodIsAggregatedInASmallHeap(@TempDir Path dir) throws Exception {
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
        try (Connection c = DriverManager.getConnection(url, "postgres", ""); Statement s = c.createStatement()) {
            // canonical bodies: keys sorted, as the audit writes them; 50 CI identities, 1 % blocked, rows 0..6
            s.execute("INSERT INTO audit_record (instance_id, seq, record_id, kind, at, session_id, subject, issuer, "
                    + "repository, target, verdict, body, prev_hash, hash) "
                    + "SELECT 'mem', g, 'r' || g, 'statement', timestamptz '2026-11-01 00:00:00+00' + g * interval '50 ms', "
                    + "'s' || (g % 1000), 'repo:acme/app' || (g % 50), 'https://token.actions.githubusercontent.com', "
                    + "'acme/app' || (g % 50), 'bank', CASE WHEN g % 100 = 0 THEN 'block' ELSE 'allow' END, "
                    + "convert_to('{\"instance\":\"mem\",\"outcome\":{\"durationMicros\":10,\"event\":\"ok\",\"rows\":' || (g % 7) "
                    + "|| ',\"tag\":\"SELECT\"},\"payload\":{\"fingerprint\":\"SELECT * FROM customers WHERE id = ?\","
                    + "\"id\":\"r' || g || '\",\"identity\":{\"ci\":{\"repository\":\"acme/app' || (g % 50) || '\","
                    + "\"runId\":\"' || (g % 5000) || '\",\"workflow\":\"nightly.yml\"},\"grant\":\"etl\","
                    + "\"issuer\":\"https://token.actions.githubusercontent.com\",\"kind\":\"oidc\","
                    + "\"subject\":\"repo:acme/app' || (g % 50) || '\"},\"session\":\"s' || (g % 1000) || '\","
                    + "\"target\":\"bank\",\"text\":\"SELECT * FROM customers WHERE id = ' || (g % 10) || ' /* ' "
                    + "|| repeat('x', 200) || ' */\",\"verdict\":{\"decision\":\"' "
                    + "|| CASE WHEN g % 100 = 0 THEN 'block' ELSE 'allow' END || '\",\"rules\":[],\"rulesVersion\":\"v1\"}},"
                    + "\"seq\":' || g || ',\"type\":\"statement\",\"v\":1}', 'UTF8'), '\\x00'::bytea, '\\x00'::bytea "
                    + "FROM generate_series(1, " + RECORDS + ") g");
            s.execute("ANALYZE audit_record");
        }
        Path key = dir.resolve("signing.pem");
        SigningKeys.generate(key);
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
        Path out = dir.resolve("report.json");
        Path err = dir.resolve("stderr.txt");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx48m", "-XX:+ExitOnOutOfMemoryError", "-cp", System.getProperty("java.class.path"),
                "dev.warden.cli.WardenCli", "report", "--config", config.toString(), "--from", "2026-11-01",
                "--to", "2026-11-01", "--target", "bank", "--out", out.toString())
                .redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
        String stderr = Files.readString(err);
        assertThat(p.exitValue()).as(stderr).isEqualTo(1); // 1: the report was written; integrity failed (see above)
        assertThat(stderr).contains("reading audit records: 1,000,000 / 1,000,000 (100%)").doesNotContain("OutOfMemory");

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
}
