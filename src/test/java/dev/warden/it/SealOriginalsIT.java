package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.audit.AuditSearch;
import dev.warden.cli.AuditCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Originals for auditors: with masking.sealOriginals the client sees masked values, the audit record
 * carries only a ciphertext of the originals (no plaintext anywhere in the store), and only the
 * holder of the private keyset can open it with {@code ./warden audit unseal}.
 */
class SealOriginalsIT {
    static final String DB = "sealdb";
    static final String[] SSNS = {"321-54-9876", "876-54-3210"};

    @TempDir
    static Path dir;
    static Path keys;
    static Path otherKeys;
    static Path sealedStore;
    static Path plainStore;
    static String sealedId;
    static String plainId;
    static Map<String, Object> sealedOutcome;
    static Map<String, Object> plainOutcome;
    static List<List<String>> seenByClient;

    @BeforeAll
    static void run() throws Exception {
        SharedPostgres.ensureDatabase(DB);
        try (Connection c = SharedPostgres.get().connect(SharedPostgres.APP_ROLE, SharedPostgres.APP_PASSWORD, DB);
             Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS customers");
            s.execute("CREATE TABLE customers (id int PRIMARY KEY, ssn char(11), city text)");
            s.execute("INSERT INTO customers VALUES (1, '" + SSNS[0] + "', 'Boston'), (2, '" + SSNS[1] + "', 'Denver')");
        }
        keys = dir.resolve("keys");
        otherKeys = dir.resolve("other");
        assertThat(cli("seal-keygen", "--out", keys.toString()).code).isZero();
        assertThat(cli("seal-keygen", "--out", otherKeys.toString()).code).isZero();
        assertThat(Files.readString(keys.resolve("seal-public.json"))).doesNotContain("\"value\": \"\"");

        sealedStore = dir.resolve("sealed-store/audit");
        plainStore = dir.resolve("plain-store/audit");
        String seal = "      sealOriginals:\n        publicKeyset: " + keys.resolve("seal-public.json") + "\n        maxBytes: 64KB\n";
        Object[] a = runGateway(sealedStore, seal);
        sealedId = (String) a[0];
        sealedOutcome = cast(a[1]);
        seenByClient = cast(a[2]);
        Object[] b = runGateway(plainStore, "");
        plainId = (String) b[0];
        plainOutcome = cast(b[1]);
    }

    @SuppressWarnings("unchecked")
    static <T> T cast(Object o) {
        return (T) o;
    }

    /** Runs one masked SELECT through a gateway with its own audit store; returns [statement id, outcome, rows]. */
    static Object[] runGateway(Path store, String sealConfig) throws Exception {
        String target = SharedPostgres.targetYaml(DB) + String.join("\n",
                "    masking:",
                "      columns:",
                "        public.customers.ssn: ssn", "") + sealConfig;
        TestGateway gw = TestGateway.builder().rules(Path.of("src/test/resources/rules-masking"))
                .audit("  store: " + store + "\n").target("bank", target).start();
        try {
            List<List<String>> rows;
            try (Connection c = gw.connectAs(TestGateway.USER, TestGateway.PASSWORD, "bank")) {
                rows = MaskingIT.rows(c, "SELECT id, ssn, city FROM customers ORDER BY id");
            }
            AuditSearch.Entry[] e = new AuditSearch.Entry[1];
            Awaitility.await().atMost(20, TimeUnit.SECONDS).until(() -> {
                e[0] = gw.gateway().audit().search(AuditSearch.Query.statements(AuditSearch.MAX_LIMIT)).entries().stream()
                        .filter(x -> String.valueOf(x.record().get("text")).contains("FROM customers ORDER BY id")
                                && x.outcome() != null)
                        .findFirst().orElse(null);
                return e[0] != null;
            });
            return new Object[] {e[0].recordId(), e[0].outcome(), rows};
        } finally {
            gw.close();
        }
    }

    record Result(int code, String out, String err) {
    }

