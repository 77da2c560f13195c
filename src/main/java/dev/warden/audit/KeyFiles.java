package dev.warden.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/** Small per-instance files under data/: the generated instance id and the bind-parameter HMAC key. */
final class KeyFiles {
    private static final SecureRandom RANDOM = new SecureRandom();

    private KeyFiles() {
    }

    /** The instance id kept in {@code file}, created as "w-" and 12 random hex digits when missing. */
    static String instanceId(Path file) throws IOException {
        if (!Files.exists(file)) {
            byte[] b = new byte[6];
            RANDOM.nextBytes(b);
            writeNew(file, "w-" + HexFormat.of().formatHex(b) + "\n", false);
        }
        String id = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (!id.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IOException(file + " does not hold a valid instance id (1 to 64 of A-Z a-z 0-9 . _ -)");
        }
        return id;
    }

    /** The 32-byte HMAC key kept (base64) in {@code file}, generated when missing. */
    static byte[] hashKey(Path file) throws IOException {
        if (!Files.exists(file)) {
            byte[] b = new byte[32];
            RANDOM.nextBytes(b);
            writeNew(file, Base64.getEncoder().encodeToString(b) + "\n", true);
        }
        byte[] key = Base64.getDecoder().decode(Files.readString(file, StandardCharsets.US_ASCII).strip());
        if (key.length < 16) {
            throw new IOException(file + ": the bind-parameter hash key must be at least 16 bytes (base64)");
        }
        return key;
    }

    private static void writeNew(Path file, String content, boolean secret) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".audit", ".tmp");
        if (secret) {
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system
            }
        }
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        try {
            Files.move(tmp, file);
        } catch (FileAlreadyExistsException e) {
            Files.delete(tmp); // another process made it first; use theirs
        }
    }
}
