package dev.warden.policy;

import java.util.Collection;
import java.util.Objects;
import java.util.Set;

/**
 * The database a statement is headed for, as a fact for the rules.
 *
 * @param name             the target's name from the config (the database name clients connect to)
 * @param environment      "production" unless the config says otherwise (e.g. "staging"); rules treat
 *                         an unknown target as production, so a forgotten setting errs on the strict side
 * @param classifiedTables schema-qualified tables holding classified data, spelled as the SQL analyzer
 *                         reports tables ("public.customers": lower case unless quoted)
 */
public record TargetFact(String name, String environment, Set<String> classifiedTables) {
    public static final String PRODUCTION = "production";

    public TargetFact {
        Objects.requireNonNull(name, "name");
        environment = environment == null || environment.isBlank() ? PRODUCTION : environment;
        classifiedTables = classifiedTables == null ? Set.of() : Set.copyOf(classifiedTables);
    }

    /** A production target without classified tables. */
    public TargetFact(String name) {
        this(name, PRODUCTION, Set.of());
    }

    /** For rules: {@code TargetFact( production )}. */
    public boolean isProduction() {
        return PRODUCTION.equalsIgnoreCase(environment);
    }

    /** For rules: whether the table (schema-qualified) is classified on this target. */
    public boolean classifies(String qualifiedTable) {
        return classifiedTables.contains(qualifiedTable);
    }

    /** For rules: whether any of the tables is classified, e.g. {@code classifiesAny($s.writtenTables())}. */
    public boolean classifiesAny(Collection<String> tables) {
        if (tables == null || classifiedTables.isEmpty()) {
            return false;
        }
        for (String t : tables) {
            if (classifiedTables.contains(t)) {
                return true;
            }
        }
        return false;
    }
}
