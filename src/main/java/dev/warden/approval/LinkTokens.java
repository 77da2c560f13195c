package dev.warden.approval;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The tokens in the approve/deny links of a notification mail. A token says "reviewer R may take
 * action A on request X until T" and carries a random nonce; it is
 * {@code base64url(payload) "." base64url(HMAC-SHA256(linkKey, payload))}. Verification recomputes
 * the MAC and compares in constant time before anything in the payload is trusted. The nonce makes
 * each token single use: the store records it in the same transaction as the decision it carried.
 * Whoever can read the mail can use the link, exactly like a password-reset link; that is why the
 * links expire with the request and a GET never decides anything (mail scanners open links).
 */
public final class LinkTokens {
    public enum Action { APPROVE, DENY }

    /** A verified token's content. */
    public record Claims(String approvalId, String reviewer, Action action, Instant expires, String nonce) {
    }

    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder D64 = Base64.getUrlDecoder();
    private static final int MAX_TOKEN_CHARS = 2048;

    private final byte[] key;
    private final SecureRandom random = new SecureRandom();

    public LinkTokens(byte[] key) {
        if (key.length < 32) {
            throw new IllegalArgumentException("the link key must be at least 32 bytes");
        }
        this.key = key.clone();
    }

    public String issue(String approvalId, String reviewer, Action action, Instant expires) {
        byte[] n = new byte[16];
        random.nextBytes(n);
        String payload = String.join("\n", "v1", approvalId, reviewer, action.name().toLowerCase(),
                Long.toString(expires.getEpochSecond()), HexFormat.of().formatHex(n));
        byte[] p = payload.getBytes(StandardCharsets.UTF_8);
        return B64.encodeToString(p) + "." + B64.encodeToString(mac(p));
    }

    /**
     * The token's claims when its MAC is right, it is for {@code approvalId} and not expired at
     * {@code now}; otherwise a reason a person can act on. (Single use is checked by the store.)
     */
    public Result verify(String token, String approvalId, Instant now) {
        if (token == null || token.isBlank()) {
            return Result.refused("this page needs the link from your notification mail (the token is missing)");
        }
        if (token.length() > MAX_TOKEN_CHARS) {
            return Result.refused("the link is not valid (token too long)");
        }
        int dot = token.indexOf('.');
        byte[] payload;
        byte[] given;
        try {
            if (dot <= 0 || dot != token.lastIndexOf('.')) {
                throw new IllegalArgumentException();
            }
            payload = D64.decode(token.substring(0, dot));
            given = D64.decode(token.substring(dot + 1));
        } catch (IllegalArgumentException e) {
            return Result.refused("the link is not valid (damaged or forged token); use the link from your mail as it is");
        }
        if (!MessageDigest.isEqual(mac(payload), given)) {
            return Result.refused("the link is not valid (damaged or forged token); use the link from your mail as it is");
        }
        String[] f = new String(payload, StandardCharsets.UTF_8).split("\n", -1);
        if (f.length != 6 || !f[0].equals("v1")) {
            return Result.refused("the link is not valid (unknown token format)");
        }
        if (!f[1].equals(approvalId)) {
            return Result.refused("this link belongs to another approval request (" + f[1] + ")");
        }
        Instant expires = Instant.ofEpochSecond(Long.parseLong(f[4]));
        if (!now.isBefore(expires)) {
            return Result.refused("this link expired at " + expires + " (with the request)");
        }
        Action action = f[3].equals("approve") ? Action.APPROVE : Action.DENY;
        return new Result(new Claims(f[1], f[2], action, expires, f[5]), null);
    }

    /** Either claims or a refusal message. */
    public record Result(Claims claims, String problem) {
        static Result refused(String why) {
            return new Result(null, why);
        }

        public boolean ok() {
            return claims != null;
        }
    }

    private byte[] mac(byte[] payload) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(key, "HmacSHA256"));
            return m.doFinal(payload);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The key kept (base64) in {@code file}; 32 random bytes written with mode 0600 when it is missing. */
    public static byte[] loadOrGenerateKey(Path file) throws IOException {
        if (!Files.exists(file)) {
            byte[] b = new byte[32];
            new SecureRandom().nextBytes(b);
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, ".approval", ".tmp");
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system
            }
            Files.writeString(tmp, Base64.getEncoder().encodeToString(b) + "\n", StandardCharsets.US_ASCII);
            try {
                Files.move(tmp, file);
            } catch (FileAlreadyExistsException e) {
                Files.delete(tmp); // another instance made it first; use theirs
            }
        }
        byte[] k;
        try {
            k = Base64.getDecoder().decode(Files.readString(file, StandardCharsets.US_ASCII).strip());
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": the approval link key must be base64");
        }
        if (k.length < 32) {
            throw new IOException(file + ": the approval link key must be at least 32 bytes (base64)");
        }
        return k;
    }

    static Optional<String> nonEmpty(String s) {
        return s == null || s.isBlank() ? Optional.empty() : Optional.of(s);
    }
}
