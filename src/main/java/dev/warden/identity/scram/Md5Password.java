package dev.warden.identity.scram;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Objects;

/**
 * PostgreSQL's legacy md5 password authentication (AuthenticationMD5Password, request code 5).
 *
 * <p>The server stores {@code "md5" + hex(md5(password + user))} and challenges with a 4-byte
 * salt; the client answers with {@code "md5" + hex(md5(hex(md5(password + user)) + salt))}.
 * Strings are taken as UTF-8, which is what PostgreSQL hashes when client and server encodings
 * are UTF-8; no SASLprep is applied, matching libpq. md5 is weak (the stored hash is
 * password-equivalent), so this exists only for upstreams that still require it.
 */
public final class Md5Password {

    private Md5Password() {
    }

    /**
     * The PasswordMessage payload answering an md5 challenge: the ASCII text
     * {@code md5<32 lowercase hex digits>}, 35 bytes, without the trailing NUL that the wire
     * format adds.
     *
     * @param user  the role name from the startup packet, as PostgreSQL salts with it
     * @param salt4 the 4 salt bytes from AuthenticationMD5Password
     */
    public static byte[] response(String user, String password, byte[] salt4) {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(salt4, "salt4");
        if (salt4.length != 4) {
            throw new IllegalArgumentException("md5 salt must be 4 bytes, got " + salt4.length);
        }
        // The inner hex digest is exactly what pg_authid stores after the "md5" prefix.
        String inner = storedHash(user, password).substring(3);
        MessageDigest md5 = md5();
        md5.update(inner.getBytes(StandardCharsets.US_ASCII));
        md5.update(salt4);
        return ("md5" + HexFormat.of().formatHex(md5.digest())).getBytes(StandardCharsets.US_ASCII);
    }

    /** The form PostgreSQL stores in pg_authid for password_encryption = md5. */
    public static String storedHash(String user, String password) {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        MessageDigest md5 = md5();
        md5.update(password.getBytes(StandardCharsets.UTF_8));
        md5.update(user.getBytes(StandardCharsets.UTF_8));
        return "md5" + HexFormat.of().formatHex(md5.digest());
    }

    private static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("MD5 is mandatory in every JDK", e);
        }
    }
}
