package dev.warden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./warden policy test}: runs the real analyzer and the default guardrails. */
class PolicyCommandTest {
    @TempDir
    static Path rules;

    @BeforeAll
    static void copyGuardrails() throws IOException {
        Files.copy(Path.of("rules", "guardrails.drl"), rules.resolve("guardrails.drl"));
    }

    record Run(int exit, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new PolicyCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        List<String> all = new ArrayList<>(List.of("test"));
        all.addAll(List.of(args));
        if (!all.contains("--rules")) {
            all.addAll(List.of("--rules", rules.toString()));
        }
        int exit = cli.execute(all.toArray(String[]::new));
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void exitCodesFollowTheVerdict() {
        Run allowed = run("--sql", "SELECT 1");
        assertThat(allowed.exit()).as(allowed.err()).isZero();
        assertThat(allowed.out()).contains("verdict:   ALLOW").contains("(none fired)").contains("version:");

        Run held = run("--sql", "DROP TABLE accounts", "--environment", "production");
        assertThat(held.exit()).isEqualTo(1);
        assertThat(held.out()).contains("verdict:   HOLD").contains("reviewers: dba")
                .contains("DDL on a production target needs a DBA's approval");

        Run blocked = run("--sql", "TRUNCATE accounts", "--environment", "staging");
        assertThat(blocked.exit()).isEqualTo(2);
        assertThat(blocked.out()).contains("verdict:   BLOCK").contains("TRUNCATE is blocked");
    }

    @Test
    void claimsMakeACiIdentity() {
        Run ci = run("--sql", "SET ROLE admin", "--claim", "sub=repo:bank/app:ref:refs/heads/main",
                "--claim", "repository=bank/app", "--claim", "run_id=7");
        assertThat(ci.exit()).isEqualTo(2);
        assertThat(ci.out()).contains("CI repo:bank/app").contains("runId=7");
        Run person = run("--sql", "SET ROLE admin", "--user", "alice");
        assertThat(person.exit()).isZero();
        assertThat(person.out()).contains("static user alice");
    }

    @Test
    void errorsAreExitCodeThree(@TempDir Path broken) throws IOException {
        assertThat(run("--rules", rules.resolve("missing").toString(), "--sql", "SELECT 1").exit()).isEqualTo(3);
        assertThat(run().exit()).isEqualTo(3); // no --sql
        Files.writeString(broken.resolve("bad.drl"), "rule \"x\" when Nope() then end\n");
        Run r = run("--rules", broken.toString(), "--sql", "SELECT 1");
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.err()).contains("bad.drl:1");
    }
}
