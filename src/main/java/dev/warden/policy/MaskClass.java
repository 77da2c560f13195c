package dev.warden.policy;

import java.util.Objects;

/**
 * A fact for the masking rules (rules/masking.drl): a class of protected data the target holds
 * ("ssn", "pan", "email", ...). Rules decide per identity how values of the class are shown, e.g.
 * {@code verdict.maskWith("ssn", "none")} for a privileged grant; a class no rule mentions is
 * masked with its default method.
 *
 * @param name the data class, lower case
 */
public record MaskClass(String name) {
    public MaskClass {
        Objects.requireNonNull(name, "name");
    }
}
