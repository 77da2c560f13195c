package dev.warden.masking;

import com.google.crypto.tink.HybridDecrypt;
import com.google.crypto.tink.HybridEncrypt;
import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeyTemplates;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import com.google.crypto.tink.hybrid.HybridConfig;
import com.google.crypto.tink.hybrid.HybridPrivateKey;
import dev.warden.audit.Canonical;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Originals for auditors ({@code targets.<name>.masking.sealOriginals}): the original values of
 * the cells Warden masked are encrypted with the auditors' Tink hybrid public keyset (HPKE or
 * ECIES) and kept in the statement's outcome record as {@code sealedOriginals}. Warden holds only
 * the public keyset, so it cannot read them back; whoever holds the private keyset can, with
 * {@code ./warden audit unseal}. The context info of each ciphertext is the statement record's id,
 * so a sealed document cannot be moved to another record unnoticed.
 *
 * <p>The sealed plaintext is canonical JSON: {@code {"columns":[...],"rows":[[...]],"truncated":bool}}
 * — one entry per masked column (its label, as in the outcome's {@code masked.columns}), each row the
 * original values of the masked cells of one result row (null where that cell was not masked or was
 * NULL); values sent in binary format are given as {@code "\\x<hex>"}.
 */
public final class SealedOriginals {
    /** The template {@code ./warden audit seal-keygen} uses. */
    public static final String KEY_TEMPLATE = "DHKEM_X25519_HKDF_SHA256_HKDF_SHA256_AES_256_GCM";
    public static final int DEFAULT_MAX_BYTES = 64 * 1024;

    static {
        try {
            HybridConfig.register();
        } catch (GeneralSecurityException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final HybridEncrypt encrypt;
    private final int maxBytes;

    public SealedOriginals(KeysetHandle publicKeyset, int maxBytes) throws GeneralSecurityException {
        this.encrypt = publicKeyset.getPrimitive(RegistryConfiguration.get(), HybridEncrypt.class);
        this.maxBytes = maxBytes;
    }

    public int maxBytes() {
        return maxBytes;
    }

    /**
     * Reads a Tink public keyset (JSON) for a hybrid primitive; the exception's message says what is
     * wrong in words an operator can act on.
     */
    public static KeysetHandle readPublicKeyset(Path file) throws IllegalArgumentException {
        String json;
        try {
            json = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
        }
        KeysetHandle h;
        try {
            h = TinkJsonProtoKeysetFormat.parseKeysetWithoutSecret(json);
        } catch (GeneralSecurityException | RuntimeException e) {
            if (holdsPrivateKey(json)) {
                throw new IllegalArgumentException(file + " holds a PRIVATE hybrid keyset; give Warden only the public "
                        + "keyset (the private one stays with the auditors, never on the Warden host)");
            }
            throw new IllegalArgumentException(file + " is not a Tink public keyset in JSON format ("
                    + e.getMessage() + "); create one with ./warden audit seal-keygen --out DIR");
        }
        try {
            h.getPrimitive(RegistryConfiguration.get(), HybridEncrypt.class);
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException(file + " is a Tink keyset, but not a public keyset for hybrid "
                    + "encryption (HPKE or ECIES): " + e.getMessage());
        }
        return h;
    }

    private static boolean holdsPrivateKey(String json) {
        try {
            KeysetHandle h = TinkJsonProtoKeysetFormat.parseKeyset(json, InsecureSecretKeyAccess.get());
            return h.getPrimary().getKey() instanceof HybridPrivateKey;
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    /** Reads a Tink private keyset (cleartext JSON, as seal-keygen writes it). */
    public static KeysetHandle readPrivateKeyset(Path file) throws IOException, GeneralSecurityException {
        return TinkJsonProtoKeysetFormat.parseKeyset(Files.readString(file, StandardCharsets.UTF_8),
                InsecureSecretKeyAccess.get());
    }

    /** A new keyset: [private JSON, public JSON]. */
    public static String[] generate() throws GeneralSecurityException {
        KeysetHandle priv = KeysetHandle.generateNew(KeyTemplates.get(KEY_TEMPLATE));
        return new String[] {TinkJsonProtoKeysetFormat.serializeKeyset(priv, InsecureSecretKeyAccess.get()),
                TinkJsonProtoKeysetFormat.serializeKeysetWithoutSecret(priv.getPublicKeysetHandle())};
    }

    /** The sealed document (base64 of the ciphertext), bound to the statement record's id. */
    public String seal(Originals o, String recordId) throws GeneralSecurityException {
        byte[] ct = encrypt.encrypt(o.toJson(), recordId.getBytes(StandardCharsets.UTF_8));
        return Base64.getEncoder().encodeToString(ct);
    }

    /** Opens a sealed document with the private keyset; fails when the key or the record id does not match. */
    public static String unseal(KeysetHandle privateKeyset, String sealedBase64, String recordId)
            throws GeneralSecurityException {
        HybridDecrypt d = privateKeyset.getPrimitive(RegistryConfiguration.get(), HybridDecrypt.class);
        byte[] pt = d.decrypt(Base64.getDecoder().decode(sealedBase64), recordId.getBytes(StandardCharsets.UTF_8));
        return new String(pt, StandardCharsets.UTF_8);
    }

    /** A new collector for one statement's result. */
    public Originals collector(String[] columns, boolean[] binary) {
        return new Originals(this, columns, binary, maxBytes);
    }

    /**
     * The original values of one statement's masked cells, collected on the event loop: copies of
     * the cell bytes only, at most {@code maxBytes} of them; encoding and encryption come later.
     */
    public static final class Originals {
        private final SealedOriginals sealer;
        private final String[] columns;
        private final boolean[] binary;
        private final int maxBytes;
        private final List<byte[][]> rows = new ArrayList<>();
        private long bytes;
        private boolean truncated;

        Originals(SealedOriginals sealer, String[] columns, boolean[] binary, int maxBytes) {
            this.sealer = sealer;
            this.columns = columns;
            this.binary = binary;
            this.maxBytes = maxBytes;
        }

        public SealedOriginals sealer() {
            return sealer;
        }

        /** Adds a row (cells not masked are null); false once the limit was reached. */
        boolean add(byte[][] row) {
            if (truncated) {
                return false;
            }
            long n = 8;
            for (byte[] c : row) {
                n += c == null ? 5 : c.length + 8;
            }
            if (bytes + n > maxBytes) {
                truncated = true;
                return false;
            }
            bytes += n;
            rows.add(row);
            return true;
        }

        int width() {
            return columns.length;
        }

        public boolean truncated() {
            return truncated;
        }

        public int rowCount() {
            return rows.size();
        }

        byte[] toJson() {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("columns", List.of(columns));
            List<Object> rs = new ArrayList<>(rows.size());
            for (byte[][] r : rows) {
                List<Object> vs = new ArrayList<>(r.length);
                for (int i = 0; i < r.length; i++) {
                    byte[] v = r[i];
                    vs.add(v == null ? null : binary != null && i < binary.length && binary[i]
                            ? "\\x" + HexFormat.of().formatHex(v) : new String(v, StandardCharsets.UTF_8));
                }
                rs.add(vs);
            }
            doc.put("rows", rs);
            doc.put("truncated", truncated);
            return Canonical.encode(doc);
        }
    }
}
