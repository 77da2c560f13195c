package dev.warden.cli;

import dev.warden.identity.Identity;
import dev.warden.policy.PolicyEngine;
import dev.warden.policy.RulepackException;
import dev.warden.policy.TargetFact;
import dev.warden.policy.Verdict;
import dev.warden.sql.SqlAnalyzer;
import dev.warden.sql.Statement;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ./warden policy …}: tools for the statement policy (Drools rules in rules/). */
@Command(name = "policy", mixinStandardHelpOptions = true, description = "Statement policy tools.",
        subcommands = PolicyCommand.Test.class)
public final class PolicyCommand implements Runnable {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Exit codes: a script (or a compliance engineer's CI) can tell the outcomes apart. */
    static final int ALLOWED = 0;
    static final int HELD = 1;
    static final int BLOCKED = 2;
    static final int ERROR = 3;

    @Command(name = "test", mixinStandardHelpOptions = true, exitCodeOnInvalidInput = ERROR,
            exitCodeOnExecutionException = ERROR,
            description = {"Analyse SQL and show what the rules decide, without a gateway or a database.",
                    "Exit code: 0 allow/mask, 1 hold, 2 block, 3 error (bad arguments, rules that do not compile)."})
    static final class Test implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--sql", required = true, description = "the SQL text, as a client would send it in one Query")
        String sql;

        @Option(names = "--claim", paramLabel = "KEY=VALUE", description = "a token claim; any claim makes the "
                + "identity a CI (OIDC) identity, e.g. --claim sub=repo:bank/app:ref:refs/heads/main --claim repository=bank/app")
        Map<String, String> claims = new LinkedHashMap<>();

        @Option(names = "--user", paramLabel = "NAME", description = "the user name (a static user unless --claim is given)")
        String user;

        @Option(names = "--target", defaultValue = "bank", description = "target name (default: ${DEFAULT-VALUE})")
        String target;

        @Option(names = "--environment", defaultValue = TargetFact.PRODUCTION,
                description = "target environment (default: ${DEFAULT-VALUE})")
        String environment;

        @Option(names = "--classified", paramLabel = "SCHEMA.TABLE", split = ",",
                description = "a classified table of the target, e.g. public.customers (repeatable)")
        List<String> classified = new ArrayList<>();

        @Option(names = "--rules", paramLabel = "DIR", description = "rules directory (default: <warden home>/rules)")
        Path rules;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Path dir = rules != null ? rules : WardenCli.home().resolve("rules");
            // no watching: one decision, then exit
            try (PolicyEngine engine = PolicyEngine.start(dir, false)) {
                List<Statement> stmts = statementsOf(new SqlAnalyzer().analyze(sql, List.of("public")));
                Identity who = identity();
                TargetFact tgt = new TargetFact(target, environment, new LinkedHashSet<>(classified));
                out.println("identity:  " + describe(who));
                out.println("target:    " + tgt.name() + " (" + tgt.environment() + ")"
                        + (tgt.classifiedTables().isEmpty() ? "" : ", classified " + tgt.classifiedTables()));
                for (int i = 0; i < stmts.size(); i++) {
                    out.println();
                    out.println("statement " + (i + 1) + " of " + stmts.size() + ":");
                    print(out, stmts.get(i), "  ");
                }
                Verdict v = engine.decideAll(who, tgt, stmts);
                out.println();
                out.println("verdict:   " + v.decision());
                out.println("reason:    " + v.reason());
                if (v.decision() == Verdict.Decision.HOLD) {
                    out.println("reviewers: " + v.reviewerGroup() + " (risk " + v.risk() + ")");
                }
                if (!v.masks().isEmpty()) {
                    out.println("masks:     " + v.masks());
                }
                out.println("rules:     " + (v.rules().isEmpty() ? "(none fired)" : String.join("\n           ", v.rules())));
                out.println("version:   " + v.rulesVersion() + " (" + dir + ": " + String.join(", ", engine.ruleFiles()) + ")");
                return switch (v.decision()) {
                    case ALLOW, MASK -> ALLOWED;
                    case HOLD -> HELD;
                    case BLOCK -> BLOCKED;
                };
            } catch (RulepackException e) {
                err.println("warden: " + e.getMessage());
                return ERROR;
            } catch (Exception e) {
                err.println("warden: " + e);
                return ERROR;
            }
        }

        Identity identity() {
            if (claims.isEmpty()) {
                return Identity.staticUser(user != null ? user : "policy-test");
            }
            Map<String, String> ci = new LinkedHashMap<>();
            for (String k : List.of("repository", "workflow", "job", "actor", "ref", "sha")) {
                if (claims.containsKey(k)) {
                    ci.put(k, claims.get(k));
                }
            }
            String runId = claims.getOrDefault("runId", claims.get("run_id"));
            if (runId != null) {
                ci.put("runId", runId);
            }
            String subject = claims.getOrDefault("sub", user != null ? user : "policy-test");
            return new Identity(Identity.Kind.OIDC, subject, claims.get("iss"), user != null ? user : subject,
                    "policy-test", ci, claims);
        }
    }

    /** The analyzer returns the statements of one Query; accept a single Statement too. */
    static List<Statement> statementsOf(Object analysis) {
        if (analysis instanceof Statement s) {
            return List.of(s);
        }
        if (analysis instanceof List<?> list) {
            List<Statement> out = new ArrayList<>(list.size());
            for (Object o : list) {
                out.add((Statement) o);
            }
            return out;
        }
        throw new IllegalStateException("unexpected analysis result " + analysis);
    }

    static String describe(Identity who) {
        return who.isCi() ? "CI " + who.subject() + (who.ci().isEmpty() ? "" : " " + who.ci())
                : "static user " + who.subject();
    }

    static void print(PrintWriter out, Statement s, String indent) {
        out.println(indent + "kind:        " + s.kind() + "  command: " + s.command() + (s.parsed() ? "" : "  (NOT PARSED)"));
        out.println(indent + "fingerprint: " + s.fingerprint());
        if (!s.tables().isEmpty()) {
            out.println(indent + "tables:      " + s.tables() + (s.writtenTables().isEmpty() ? "" : "  written: " + s.writtenTables()));
        }
        if (!s.functions().isEmpty()) {
            out.println(indent + "functions:   " + s.functions());
        }
        List<String> flags = new ArrayList<>();
        if (s.writes()) {
            flags.add("writes");
        }
        if (s.hasWhere()) {
            flags.add("hasWhere");
        }
        if (s.dataModifyingCte()) {
            flags.add("dataModifyingCte");
        }
        if (s.createsTable()) {
            flags.add("createsTable");
        }
        if (s.copyDirection() != Statement.CopyDirection.NONE) {
            flags.add("copy " + s.copyDirection());
        }
        if (s.copyProgram()) {
            flags.add("copyProgram");
        }
        if (s.explainAnalyzeWrite()) {
            flags.add("explainAnalyzeWrite");
        }
        if (!flags.isEmpty()) {
            out.println(indent + "flags:       " + String.join(", ", flags));
        }
        if (s.inner() != null) {
            out.println(indent + "inner:");
            print(out, s.inner(), indent + "  ");
        }
    }
}
