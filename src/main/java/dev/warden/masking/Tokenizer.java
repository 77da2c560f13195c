package dev.warden.masking;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Keyed deterministic tokens: every digit becomes a digit, every ASCII letter a letter of the same
 * case, everything else stays, so "123-45-6789" becomes e.g. "804-17-2236". The same value always
 * gives the same token under one key (joins and GROUP BY still line up); without the key a token
 * cannot be traced back by trying candidate values, as a plain hash could be.
 */
public final class Tokenizer {
    private final SecretKeySpec key;

    public Tokenizer(byte[] key) {
        if (key == null || key.length < 16) {
            throw new IllegalArgumentException("a token key needs at least 16 bytes");
        }
        this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
    }

    public String token(String value) {
        byte[] in = value.getBytes(StandardCharsets.UTF_8);
        byte[] stream = new byte[0];
        StringBuilder out = new StringBuilder(value.length());
        int pos = 0;
        int block = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            int kind = c >= '0' && c <= '9' ? 10 : c >= 'a' && c <= 'z' ? 26 : c >= 'A' && c <= 'Z' ? 26 : 0;
            if (kind == 0) {
                out.append(c);
                continue;
            }
            if (pos + 2 > stream.length) {
                stream = mac(in, block++);
                pos = 0;
            }
            int r = ((stream[pos] & 0xff) << 8 | (stream[pos + 1] & 0xff)) % kind;
            pos += 2;
            char base = c <= '9' ? '0' : c <= 'Z' ? 'A' : 'a';
            out.append((char) (base + r));
        }
        return out.toString();
    }

    private byte[] mac(byte[] value, int block) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(key);
            m.update((byte) block);
            m.update((byte) (block >>> 8));
            return m.doFinal(value);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }
}
