package dev.warden.recording;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The {@code recording:} section of warden.yaml (docs/recording.md).
 *
 * @param enabled       record sessions at all (targets may opt out one by one)
 * @param directory     where chunk files go ({@code data/recordings})
 * @param overflow      what happens when the writer cannot keep up or cannot write
 * @param bufferBytes   memory all sessions together may hold for the writer; beyond it, bytes are dropped and marked
 * @param chunkBytes    a chunk is sealed (hashed, chained into the audit) once it holds this many uncompressed bytes ...
 * @param chunkInterval ... or when it is this old, and always when its session ends
 * @param stallTimeout  a write hanging longer than this makes recording count as unavailable
 * @param retention     how long chunks are kept unless their target says otherwise
 * @param level         zstd compression level
 * @param targets       per-target overrides
 */
public record RecordingSettings(boolean enabled, Path directory, Overflow overflow, long bufferBytes, long chunkBytes,
                                Duration chunkInterval, Duration stallTimeout, Duration retention, int level,
                                Map<String, TargetRecording> targets) {

    /** What happens when recording cannot keep up (writer too slow, disk failing). */
    public enum Overflow {
        /** New statements are refused (53400) until the recording writer has caught up; results in flight are held back. */
        FAIL_CLOSED,
        /** Nothing is refused: whatever could not be buffered is dropped and the gap is marked in the recording. */
        DROP_AND_MARK
    }

    /** A target's own recording settings: whether its sessions are recorded, and how long they are kept. */
    public record TargetRecording(boolean enabled, Duration retention) {
    }

    public RecordingSettings {
        targets = Map.copyOf(targets);
    }

    public static RecordingSettings defaults(Path dataDir) {
        return new RecordingSettings(true, dataDir.resolve("recordings"), Overflow.FAIL_CLOSED, 64L << 20, 8L << 20,
                Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofDays(90), 3, Map.of());
    }

    /** Whether sessions on this target are recorded. */
    public boolean records(String target) {
        TargetRecording t = targets.get(target);
        return enabled && (t == null || t.enabled());
    }

    /** How long this target's chunks are kept. */
    public Duration retentionOf(String target) {
        TargetRecording t = targets.get(target);
        return t != null && t.retention() != null ? t.retention() : retention;
    }
}
