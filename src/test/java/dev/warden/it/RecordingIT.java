package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.warden.audit.SigningKeys;
import dev.warden.cli.WardenCli;
import dev.warden.recording.ChunkFiles;
import dev.warden.recording.Entry;
import dev.warden.recording.RecordingIndex;
import dev.warden.recording.RecordingReader;
import dev.warden.recording.Step;
import dev.warden.recording.Transcript;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.copy.CopyManager;
import picocli.CommandLine;

/**
 * An auditor can watch exactly what an agent did: a scripted session through the real gateway
 * (a DDL statement the rules refuse, a masked SELECT, a prepared statement, COPY in and out, an
 * error, LISTEN/NOTIFY) is recorded, replays step by step with masked values only, and its chunks
 * are tamper-evident through the audit chain — in the store and in an exported bundle.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RecordingIT {
    static final String DB = "recdb";
    static final String SSN = "123-45-6789";

    @TempDir
    static Path dir;
    static TestGateway gw;
    static Path config;
    static Path recordings;
    static String sessionId;

    @BeforeAll
    static void start() throws Exception {
        SharedPostgres.ensureDatabase(DB);
        try (Connection c = SharedPostgres.get().connect(SharedPostgres.APP_ROLE, SharedPostgres.APP_PASSWORD, DB);
             Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS customers, notes CASCADE");
            s.execute("CREATE TABLE customers (id int PRIMARY KEY, full_name text, ssn char(11), city text)");
            s.execute("INSERT INTO customers VALUES (1, 'Ann Lee', '" + SSN + "', 'Boston'), "
                    + "(2, 'Bo Chan', '987-65-4321', 'Denver')");
            s.execute("CREATE TABLE notes (id int, body text)");
        }
        recordings = dir.resolve("recordings");
        Path key = dir.resolve("signing-key.pem");
        SigningKeys.generate(key);
        TestGateway.Builder b = TestGateway.builder().rules(Path.of("rules"))
                .audit("  store: " + dir.resolve("audit") + "\n  signingKey: " + key + "\n  checkpointInterval: 1s\n")
                .recording("  directory: " + recordings + "\n  chunkBytes: 64KB\n")
                .target("bank", String.join("\n",
                        "    host: 127.0.0.1",
                        "    port: " + SharedPostgres.get().port(),
                        "    database: " + DB,
                        "    user: " + SharedPostgres.APP_ROLE,
                        "    password: " + SharedPostgres.APP_PASSWORD,
                        "    sslmode: disable",
                        "    environment: production",
                        "    masking:",
                        "      columns:",
                        "        public.customers.ssn: ssn", ""));
        gw = b.start();
        config = dir.resolve("warden.yaml");
        Files.writeString(config, b.yaml(gw.port()));
        sessionId = scriptedSession();
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    /** The agent's session; returns its id once its recording is sealed. */
    static String scriptedSession() throws Exception {
        try (Connection c = gw.connectAs(TestGateway.USER, TestGateway.PASSWORD, "bank")) {
            try (Statement s = c.createStatement()) {
                assertThatThrownBy(() -> s.execute("CREATE TABLE stolen (v text)"))
                        .isInstanceOf(SQLException.class).extracting(e -> ((SQLException) e).getSQLState())
                        .isEqualTo("42501");
                List<String> ssns = new ArrayList<>();
                try (ResultSet rs = s.executeQuery("SELECT id, full_name, ssn FROM customers ORDER BY id")) {
                    while (rs.next()) {
                        ssns.add(rs.getString(3));
                    }
                }
                assertThat(ssns).hasSize(2).noneMatch(v -> v.contains(SSN));
                CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
                copy.copyIn("COPY notes FROM STDIN", new StringReader("1\tfirst note\n2\tsecond note\n3\tthird\n"));
                StringWriter copied = new StringWriter();
                copy.copyOut("COPY notes TO STDOUT", copied);
                assertThat(copied.toString()).contains("second note");
                assertThatThrownBy(() -> s.execute("SELECT 1/0")).isInstanceOf(SQLException.class)
                        .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("22012");
                s.execute("LISTEN agent_events");
                s.execute("NOTIFY agent_events, 'job finished'");
                s.execute("SELECT 1"); // notifications arrive with the next round trip
                PGNotification[] n = c.unwrap(PGConnection.class).getNotifications();
                assertThat(n).isNotNull();
                assertThat(n[0].getParameter()).isEqualTo("job finished");
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT full_name, city FROM customers WHERE id = ?")) {
                ps.setInt(1, 2);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("Bo Chan");
                }
            }
        }
        RecordingIndex index = gw.gateway().recorder().index();
        return await().atMost(Duration.ofSeconds(20)).until(() -> {
            List<RecordingIndex.SessionRow> rows = index.sessions(new RecordingIndex.Filter(null, null, "bank", null,
                    null, 10));
            return rows.isEmpty() || rows.get(0).ended() == null ? null : rows.get(0).session();
        }, v -> v != null);
    }

    static Transcript transcript(int rows) throws Exception {
        RecordingIndex index = gw.gateway().recorder().index();
        RecordingReader r = new RecordingReader(index, recordings);
        return r.transcript(r.session(sessionId), rows);
    }

    @Test
    @Order(1)
    void replayShowsEveryStepWithMaskedValuesOnly() throws Exception {
        List<Step> steps = transcript(20).steps();
        Step ddl = find(steps, "statement", "CREATE TABLE stolen");
        assertThat(ddl.statements()).hasSize(1);
        assertThat(ddl.statements().get(0).verdict()).isEqualTo("hold");
        assertThat(ddl.statements().get(0).auditRecord()).isNotBlank();
        Step refusal = steps.get(ddl.n()); // the step right after the statement
        assertThat(refusal.kind()).isEqualTo("error");
        assertThat(refusal.sqlState()).isEqualTo("42501");
        assertThat(refusal.warden()).isTrue();

        Step select = find(steps, "statement", "SELECT id, full_name, ssn FROM customers");
        assertThat(select.statements().get(0).auditRecord()).isNotBlank()
                .isNotEqualTo(ddl.statements().get(0).auditRecord());
        Step table = steps.get(select.n());
        assertThat(table.kind()).isEqualTo("result");
        assertThat(table.columns()).containsExactly("id", "full_name", "ssn");
        assertThat(table.rowCount()).isEqualTo(2);
        assertThat(table.rows().get(0).get(1)).isEqualTo("Ann Lee");
        assertThat(table.rows().get(0).get(2)).isNotEqualTo(SSN).doesNotContain("123-45");
        assertThat(table.tag()).isEqualTo("SELECT 2");

        assertThat(find(steps, "copy-in", "3 line(s)")).isNotNull();
        Step copyOut = find(steps, "copy-out", "COPY data received");
        assertThat(copyOut.rowCount()).isEqualTo(3);
        assertThat(copyOut.tag()).isEqualTo("COPY 3");
        Step div = find(steps, "statement", "SELECT 1/0");
        assertThat(steps.get(div.n()).kind()).isEqualTo("error");
        assertThat(steps.get(div.n()).sqlState()).isEqualTo("22012");
        assertThat(steps.get(div.n()).warden()).isFalse();
        assertThat(find(steps, "notification", "job finished").detail()).isEqualTo("agent_events");
        Step prepared = find(steps, "statement", "WHERE id = $1");
        assertThat(prepared.text()).contains("$1 = \\x00000002"); // pgJDBC binds an int in binary
        assertThat(steps.get(prepared.n()).rows().get(0)).containsExactly("Bo Chan", "Denver");
        assertThat(steps.get(steps.size() - 1).kind()).isEqualTo("end");
        // times never go backwards
        for (int i = 2; i < steps.size(); i++) {
            assertThat(steps.get(i).at()).isGreaterThanOrEqualTo(steps.get(i - 1).at() - 1);
        }
    }

    @Test
    @Order(2)
    void theOriginalSsnIsNowhereInTheRecordingOrTheReplay() throws Exception {
        List<Path> files = chunkFiles();
        assertThat(files).isNotEmpty();
        long messages = 0;
        for (Path f : files) {
            ByteArrayOutputStream plain = new ByteArrayOutputStream();
            List<Entry> entries = new ArrayList<>();
            ChunkFiles.read(f, e -> {
                entries.add(e);
                plain.writeBytes(e.data());
            });
            messages += entries.size();
            assertThat(plain.toString(StandardCharsets.ISO_8859_1)).doesNotContain(SSN);
            assertThat(Files.readString(f, StandardCharsets.ISO_8859_1)).doesNotContain(SSN);
        }
        assertThat(messages).isGreaterThan(20);
        String[] out = cli("replay", sessionId, "--config", config.toString(), "--rows", "5");
        assertThat(out[0]).contains("=> CREATE TABLE stolen", "[Warden] HOLD", "42501", "Ann Lee", "(2 rows)",
                "COPY 3", "22012", "job finished").doesNotContain(SSN);
        String[] raw = cli("replay", sessionId, "--config", config.toString(), "--raw");
        assertThat(raw[0]).contains("C→S", "S→C", "Parse[name=, sql=SELECT id, full_name, ssn FROM customers ORDER BY id")
                .doesNotContain(SSN);
        String[] list = cli("replay", "--list", "--config", config.toString(), "--target", "bank");
        assertThat(list[0]).contains(sessionId, "alice", "bank");
    }

    @Test
    @Order(3)
    void auditVerifyDetectsAModifiedAndADeletedChunk() throws Exception {
        // the CLI runs in this JVM beside the gateway, whose records reach the store once per
        // audit.syncInterval (docs/audit.md, "The journal"): every chunk's record is in it now
        gw.gateway().audit().flushToStore().get(10, java.util.concurrent.TimeUnit.SECONDS);
        String[] ok = cli("audit", "verify", "--config", config.toString());
        assertThat(ok[0]).contains("chunk(s) match their audit records");
        assertThat(ok[2]).isEqualTo("0");
        Path victim = chunkFiles().get(0);
        byte[] original = Files.readAllBytes(victim);
        byte[] changed = original.clone();
        changed[changed.length / 2] ^= 0x01;
        Files.write(victim, changed);
        try {
            String[] bad = cli("audit", "verify", "--config", config.toString());
            assertThat(bad[2]).isEqualTo("1");
            assertThat(bad[1]).contains("chunk 1", "modified");
            Files.delete(victim);
            String[] gone = cli("audit", "verify", "--config", config.toString());
            assertThat(gone[2]).isEqualTo("1");
            assertThat(gone[1]).contains("chunk 1", "deleted");
        } finally {
            Files.write(victim, original);
        }
        assertThat(cli("audit", "verify", "--config", config.toString())[2]).isEqualTo("0");
    }

    @Test
    @Order(4)
    void anExportedBundleVerifiesOfflineAndTamperingIsDetected() throws Exception {
        Path bundle = dir.resolve("session.zip");
        String[] exported = await().atMost(Duration.ofSeconds(15)).until(
                () -> cli("replay", sessionId, "--config", config.toString(), "--export", bundle.toString()),
                r -> r[2].equals("0"));
        assertThat(exported[0]).contains("exported session " + sessionId);
        String[] ok = cli("audit", "verify", "--bundle", bundle.toString());
        assertThat(ok[2]).as(ok[1]).isEqualTo("0");
        assertThat(ok[0]).contains("ok: bundle of session " + sessionId, "chunk(s) match");

        Path tampered = dir.resolve("tampered.zip");
        rewrite(bundle, tampered, "chunks/000001.wrc", b -> {
            byte[] c = b.clone();
            c[c.length - 3] ^= 0x40;
            return c;
        });
        String[] bad = cli("audit", "verify", "--bundle", tampered.toString());
        assertThat(bad[2]).isEqualTo("1");
        assertThat(bad[1]).contains("chunk 1 does not match", "modified");

        Path missing = dir.resolve("missing.zip");
        rewrite(bundle, missing, "chunks/000001.wrc", b -> null);
        String[] gone = cli("audit", "verify", "--bundle", missing.toString());
        assertThat(gone[2]).isEqualTo("1");
        assertThat(gone[1]).contains("chunk 1 is missing from the bundle");

        Path records = dir.resolve("records.zip");
        rewrite(bundle, records, "audit/records.jsonl", b -> {
            String text = new String(b, StandardCharsets.UTF_8);
            int at = text.indexOf("\"hash\":\"") + 8;
            char flipped = text.charAt(at) == '0' ? '1' : '0'; // always a different digit
            return (text.substring(0, at) + flipped + text.substring(at + 1)).getBytes(StandardCharsets.UTF_8);
        });
        assertThat(cli("audit", "verify", "--bundle", records.toString())[2]).isEqualTo("1");
    }

    static Step find(List<Step> steps, String kind, String text) {
        return steps.stream().filter(s -> s.kind().equals(kind) && s.text() != null && s.text().contains(text))
                .findFirst().orElseThrow(() -> new AssertionError("no " + kind + " step with '" + text + "' in "
                        + steps.stream().map(s -> s.kind() + ":" + s.text()).toList()));
    }

    static List<Path> chunkFiles() throws IOException {
        try (Stream<Path> s = Files.walk(recordings)) {
            return s.filter(p -> p.toString().endsWith(".wrc") && p.toString().contains(sessionId)).sorted().toList();
        }
    }

    /** Runs ./warden in this JVM; returns stdout, stderr, exit code. */
    static String[] cli(String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        CommandLine cli = new CommandLine(new WardenCli());
        cli.setOut(new PrintWriter(o));
        cli.setErr(new PrintWriter(e));
        int code = cli.execute(args);
        return new String[] {o.toString(), e.toString(), Integer.toString(code)};
    }

    static void rewrite(Path from, Path to, String name, java.util.function.UnaryOperator<byte[]> change) throws IOException {
        try (ZipFile in = new ZipFile(from.toFile()); ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(to))) {
            for (var en = in.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                byte[] b;
                try (var is = in.getInputStream(e)) {
                    b = is.readAllBytes();
                }
                if (e.getName().equals(name)) {
                    b = change.apply(b);
                    if (b == null) {
                        continue;
                    }
                }
                out.putNextEntry(new ZipEntry(e.getName()));
                out.write(b);
                out.closeEntry();
            }
        }
    }
}
