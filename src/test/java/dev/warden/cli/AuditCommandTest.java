package dev.warden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.audit.AuditLog;
import dev.warden.audit.AuditSettings;
import dev.warden.audit.AuditTicket;
import dev.warden.audit.SigningKeys;
import dev.warden.audit.StatementOutcome;
import dev.warden.audit.StatementRecord;
import dev.warden.identity.Identity;
import dev.warden.it.AuditBlocks;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** ./warden audit verify | search | export-checkpoint against an embedded H2 store. */
class AuditCommandTest {
    @TempDir
    Path dir;

    Path storeFile;
    Path publicKey;
    String out;
    String err;

    @BeforeEach
    void writeATrail() throws Exception {
        storeFile = dir.resolve("data/audit");
        AuditSettings s = AuditSettings.defaults(dir.resolve("data")).withInstanceId("i-cli")
                // strict: every outcome is a record of its own, so positions below are fixed (no folding)
                .withDurability(AuditSettings.Durability.STRICT, java.time.Duration.ofMillis(5));
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            for (int i = 0; i < 25; i++) {
                Identity id = i % 2 == 0 ? Identity.staticUser("alice") : Identity.staticUser("bob");
                AuditTicket t = log.statementReceived(new StatementRecord("s" + (i % 3), Instant.now(), id, "127.0.0.1:5",
                        "bank", "warden_bank", "SELECT " + i + ", 'a,b'", "SELECT ?, ?", List.of(),
                        new StatementRecord.Verdict(i % 5 == 0 ? "block" : "allow", List.of("r" + i), "v1"), null,
                        List.of()), i % 5 == 0);
                t.durable().get();
                t.completed(StatementOutcome.success(Instant.now(), Instant.now(), "SELECT 1", 1, 33));
            }
        }
        publicKey = SigningKeys.publicKeyFileFor(s.signingKeyFile());
        assertThat(publicKey).exists();
    }

    int run(String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        CommandLine cli = new CommandLine(new AuditCommand());
        cli.setOut(new PrintWriter(o));
        cli.setErr(new PrintWriter(e));
        int code = cli.execute(args);
        out = o.toString();
        err = e.toString();
        return code;
    }

    void sql(String q) throws Exception {
        try (Connection c = store(); Statement st = c.createStatement()) {
            st.execute(q);
        }
    }

    Connection store() throws Exception {
        return DriverManager.getConnection("jdbc:h2:file:" + storeFile, "sa", "");
    }

    /** The bytes with every occurrence of {@code from} replaced by {@code to}. */
    static byte[] replace(byte[] body, String from, String to) {
        String s = new String(body, StandardCharsets.UTF_8);
        return s.replace(from, to).getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void verifyPassesOnACleanTrailAndNamesTheFirstBrokenRecord() throws Exception {
        assertThat(run("verify", "--store", storeFile.toString(), "--public-key", publicKey.toString())).isZero();
        assertThat(out).contains("ok: instance i-cli: 52 records (1..52) and ");
        // the statement's body is changed inside its block; the frame's header and hashes stay
        try (Connection c = store()) {
            assertThat(AuditBlocks.rewriteBodies(c, r -> r.type().equals("statement"),
                    body -> replace(body, "SELECT 7,", "SELECT 8,"))).isEqualTo(1);
        }
        assertThat(run("verify", "--store", storeFile.toString(), "--public-key", publicKey.toString())).isEqualTo(1);
        assertThat(err).contains("FAILED: record 16 (instance i-cli): hash mismatch — content modified");
    }

    @Test
    void compactShrinksTheEmbeddedStoreAndTheTrailStillVerifies() throws Exception {
        Path file = dir.resolve("data/audit.mv.db");
        long before = Files.size(file);
        assertThat(run("compact", "--store", storeFile.toString())).as(err).isZero();
        assertThat(out).contains("compacted " + file);
        // strict durability: a commit per record, each leaving H2's older copies of the pages behind
        assertThat(Files.size(file)).isLessThan(before);
        assertThat(run("verify", "--store", storeFile.toString(), "--public-key", publicKey.toString())).isZero();
        assertThat(out).contains("ok: instance i-cli: 52 records (1..52) and ");
    }

    @Test
    void compactRefusesStoresItDoesNotApplyTo() {
        assertThat(run("compact", "--store", "jdbc:postgresql://127.0.0.1:1/warden_audit")).isEqualTo(2);
        assertThat(err).contains("only the embedded H2 store needs compacting").contains("VACUUM");
        assertThat(run("compact", "--store", dir.resolve("nowhere/audit").toString())).isEqualTo(2);
        assertThat(err).contains("no audit store at that path");
        assertThat(dir.resolve("nowhere/audit.mv.db")).doesNotExist();
    }

    @Test
    void verifyWithTheWrongKeyFails() throws Exception {
        Path other = SigningKeys.publicKeyFileFor(dir.resolve("other.pem"));
        SigningKeys.generate(dir.resolve("other.pem"));
        assertThat(run("verify", "--store", storeFile.toString(), "--public-key", other.toString())).isEqualTo(1);
        assertThat(err).contains("checkpoint #1 (instance i-cli): signature does not verify with the given public key");
    }

    @Test
    void anExportedCheckpointCatchesATruncatedTail() throws Exception {
        Path cp = dir.resolve("checkpoint.txt");
        assertThat(run("export-checkpoint", "--store", storeFile.toString(), "--public-key", publicKey.toString(),
                "--out", cp.toString())).isZero();
        List<String> lines = Files.readAllLines(cp);
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).startsWith("{\"head\":\"").contains("\"instance\":\"i-cli\"").contains("\"seq\":52");
        // the tail after record 40 is removed: later blocks deleted, the block holding 40 cut after it
        try (Connection c = store()) {
            AuditBlocks.truncateAfter(c, "i-cli", 40);
            assertThat(AuditBlocks.blocks(c, "i-cli")).last().satisfies(b -> {
                assertThat(b.lastSeq()).isEqualTo(40);
                assertThat(b.frames()).last().extracting(AuditBlocks.Frame::seq).isEqualTo(40L);
            });
        }
        sql("DELETE FROM audit_checkpoint WHERE seq > 40");
        assertThat(run("verify", "--store", storeFile.toString(), "--public-key", publicKey.toString())).isZero();
        assertThat(run("verify", "--store", storeFile.toString(), "--public-key", publicKey.toString(),
                "--checkpoint", cp.toString())).isEqualTo(1);
        assertThat(err).contains("records 41.. (instance i-cli): missing after checkpoint #");
    }

    @Test
    void aTailCutInsideABlockIsCaughtToo() throws Exception {
        Path cp = dir.resolve("checkpoint.txt");
        assertThat(run("export-checkpoint", "--store", storeFile.toString(), "--public-key", publicKey.toString(),
                "--out", cp.toString())).isZero();
        try (Connection c = store()) {
            AuditBlocks.Block holding = AuditBlocks.blockOf(c, "i-cli", 41);
            assertThat(holding.lastSeq()).as("record 41 is not the last of its block").isGreaterThan(41);
            AuditBlocks.truncateAfter(c, "i-cli", 41);
        }
        sql("DELETE FROM audit_checkpoint WHERE seq > 41");
        // the shortened block agrees with its columns: only the checkpoint notices the loss
        assertThat(run("verify", "--store", storeFile.toString(), "--public-key", publicKey.toString())).as(err).isZero();
        assertThat(out).contains("41 records (1..41)");
        assertThat(run("verify", "--store", storeFile.toString(), "--public-key", publicKey.toString(),
                "--checkpoint", cp.toString())).isEqualTo(1);
        assertThat(err).contains("records 42.. (instance i-cli): missing after checkpoint #");
    }

    @Test
    void verifyFindsTheStoreAndKeyThroughTheConfig() throws Exception {
        Path cfg = dir.resolve("warden.yaml");
        Files.writeString(cfg, "audit:\n  instanceId: i-cli\n");
        assertThat(run("verify", "--config", cfg.toString())).isZero();
        assertThat(run("verify")).isEqualTo(2);
        assertThat(err).contains("--config");
    }

    @Test
    void searchFiltersPagesAndFormats() throws Exception {
        assertThat(run("search", "--store", storeFile.toString(), "--identity", "alice", "--limit", "5")).isZero();
        assertThat(out).contains("(5 records)").contains("alice").doesNotContain("bob");
        String cursor = err.substring(err.indexOf("--cursor ") + 9).strip();
        assertThat(run("search", "--store", storeFile.toString(), "--identity", "alice", "--limit", "5", "--cursor",
                cursor)).isZero();
        assertThat(out).contains("(5 records)");
        assertThat(run("search", "--store", storeFile.toString(), "--identity", "alice", "--limit", "5", "--cursor",
                err.substring(err.indexOf("--cursor ") + 9).strip())).isZero();
        assertThat(out).contains("(3 records)"); // 13 of alice's statements in all
        assertThat(err).isEmpty();

        assertThat(run("search", "--store", storeFile.toString(), "--verdict", "block", "--format", "json")).isZero();
        List<String> json = out.lines().toList();
        assertThat(json).hasSize(5);
        Map<?, ?> first = new ObjectMapper().readValue(json.get(0), Map.class);
        assertThat(first.get("kind")).isEqualTo("statement");
        assertThat(((Map<?, ?>) first.get("record")).get("text")).isEqualTo("SELECT 0, 'a,b'");
        assertThat(((Map<?, ?>) first.get("outcome")).get("tag")).isEqualTo("SELECT 1");

        assertThat(run("search", "--store", storeFile.toString(), "--format", "csv", "--limit", "2")).isZero();
        assertThat(out.lines().toList().get(0)).startsWith("time,instance,seq,kind");
        assertThat(out).contains(",\"SELECT 0, 'a,b'\"");
        assertThat(run("search", "--store", storeFile.toString(), "--from", "yesterday")).isEqualTo(2);
        assertThat(err).contains("--from: expected a time");
    }
}
