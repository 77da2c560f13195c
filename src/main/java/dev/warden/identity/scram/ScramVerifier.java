package dev.warden.identity.scram;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.text.Normalizer;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A SCRAM-SHA-256 secret as PostgreSQL stores it in {@code pg_authid.rolpassword}:
 * {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>} (RFC 5802/7677).
 *
 * <p>Arrays are copied on the way in and out, so an instance is immutable and safe to share.
 * {@link #toString()} never prints the keys: the ServerKey lets its holder impersonate the
 * server, so it should not land in logs.
 *
 * <p>This class also hosts the package's SCRAM primitives (Hi, HMAC, H, SASLprep) so the
 * client and server sessions share one implementation.
 */
public record ScramVerifier(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) {

    public static final String MECHANISM = "SCRAM-SHA-256";
    /** PostgreSQL's defaults (scram_iterations, SCRAM_DEFAULT_SALT_LEN). */
    public static final int DEFAULT_ITERATIONS = 4096;
    public static final int DEFAULT_SALT_LENGTH = 16;
    static final int KEY_LENGTH = 32;

    private static final byte[] CLIENT_KEY = "Client Key".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SERVER_KEY = "Server Key".getBytes(StandardCharsets.US_ASCII);

    public ScramVerifier {
        if (iterations < 1) {
            throw new IllegalArgumentException("SCRAM iteration count must be at least 1, got " + iterations);
        }
        Objects.requireNonNull(salt, "salt");
        Objects.requireNonNull(storedKey, "storedKey");
        Objects.requireNonNull(serverKey, "serverKey");
        if (salt.length == 0) {
            throw new IllegalArgumentException("SCRAM salt must not be empty");
        }
        if (storedKey.length != KEY_LENGTH || serverKey.length != KEY_LENGTH) {
            throw new IllegalArgumentException("SCRAM-SHA-256 StoredKey and ServerKey must be "
                    + KEY_LENGTH + " bytes, got " + storedKey.length + " and " + serverKey.length);
        }
        salt = salt.clone();
        storedKey = storedKey.clone();
        serverKey = serverKey.clone();
    }

    @Override
    public byte[] salt() {
        return salt.clone();
    }

    @Override
    public byte[] storedKey() {
        return storedKey.clone();
    }

    @Override
    public byte[] serverKey() {
        return serverKey.clone();
    }

    /** Parses PostgreSQL's stored form; messages name the faulty part but never echo key material. */
    public static ScramVerifier parse(String secret) {
        Objects.requireNonNull(secret, "secret");
        String[] dollar = secret.split("\\$", -1);
        if (dollar.length != 3) {
            throw new IllegalArgumentException(
                    "not a SCRAM secret: expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>");
        }
        if (!MECHANISM.equals(dollar[0])) {
            throw new IllegalArgumentException("unsupported SCRAM mechanism in secret: only "
                    + MECHANISM + " is supported");
        }
        String[] iterSalt = dollar[1].split(":", -1);
        String[] keys = dollar[2].split(":", -1);
        if (iterSalt.length != 2) {
            throw new IllegalArgumentException("SCRAM secret: expected <iterations>:<salt> after the mechanism");
        }
        if (keys.length != 2) {
            throw new IllegalArgumentException("SCRAM secret: expected <StoredKey>:<ServerKey> after the salt");
        }
        int iterations = parseIterations(iterSalt[0]);
        byte[] salt = decodeBase64(iterSalt[1], "salt");
        byte[] storedKey = decodeBase64(keys[0], "StoredKey");
        byte[] serverKey = decodeBase64(keys[1], "ServerKey");
        if (salt.length == 0) {
            throw new IllegalArgumentException("SCRAM secret: salt is empty");
        }
        if (storedKey.length != KEY_LENGTH) {
            throw new IllegalArgumentException("SCRAM secret: StoredKey must be " + KEY_LENGTH + " bytes");
        }
        if (serverKey.length != KEY_LENGTH) {
            throw new IllegalArgumentException("SCRAM secret: ServerKey must be " + KEY_LENGTH + " bytes");
        }
        return new ScramVerifier(iterations, salt, storedKey, serverKey);
    }

    /** The form PostgreSQL stores and accepts in {@code CREATE ROLE ... PASSWORD '...'}. */
    public String format() {
        Base64.Encoder b64 = Base64.getEncoder();
        return MECHANISM + "$" + iterations + ":" + b64.encodeToString(salt)
                + "$" + b64.encodeToString(storedKey) + ":" + b64.encodeToString(serverKey);
    }

    /** Derives a verifier with a fresh random 16-byte salt and 4096 iterations, as PostgreSQL does. */
    public static ScramVerifier fromPassword(String password) {
        byte[] salt = new byte[DEFAULT_SALT_LENGTH];
        Holder.RANDOM.nextBytes(salt);
        return fromPassword(password, salt, DEFAULT_ITERATIONS);
    }

    /**
     * Derives the verifier PostgreSQL would store for this password, salt and iteration count.
     * The password is prepared like PostgreSQL's SASLprep, in a slightly simplified form: NFKC
     * normalisation with a fallback to the raw UTF-8 bytes when the string is not valid for
     * SASLprep (details on the package-private {@code saslPrep}).
     *
     * @throws IllegalArgumentException for a password containing NUL or an unpaired surrogate
     */
    public static ScramVerifier fromPassword(String password, byte[] salt, int iterations) {
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(salt, "salt");
        if (iterations < 1) {
            throw new IllegalArgumentException("SCRAM iteration count must be at least 1, got " + iterations);
        }
        if (salt.length == 0) {
            throw new IllegalArgumentException("SCRAM salt must not be empty");
        }
        byte[] salted = saltedPassword(saslPrep(password), salt, iterations);
        try {
            byte[] clientKey = clientKey(salted);
            try {
                return new ScramVerifier(iterations, salt, sha256(clientKey), serverKeyOf(salted));
            } finally {
                Arrays.fill(clientKey, (byte) 0);
            }
        } finally {
            Arrays.fill(salted, (byte) 0);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScramVerifier v && iterations == v.iterations
                && Arrays.equals(salt, v.salt)
                && MessageDigest.isEqual(storedKey, v.storedKey)
                && MessageDigest.isEqual(serverKey, v.serverKey);
    }

    @Override
    public int hashCode() {
        return 31 * iterations + Arrays.hashCode(salt);
    }

    @Override
    public String toString() {
        return "ScramVerifier[iterations=" + iterations + ", salt="
                + Base64.getEncoder().encodeToString(salt) + ", keys=<redacted>]";
    }

    private static int parseIterations(String text) {
        // Digits only and bounded length, so "+5", " 5" or an int overflow cannot sneak through.
        if (text.isEmpty() || text.length() > 10 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("SCRAM secret: iteration count is not a positive integer");
        }
        long value = Long.parseLong(text);
        if (value < 1 || value > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("SCRAM secret: iteration count out of range");
        }
        return (int) value;
    }

    private static byte[] decodeBase64(String text, String what) {
        try {
            return Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("SCRAM secret: " + what + " is not valid base64");
        }
    }

    // ---------------------------------------------------------------- SCRAM primitives

    /** ClientKey = HMAC(SaltedPassword, "Client Key"). */
    static byte[] clientKey(byte[] saltedPassword) {
        return hmac(saltedPassword, CLIENT_KEY);
    }

    /** ServerKey = HMAC(SaltedPassword, "Server Key"). */
    static byte[] serverKeyOf(byte[] saltedPassword) {
        return hmac(saltedPassword, SERVER_KEY);
    }

    /** Hi() of RFC 5802, i.e. PBKDF2-HMAC-SHA-256 with a single 32-byte block. */
    static byte[] saltedPassword(byte[] password, byte[] salt, int iterations) {
        Mac mac = newMac(password);
        mac.update(salt);
        mac.update(new byte[] {0, 0, 0, 1});
        byte[] u = mac.doFinal();
        byte[] result = u.clone();
        for (int i = 1; i < iterations; i++) {
            u = mac.doFinal(u);
            for (int j = 0; j < result.length; j++) {
                result[j] ^= u[j];
            }
        }
        return result;
    }

    static byte[] hmac(byte[] key, byte[] data) {
        return newMac(key).doFinal(data);
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is mandatory in every JDK", e);
        }
    }

    private static Mac newMac(byte[] key) {
        // SecretKeySpec refuses an empty key, but HMAC zero-pads short keys to the block size,
        // so a single zero byte yields exactly the HMAC of the empty key (empty password).
        byte[] k = key.length == 0 ? new byte[1] : key;
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(k, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is mandatory in every JDK", e);
        }
    }

    // ---------------------------------------------------------------- SASLprep

    /** RFC 3454 C.1.2, mapped to SPACE (checked before B.1, as PostgreSQL does, since U+200B is in both). */
    private static final int[] NON_ASCII_SPACE = {
        0x00A0, 0x00A0, 0x1680, 0x1680, 0x2000, 0x200B, 0x202F, 0x202F, 0x205F, 0x205F, 0x3000, 0x3000,
    };

    /** RFC 3454 B.1, "commonly mapped to nothing". */
    private static final int[] MAPPED_TO_NOTHING = {
        0x00AD, 0x00AD, 0x034F, 0x034F, 0x1806, 0x1806, 0x180B, 0x180D, 0x200B, 0x200D,
        0x2060, 0x2060, 0xFE00, 0xFE0F, 0xFEFF, 0xFEFF,
    };

    /** RFC 3454 C.2.1 to C.9 (C.1.2 is gone after mapping); C.4's per-plane U+xFFFE/F is tested separately. */
    private static final int[] PROHIBITED = {
        0x0000, 0x001F, 0x007F, 0x009F, // C.2.1, C.2.2 (0x80-0x9F)
        0x0340, 0x0341, 0x06DD, 0x06DD, 0x070F, 0x070F, 0x180E, 0x180E, // C.8, C.2.2
        0x200C, 0x200F, 0x2028, 0x2029, 0x202A, 0x202E, 0x2060, 0x2063, 0x206A, 0x206F, // C.2.2, C.8
        0x2FF0, 0x2FFB, 0xD800, 0xDFFF, 0xE000, 0xF8FF, 0xFDD0, 0xFDEF, // C.7, C.5, C.3, C.4
        0xFEFF, 0xFEFF, 0xFFF9, 0xFFFD, 0x1D173, 0x1D17A, // C.2.2, C.6
        0xE0001, 0xE0001, 0xE0020, 0xE007F, 0xF0000, 0xFFFFD, 0x100000, 0x10FFFD, // C.9, C.3
    };

    /**
     * The password bytes SCRAM hashes, following PostgreSQL's {@code pg_saslprep}: a pure-ASCII
     * password is used verbatim; otherwise non-ASCII spaces become SPACE, "mapped to nothing"
     * characters are dropped, the result is NFKC-normalised, and if SASLprep would reject the
     * string (prohibited or unassigned characters, bidi violation, nothing left) the raw UTF-8
     * bytes are used instead, which is PostgreSQL's fallback too.
     *
     * <p>Simplification: PostgreSQL judges "unassigned" and the bidi classes with RFC 3454's
     * Unicode 3.2 tables, while this uses the JDK's newer Unicode data. The two only disagree for
     * passwords containing characters assigned after Unicode 3.2, for which PostgreSQL hashes the
     * raw bytes and this method may hash the normalised form.
     *
     * @throws IllegalArgumentException if the password contains NUL or an unpaired surrogate,
     *         neither of which a PostgreSQL password can hold
     */
    static byte[] saslPrep(String password) {
        if (password.indexOf('\0') >= 0) {
            // PostgreSQL passwords are C strings; also, HMAC zero-pads keys, so "a" and "a\0"
            // would silently be the same password.
            throw new IllegalArgumentException("password must not contain NUL characters");
        }
        if (password.chars().allMatch(c -> c < 0x80)) {
            return password.getBytes(StandardCharsets.US_ASCII);
        }
        if (hasLoneSurrogate(password)) {
            // Such a string has no UTF-8 form, so there are no "raw bytes" to fall back to.
            throw new IllegalArgumentException("password is not valid Unicode (unpaired surrogate)");
        }
        int[] mapped = password.codePoints()
                .map(cp -> inRanges(cp, NON_ASCII_SPACE) ? ' ' : cp)
                .filter(cp -> !inRanges(cp, MAPPED_TO_NOTHING))
                .toArray();
        // Like PostgreSQL, the checks below look at the mapped but not yet normalised characters.
        if (mapped.length == 0 || !passesProhibitionAndBidi(mapped)) {
            return password.getBytes(StandardCharsets.UTF_8);
        }
        String normalised = Normalizer.normalize(new String(mapped, 0, mapped.length), Normalizer.Form.NFKC);
        return normalised.getBytes(StandardCharsets.UTF_8);
    }

    private static boolean passesProhibitionAndBidi(int[] cps) {
        boolean randAl = false;
        boolean l = false;
        for (int cp : cps) {
            if (inRanges(cp, PROHIBITED) || (cp & 0xFFFE) == 0xFFFE
                    || Character.getType(cp) == Character.UNASSIGNED) {
                return false;
            }
            randAl |= isRandAl(cp);
            l |= Character.getDirectionality(cp) == Character.DIRECTIONALITY_LEFT_TO_RIGHT;
        }
        return !randAl || (!l && isRandAl(cps[0]) && isRandAl(cps[cps.length - 1]));
    }

    private static boolean isRandAl(int cp) {
        byte d = Character.getDirectionality(cp);
        return d == Character.DIRECTIONALITY_RIGHT_TO_LEFT || d == Character.DIRECTIONALITY_RIGHT_TO_LEFT_ARABIC;
    }

    private static boolean hasLoneSurrogate(String s) {
        // codePoints() passes an unpaired surrogate through as its own value.
        return s.codePoints().anyMatch(cp -> cp >= 0xD800 && cp <= 0xDFFF);
    }

    private static boolean inRanges(int cp, int[] ranges) {
        for (int i = 0; i < ranges.length; i += 2) {
            if (cp >= ranges[i] && cp <= ranges[i + 1]) {
                return true;
            }
        }
        return false;
    }

    /** Lazily created so parsing verifiers never pays for seeding a SecureRandom. */
    private static final class Holder {
        static final SecureRandom RANDOM = new SecureRandom();
    }
}
