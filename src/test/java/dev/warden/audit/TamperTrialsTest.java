package dev.warden.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.audit.TestStores.Kind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Randomised tamper trials: a fresh log of random length and content per trial, one manipulation by
 * direct SQL at a random place, then verification. Every manipulation must be found — at the place
 * it was made where that is knowable — and no clean log may fail. The seed is printed; rerun one
 * with -Daudit.tamper.seed=N.
 */
class TamperTrialsTest {
    enum Op {
        MODIFY_BODY, MODIFY_COLUMN, MODIFY_HASH, MODIFY_AND_RECHAIN, DELETE_ROW, DELETE_AND_RENUMBER, SWAP_ROWS,
        INSERT_ROW, MOVE_TO_OTHER_INSTANCE, TRUNCATE_TAIL, TRUNCATE_TAIL_AND_CHECKPOINTS, RESIGN_AFTER_MODIFY,
        RESIGN_ONLY, DELETE_CHECKPOINT, MODIFY_CHECKPOINT_COLUMN, WRONG_KEY
    }

    static final String INSTANCE = "i-test";
    static final int TRIALS_PER_OP = Integer.getInteger("audit.tamper.trials", 3);

    @TempDir
    static Path keys;
    static Path signingKey;
    static PublicKey publicKey;
    static KeyPair otherKey;

