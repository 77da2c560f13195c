package dev.warden.recording;

import dev.warden.audit.RecordScan;
import dev.warden.audit.StoredRecord;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Reads a recorded session back: its chunks in order from the recording directory, through the
 * index. The index is not trusted, so each chunk is checked against the audit record the index points
 * to (in the same control store) before it is shown: the file is read once into memory (a regular file,
 * not through a symbolic link, at most the size its record states), and only those bytes are hashed and
 * then parsed. A chunk whose bytes do not match that record's SHA-256, or whose record is not that
 * chunk's, is not shown ({@link Sink#withheld}); one whose record is not in the store
 * (not stored yet by a running Warden, or removed by the audit's retention) is shown after a warning.
 * Pruned, missing and unsealed chunks are reported to the caller rather than skipped silently.
 */
public final class RecordingReader {
    /** What the reader found besides entries. */
    public interface Sink extends Consumer<Entry> {
        /** A chunk that is not shown: pruned by retention, deleted, unreadable, modified or not attested. */
        void missing(RecordingIndex.ChunkRow chunk, String why);

        /**
         * The entries of this chunk follow, but the audit does not attest them (its record is not in the
         * store): the caller must mark them. By default they are reported as missing, i.e. not trusted.
         */
        default void unattested(RecordingIndex.ChunkRow chunk, String why) {
            missing(chunk, why);
        }

        /**
         * A chunk that is not shown because its file is not the one the audit attests: modified (its SHA-256
         * or size differs from its record's, or it is not a regular file) or misattributed (the index names
         * another chunk's record). By default reported as missing; replay exits 1 when there was one.
         */
        default void withheld(RecordingIndex.ChunkRow chunk, String why) {
            missing(chunk, why);
        }
    }

    private final RecordingIndex index;
    private final Path directory;

    public RecordingReader(RecordingIndex index, Path directory) {
        this.index = index;
        this.directory = directory;
    }

    public RecordingIndex.SessionRow session(String id) throws SQLException {
        return index.session(id);
    }

    public List<RecordingIndex.ChunkRow> chunks(RecordingIndex.SessionRow s) throws SQLException {
        return index.chunks(s.instance(), s.session());
    }

    /** Streams every entry of the session's sealed chunks to the sink. */
    public void read(RecordingIndex.SessionRow s, Sink sink) throws SQLException {
        List<RecordingIndex.ChunkRow> chunks = chunks(s);
        Set<Integer> indexed = new HashSet<>();
        Instant last = s.started();
        try (Connection audit = index.connect()) {
            for (RecordingIndex.ChunkRow c : chunks) {
                indexed.add(c.chunk());
                last = c.last() != null ? c.last() : last;
                if (c.pruned() != null) {
                    sink.missing(c, "chunk " + c.chunk() + " (" + c.messages() + " messages) was pruned by retention at "
                            + c.pruned());
                    continue;
                }
                chunk(audit, s, c, sink);
            }
        }
        unsealed(s, indexed, last, sink);
    }

    /**
     * One chunk: its audit record first, then the file read once into memory (a regular file only, at most
     * the size its record states), hashed, and parsed from those very bytes only if they are attested.
     */
    private void chunk(Connection audit, RecordingIndex.SessionRow s, RecordingIndex.ChunkRow c, Sink sink)
            throws SQLException {
        Path f = ChunkFiles.path(directory, c.instance(), c.session(), c.chunk()); // Warden's naming, not the index's path
        String what = "chunk " + c.chunk() + " (file " + printable(f) + ")";
        StoredRecord r = c.auditSeq() > 0 ? RecordScan.at(audit, c.instance(), c.auditSeq()) : null;
        Map<String, Object> p = null;
        if (r != null) {
            try {
                p = r.payload();
            } catch (RuntimeException e) {
                p = Map.of();
            }
            boolean thisChunk = "recording".equals(r.type()) && "chunk".equals(p.get("event"))
                    && s.session().equals(String.valueOf(p.get("session")))
                    && p.get("chunk") instanceof Number n && n.intValue() == c.chunk();
            if (!thisChunk) {
                sink.withheld(c, what + " is not attested by the audit: the index names audit record #" + c.auditSeq()
                        + ", which is not this chunk's record — the index was altered; not shown (warden audit verify)");
                return;
            }
        }
        // the size the audit states (the index's when there is no record: it only bounds what is read)
        long max = p != null && p.get("bytes") instanceof Number b ? b.longValue() : c.bytes() > 0 ? c.bytes() : -1;
        byte[] bytes;
        try {
            bytes = ChunkFiles.readOnce(f, max);
        } catch (ChunkFiles.NotAChunkFile e) {
            sink.withheld(c, what + (e.tooLarge() && p != null ? " does not match the SHA-256 in its audit record #"
                    + c.auditSeq() + " — modified after it was sealed; not shown (" + printable(e.getMessage())
                    + "; warden audit verify)"
                    : e.tooLarge() ? ": not the chunk the index describes (" + printable(e.getMessage()) + "); not "
                    + "shown (warden audit verify)"
                    : " " + printable(e.getMessage()) + "; not shown (warden audit verify)"));
            return;
        } catch (IOException e) {
            sink.missing(c, "chunk " + c.chunk() + " cannot be read: " + printable(e.getMessage()));
            return;
        }
        if (bytes == null) {
            sink.missing(c, "chunk " + c.chunk() + " (file " + printable(f) + ", " + c.messages() + " messages) is missing "
                    + "— deleted or moved (warden audit verify)");
            return;
        }
        if (p == null) {
            sink.unattested(c, what + ": its audit record " + (c.auditSeq() > 0 ? "#" + c.auditSeq() + " " : "")
                    + "is not in the audit store — not stored yet (a running Warden stores records once per "
                    + "audit.syncInterval) or removed by the audit's retention; what follows up to the next chunk "
                    + "cannot be checked against the audit (warden audit verify)");
        } else if (!ChunkFiles.sha256(bytes).equals(p.get("sha256"))) {
            sink.withheld(c, what + " does not match the SHA-256 in its audit record #" + c.auditSeq() + " — modified "
                    + "after it was sealed; not shown (warden audit verify)");
            return;
        }
        try {
            ChunkFiles.read(new ByteArrayInputStream(bytes), sink);
        } catch (IOException | RuntimeException e) {
            sink.missing(c, "chunk " + c.chunk() + " cannot be read: " + printable(e.getMessage()));
        }
    }

    private static String printable(Object text) {
        return ChunkFiles.printable(text);
    }

    /** Chunk files of the session on disk that the index does not list: never sealed, so never shown. */
    private void unsealed(RecordingIndex.SessionRow s, Set<Integer> indexed, Instant last, Sink sink) {
        Path dir = ChunkFiles.sessionDir(directory, s.instance(), s.session());
        if (!Files.isDirectory(dir)) {
            return;
        }
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.wrc")) {
            ds.forEach(files::add);
        } catch (IOException e) {
            return;
        }
        files.sort(null);
        for (Path f : files) {
            String name = f.getFileName().toString();
            int n;
            try {
                n = Integer.parseInt(name.substring(0, name.length() - 4));
            } catch (NumberFormatException e) {
                continue;
            }
            if (indexed.contains(n)) {
                continue;
            }
            sink.missing(new RecordingIndex.ChunkRow(s.instance(), s.session(), n, dir.relativize(f).toString(), last,
                    last, 0, 0, 0, 0, null, 0, 0, 0, null), "chunk " + n + " (file " + printable(f) + ") is not sealed: it is being "
                    + "written (the session is still running), or an unclean stop left it, or it was planted — not "
                    + "attested by the audit, not shown (warden audit verify)");
        }
    }

    /** The session as steps (first {@code maxRows} rows of each result). */
    public Transcript transcript(RecordingIndex.SessionRow s, int maxRows) throws SQLException {
        Transcript t = new Transcript(maxRows);
        t.session(s);
        read(s, new Sink() {
            @Override
            public void accept(Entry e) {
                t.accept(e);
            }

            @Override
            public void missing(RecordingIndex.ChunkRow chunk, String why) {
                t.missing(micros(chunk.first()), why);
            }

            @Override
            public void unattested(RecordingIndex.ChunkRow chunk, String why) {
                t.unattested(micros(chunk.first()), why);
            }

            @Override
            public void withheld(RecordingIndex.ChunkRow chunk, String why) {
                t.withheld(micros(chunk.first()), why);
            }
        });
        t.finish();
        return t;
    }

    private static long micros(Instant t) {
        return t == null ? 0 : t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
    }
}
