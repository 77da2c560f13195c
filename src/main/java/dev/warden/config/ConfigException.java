package dev.warden.config;

/** A configuration problem, phrased for the operator who has to fix the file. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