    @BeforeAll
    static void keys() throws Exception {
        signingKey = keys.resolve("signing.pem");
        publicKey = SigningKeys.generate(signingKey).getPublic();
        otherKey = SigningKeys.generate(keys.resolve("attacker.pem"));
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void everyManipulationIsDetectedAndNoCleanLogFails(Kind kind) throws Exception {
        long seed = Long.getLong("audit.tamper.seed", System.nanoTime());
        Random rnd = new Random(seed);
        int trials = 0;
        for (Op op : Op.values()) {
            for (int t = 0; t < TRIALS_PER_OP; t++) {
                trial(kind, op, rnd, "seed " + seed + ", " + kind + " " + op + " trial " + t);
                trials++;
            }
        }
        System.out.println("tamper trials on " + kind + ": " + trials + " manipulations, all detected; clean logs "
                + "verified; seed " + seed);
    }

    private void trial(Kind kind, Op op, Random rnd, String label) throws Exception {
        AuditSettings.Store store = TestStores.fresh(kind);
        Path dir = Files.createTempDirectory(keys, "trial");
        int every = 5 + rnd.nextInt(20);
        AuditSettings s = TestStores.settings(dir, store).withSigningKey(signingKey, false)
                .withCheckpoints(every, Duration.ofHours(1));
        TestStores.TestClock clock = new TestStores.TestClock(Instant.parse("2025-01-01T00:00:00Z"));
        int n = 20 + rnd.nextInt(100);
        try (AuditLog log = AuditLog.open(s, clock)) {
            for (int i = 0; i < n; i++) {
                clock.advance(Duration.ofMillis(1 + rnd.nextInt(1000)));
                String session = "s" + rnd.nextInt(5);
                switch (rnd.nextInt(3)) {
                    case 0 -> log.sessionEvent(SessionEvent.connect(session, clock.instant(), "10.0.0." + i + ":5432"));
                    default -> {
                        AuditTicket tk = log.statementReceived(TestStores.statement(session, clock.instant(),
                                "UPDATE t SET x = " + i), rnd.nextInt(4) == 0);
                        tk.durable().get();
                        if (rnd.nextBoolean()) {
                            tk.completed(StatementOutcome.success(clock.instant(), clock.instant(), "UPDATE 1", 1, 0));
                        }
                    }
                }
            }
        }
        List<Checkpoint> exported;
        try (Connection c = TestStores.admin(store)) {
            exported = List.of(StoreSql.checkpoint(latest(c)));
            assertThat(verify(c, List.of(), publicKey)).as("clean log, " + label).isNull();
            assertThat(verify(c, exported, publicKey)).as("clean log with exported checkpoint, " + label).isNull();
            Tamper tamper = new Tamper(c, INSTANCE);
            long max = tamper.maxSeq();
            long p = 1 + rnd.nextInt((int) max);
            long q = 1 + rnd.nextInt((int) max);
            while (q == p) {
                q = 1 + rnd.nextInt((int) max);
            }
            String expected = null;
            List<Checkpoint> given = List.of();
            PublicKey key = publicKey;
            switch (op) {
                case MODIFY_BODY -> {
                    tamper.modifyBody(p);
                    expected = "record " + p + " (instance i-test): hash mismatch — content modified";
                }
                case MODIFY_COLUMN -> {
                    // what is stored beside the hashed body: the frame header and the block's columns
                    switch (rnd.nextInt(4)) {
                        case 0 -> {
                            tamper.modifyHeader(p, true);
                            expected = "record " + p + " (instance i-test): the record's header (type, time) differs";
                        }
                        case 1 -> {
                            tamper.modifyHeader(p, false);
                            expected = "record " + p + " (instance i-test): the record's header (type, time) differs";
                        }
                        case 2 -> {
                            tamper.modifyBlockColumn(p, rnd.nextBoolean() ? "min_at" : "max_at",
                                    StoreSql.utc(Instant.parse("2030-01-01T00:00:00Z")));
                            expected = "(instance i-test): the block's columns differ from the records it holds";
                        }
                        default -> {
                            tamper.modifyBlockColumn(p, "prune_to", 1L);
                            expected = "(instance i-test): the block's prune position differs";
                        }
                    }
                }
                case MODIFY_HASH -> {
                    tamper.modifyHash(p, rnd.nextBoolean(), rnd.nextInt(32), (byte) (1 + rnd.nextInt(255)));
                    expected = "record " + p + " (instance i-test): hash mismatch";
                }
                case MODIFY_AND_RECHAIN -> {
                    tamper.modifyBody(p);
                    tamper.rechain(p);
                    expected = "head hash does not match record";
                }
                case DELETE_ROW -> {
                    tamper.delete(p);
                    expected = p == max ? "records " + p + ".. (instance i-test): missing after checkpoint"
                            : "record " + p + " (instance i-test): missing — deleted";
                }
                case DELETE_AND_RENUMBER -> {
                    tamper.deleteAndRenumber(p);
                    expected = p == max ? "records " + p + ".. (instance i-test): missing after checkpoint"
                            : "record " + p + " (instance i-test): holds the content of record " + (p + 1);
                }
                case SWAP_ROWS -> {
                    tamper.swap(p, q);
                    long first = Math.min(p, q);
                    expected = "record " + first + " (instance i-test): holds the content of record " + Math.max(p, q);
                }
                case INSERT_ROW -> {
                    tamper.insertAt(p);
                    // the forged record itself links correctly; the next one, or a checkpoint at p, gives it away
                    expected = "record " + (p + 1) + " (instance i-test): holds the content of record " + p
                            + "|checkpoint #";
                }
                case MOVE_TO_OTHER_INSTANCE -> {
                    tamper.moveToInstance(p, "i-other");
                    expected = "instance i-other";
                }
                case TRUNCATE_TAIL -> {
                    tamper.truncateFrom(p);
                    expected = "records " + p + ".. (instance i-test): missing after checkpoint #" + tamper.maxCheckpoint();
                }
                case TRUNCATE_TAIL_AND_CHECKPOINTS -> {
                    tamper.truncateFrom(p);
                    tamper.update("DELETE FROM audit_checkpoint WHERE instance_id = ? AND seq >= ?", INSTANCE, p);
                    // without the exported checkpoint nothing in the store shows it: that is what exporting is for
                    assertThat(verify(c, List.of(), publicKey)).as(label).isNull();
                    given = exported;
                    expected = "records " + p + ".. (instance i-test): missing after checkpoint #"
                            + exported.get(0).number();
                }
                case RESIGN_AFTER_MODIFY -> {
                    tamper.modifyBody(p);
                    tamper.rechain(p);
                    tamper.resignAll(otherKey);
                    expected = "checkpoint #1 (instance i-test): signature does not verify with the given public key";
                }
                case RESIGN_ONLY -> {
                    tamper.resignAll(otherKey);
                    expected = "checkpoint #1 (instance i-test): signature does not verify with the given public key";
                }
                case DELETE_CHECKPOINT -> {
                    long number = 1 + rnd.nextInt((int) tamper.maxCheckpoint());
                    tamper.update("DELETE FROM audit_checkpoint WHERE instance_id = ? AND number = ?", INSTANCE, number);
                    if (number == tamper.maxCheckpoint() + 1) {
                        given = exported; // the newest one: only the exported copy shows it was there
                        expected = "checkpoint #" + number + " (instance i-test, from the exported file): missing";
                    } else {
                        expected = "checkpoint #" + number + " (instance i-test): missing — deleted";
                    }
                }
                case MODIFY_CHECKPOINT_COLUMN -> {
                    long number = 1 + rnd.nextInt((int) tamper.maxCheckpoint());
                    String col = List.of("seq", "head_hash", "created_at").get(rnd.nextInt(3));
                    Object v = switch (col) {
                        case "seq" -> 999_999L;
                        case "head_hash" -> new byte[32];
                        default -> StoreSql.utc(Instant.parse("2030-01-01T00:00:00Z"));
                    };
                    tamper.update("UPDATE audit_checkpoint SET " + col + " = ? WHERE instance_id = ? AND number = ?", v,
                            INSTANCE, number);
                    expected = "checkpoint #" + number + " (instance i-test): the stored columns differ";
                }
                case WRONG_KEY -> {
                    key = otherKey.getPublic();
                    expected = "checkpoint #1 (instance i-test): signature does not verify with the given public key";
                }
                default -> throw new IllegalStateException();
            }
            String problem = verify(c, given, key);
            assertThat(problem).as("manipulation detected, " + label).isNotNull();
            String exp = expected;
            assertThat(List.of(exp.split("\\|")).stream().anyMatch(problem::contains))
                    .as(label + ": reported '" + problem + "', expected it to contain '" + exp + "'").isTrue();
        }
    }

    private static java.sql.ResultSet latest(Connection c) throws Exception {
        java.sql.ResultSet rs = c.createStatement().executeQuery("SELECT " + StoreSql.CHECKPOINT_COLUMNS
                + " FROM audit_checkpoint ORDER BY number DESC");
        rs.next();
        return rs;
    }

    static String verify(Connection c, List<Checkpoint> exported, PublicKey key) throws Exception {
        AuditVerifier.Report r = AuditVerifier.verify(c, List.of(key),
                new AuditVerifier.Options(null, null, new ArrayList<>(exported), null));
        return r.firstProblem();
    }
}