    static Result cli(String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        CommandLine cl = new CommandLine(new AuditCommand());
        cl.setOut(new PrintWriter(o));
        cl.setErr(new PrintWriter(e));
        int code = cl.execute(args);
        return new Result(code, o.toString(), e.toString());
    }

    @Test
    void theClientSeesMaskedValuesAndTheRecordCarriesOnlyTheCiphertext() throws Exception {
        assertThat(seenByClient).containsExactly(List.of("1", "***-**-9876", "Boston"), List.of("2", "***-**-3210", "Denver"));
        assertThat(sealedOutcome).containsKey("sealedOriginals");
        assertThat(String.valueOf(sealedOutcome.get("sealedOriginals"))).matches("[A-Za-z0-9+/=]{40,}");
        assertThat(cast(sealedOutcome.get("masked")).toString()).contains("public.customers.ssn");
        // the store and its journal (docs/audit.md, "The journal"), whatever is left in it
        for (Path f : List.of(sealedStore.resolveSibling("audit.mv.db"), sealedStore.resolveSibling("audit.journal"))) {
            if (!Files.exists(f)) {
                continue;
            }
            byte[] all = Files.readAllBytes(f);
            String asText = new String(all, StandardCharsets.ISO_8859_1);
            for (String ssn : SSNS) {
                assertThat(asText).doesNotContain(ssn).doesNotContain(ssn.replace("-", ""));
            }
        }
        // and through SQL, every byte of every block once decompressed (the embedded store keeps blocks
        // zstd-compressed, so the stored bytes themselves would not show a plain value), and every body
        try (Connection c = DriverManager.getConnection("jdbc:h2:file:" + sealedStore + ";IFEXISTS=TRUE", "sa", "")) {
            int n = 0;
            for (AuditBlocks.Block b : AuditBlocks.blocks(c, null)) {
                String bytes = new String(AuditBlocks.encode(b.frames()), StandardCharsets.ISO_8859_1);
                for (String ssn : SSNS) {
                    assertThat(bytes).doesNotContain(ssn).doesNotContain(ssn.replace("-", ""));
                }
                for (AuditBlocks.Frame f : b.frames()) {
                    String body = new String(f.body(), StandardCharsets.UTF_8);
                    for (String ssn : SSNS) {
                        assertThat(body).doesNotContain(ssn).doesNotContain(ssn.replace("-", ""));
                    }
                    n++;
                }
            }
            assertThat(n).isPositive();
        }
    }

    @Test
    void theAuditorsPrivateKeyUnsealsTheOriginals() {
        Result r = cli("unseal", "--store", sealedStore.toString(), "--key", keys.resolve("seal-private.json").toString(),
                sealedId);
        assertThat(r.code).as(r.err).isZero();
        assertThat(r.out).contains("public.customers.ssn").contains(SSNS[0]).contains(SSNS[1]);
        Result j = cli("unseal", "--json", "--store", sealedStore.toString(), "--key",
                keys.resolve("seal-private.json").toString(), sealedId);
        assertThat(j.code).isZero();
        assertThat(j.out).contains("\"rows\":[[\"" + SSNS[0] + "\"],[\"" + SSNS[1] + "\"]]").contains("\"truncated\":false");
    }

    @Test
    void anotherPrivateKeyCannotUnseal() {
        Result r = cli("unseal", "--store", sealedStore.toString(), "--key",
                otherKeys.resolve("seal-private.json").toString(), sealedId);
        assertThat(r.code).isEqualTo(1);
        assertThat(r.err).contains("not the private half of the public keyset");
        assertThat(r.out).doesNotContain(SSNS[0]);
    }

    @Test
    void withSealingOffNoFieldAppears() {
        assertThat(plainOutcome).doesNotContainKey("sealedOriginals").containsKey("masked");
        Result r = cli("unseal", "--store", plainStore.toString(), "--key", keys.resolve("seal-private.json").toString(),
                plainId);
        assertThat(r.code).isEqualTo(1);
        assertThat(r.err).contains("has no sealed originals");
    }
}
