package dev.warden.recording;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.audit.Canonical;
import dev.warden.audit.ChainSlice;
import dev.warden.audit.RecordScan;
import dev.warden.audit.Checkpoint;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * A self-contained evidence bundle of one recorded session (zip): {@code manifest.json}, the chunk
 * files ({@code chunks/NNNNNN.wrc}), the audit records from the session's first record up to the
 * signed checkpoint that covers its last one ({@code audit/records.jsonl}: position, body in base64,
 * previous hash, hash), that checkpoint ({@code audit/checkpoint.txt}, the export-checkpoint format)
 * and the public key ({@code audit/public-key.pem}). Verification needs nothing else: the records
 * chain to the signed head, and each chunk hashes to its record.
 *
 * <p>Because the chain hashes whole records, the run of records also holds other sessions' records
 * written in between (their statements included); share bundles as you would share the audit store.
 */
public final class Bundle {
    private Bundle() {
    }

    /** Writes the bundle; fails when no signed checkpoint covers the session's last record yet. */
    public static void export(RecordingIndex index, Path directory, Connection audit, String sessionId,
                              PublicKey key, OutputStream out) throws SQLException, IOException {
        RecordingIndex.SessionRow s = index.session(sessionId);
        if (s == null) {
            throw new IOException("no recorded session " + sessionId);
        }
        long first;
        long last;
        long[] range = {0, 0};
        // the session's records lie within its lifetime (its events are stamped when they happen);
        // a minute of slack each side covers records stamped on another event loop's clock reading
        java.time.Instant from = s.started() == null ? null : s.started().minusSeconds(60);
        java.time.Instant to = s.ended() == null ? null : s.ended().plusSeconds(60);
        RecordScan.byTime(audit, s.instance(), from, to, null, 0, r -> {
            if (RecordScan.mentions(r, sessionId) && sessionId.equals(r.projection().sessionId())) {
                range[0] = range[0] == 0 ? r.seq() : Math.min(range[0], r.seq());
                range[1] = Math.max(range[1], r.seq());
            }
            return true;
        });
        first = range[0];
        last = range[1];
        if (first == 0) {
            throw new IOException("the audit store holds no records of session " + sessionId);
        }
        Checkpoint cp = ChainSlice.covering(audit, s.instance(), last);
        if (cp == null) {
            throw new IOException("no signed checkpoint covers the last audit record (" + last + ") of session "
                    + sessionId + " yet; checkpoints are signed every audit.checkpointInterval — try again shortly");
        }
        List<ChainSlice.Row> rows = ChainSlice.read(audit, s.instance(), first, cp.seq());
        ObjectNode manifest = JsonRead.MAPPER.createObjectNode();
        manifest.put("type", "warden-recording-bundle");
        manifest.put("v", 1);
        manifest.put("session", sessionId);
        manifest.put("instance", s.instance());
        manifest.put("target", s.target());
        manifest.put("firstRecord", first);
        manifest.put("lastRecord", cp.seq());
        manifest.put("checkpoint", cp.number());
        ArrayNode chunks = manifest.putArray("chunks");
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (RecordingIndex.ChunkRow c : index.chunks(s.instance(), sessionId)) {
                if (c.pruned() != null) {
                    continue;
                }
                // Warden's own naming, not the index's path; read once, a regular file only, at most the size
                // the index states (a link or pipe planted in the recordings directory is not followed)
                Path f = ChunkFiles.path(directory, s.instance(), sessionId, c.chunk());
                byte[] bytes = ChunkFiles.readOnce(f, c.bytes());
                if (bytes == null) {
                    throw new IOException("chunk " + c.chunk() + " of session " + sessionId + " is missing ("
                            + f + "); run ./warden audit verify");
                }
                String name = String.format("chunks/%06d.wrc", c.chunk());
                zip.putNextEntry(new ZipEntry(name));
                zip.write(bytes);
                zip.closeEntry();
                chunks.addObject().put("chunk", c.chunk()).put("file", name).put("sha256", c.sha256());
            }
            StringBuilder jl = new StringBuilder();
            for (ChainSlice.Row r : rows) {
                ObjectNode o = JsonRead.MAPPER.createObjectNode();
                o.put("seq", r.seq());
                o.put("body", Base64.getEncoder().encodeToString(r.body()));
                o.put("prevHash", HexFormat.of().formatHex(r.prevHash()));
                o.put("hash", HexFormat.of().formatHex(r.hash()));
                jl.append(JsonRead.MAPPER.writeValueAsString(o)).append('\n');
            }
            put(zip, "audit/records.jsonl", jl.toString());
            put(zip, "audit/checkpoint.txt", cp.toFileText());
            put(zip, "audit/public-key.pem", "-----BEGIN PUBLIC KEY-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded())
                    + "\n-----END PUBLIC KEY-----\n");
            put(zip, "manifest.json", JsonRead.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(manifest));
        }
    }

    private static void put(ZipOutputStream zip, String name, String text) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(text.getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
    }

    /** The outcome of checking a bundle offline. */
    public record Check(String session, String keyId, long records, int chunks, List<String> problems,
                        List<String> gaps) {
        public boolean ok() {
            return problems.isEmpty();
        }
    }

    /**
     * Verifies a bundle offline. {@code trusted}: public keys the auditor already holds (the bundle's own
     * key must then be one of them); empty: the bundle's key is used and its id reported.
     */
    public static Check verify(Path file, List<PublicKey> trusted) throws IOException {
        List<String> problems = new ArrayList<>();
        List<String> gaps = new ArrayList<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            JsonNode manifest = JsonRead.MAPPER.readTree(read(zip, "manifest.json"));
            String session = manifest.path("session").asText();
            String instance = manifest.path("instance").asText();
            PublicKey key = publicKey(new String(read(zip, "audit/public-key.pem"), StandardCharsets.UTF_8));
            String keyId = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getEncoded()), 0, 16);
            if (!trusted.isEmpty() && trusted.stream().noneMatch(k -> java.util.Arrays.equals(k.getEncoded(),
                    key.getEncoded()))) {
                problems.add("the bundle's public key (" + keyId + ") is not one of the keys given with --public-key");
            }
            Path tmp = Files.createTempFile("warden-bundle-checkpoint", ".txt");
            List<Checkpoint> cps;
            try {
                Files.write(tmp, read(zip, "audit/checkpoint.txt"));
                cps = Checkpoint.readFile(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
            if (cps.size() != 1) {
                throw new IOException("audit/checkpoint.txt must hold exactly one checkpoint");
            }
            Checkpoint cp = cps.get(0);
            if (!cp.verifies(key)) {
                problems.add("checkpoint #" + cp.number() + ": signature does not verify with the bundle's public key");
            }
            List<ChainSlice.Row> rows = new ArrayList<>();
            for (String line : new String(read(zip, "audit/records.jsonl"), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode o = JsonRead.MAPPER.readTree(line);
                rows.add(new ChainSlice.Row(o.path("seq").asLong(), Base64.getDecoder().decode(o.path("body").asText()),
                        HexFormat.of().parseHex(o.path("prevHash").asText()), HexFormat.of().parseHex(o.path("hash").asText())));
            }
            String chain = ChainSlice.verify(rows, instance, cp);
            if (chain != null) {
                problems.add(chain);
            }
            Map<Long, String> hashes = new HashMap<>();
            Set<Long> prunedChunks = new HashSet<>();
            for (ChainSlice.Row r : rows) {
                Map<String, Object> doc = Canonical.decodeObject(r.body());
                if (!"recording".equals(doc.get("type"))) {
                    continue;
                }
                @SuppressWarnings("unchecked")
                Map<String, Object> p = (Map<String, Object>) doc.get("payload");
                if (!session.equals(p.get("session"))) {
                    continue;
                }
                if ("chunk".equals(p.get("event"))) {
                    long n = ((Number) p.get("chunk")).longValue();
                    hashes.put(n, (String) p.get("sha256"));
                    if (p.get("droppedMessages") instanceof Number dm && dm.longValue() > 0) {
                        gaps.add("chunk " + n + ": " + dm + " message(s), " + p.get("droppedBytes")
                                + " bytes not recorded — the recorder could not keep up");
                    }
                } else if ("prune".equals(p.get("event")) && p.get("chunks") instanceof List<?> l) {
                    l.forEach(x -> prunedChunks.add(((Number) x).longValue()));
                }
            }
            int chunks = 0;
            for (Map.Entry<Long, String> h : hashes.entrySet()) {
                String name = String.format("chunks/%06d.wrc", h.getKey());
                ZipEntry ze = zip.getEntry(name);
                if (ze == null) {
                    if (!prunedChunks.contains(h.getKey())) {
                        problems.add("chunk " + h.getKey() + " is missing from the bundle — deleted");
                    }
                    continue;
                }
                chunks++;
                String actual;
                try (var in = zip.getInputStream(ze)) {
                    MessageDigest md = MessageDigest.getInstance("SHA-256");
                    actual = HexFormat.of().formatHex(md.digest(in.readAllBytes()));
                }
                if (!actual.equals(h.getValue())) {
                    problems.add("chunk " + h.getKey() + " does not match the SHA-256 in its audit record — modified");
                }
            }
            for (var en = zip.entries(); en.hasMoreElements(); ) {
                String n = en.nextElement().getName();
                if (n.startsWith("chunks/")) {
                    long num = Long.parseLong(n.substring(7, n.length() - 4));
                    if (!hashes.containsKey(num)) {
                        problems.add(n + " has no audit record in the bundle — inserted");
                    }
                }
            }
            if (hashes.isEmpty()) {
                problems.add("the bundle's audit records hold no recording chunk of session " + session);
            }
            return new Check(session, keyId, rows.size(), chunks, problems, gaps);
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("cannot read the bundle's public key: " + e.getMessage(), e);
        }
    }

    /** Reads a bundle's chunks back as entries (for replaying an exported bundle). */
    public static void entries(Path file, java.util.function.Consumer<Entry> sink) throws IOException {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            List<String> names = new ArrayList<>();
            zip.stream().map(ZipEntry::getName).filter(n -> n.startsWith("chunks/")).sorted().forEach(names::add);
            for (String n : names) {
                ChunkFiles.read(new ByteArrayInputStream(read(zip, n)), sink);
            }
        }
    }

    private static byte[] read(ZipFile zip, String name) throws IOException {
        ZipEntry e = zip.getEntry(name);
        if (e == null) {
            throw new IOException("not a Warden recording bundle: " + name + " is missing");
        }
        try (var in = zip.getInputStream(e)) {
            return in.readAllBytes();
        }
    }

    private static PublicKey publicKey(String pem) throws java.security.GeneralSecurityException {
        String b64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(b64)));
    }
}
