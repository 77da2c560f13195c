package dev.warden.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;

/**
 * Ed25519 keys for checkpoint signatures, as PEM files that openssl reads and writes:
 * the private key PKCS#8 ({@code openssl genpkey -algorithm ed25519}), the public key X.509
 * SubjectPublicKeyInfo ({@code openssl pkey -in key.pem -pubout}). A key's id is the first 16 bytes
 * of SHA-256 over the public key's DER encoding, in hex.
 */
public final class SigningKeys {
    /** DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 key bytes follow. */
    private static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    private SigningKeys() {
    }

    /** The key pair at {@code file}; with {@code generate}, a missing file is created (and its .pub.pem beside it). */
    public static KeyPair loadOrGenerate(Path file, boolean generate) throws IOException {
        if (!Files.exists(file)) {
            if (!generate) {
                throw new IOException("audit signing key " + file + " does not exist");
            }
            return generate(file);
        }
        PrivateKey priv = readPrivate(file);
        return new KeyPair(derivePublic(priv), priv);
    }

    public static KeyPair generate(Path file) throws IOException {
        KeyPair kp;
        try {
            kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".signing", ".tmp");
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
            // not a POSIX file system
        }
        Files.writeString(tmp, pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
        Files.move(tmp, file);
        Files.writeString(publicKeyFileFor(file), pem("PUBLIC KEY", kp.getPublic().getEncoded()));
        return kp;
    }

    /** Where a generated key's public half is written: {@code x.pem} → {@code x.pub.pem}. */
    public static Path publicKeyFileFor(Path privateKeyFile) {
        String n = privateKeyFile.getFileName().toString();
        String base = n.endsWith(".pem") ? n.substring(0, n.length() - 4) : n;
        return privateKeyFile.resolveSibling(base + ".pub.pem");
    }

    public static PrivateKey readPrivate(Path file) throws IOException {
        byte[] der = readPem(file, "PRIVATE KEY");
        try {
            return KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new IOException(file + " is not a PKCS#8 Ed25519 private key: " + e.getMessage(), e);
        }
    }

    /** A public key from a "PUBLIC KEY" PEM file, or derived from a "PRIVATE KEY" PEM file. */
    public static PublicKey readPublic(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        if (text.contains("-----BEGIN PRIVATE KEY-----")) {
            return derivePublic(readPrivate(file));
        }
        byte[] der = readPem(file, "PUBLIC KEY");
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new IOException(file + " is not an Ed25519 public key: " + e.getMessage(), e);
        }
    }

    public static PublicKey derivePublic(PrivateKey priv) {
        byte[] seed = ((EdECPrivateKey) priv).getBytes().orElseThrow(() -> new IllegalArgumentException("no key bytes"));
        byte[] pub = new Ed25519PrivateKeyParameters(seed, 0).generatePublicKey().getEncoded();
        byte[] der = Arrays.copyOf(X509_PREFIX, X509_PREFIX.length + 32);
        System.arraycopy(pub, 0, der, X509_PREFIX.length, 32);
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String keyId(PublicKey key) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
            return Canonical.hex(Arrays.copyOf(d, 16));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static byte[] readPem(Path file, String type) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        String begin = "-----BEGIN " + type + "-----";
        String end = "-----END " + type + "-----";
        int b = text.indexOf(begin);
        int e = text.indexOf(end);
        if (b < 0 || e < b) {
            throw new IOException(file + " is not a PEM file holding a " + type);
        }
        return Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
    }
}
