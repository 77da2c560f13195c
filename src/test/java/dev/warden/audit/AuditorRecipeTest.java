package dev.warden.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the shell script from docs/audit.md ("Verifying without Warden") against a real PostgreSQL
 * store, as an auditor would: it must accept a clean chain and refuse a tampered one or a wrong key.
 */
class AuditorRecipeTest {
    @TempDir
    Path dir;

    @Test
    void theDocumentedScriptVerifiesAChainWithoutWarden() throws Exception {
        for (String tool : List.of("psql", "openssl", "sha256sum", "xxd", "base64")) {
            assumeTrue(Files.isExecutable(Path.of("/usr/bin", tool)), tool + " is not installed");
        }
        String doc = Files.readString(Path.of("docs/audit.md"));
        String block = doc.substring(doc.indexOf("<!-- auditor-script:begin -->"), doc.indexOf("<!-- auditor-script:end -->"));
        String script = block.substring(block.indexOf("```bash\n") + 8, block.lastIndexOf("```"));
        Path sh = dir.resolve("verify-chain.sh");
        Files.writeString(sh, script);

        AuditSettings.Store store = TestStores.fresh(TestStores.Kind.POSTGRES);
        AuditSettings s = TestStores.settings(dir, store).withCheckpoints(7, java.time.Duration.ofHours(1));
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            for (int i = 0; i < 30; i++) {
                AuditTicket t = log.statementReceived(TestStores.statement("s" + i % 3, Instant.now(),
                        "SELECT 'it''s " + i + "', E'\\n', 'é€'"), i % 4 == 0);
                t.durable().get();
                t.completed(StatementOutcome.success(Instant.now(), Instant.now(), "SELECT 1", 1, 42));
            }
            log.sessionEvent(SessionEvent.authFailure("s9", Instant.now(), "127.0.0.1:9", "mallory", "bank",
                    "wrong password \"quoted\" \\ back"));
        }
        Path cp = dir.resolve("checkpoint.txt");
        long head;
        String schema = store.url().substring(store.url().indexOf("currentSchema=") + 14);
        try (Connection c = TestStores.admin(store); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT " + StoreSql.CHECKPOINT_COLUMNS
                     + " FROM audit_checkpoint ORDER BY number DESC")) {
            rs.next();
            Checkpoint last = StoreSql.checkpoint(rs);
            head = last.seq();
            Checkpoint.writeFile(cp, List.of(last));
        }
        String conninfo = TestStores.pgUrl().replace("jdbc:postgresql://", "postgresql://postgres@");
        Path pub = SigningKeys.publicKeyFileFor(s.signingKeyFile());

        Result ok = run(sh, schema, conninfo, "i-test", pub, cp);
        assertThat(ok.code).as(ok.output).isZero();
        assertThat(ok.output).contains("chain i-test verified: records 1.." + head + " match checkpoint");
        // 30 statements, the 8 strict ones with an outcome record of their own, plus start and stop
        assertThat(head).isBetween(40L, 63L);

        Path otherKey = dir.resolve("other.pem");
        SigningKeys.generate(otherKey);
        Result wrongKey = run(sh, schema, conninfo, "i-test", SigningKeys.publicKeyFileFor(otherKey), cp);
        assertThat(wrongKey.code).isNotZero();
        assertThat(wrongKey.output).contains("signature does not verify");

        try (Connection c = TestStores.admin(store)) {
            new Tamper(c, "i-test").modifyBody(20);
        }
        Result tampered = run(sh, schema, conninfo, "i-test", pub, cp);
        assertThat(tampered.code).isNotZero();
        assertThat(tampered.output).contains("record 20: hash mismatch");
    }

    record Result(int code, String output) {
    }

    private Result run(Path script, String schema, String conninfo, String instance, Path pub, Path cp) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString(), conninfo, instance, pub.toString(), cp.toString())
                .redirectErrorStream(true);
        pb.environment().put("PGOPTIONS", "-c search_path=" + schema);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out);
    }
}
