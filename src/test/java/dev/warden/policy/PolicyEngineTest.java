package dev.warden.policy;

import static dev.warden.policy.Facts.ALICE;
import static dev.warden.policy.Facts.CI;
import static dev.warden.policy.Facts.PROD;
import static dev.warden.policy.Facts.STAGING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.warden.policy.Verdict.Decision;
import dev.warden.sql.Statement;
import dev.warden.sql.Statement.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine's mechanics, with small rulepacks written for each test. */
class PolicyEngineTest {
    static final String HEADER = """
            package test;
            import dev.warden.sql.Statement;
            import dev.warden.sql.Statement.Kind;
            import dev.warden.identity.Identity;
            import dev.warden.policy.TargetFact;
            global dev.warden.policy.Decision verdict;
            """; // 6 lines: a rule's first line is line 7
    static final Duration PATIENCE = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    static String blockSelects(String rule) {
        return "rule \"" + rule + "\"\nwhen\n    Statement( kind == Kind.SELECT )\nthen\n    verdict.block(\"" + rule + "\");\nend\n";
    }

    static String holdSelects(String rule) {
        return "rule \"" + rule + "\"\nwhen\n    Statement( kind == Kind.SELECT )\nthen\n    verdict.hold(\"dba\", \"low\", \"" + rule + "\");\nend\n";
    }

