package dev.warden.cli;

import dev.warden.config.ConfigException;
import dev.warden.policy.RulepackException;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code ./warden}: one subcommand per task. */
@Command(name = "warden", mixinStandardHelpOptions = true, version = "Warden 0.1.0",
        description = "Governance gateway for PostgreSQL.",
        subcommands = {DemoCommand.class, RunCommand.class, TokenCommand.class, PolicyCommand.class, AuditCommand.class,
                ScramVerifierCommand.class, ReportCommand.class, ReplayCommand.class})
public final class WardenCli implements Runnable {

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new WardenCli());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof ConfigException) {
                cmd.getErr().println("warden: configuration error: " + e.getMessage());
                return 2;
            }
            if (e instanceof RulepackException) {
                cmd.getErr().println("warden: the rules do not compile: " + e.getMessage());
                return 2;
            }
            throw e;
        });
        System.exit(cli.execute(args));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** The Warden installation directory (the launcher passes it), where routes/ and config/ live. */
    static Path home() {
        return Path.of(System.getProperty("warden.home", ".")).toAbsolutePath().normalize();
    }
}
