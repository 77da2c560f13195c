package dev.warden.audit;

import dev.warden.audit.AuditSettings.BindMode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Turns bind parameter values into what the audit stores, per {@code audit.bindParameters}:
 * <ul>
 *   <li>{@code hash} (default): {@code "hmac-sha256:" + hex(HMAC-SHA-256(instance key, UTF-8 value))} — equal
 *       values can be recognised by whoever holds the key, the values themselves are not stored;</li>
 *   <li>{@code sealed}: {@code "aes-gcm:" + base64(12-byte nonce || ciphertext || 16-byte tag)} under the
 *       configured seal key — recoverable with that key ({@link #unseal});</li>
 *   <li>{@code plain}: the value itself.</li>
 * </ul>
 * SQL NULL stays null. Thread-safe; used on the producers' threads.
 */
public final class BindParameterCodec {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final BindMode mode;
    private final SecretKeySpec key;
    private final ThreadLocal<Mac> macs;
    private final String modeName;
    /** What a hashed value starts with, as a string and as the bytes {@link #encodeInto} writes. */
    private static final String HMAC = "hmac-sha256:";
    private static final byte[] HMAC_PREFIX = HMAC.getBytes(StandardCharsets.US_ASCII);

    public BindParameterCodec(BindMode mode, byte[] key) {
        this.mode = mode;
        this.modeName = mode.name().toLowerCase(java.util.Locale.ROOT);
        this.key = mode == BindMode.PLAIN ? null
                : new SecretKeySpec(key, mode == BindMode.HASH ? "HmacSHA256" : "AES");
        this.macs = ThreadLocal.withInitial(() -> {
            try {
                Mac m = Mac.getInstance("HmacSHA256");
                m.init(this.key);
                return m;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        });
        if (mode == BindMode.SEALED && key.length != 16 && key.length != 24 && key.length != 32) {
            throw new IllegalArgumentException("the seal key must be 16, 24 or 32 bytes, got " + key.length);
        }
    }

    public BindMode mode() {
        return mode;
    }

    public String modeName() {
        return modeName;
    }

    public List<String> encode(List<String> values) {
        List<String> out = new ArrayList<>(values.size());
        for (String v : values) {
            out.add(v == null ? null : encode(v));
        }
        return out;
    }

    public String encode(String value) {
        switch (mode) {
            case PLAIN:
                return value;
            case HASH:
                Mac mac = macs.get();
                return HMAC + Canonical.hex(mac.doFinal(value.getBytes(StandardCharsets.UTF_8)));
            default:
                byte[] raw = value.getBytes(StandardCharsets.UTF_8);
                try {
                    byte[] nonce = new byte[12];
                    RANDOM.nextBytes(nonce);
                    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                    c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, nonce));
                    byte[] ct = c.doFinal(raw);
                    return "aes-gcm:" + Base64.getEncoder().encodeToString(
                            ByteBuffer.allocate(12 + ct.length).put(nonce).put(ct).array());
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException("cannot seal a bind parameter", e);
                }
        }
    }

    /** Writes {@link #encode(String) encode(value)} as a canonical JSON string, without the intermediate strings for {@code hash}. */
    void encodeInto(Canonical.Bytes out, String value) {
        if (mode == BindMode.HASH) {
            out.hexString(HMAC_PREFIX, macs.get().doFinal(value.getBytes(StandardCharsets.UTF_8)));
        } else {
            out.string(encode(value));
        }
    }

    /** Recovers a sealed value with the seal key; throws if the key is wrong or the value was altered. */
    public static String unseal(String sealed, byte[] sealKey) throws GeneralSecurityException {
        if (!sealed.startsWith("aes-gcm:")) {
            throw new IllegalArgumentException("not a sealed value");
        }
        byte[] all = Base64.getDecoder().decode(sealed.substring(8));
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(sealKey, "AES"), new GCMParameterSpec(128, all, 0, 12));
        return new String(c.doFinal(all, 12, all.length - 12), StandardCharsets.UTF_8);
    }

    /** The HMAC form of a value under a hash key, to look a known value up in the audit. */
    public static String hashOf(String value, byte[] hashKey) {
        return new BindParameterCodec(BindMode.HASH, hashKey).encode(value);
    }
}
