package dev.warden.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
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

        byte[] before;
        try (Connection c = DriverManager.getConnection(store.url(), store.user(), store.password())) {
            before = RecordScan.at(c, "i-test", 20).body();
            changeOneBodyByte(c, "i-test", 20);
            StoredRecord after = RecordScan.at(c, "i-test", 20);
            assertThat(after.body()).hasSameSizeAs(before).isNotEqualTo(before);
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(after.prevHash());
            assertThat(after.hash()).isEqualTo(sha.digest(before)); // the stored hash is the original one
        }
        Result tampered = run(sh, schema, conninfo, "i-test", pub, cp);
        assertThat(tampered.code).isNotZero();
        assertThat(tampered.output).contains("record 20: hash mismatch");
    }

    /**
     * What an attacker with the owner's rights can do: the append-only trigger refuses the UPDATE, so
     * disable it, change one hex digit of the record's id inside its body (still valid, canonical
     * JSON of the same length, so the block still unpacks) and keep the stored hash, then enable the
     * trigger again.
     */
    private static void changeOneBodyByte(Connection c, String instance, long seq) throws Exception {
        long first;
        byte[] block;
        try (PreparedStatement ps = c.prepareStatement("SELECT first_seq, records FROM audit_block "
                + "WHERE instance_id = ? AND first_seq <= ? AND last_seq >= ?")) {
            ps.setString(1, instance);
            ps.setLong(2, seq);
            ps.setLong(3, seq);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                first = rs.getLong(1);
                block = rs.getBytes(2);
            }
        }
        // frames after the format byte: seq int64, at int64, type uint8, length int32, body, prev, hash
        ByteBuffer b = ByteBuffer.wrap(block);
        int frame = 1;
        while (b.getLong(frame) != seq) {
            frame += 85 + b.getInt(frame + 17);
        }
        // one char per byte, so that the index found is the byte offset (the body holds non-ASCII text)
        String body = new String(block, frame + 21, b.getInt(frame + 17), StandardCharsets.ISO_8859_1);
        int digit = frame + 21 + body.indexOf("\"id\":\"") + 6;
        block[digit] = (byte) (block[digit] == 'a' ? 'b' : 'a');
        try (Statement st = c.createStatement()) {
            assertThatThrownBy(() -> st.executeUpdate("UPDATE audit_block SET records = records WHERE instance_id = '"
                    + instance + "'")).hasMessageContaining("append-only");
            st.execute("ALTER TABLE audit_block DISABLE TRIGGER USER");
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE audit_block SET records = ? WHERE instance_id = ? AND first_seq = ?")) {
                ps.setBytes(1, block);
                ps.setString(2, instance);
                ps.setLong(3, first);
                assertThat(ps.executeUpdate()).isEqualTo(1);
            }
            st.execute("ALTER TABLE audit_block ENABLE TRIGGER USER");
        }
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