    void write(String file, String rules) throws IOException {
        Path tmp = dir.resolve(file + ".tmp");
        Files.writeString(tmp, HEADER + rules);
        // like an editor or a ConfigMap: the watcher never sees a half-written file
        Files.move(tmp, dir.resolve(file), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    static Statement select(String text) {
        return Stmt.select(text, "public.t");
    }

    @Test
    void everyFiredRuleIsListedInFiringOrder() throws IOException {
        write("order.drl", """
                rule "first: only looks" salience 30 when Statement() then end
                rule "second: masks" salience 20 when Statement() then verdict.mask("public.t", "a", "hash"); end
                rule "third: blocks" salience 10 when Statement() then verdict.block("no"); end
                rule "never" when Statement( kind == Kind.DO ) then verdict.block("x"); end
                """);
        // a file may leave out the global when its rules only observe
        Files.writeString(dir.resolve("observer.drl"), """
                package observe;
                import dev.warden.sql.Statement;
                rule "observer" salience 40 when Statement() then end
                """);
        try (PolicyEngine engine = PolicyEngine.start(dir, false)) {
            Verdict v = engine.decide(CI, PROD, select("SELECT a FROM t"));
            assertThat(v.decision()).isEqualTo(Decision.BLOCK);
            assertThat(v.reason()).isEqualTo("no");
            assertThat(v.rules()).containsExactly("observer", "first: only looks", "second: masks", "third: blocks");
            assertThat(v.masks()).containsExactly(new MaskDirective("public.t", "a", "hash"));
            assertThat(engine.ruleFiles()).containsExactly("observer.drl", "order.drl");
        }
    }

    @Test
    void theExamplesInDocsRulesMdCompileAndWork() throws IOException {
        write("docs.drl", """
                import function dev.warden.policy.SqlShape.leadsWith;
                rule "DROP on a production target by a CI job is blocked"
                when
                    Identity( isCi() )
                    TargetFact( production )
                    Statement( command str[startsWith] "DROP" )
                then
                    verdict.block("CI jobs may not drop objects in production; ask a DBA");
                end
                rule "payments repository" when Identity( isCi(), ci["repository"] == "bank/app" ) then end
                rule "classified" when
                    $t : TargetFact()
                    Statement( this.writes(), $t.classifiesAny(writtenTables) )
                then verdict.hold("dba", "x"); end
                """);
        try (PolicyEngine engine = PolicyEngine.start(dir, false)) {
            Statement drop = Stmt.of(Kind.DDL, "DROP TABLE", "DROP TABLE t").build();
            assertThat(engine.decide(CI, PROD, drop).rules())
                    .containsExactlyInAnyOrder("DROP on a production target by a CI job is blocked", "payments repository");
            assertThat(engine.decide(CI, STAGING, drop).rules()).containsExactly("payments repository");
            assertThat(engine.decide(ALICE, PROD, drop).rules()).isEmpty();
            Verdict v = engine.decide(ALICE, PROD, Stmt.of(Kind.INSERT, "INSERT", "INSERT INTO customers VALUES (?)")
                    .writes("public.customers").build());
            assertThat(v.rules()).containsExactly("classified");
            assertThat(v.risk()).isEqualTo("medium");
        }
    }

    @Test
    void decideAllCombinesTheStatementsOfAQuery() throws IOException {
        write("a.drl", """
                rule "DELETE without WHERE" when Statement( kind == Kind.DELETE, !hasWhere ) then verdict.block("add WHERE"); end
                rule "DDL" when Statement( kind == Kind.DDL ) then verdict.hold("dba", "high", "ddl"); end
                """);
        try (PolicyEngine engine = PolicyEngine.start(dir, false)) {
            Statement ok = select("SELECT 1");
            Statement ddl = Stmt.of(Kind.DDL, "DROP TABLE", "DROP TABLE t").build();
            Statement delete = Stmt.of(Kind.DELETE, "DELETE", "DELETE FROM t").build();
            Verdict v = engine.decideAll(ALICE, PROD, List.of(ok, ddl, delete));
            assertThat(v.decision()).isEqualTo(Decision.BLOCK);
            assertThat(v.rules()).containsExactly("DDL", "DELETE without WHERE");
            assertThat(v.reason()).isEqualTo("add WHERE");
            assertThat(engine.decideAll(ALICE, PROD, List.of(ok, ddl)).reviewerGroup()).isEqualTo("dba");
            assertThat(engine.decideAll(ALICE, PROD, List.of()).decision()).isEqualTo(Decision.ALLOW);
        }
    }

    @Test
    void rulesVersionIsAHashOfNamesAndContents() throws IOException {
        write("a.drl", blockSelects("r"));
        try (PolicyEngine engine = PolicyEngine.start(dir, false)) {
            String v1 = engine.rulesVersion();
            assertThat(v1).matches("[0-9a-f]{12}");
            assertThat(engine.reload()).isFalse(); // unchanged
            write("a.drl", blockSelects("r2"));
            assertThat(engine.reload()).isTrue();
            String v2 = engine.rulesVersion();
            assertThat(v2).isNotEqualTo(v1);
            Files.move(dir.resolve("a.drl"), dir.resolve("b.drl"));
            assertThat(engine.reload()).isTrue();
            assertThat(engine.rulesVersion()).isNotIn(v1, v2); // same text, new name
            assertThat(engine.decide(ALICE, PROD, select("SELECT 1")).rulesVersion()).isEqualTo(engine.rulesVersion());
            // the version depends on names and text only, not on where the files are
            assertThat(engine.rulesVersion()).isEqualTo(Rulepack.version(java.util.Map.of("b.drl", HEADER + blockSelects("r2"))));
        }
    }

    @Test
    void hotReloadSwapsTheRules() throws IOException {
        write("a.drl", blockSelects("old"));
        try (PolicyEngine engine = PolicyEngine.start(dir, true)) { // the real 1 s poll
            String before = engine.rulesVersion();
            assertThat(engine.decide(CI, PROD, select("SELECT 1")).rules()).containsExactly("old");
            write("b.drl", holdSelects("new file"));
            await().atMost(PATIENCE).untilAsserted(() -> assertThat(engine.decide(CI, PROD, select("SELECT 1")).rules())
                    .containsExactlyInAnyOrder("old", "new file"));
            String second = engine.rulesVersion();
            assertThat(second).isNotEqualTo(before);
            write("a.drl", holdSelects("changed"));
            await().atMost(PATIENCE).untilAsserted(() -> assertThat(engine.decide(CI, PROD, select("SELECT 1")).rules())
                    .containsExactlyInAnyOrder("changed", "new file"));
            Verdict v = engine.decide(CI, PROD, select("SELECT 1"));
            assertThat(v.decision()).isEqualTo(Decision.HOLD);
            assertThat(v.rulesVersion()).isEqualTo(engine.rulesVersion()).isNotIn(before, second);
        }
    }

    @Test
    void aBrokenFileAtReloadKeepsTheOldRulesAndLogsFileAndLine() throws IOException {
        write("a.drl", blockSelects("old"));
        try (PolicyEngine engine = PolicyEngine.start(dir, Duration.ofMillis(50), 1000); LogCapture log = new LogCapture()) {
            String before = engine.rulesVersion();
            write("broken.drl", """
                    rule "typo"
                    when
                        Statement( kidn == Kind.SELECT )
                    then
                    end
                    """);
            await().atMost(PATIENCE).until(() -> engine.lastReloadError() != null);
            assertThat(engine.lastReloadError()).contains("broken.drl:9");
            await().atMost(PATIENCE).untilAsserted(() -> assertThat(log.lines())
                    .anySatisfy(l -> assertThat(l).startsWith("ERROR").contains("broken.drl:9").contains(before)));
            assertThat(engine.rulesVersion()).isEqualTo(before);
            assertThat(engine.decide(CI, PROD, select("SELECT 1")).rules()).containsExactly("old");

            write("broken.drl", holdSelects("fixed")); // fixing it is picked up like any change
            await().atMost(PATIENCE).untilAsserted(() ->
                    assertThat(engine.decide(CI, PROD, select("SELECT 1")).rules()).containsExactly("old", "fixed"));
            assertThat(engine.lastReloadError()).isNull();
        }
    }

    @Test
    void aBrokenFileAtStartIsAnErrorNamingFileAndLine() throws IOException {
        write("a.drl", blockSelects("fine"));
        write("syntax.drl", "rule \"unfinished\"\nwhen\n    Statement( kind == \nthen\nend\n");
        assertThatThrownBy(() -> PolicyEngine.start(dir, false))
                .isInstanceOf(RulepackException.class)
                .hasMessageContaining("syntax.drl:");
        write("syntax.drl", "rule \"bad action\"\nwhen\n    Statement()\nthen\n    verdict.refuse(\"x\");\nend\n");
        assertThatThrownBy(() -> PolicyEngine.start(dir, false))
                .isInstanceOf(RulepackException.class)
                .hasMessageContaining("syntax.drl:7")
                .satisfies(e -> assertThat(((RulepackException) e).problems()).isNotEmpty());
    }

    @Test
    void noRulesOrNoDirectoryIsAnError() {
        assertThatThrownBy(() -> PolicyEngine.start(dir, false)).isInstanceOf(RulepackException.class)
                .hasMessageContaining("no *.drl");
        assertThatThrownBy(() -> PolicyEngine.start(dir.resolve("missing"), false)).isInstanceOf(RulepackException.class)
                .hasMessageContaining("missing");
    }

    @Test
    void anExceptionInARuleFailsClosedAndIsNotCached() throws IOException {
        write("a.drl", """
                rule "throws" when Statement( kind == Kind.SELECT ) then throw new IllegalStateException("boom"); end
                rule "bad risk" when Statement( kind == Kind.DO ) then verdict.hold("dba", "severe", "x"); end
                rule "loops" when Statement( kind == Kind.CALL ) then insert(new java.util.ArrayList()); end
                rule "feeds the loop" when java.util.ArrayList() then insert(new java.util.ArrayList()); end
                """);
        try (PolicyEngine engine = PolicyEngine.start(dir, false)) {
            for (Statement s : List.of(select("SELECT 1"), Stmt.of(Kind.DO, "DO", "DO $$ $$").build(),
                    Stmt.of(Kind.CALL, "CALL", "CALL p()").build())) {
                long misses = engine.cacheMisses();
                Verdict v = engine.decide(CI, PROD, s);
                assertThat(v.decision()).as(s.text()).isEqualTo(Decision.BLOCK);
                assertThat(v.rules()).containsExactly("fail-closed");
                assertThat(v.reason()).startsWith("policy evaluation failed: ");
                assertThat(engine.decide(CI, PROD, s).failedClosed()).isTrue();
                assertThat(engine.cacheMisses()).isEqualTo(misses + 2);
            }
            assertThat(engine.decide(CI, PROD, select("SELECT 1")).reason()).contains("boom");
            assertThat(engine.decide(CI, PROD, Stmt.of(Kind.CALL, "CALL", "CALL p()").build()).reason())
                    .contains("more than 1000 rule firings").contains("loops, feeds the loop");
            assertThat(engine.decide(null, PROD, select("SELECT 2")).failedClosed()).isTrue();
            assertThat(engine.decide(CI, PROD, null).failedClosed()).isTrue();
        }
    }

    @Test
    void aRepeatedShapeIsACacheHit() throws IOException {
        write("a.drl", holdSelects("selects"));
        try (PolicyEngine engine = PolicyEngine.start(dir, false)) {
            Verdict first = engine.decide(CI, PROD, Stmt.of(Kind.SELECT, "SELECT", "SELECT * FROM t WHERE id = 1").fingerprint("select * from t where id = ?").build());
            assertThat(engine.cacheMisses()).isEqualTo(1);
            Verdict again = engine.decide(CI, PROD, Stmt.of(Kind.SELECT, "SELECT", "select * from t where id = 2").fingerprint("select * from t where id = ?").build());
            assertThat(again).isSameAs(first);
            assertThat(engine.cacheHits()).isEqualTo(1);
            // who asks and where it goes are part of the key
            engine.decide(ALICE, PROD, Stmt.of(Kind.SELECT, "SELECT", "x").fingerprint("select * from t where id = ?").build());
            engine.decide(CI, STAGING, Stmt.of(Kind.SELECT, "SELECT", "x").fingerprint("select * from t where id = ?").build());
            assertThat(engine.cacheHits()).isEqualTo(1);
            assertThat(engine.cacheMisses()).isEqualTo(3);
            // no fingerprint, no caching
            engine.decide(CI, PROD, Stmt.of(Kind.SELECT, "SELECT", "x").fingerprint(null).build());
            engine.decide(CI, PROD, Stmt.of(Kind.SELECT, "SELECT", "x").fingerprint(null).build());
            assertThat(engine.cacheHits()).isEqualTo(1);
        }
    }

    @Test
    void theCacheIsBounded() throws IOException {
        write("a.drl", holdSelects("selects"));
        try (PolicyEngine engine = PolicyEngine.start(dir, null, 100)) {
            for (int i = 0; i < 1000; i++) {
                engine.decide(CI, PROD, select("SELECT " + i + "x FROM t"));
            }
            assertThat(engine.cacheSize()).isLessThanOrEqualTo(100);
            Statement hot = select("SELECT hot FROM t");
            engine.decide(CI, PROD, hot);
            long hits = engine.cacheHits();
            for (int i = 0; i < 1000; i++) { // an entry in use survives the generations
                engine.decide(CI, PROD, select("SELECT " + i + "y FROM t"));
                engine.decide(CI, PROD, hot);
            }
            assertThat(engine.cacheHits()).isEqualTo(hits + 1000);
        }
    }

    @Test
    void concurrentDecisionsDuringAReloadAreAlwaysValid() throws Exception {
        write("a.drl", blockSelects("v1"));
        try (PolicyEngine engine = PolicyEngine.start(dir, Duration.ofMillis(20), 1000)) {
            String v1 = engine.rulesVersion();
            String v2 = Rulepack.version(java.util.Map.of("a.drl", HEADER + holdSelects("v2")));
            List<String> errors = new CopyOnWriteArrayList<>();
            Set<String> seen = ConcurrentHashMap.newKeySet();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger decisions = new AtomicInteger();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int id = t;
                Thread thread = new Thread(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        // a few shapes repeat (cache hits), most are new (evaluations)
                        Verdict v = engine.decide(CI, PROD, select("SELECT " + (i % 3 == 0 ? "c" + i % 30 : id + "_" + i)));
                        boolean valid = (v.rulesVersion().equals(v1) && v.decision() == Decision.BLOCK && v.rules().equals(List.of("v1")))
                                || (v.rulesVersion().equals(v2) && v.decision() == Decision.HOLD && v.rules().equals(List.of("v2")));
                        if (!valid) {
                            errors.add(v.toString());
                        }
                        seen.add(v.rulesVersion() + "/" + id);
                        decisions.incrementAndGet();
                    }
                });
                thread.start();
                threads.add(thread);
            }
            await().atMost(PATIENCE).until(() -> decisions.get() > 2_000);
            write("a.drl", holdSelects("v2"));
            await().atMost(PATIENCE).until(() -> {
                for (int t = 0; t < 8; t++) {
                    if (!seen.contains(v2 + "/" + t)) {
                        return false;
                    }
                }
                return true;
            });
            stop.set(true);
            for (Thread t : threads) {
                t.join();
            }
            assertThat(errors).isEmpty();
            assertThat(engine.rulesVersion()).isEqualTo(v2);
            assertThat(seen).contains(v1 + "/0");
        }
    }
}
