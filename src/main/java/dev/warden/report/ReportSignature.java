package dev.warden.report;

import dev.warden.audit.Canonical;
import dev.warden.audit.SigningKeys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The signature file beside every report file ({@code report.pdf} → {@code report.pdf.sig}), in the
 * shape of an exported audit checkpoint: line 1 is canonical JSON naming the file, its SHA-256 and the
 * key, line 2 the base64 Ed25519 signature over exactly line 1. An examiner checks it with
 * {@code sha256sum} and {@code openssl pkeyutl -verify -rawin} (docs/reports.md), or with
 * {@code ./warden report verify FILE}.
 */
public final class ReportSignature {
    public static final String TYPE = "warden-report-signature";

    /** What a signature file says, once its signature has been checked. */
    public record Signed(String file, String report, String sha256, String keyId, String signedAt) {
    }

    private ReportSignature() {
    }

    public static Path sigFileFor(Path file) {
        return file.resolveSibling(file.getFileName() + ".sig");
    }

    public static String sha256(byte[] content) {
        try {
            return Canonical.hex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The two lines of the signature file for {@code content} published as {@code fileName}. */
    public static String sign(String fileName, String reportId, byte[] content, PrivateKey key, PublicKey publicKey) {
        Map<String, Object> m = new TreeMap<>();
        m.put("file", fileName);
        m.put("keyId", SigningKeys.keyId(publicKey));
        m.put("report", reportId);
        m.put("sha256", sha256(content));
        m.put("signedAt", Instant.now());
        m.put("type", TYPE);
        m.put("v", 1L);
        byte[] body = Canonical.encode(m);
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(key);
            s.update(body);
            return new String(body, StandardCharsets.UTF_8) + "\n" + Base64.getEncoder().encodeToString(s.sign()) + "\n";
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign the report", e);
        }
    }

    /** Writes {@code content} to {@code file} and its signature beside it. */
    public static void write(Path file, String reportId, byte[] content, PrivateKey key, PublicKey publicKey)
            throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, content);
        Files.writeString(sigFileFor(file), sign(file.getFileName().toString(), reportId, content, key, publicKey));
    }

    /**
     * Checks {@code file} against its signature file with the trusted keys. Throws
     * {@link VerificationException} naming what does not match.
     */
    public static Signed verify(Path file, Path sigFile, List<PublicKey> keys) throws IOException {
        if (!Files.exists(sigFile)) {
            throw new VerificationException("no signature file " + sigFile + " beside the report");
        }
        List<String> lines = Files.readAllLines(sigFile, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
        if (lines.size() != 2) {
            throw new VerificationException(sigFile + ": expected two lines (signed JSON, base64 signature)");
        }
        byte[] body = lines.get(0).getBytes(StandardCharsets.UTF_8);
        Map<String, Object> m;
        byte[] sig;
        try {
            m = Canonical.decodeObject(body);
            sig = Base64.getDecoder().decode(lines.get(1).strip());
        } catch (IllegalArgumentException e) {
            throw new VerificationException(sigFile + ": not a Warden report signature: " + e.getMessage());
        }
        if (!TYPE.equals(m.get("type"))) {
            throw new VerificationException(sigFile + ": not a Warden report signature (type " + m.get("type") + ")");
        }
        boolean ok = false;
        for (PublicKey k : keys) {
            try {
                Signature s = Signature.getInstance("Ed25519");
                s.initVerify(k);
                s.update(body);
                ok |= s.verify(sig);
            } catch (GeneralSecurityException | RuntimeException e) {
                // try the next key
            }
        }
        if (!ok) {
            throw new VerificationException("the signature does not verify with the given public key(s) (it names key "
                    + m.get("keyId") + "; given " + String.join(", ", keys.stream().map(SigningKeys::keyId).toList())
                    + ") — the signature file was altered or made with another key");
        }
        String actual = sha256(Files.readAllBytes(file));
        if (!actual.equals(m.get("sha256"))) {
            throw new VerificationException(file + " has SHA-256 " + actual + ", but the signed report has "
                    + m.get("sha256") + " — the report was modified after it was signed");
        }
        return new Signed(String.valueOf(m.get("file")), String.valueOf(m.get("report")), actual,
                String.valueOf(m.get("keyId")), String.valueOf(m.get("signedAt")));
    }

    /** A report that does not match its signature. */
    public static final class VerificationException extends IOException {
        public VerificationException(String message) {
            super(message);
        }
    }
}
