package dev.warden.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A signed statement "the chain of instance {@code instanceId} has reached record {@code seq}, whose
 * hash is {@code head}". The signature is Ed25519 over {@code body}, the canonical JSON
 * <pre>{"head":"&lt;hex&gt;","instance":"…","keyId":"…","number":7,"seq":1234,"time":"…","type":"warden-audit-checkpoint","v":1}</pre>
 * Exported to a file as two lines per checkpoint: the body, then the signature in base64.
 */
public record Checkpoint(String instanceId, long number, long seq, byte[] head, Instant time, String keyId,
                         byte[] body, byte[] signature) {

    public static final String TYPE = "warden-audit-checkpoint";

    public static Checkpoint sign(String instanceId, long number, long seq, byte[] head, Instant time,
                                  PrivateKey key, String keyId) {
        Map<String, Object> m = new TreeMap<>();
        m.put("head", Canonical.hex(head));
        m.put("instance", instanceId);
        m.put("keyId", keyId);
        m.put("number", number);
        m.put("seq", seq);
        m.put("time", time);
        m.put("type", TYPE);
        m.put("v", 1L);
        byte[] body = Canonical.encode(m);
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(key);
            s.update(body);
            return new Checkpoint(instanceId, number, seq, head.clone(), Canonical.parseTime(Canonical.time(time)),
                    keyId, body, s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign a checkpoint", e);
        }
    }

    /** Rebuilds a checkpoint from its signed body (whatever columns it was stored with). */
    public static Checkpoint parse(byte[] body, byte[] signature) {
        Map<String, Object> m = Canonical.decodeObject(body);
        if (!TYPE.equals(m.get("type")) || !Long.valueOf(1).equals(m.get("v"))) {
            throw new IllegalArgumentException("not a Warden audit checkpoint");
        }
        try {
            return new Checkpoint((String) m.get("instance"), (Long) m.get("number"), (Long) m.get("seq"),
                    HexFormat.of().parseHex((String) m.get("head")), Canonical.parseTime((String) m.get("time")),
                    (String) m.get("keyId"), body, signature);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("malformed checkpoint body: " + e.getMessage(), e);
        }
    }

    public boolean verifies(PublicKey key) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(key);
            s.update(body);
            return s.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    /** Whether the body is canonical and says what the other fields say. */
    public boolean bodyMatchesFields() {
        try {
            Checkpoint p = parse(body, signature);
            return Arrays.equals(Canonical.encode(Canonical.decode(body)), body) && p.instanceId.equals(instanceId)
                    && p.number == number && p.seq == seq && Arrays.equals(p.head, head) && p.time.equals(time)
                    && p.keyId.equals(keyId);
        } catch (RuntimeException e) {
            return false;
        }
    }

    public String headHex() {
        return Canonical.hex(head);
    }

    /** The two lines of the export format. */
    public String toFileText() {
        return new String(body, StandardCharsets.UTF_8) + "\n" + Base64.getEncoder().encodeToString(signature) + "\n";
    }

    public static void writeFile(Path file, List<Checkpoint> checkpoints) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (Checkpoint c : checkpoints) {
            sb.append(c.toFileText());
        }
        Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
    }

    public static List<Checkpoint> readFile(Path file) throws IOException {
        List<String> lines = new ArrayList<>();
        for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!l.isBlank()) {
                lines.add(l.strip());
            }
        }
        if (lines.isEmpty() || lines.size() % 2 != 0) {
            throw new IOException(file + ": expected pairs of lines (checkpoint JSON, base64 signature)");
        }
        List<Checkpoint> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i += 2) {
            try {
                out.add(parse(lines.get(i).getBytes(StandardCharsets.UTF_8), Base64.getDecoder().decode(lines.get(i + 1))));
            } catch (IllegalArgumentException e) {
                throw new IOException(file + " line " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "checkpoint #" + number + " (instance " + instanceId + ", seq " + seq + ", head "
                + headHex().substring(0, 16) + "…)";
    }
}
