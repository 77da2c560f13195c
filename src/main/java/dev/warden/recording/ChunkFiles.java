package dev.warden.recording;

import com.github.luben.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Consumer;

/**
 * Where chunk files live and how they are read. A chunk is a sequence of zstd frames (one per page
 * the writer received) whose concatenated content is a run of whole {@link Entry entries}; its
 * SHA-256 is over the file's bytes as stored, and that hash is what the audit chain holds.
 */
public final class ChunkFiles {
    private ChunkFiles() {
    }

    /** {@code <dir>/<instance>/<session>/<chunk, 6 digits>.wrc} */
    public static Path path(Path dir, String instance, String session, int chunk) {
        return sessionDir(dir, instance, session).resolve(chunkName(chunk));
    }

    /** {@code <dir>/<instance>/<session>}: the directory of a session's chunks. */
    static Path sessionDir(Path dir, String instance, String session) {
        return dir.resolve(safe(instance)).resolve(safe(session));
    }

    /** {@code <chunk, at least 6 digits>.wrc}, as {@code String.format("%06d.wrc", chunk)} (the writer calls it per page). */
    static String chunkName(int chunk) {
        String digits = Integer.toString(chunk);
        return digits.length() >= 6 ? digits + ".wrc" : "000000".substring(digits.length()) + digits + ".wrc";
    }

    /** Session and instance ids become directory names: anything but [A-Za-z0-9._-] is replaced. */
    static String safe(String id) {
        String s = id.replaceAll("[^A-Za-z0-9._-]", "_");
        return s.isEmpty() || s.startsWith(".") ? "_" + s : s;
    }

    public static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Streams the entries of a chunk (a compressed input stream of it) to {@code sink}, one at a time. */
    public static void read(InputStream compressed, Consumer<Entry> sink) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(new ZstdInputStream(compressed), 1 << 16))) {
            while (true) {
                int kind = in.read();
                if (kind < 0) {
                    return;
                }
                long micros;
                int len;
                byte[] data;
                try {
                    micros = in.readLong();
                    len = in.readInt();
                    if (len < 0) {
                        throw new IOException("corrupt chunk: negative entry length");
                    }
                    data = new byte[len];
                    in.readFully(data);
                } catch (EOFException e) {
                    throw new IOException("corrupt chunk: it ends inside an entry", e);
                }
                sink.accept(new Entry((byte) kind, micros, data));
            }
        }
    }

    public static void read(Path file, Consumer<Entry> sink) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            read(in, sink);
        }
    }
}
