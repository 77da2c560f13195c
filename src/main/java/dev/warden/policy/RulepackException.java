package dev.warden.policy;

import java.util.List;

/**
 * The rulepack could not be loaded: a file does not compile (each problem is a "file:line: message"
 * entry of {@link #problems()}, and the exception's message lists them all), or the directory
 * holds no rules or cannot be read. At startup this is fatal; at a hot reload the old rules stay.
 */
public final class RulepackException extends RuntimeException {
    private final List<String> problems;

    public RulepackException(String summary, List<String> problems) {
        super(problems.isEmpty() ? summary : summary + ":\n  " + String.join("\n  ", problems));
        this.problems = List.copyOf(problems);
    }

    public RulepackException(String summary, Throwable cause) {
        super(summary + ": " + cause.getMessage(), cause);
        this.problems = List.of();
    }

    public List<String> problems() {
        return problems;
    }
}
