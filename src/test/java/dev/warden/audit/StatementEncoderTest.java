package dev.warden.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.audit.AuditSettings.BindMode;
import dev.warden.identity.Identity;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The direct encoder of statement records and folded outcomes gives exactly the bytes of the
 * map-based path ({@code Canonical.encode(RecordCodec.statement/folded(...))}), and the directly
 * computed columns equal those projected from the map.
 */
class StatementEncoderTest {
    private static final byte[] KEY = new byte[32];

    static {
        for (int i = 0; i < KEY.length; i++) {
            KEY[i] = (byte) (i * 7 + 1);
        }
    }

    private static final BindParameterCodec PLAIN = new BindParameterCodec(BindMode.PLAIN, null);
    private static final BindParameterCodec HASH = new BindParameterCodec(BindMode.HASH, KEY);
    private static final BindParameterCodec SEALED = new BindParameterCodec(BindMode.SEALED, KEY);

    @Test
    void theDocumentedStatementPayloadComesOutByteForByte() {
        Identity id = new Identity(Identity.Kind.OIDC, "repo:acme/app:ref:refs/heads/main",
                "https://token.actions.githubusercontent.com", "ci_deploy", "github-main",
                Map.of("repository", "acme/app", "runId", "42"), Map.of("aud", "warden"));
        StatementRecord r = new StatementRecord("s-1", Instant.parse("2025-03-01T12:00:00Z"), id, "10.0.0.7:51234",
                "bank", "warden_bank", "UPDATE accounts SET status = $1 WHERE id = $2",
                "UPDATE accounts SET status = ? WHERE id = ?", Arrays.asList("closed", null),
                new StatementRecord.Verdict("allow", List.of("ci-may-write"), "r7"),
                new StatementRecord.Approval("apr-9", "bob"), List.of());
        byte[] direct = StatementEncoder.statement("3f1c0f4e-0000-4000-8000-000000000001", r, true, PLAIN);
        assertThat(new String(direct, StandardCharsets.UTF_8)).isEqualTo("{\"approval\":{\"approver\":\"bob\",\"id\":\"apr-9\"},"
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
    void statementsEqualTheMapBasedEncodingInPlainAndHashMode() {
        Random rnd = new Random(20250301);
        List<Object[]> sessions = sessionPool(rnd, 40);
        for (int i = 0; i < 20_000; i++) {
            StatementRecord r = randomStatement(rnd, sessions);
            String id = rnd.nextInt(50) == 0 ? null : randomId(rnd);
            boolean strict = rnd.nextBoolean();
            BindParameterCodec binds = rnd.nextBoolean() ? PLAIN : HASH;
            byte[] expected = Canonical.encode(RecordCodec.statement(id, r, strict, binds));
            assertThat(StatementEncoder.statement(id, r, strict, binds)).as("record %d: %s", i, r).isEqualTo(expected);
        }
    }

    @Test
    void statementsEqualTheMapBasedEncodingInSealedMode() throws Exception {
        // sealing draws a fresh nonce for every value: compare with the map built around the values the encoder sealed
        Random rnd = new Random(77);
        List<Object[]> sessions = sessionPool(rnd, 10);
        int withBinds = 0;
        for (int i = 0; i < 3000; i++) {
            StatementRecord r = randomStatement(rnd, sessions);
            String id = randomId(rnd);
            byte[] direct = StatementEncoder.statement(id, r, false, SEALED);
            Map<String, Object> expected = RecordCodec.statement(id, r, false, SEALED);
            if (!r.bindParameters().isEmpty()) {
                withBinds++;
                @SuppressWarnings("unchecked")
                Map<String, Object> sealed = (Map<String, Object>) Canonical.decodeObject(direct).get("binds");
                assertThat(sealed.get("mode")).isEqualTo("sealed");
                @SuppressWarnings("unchecked")
                List<String> values = (List<String>) sealed.get("values");
                assertThat(values).hasSameSizeAs(r.bindParameters());
                for (int k = 0; k < values.size(); k++) {
                    String original = r.bindParameters().get(k);
                    if (original == null) {
                        assertThat(values.get(k)).isNull();
                    } else {
                        // sealing goes through UTF-8, which turns an unpaired surrogate into '?'
                        assertThat(BindParameterCodec.unseal(values.get(k), KEY))
                                .isEqualTo(new String(original.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
                    }
                }
                expected.put("binds", Map.of("mode", SEALED.modeName(), "values", values));
            }
            assertThat(direct).as("record %d: %s", i, r).isEqualTo(Canonical.encode(expected));
        }
        assertThat(withBinds).isGreaterThan(1000);
    }

    @Test
    void aKeptSessionGivesTheSameBytesAndAMismatchedOneIsNotUsed() {
        Random rnd = new Random(5);
        List<Object[]> sessions = sessionPool(rnd, 8);
        for (int i = 0; i < 3000; i++) {
            StatementRecord r = randomStatement(rnd, sessions);
            // a session made from equal (not the same) objects, or from another record entirely
            StatementRecord other = randomStatement(rnd, sessions);
            StatementEncoder.Session kept = rnd.nextBoolean()
                    ? StatementEncoder.forSession(copy(r.sessionId()), copy(r.identity()), copy(r.clientAddress()),
                            copy(r.target()), copy(r.upstreamRole()))
                    : StatementEncoder.forSession(other);
            byte[] expected = Canonical.encode(RecordCodec.statement("r-" + i, r, true, HASH));
            assertThat(StatementEncoder.statement(kept, "r-" + i, r, true, HASH)).isEqualTo(expected);
        }
    }

    @Test
    void aSessionIdReusedWithOtherFieldsIsNotServedFromTheCache() {
        Instant t = Instant.parse("2025-03-01T12:00:00.123456789Z");
        StatementRecord a = new StatementRecord("s", t, Identity.staticUser("alice"), "1.1.1.1:1", "bank", "w", "SELECT 1",
                null, null, null, null, null);
        StatementRecord b = new StatementRecord("s", t, Identity.staticUser("bob"), "1.1.1.1:1", "bank", "w", "SELECT 1",
                null, null, null, null, null);
        StatementRecord c = new StatementRecord("s", t, Identity.staticUser("bob"), "2.2.2.2:2", null, "w2", "SELECT 1",
                null, null, null, null, null);
        for (StatementRecord r : List.of(a, b, a, c, b, c)) {
            assertThat(new String(StatementEncoder.statement("x", r, false, PLAIN), StandardCharsets.UTF_8))
                    .isEqualTo(Canonical.encodeToString(RecordCodec.statement("x", r, false, PLAIN)));
        }
    }

    @Test
    void moreSessionsThanAThreadKeepsStillEncodeRight() {
        Random rnd = new Random(3);
        List<Object[]> sessions = sessionPool(rnd, StatementEncoder.SESSIONS_PER_THREAD + 100);
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < sessions.size(); i++) {
                StatementRecord r = randomStatement(rnd, List.<Object[]>of(sessions.get((i * 7 + round) % sessions.size())));
                assertThat(StatementEncoder.statement("x" + i, r, true, PLAIN))
                        .isEqualTo(Canonical.encode(RecordCodec.statement("x" + i, r, true, PLAIN)));
            }
        }
    }

    @Test
    void foldedOutcomesEqualTheMapBasedEncoding() {
        Random rnd = new Random(424242);
        for (int i = 0; i < 20_000; i++) {
            Instant received = randomInstant(rnd);
            StatementOutcome o = randomOutcome(rnd, received);
            byte[] expected = Canonical.encode(RecordCodec.folded(received, o));
            assertThat(StatementEncoder.folded(received, o)).as("outcome %d: %s", i, o).isEqualTo(expected);
        }
    }

    @Test
    void theQueuedTimeEqualsTheProjectedOne() {
        Random rnd = new Random(99);
        List<Object[]> sessions = sessionPool(rnd, 60);
        for (int i = 0; i < 20_000; i++) {
            StatementRecord r = randomStatement(rnd, sessions);
            String id = rnd.nextInt(20) == 0 ? randomText(rnd, 300) : randomId(rnd);
            RecordCodec.Projection expected = RecordCodec.project(RecordCodec.STATEMENT,
                    RecordCodec.statement(id, r, rnd.nextBoolean(), PLAIN));
            assertThat(RecordCodec.statementAt(r)).as("record %d: %s", i, r).isEqualTo(expected.at());
        }
    }

    @Test
    void theByteWriterMatchesCanonicalStringsNumbersAndTimes() {
        Random rnd = new Random(11);
        Canonical.Bytes out = new Canonical.Bytes(1);
        for (int i = 0; i < 50_000; i++) {
            String s = randomText(rnd, rnd.nextInt(20) == 0 ? 500 : 40);
            out.reset();
            out.string(s);
            assertThat(out.toByteArray()).as("%s", s).isEqualTo(Canonical.encode(s));
            long n = switch (rnd.nextInt(6)) {
                case 0 -> Long.MIN_VALUE + rnd.nextInt(3);
                case 1 -> Long.MAX_VALUE - rnd.nextInt(3);
                case 2 -> rnd.nextInt(21) - 10;
                case 3 -> (long) Math.pow(10, rnd.nextInt(19)) - rnd.nextInt(2);
                default -> rnd.nextLong();
            };
            out.reset();
            out.number(n);
            assertThat(new String(out.toByteArray(), StandardCharsets.US_ASCII)).isEqualTo(Long.toString(n));
            Instant t = randomInstant(rnd);
            out.reset();
            out.time(t);
            assertThat(out.toByteArray()).as("%s", t).isEqualTo(Canonical.encode(t));
            // the buffer keeps the last day's digits: the same day again, and across midnight
            for (Instant u : List.of(t.plusSeconds(rnd.nextInt(120)), t.plusSeconds(86_400), t.minusNanos(1))) {
                out.reset();
                out.time(u);
                assertThat(out.toByteArray()).as("%s after %s", u, t).isEqualTo(Canonical.encode(u));
            }
        }
    }

    @Test
    void manyThreadsGetTheirOwnBuffers() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> runs = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                int seed = w;
                runs.add(pool.submit(() -> {
                    Random rnd = new Random(seed);
                    List<Object[]> sessions = sessionPool(rnd, 20);
                    int n = 0;
                    for (int i = 0; i < 3000; i++) {
                        StatementRecord r = randomStatement(rnd, sessions);
                        assertThat(StatementEncoder.statement("i" + i, r, false, HASH))
                                .isEqualTo(Canonical.encode(RecordCodec.statement("i" + i, r, false, HASH)));
                        Instant received = randomInstant(rnd);
                        StatementOutcome o = randomOutcome(rnd, received);
                        assertThat(StatementEncoder.folded(received, o))
                                .isEqualTo(Canonical.encode(RecordCodec.folded(received, o)));
                        n++;
                    }
                    return n;
                }));
            }
            for (Future<Integer> f : runs) {
                assertThat(f.get()).isEqualTo(3000);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    // ------------------------------------------------------------------ random records

    /** Session field tuples (id, identity, client, target, upstreamRole), drawn from by records. */
    private static List<Object[]> sessionPool(Random rnd, int n) {
        List<Object[]> pool = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String sessionId = rnd.nextInt(10) == 0 ? randomText(rnd, 300) : "sess-" + i + "-" + rnd.nextInt(1000);
            pool.add(new Object[] {sessionId, randomIdentity(rnd), maybe(rnd, 8, randomText(rnd, 30)),
                    maybe(rnd, 8, rnd.nextInt(15) == 0 ? randomText(rnd, 250) : randomText(rnd, 12)),
                    maybe(rnd, 8, randomText(rnd, 12))});
        }
        return pool;
    }

    private static StatementRecord randomStatement(Random rnd, List<Object[]> sessions) {
        Object[] s = sessions.get(rnd.nextInt(sessions.size()));
        String text = rnd.nextInt(200) == 0 ? randomText(rnd, 70_000) : randomText(rnd, rnd.nextInt(4) == 0 ? 400 : 60);
        List<String> binds = switch (rnd.nextInt(5)) {
            case 0 -> null;
            case 1 -> List.of();
            default -> {
                List<String> b = new ArrayList<>();
                for (int k = rnd.nextInt(6); k >= 0; k--) {
                    b.add(rnd.nextInt(4) == 0 ? null : randomText(rnd, 20));
                }
                yield b;
            }
        };
        StatementRecord.Verdict verdict = switch (rnd.nextInt(4)) {
            case 0 -> null;
            case 1 -> StatementRecord.Verdict.allow(maybe(rnd, 3, randomText(rnd, 10)));
            default -> new StatementRecord.Verdict(randomText(rnd, 10), randomList(rnd, 4, false),
                    maybe(rnd, 3, randomText(rnd, 10)));
        };
        StatementRecord.Approval approval = switch (rnd.nextInt(3)) {
            case 0 -> null;
            case 1 -> new StatementRecord.Approval(randomText(rnd, 12), null);
            default -> new StatementRecord.Approval(randomText(rnd, 12), randomText(rnd, 12));
        };
        return new StatementRecord((String) s[0], randomInstant(rnd), (Identity) s[1], (String) s[2], (String) s[3],
                (String) s[4], text, maybe(rnd, 5, randomText(rnd, 60)), binds, verdict, approval,
                rnd.nextInt(3) == 0 ? null : randomList(rnd, 4, false));
    }

    private static StatementOutcome randomOutcome(Random rnd, Instant received) {
        Instant forwarded = rnd.nextInt(4) == 0 ? null : near(rnd, received);
        Instant completed = near(rnd, forwarded != null ? forwarded : received);
        boolean error = rnd.nextInt(3) == 0;
        StatementOutcome o = new StatementOutcome(forwarded, completed, error ? null : maybe(rnd, 5, randomText(rnd, 15)),
                randomLong(rnd), randomLong(rnd), error || rnd.nextInt(10) == 0 ? randomText(rnd, 5) : null,
                error || rnd.nextInt(10) == 0 ? randomText(rnd, 80) : null);
        if (rnd.nextInt(3) == 0) {
            o = o.withMasked(randomList(rnd, 4, false), randomLong(rnd));
        }
        if (rnd.nextInt(4) == 0) {
            o = o.withSealedOriginals(rnd.nextBoolean() ? "AbCd+/==" + rnd.nextInt() : randomText(rnd, 40));
        }
        return o;
    }

    /** An instant near {@code t}: mostly within seconds, sometimes decades away (before or after). */
    private static Instant near(Random rnd, Instant t) {
        return switch (rnd.nextInt(4)) {
            case 0 -> t;
            case 1 -> t.plusNanos(rnd.nextInt(2_000_000_000));
            case 2 -> t.minusNanos(rnd.nextInt(1_000_000));
            default -> t.plusSeconds(rnd.nextInt(2_000_000_000) - 1_000_000_000L).plusNanos(rnd.nextInt(1_000_000_000));
        };
    }

    private static long randomLong(Random rnd) {
        return switch (rnd.nextInt(5)) {
            case 0 -> -1;
            case 1 -> rnd.nextInt(1000);
            case 2 -> Long.MIN_VALUE;
            case 3 -> Long.MAX_VALUE;
            default -> rnd.nextLong();
        };
    }

    private static Identity randomIdentity(Random rnd) {
        switch (rnd.nextInt(4)) {
            case 0:
                return null;
            case 1:
                return Identity.staticUser(randomText(rnd, 12));
            default:
                Map<String, String> ci = new HashMap<>();
                if (rnd.nextBoolean()) {
                    for (String k : List.of("repository", "workflow", "runId", "job", "actor", "ref", "sha")) {
                        if (rnd.nextInt(3) > 0) {
                            ci.put(k, rnd.nextInt(10) == 0 ? randomText(rnd, 260) : randomText(rnd, 20));
                        }
                    }
                    for (int k = rnd.nextInt(3); k > 0; k--) {
                        ci.put(randomText(rnd, 6), randomText(rnd, 8));
                    }
                }
                return new Identity(Identity.Kind.OIDC, rnd.nextInt(10) == 0 ? randomText(rnd, 300) : randomText(rnd, 30),
                        maybe(rnd, 6, randomText(rnd, 30)), maybe(rnd, 6, randomText(rnd, 10)),
                        maybe(rnd, 4, randomText(rnd, 10)), ci, Map.of("aud", "warden"));
        }
    }

    private static List<String> randomList(Random rnd, int max, boolean nulls) {
        List<String> l = new ArrayList<>();
        for (int k = rnd.nextInt(max + 1); k > 0; k--) {
            l.add(nulls && rnd.nextInt(4) == 0 ? null : randomText(rnd, 15));
        }
        return l;
    }

    private static String randomId(Random rnd) {
        return String.format("%012x-%08x-%012d", rnd.nextLong() & 0xFFFFFFFFFFFFL, rnd.nextInt(), rnd.nextInt(1_000_000));
    }

    /** Instants mostly of these years, sometimes from years the fast time path does not handle (before 1000, after 9999). */
    private static Instant randomInstant(Random rnd) {
        long sec = switch (rnd.nextInt(8)) {
            case 0 -> -62_000_000_000L + (long) (rnd.nextDouble() * 400_000_000_000L); // years ~ 5 .. 12650
            case 1 -> 253_402_300_799L + rnd.nextInt(3) - 1; // around 9999-12-31T23:59:59
            case 2 -> -30_610_224_000L + rnd.nextInt(3) - 1; // around 1000-01-01
            case 3 -> -(long) (rnd.nextDouble() * 200_000_000_000L); // down to year ~ -4400
            default -> 1_700_000_000L + rnd.nextInt(100_000_000);
        };
        int nanos = switch (rnd.nextInt(4)) {
            case 0 -> 0;
            case 1 -> rnd.nextInt(1_000_000) * 1000;
            case 2 -> 999_999_999;
            default -> rnd.nextInt(1_000_000_000);
        };
        return Instant.ofEpochSecond(sec, nanos);
    }

    private static final char[] SPECIAL = {'"', '\\', '\0', '\b', '\t', '\n', '\f', '\r', '\u001f', '\u007f', '\u0080',
        '\u00e9', '\u07ff', '\u0800', '\u2028', '\u20ac', '\ufffd', '\uffff', '/', '\'', '{', '}'};

    /** Text up to {@code max} chars: mostly ASCII, with escapes, control chars, surrogates (paired and not), emoji. */
    static String randomText(Random rnd, int max) {
        int len = rnd.nextInt(max + 1);
        StringBuilder sb = new StringBuilder(len);
        boolean plain = rnd.nextInt(3) == 0;
        while (sb.length() < len) {
            int k = plain ? 0 : rnd.nextInt(12);
            switch (k) {
                case 1 -> sb.append(SPECIAL[rnd.nextInt(SPECIAL.length)]);
                case 2 -> sb.append((char) rnd.nextInt(0x20));
                case 3 -> sb.appendCodePoint(0x1F600 + rnd.nextInt(80)); // emoji: a surrogate pair
                case 4 -> sb.append((char) (0xD800 + rnd.nextInt(0x400))); // high surrogate, maybe unpaired
                case 5 -> sb.append((char) (0xDC00 + rnd.nextInt(0x400))); // low surrogate, maybe unpaired
                case 6 -> sb.append((char) (0x80 + rnd.nextInt(0x780)));
                case 7 -> sb.append((char) (0x800 + rnd.nextInt(0xD000)));
                default -> sb.append((char) (0x20 + rnd.nextInt(0x5f)));
            }
        }
        return sb.toString();
    }

    private static <T> T maybe(Random rnd, int oneIn, T value) {
        return rnd.nextInt(oneIn) == 0 ? null : value;
    }

    private static String copy(String s) {
        return s == null ? null : new String(s.toCharArray());
    }

    private static Identity copy(Identity i) {
        return i == null ? null : new Identity(i.kind(), copy(i.subject()), copy(i.issuer()), copy(i.grant()),
                copy(i.mappingRule()), new TreeMap<>(i.ci()), new TreeMap<>(i.claims()));
    }
}
