package dev.warden.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.identity.Identity;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The canonical encoding and the chain rule, exactly as docs/audit.md states them. */
class CanonicalEncodingTest {
    @TempDir
    Path dir;

    @Test
    void sortsKeysDropsNullMembersAndWritesOnlyWholeNumbers() {
        Map<String, Object> m = new HashMap<>();
        m.put("b", 2L);
        m.put("a", List.of(true, "x"));
        m.put("c", null);
        m.put("B", Arrays.asList(null, 1));
        m.put("t", Instant.parse("2025-03-01T12:00:00.1Z"));
        assertThat(Canonical.encodeToString(m))
                .isEqualTo("{\"B\":[null,1],\"a\":[true,\"x\"],\"b\":2,\"t\":\"2025-03-01T12:00:00.100000Z\"}");
        assertThatThrownBy(() -> Canonical.encode(Map.of("f", 1.5))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Canonical.decode("{\"f\":1.5}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void escapesOnlyWhatJsonRequires() {
        String s = "q\" b\\ nl\n tab\t cr\r bs\b ff\f nul\0 us\u001f del\u007f é € 𝄞 / \u2028 lone\uD800x";
        assertThat(Canonical.encodeToString(List.of(s))).isEqualTo("[\"q\\\" b\\\\ nl\\n tab\\t cr\\r bs\\b ff\\f "
                + "nul\\u0000 us\\u001f del\u007f é € 𝄞 / \u2028 lone\uFFFDx\"]");
    }

    @Test
    void timestampsAreUtcWithSixFractionDigits() {
        assertThat(Canonical.time(Instant.parse("2025-03-01T12:00:00Z"))).isEqualTo("2025-03-01T12:00:00.000000Z");
        assertThat(Canonical.time(Instant.parse("2025-03-01T12:00:00.123456789Z"))).isEqualTo("2025-03-01T12:00:00.123456Z");
    }

    @Test
    void decodingAndEncodingAgainGivesTheSameBytes() {
        Random rnd = new Random(7);
        for (int i = 0; i < 2000; i++) {
            Object tree = randomTree(rnd, 3);
            byte[] once = Canonical.encode(tree);
            assertThat(Canonical.encode(Canonical.decode(once))).isEqualTo(once);
        }
    }

    private static Object randomTree(Random rnd, int depth) {
        switch (depth == 0 ? rnd.nextInt(4) : rnd.nextInt(6)) {
            case 0:
                return rnd.nextLong();
            case 1:
                return rnd.nextBoolean();
            case 2:
                StringBuilder sb = new StringBuilder();
                for (int i = rnd.nextInt(8); i > 0; i--) {
                    sb.append((char) (rnd.nextInt(4) == 0 ? rnd.nextInt(0x20) : rnd.nextInt(0x3000)));
                }
                return sb.toString();
            case 3:
                return Instant.ofEpochSecond(rnd.nextInt(2_000_000_000), rnd.nextInt(1_000_000_000));
            case 4:
                List<Object> l = new ArrayList<>();
                for (int i = rnd.nextInt(4); i > 0; i--) {
                    l.add(rnd.nextInt(5) == 0 ? null : randomTree(rnd, depth - 1));
                }
                return l;
            default:
                Map<String, Object> m = new HashMap<>();
                for (int i = rnd.nextInt(4); i > 0; i--) {
                    m.put("k" + (char) ('a' + rnd.nextInt(26)) + rnd.nextInt(100), randomTree(rnd, depth - 1));
                }
                return m;
        }
    }

    @Test
    void aStatementPayloadHasTheDocumentedShape() {
        Identity id = new Identity(Identity.Kind.OIDC, "repo:acme/app:ref:refs/heads/main",
                "https://token.actions.githubusercontent.com", "ci_deploy", "github-main",
                Map.of("repository", "acme/app", "runId", "42"), Map.of("aud", "warden"));
        StatementRecord r = new StatementRecord("s-1", Instant.parse("2025-03-01T12:00:00Z"), id, "10.0.0.7:51234",
                "bank", "warden_bank", "UPDATE accounts SET status = $1 WHERE id = $2", "UPDATE accounts SET status = ? WHERE id = ?",
                Arrays.asList("closed", null), new StatementRecord.Verdict("allow", List.of("ci-may-write"), "r7"),
                new StatementRecord.Approval("apr-9", "bob"), List.of());
        byte[] p = Canonical.encode(RecordCodec.statement("3f1c0f4e-0000-4000-8000-000000000001", r, true,
                new BindParameterCodec(AuditSettings.BindMode.PLAIN, null)));
        assertThat(new String(p, StandardCharsets.UTF_8)).isEqualTo("{\"approval\":{\"approver\":\"bob\",\"id\":\"apr-9\"},"
                + "\"binds\":{\"mode\":\"plain\",\"values\":[\"closed\",null]},\"client\":\"10.0.0.7:51234\","
                + "\"fingerprint\":\"UPDATE accounts SET status = ? WHERE id = ?\",\"id\":\"3f1c0f4e-0000-4000-8000-000000000001\","
                + "\"identity\":{\"ci\":{\"repository\":\"acme/app\",\"runId\":\"42\"},\"grant\":\"ci_deploy\","
                + "\"issuer\":\"https://token.actions.githubusercontent.com\",\"kind\":\"oidc\",\"mappingRule\":\"github-main\","
                + "\"subject\":\"repo:acme/app:ref:refs/heads/main\"},\"masked\":[],\"received\":\"2025-03-01T12:00:00.000000Z\","
                + "\"session\":\"s-1\",\"strict\":true,\"target\":\"bank\",\"text\":\"UPDATE accounts SET status = $1 WHERE id = $2\","
                + "\"upstreamRole\":\"warden_bank\",\"verdict\":{\"decision\":\"allow\",\"rules\":[\"ci-may-write\"],"
                + "\"rulesVersion\":\"r7\"}}");
    }

    @Test
    void storedRecordsFollowTheChainRule() throws Exception {
        AuditSettings.Store store = TestStores.fresh(TestStores.Kind.H2);
        try (AuditLog log = AuditLog.open(TestStores.settings(dir, store), java.time.Clock.systemUTC())) {
            for (int i = 0; i < 5; i++) {
                log.statementReceived(TestStores.statement("s", Instant.now(), "SELECT " + i), i == 4).durable().get();
            }
        }
        try (Connection c = TestStores.admin(store)) {
            byte[] prev = new byte[32];
            long n = 0;
            for (StoredRecord r : TestStores.records(c)) {
                n++;
                byte[] body = r.body();
                String text = new String(body, StandardCharsets.UTF_8);
                assertThat(r.seq()).isEqualTo(n);
                assertThat(text).startsWith("{\"instance\":\"i-test\",\"payload\":{")
                        .endsWith("},\"seq\":" + n + ",\"type\":\"" + r.type() + "\",\"v\":1}");
                assertThat(r.prevHash()).isEqualTo(prev);
                assertThat(r.hash()).isEqualTo(Tamper.sha(prev, body));
                assertThat(Canonical.encode(Canonical.decode(body))).isEqualTo(body);
                prev = r.hash();
            }
            assertThat(n).isEqualTo(7); // start, 5 statements, stop
        }
    }

    @net.jqwik.api.Property(tries = 2000)
    void handWrittenTimesMatchTheIsoFormatter(@net.jqwik.api.ForAll @net.jqwik.api.constraints.LongRange(
            min = -62_135_596_800L, max = 253_402_300_799L) long second,
            @net.jqwik.api.ForAll @net.jqwik.api.constraints.IntRange(min = 0, max = 999_999_999) int nano) {
        Instant t = Instant.ofEpochSecond(second, nano);
        String expected = java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
                .withZone(java.time.ZoneOffset.UTC).format(t);
        assertThat(Canonical.time(t)).isEqualTo(expected);
        assertThat(Canonical.parseTime(Canonical.time(t))).isEqualTo(t.truncatedTo(java.time.temporal.ChronoUnit.MICROS));
    }
}
