package dev.warden.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Resolves secret references so that config files can be committed without the secrets in them:
 * {@code ${env:NAME}} reads an environment variable, {@code ${file:/path}} reads a file (trailing
 * newline removed, as secret mounts usually add one). Anything else is taken literally.
 */
public final class Secrets {
    private final Map<String, String> env;
    private final Path baseDir;

    public Secrets(Map<String, String> env, Path baseDir) {
        this.env = env;
        this.baseDir = baseDir;
    }

    public String resolve(String value, String where) {
        if (value == null) {
            return null;
        }
        if (value.startsWith("${env:") && value.endsWith("}")) {
            String name = value.substring(6, value.length() - 1);
            String v = env.get(name);
            if (v == null) {
                throw new ConfigException(where + ": environment variable " + name + " is not set");
            }
            return v;
        }
        if (value.startsWith("${file:") && value.endsWith("}")) {
            Path p = baseDir.resolve(value.substring(7, value.length() - 1));
            try {
                String v = Files.readString(p, StandardCharsets.UTF_8);
                // only the line end that editors and secret mounts add; a password may end in spaces
                if (v.endsWith("\r\n")) {
                    return v.substring(0, v.length() - 2);
                }
                return v.endsWith("\n") ? v.substring(0, v.length() - 1) : v;
            } catch (IOException e) {
                throw new ConfigException(where + ": cannot read secret file " + p + " (" + e.getMessage() + ")");
            }
        }
        return value;
    }
}
