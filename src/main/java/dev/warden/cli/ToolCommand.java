package dev.warden.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A command that prints to picocli's out and err and answers with an exit code. Failures are one line
 * on err, {@code warden <command>: <message>}; an exception that escapes {@link #run} is such a line
 * with exit code 2 (the convention of every {@code ./warden} tool: 0 done, 1 the answer is no, 2 could
 * not do it). Both writers are flushed however the command ends.
 */
abstract class ToolCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    private PrintWriter err;

    /** The name in error lines, e.g. "audit compact". */
    abstract String toolName();

    /** The command's work; returns the exit code. */
    abstract int run(PrintWriter out, PrintWriter err) throws Exception;

    @Override
    public final Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        err = spec.commandLine().getErr();
        try {
            return run(out, err);
        } catch (Exception e) {
            return fail(e.getMessage(), 2);
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** Prints {@code warden <command>: message} on err and returns {@code code}. */
    int fail(String message, int code) {
        err.println("warden " + toolName() + ": " + message);
        return code;
    }
}
