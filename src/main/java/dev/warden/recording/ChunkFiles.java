package dev.warden.recording;

import com.github.luben.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Set;
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

    /** The largest chunk file read into memory when no audit record states its size. */
    static final long MAX_FILE = Integer.MAX_VALUE - 16;

    /**
     * A file at a chunk's path that is not read: not a regular file (a symbolic link, a pipe, a device,
     * a directory), or larger than its audit record states. Warden writes only regular files there.
     */
    public static final class NotAChunkFile extends IOException {
        private final boolean tooLarge;

        NotAChunkFile(String message, boolean tooLarge) {
            super(message);
            this.tooLarge = tooLarge;
        }

        /** A regular file, but longer than its record states: it cannot match the record's SHA-256. */
        public boolean tooLarge() {
            return tooLarge;
        }
    }

    /**
     * Reads the chunk file at {@code file} once, into memory, for hashing and then parsing the same bytes
     * (so a file swapped between the two, or a pipe serving different bytes to each read, cannot make
     * replay show what was not hashed). Only a regular file is read, never through a symbolic link
     * ({@link LinkOption#NOFOLLOW_LINKS}), and at most {@code maxBytes} bytes: a longer file is not read
     * whole. Null when there is nothing at {@code file}.
     *
     * @throws NotAChunkFile a symbolic link, not a regular file, or longer than {@code maxBytes}
     */
    public static byte[] readOnce(Path file, long maxBytes) throws IOException {
        long max = maxBytes < 0 || maxBytes > MAX_FILE ? MAX_FILE : maxBytes;
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
        if (a.isSymbolicLink()) {
            String to;
            try {
                to = " to " + Files.readSymbolicLink(file);
            } catch (IOException | UnsupportedOperationException e) {
                to = "";
            }
            throw new NotAChunkFile("is a symbolic link" + to + ", not a chunk file (Warden writes regular files "
                    + "only) — replaced; not read", false);
        }
        if (!a.isRegularFile()) {
            throw new NotAChunkFile("is not a regular file (" + (a.isDirectory() ? "a directory" : "a pipe, socket or "
                    + "device") + "), not a chunk file (Warden writes regular files only) — replaced; not read", false);
        }
        if (a.size() > max) {
            throw new NotAChunkFile("it holds " + a.size() + " bytes, more than the " + max + " stated for it; not "
                    + "read", true);
        }
        Set<OpenOption> options = Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        try (SeekableByteChannel ch = Files.newByteChannel(file, options)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(a.size() + 1, 1 << 20));
            ByteBuffer buf = ByteBuffer.allocate(1 << 16);
            long total = 0;
            int n;
            while ((n = ch.read(buf.clear())) >= 0) {
                total += n;
                if (total > max) {
                    throw new NotAChunkFile("it holds more than the " + max + " bytes stated for it; not read", true);
                }
                out.write(buf.array(), 0, n);
            }
            return out.toByteArray();
        }
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * {@code text} with every control character (below 0x20, 0x7f, and the C1 controls 0x80–0x9f) written as
     * {@code \xNN}: file and directory names are printed to terminals, and a name can hold an escape sequence
     * or a line break that would forge or hide output.
     */
    public static String printable(Object text) {
        String s = String.valueOf(text);
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean control = c < 0x20 || (c >= 0x7f && c <= 0x9f);
            if (control && b == null) {
                b = new StringBuilder(s.length() + 8).append(s, 0, i);
            }
            if (control) {
                b.append(String.format("\\x%02x", (int) c));
            } else if (b != null) {
                b.append(c);
            }
        }
        return b == null ? s : b.toString();
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
