package dev.warden.recording;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reads a recorded session back: its chunks in order from the recording directory, through the
 * index. Pruned and missing chunks are reported to the caller rather than skipped silently.
 */
public final class RecordingReader {
    /** What the reader found besides entries. */
    public interface Sink extends Consumer<Entry> {
        /** A chunk that cannot be read: pruned by retention, deleted, or unreadable. */
        void missing(RecordingIndex.ChunkRow chunk, String why);
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
        for (RecordingIndex.ChunkRow c : chunks(s)) {
            if (c.pruned() != null) {
                sink.missing(c, "chunk " + c.chunk() + " (" + c.messages() + " messages) was pruned by retention at "
                        + c.pruned());
                continue;
            }
            Path f = directory.resolve(c.path());
            if (!Files.exists(f)) {
                sink.missing(c, "chunk " + c.chunk() + " (" + c.messages() + " messages) is missing from "
                        + directory);
                continue;
            }
            try {
                ChunkFiles.read(f, sink);
            } catch (IOException | RuntimeException e) {
                sink.missing(c, "chunk " + c.chunk() + " cannot be read: " + e.getMessage());
            }
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
                long at = chunk.first() == null ? 0 : chunk.first().getEpochSecond() * 1_000_000L
                        + chunk.first().getNano() / 1000;
                t.missing(at, why);
            }
        });
        t.finish();
        return t;
    }
}
