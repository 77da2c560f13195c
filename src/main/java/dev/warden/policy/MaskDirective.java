package dev.warden.policy;

import java.util.Objects;

/**
 * One masking instruction carried by a MASK verdict: replace {@code column} of {@code table} in
 * results with {@code method} (e.g. "redact", "hash", "last4"). Which methods exist is decided by
 * the masking work; the policy engine only carries them.
 *
 * @param table  schema-qualified table, as the analyzer reports it ("public.customers")
 * @param column column name, lower case
 * @param method masking method name
 */
public record MaskDirective(String table, String column, String method) {
    public MaskDirective {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(column, "column");
        Objects.requireNonNull(method, "method");
    }
}
