package dev.warden.recording;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ChunkFilesTest {
    @Test
    void chunkNamesAreTheZeroPaddedNumbers() {
        for (int chunk : new int[] {1, 9, 10, 99_999, 100_000, 999_999, 1_000_000, 12_345_678, Integer.MAX_VALUE}) {
            assertThat(ChunkFiles.chunkName(chunk)).isEqualTo(String.format("%06d.wrc", chunk));
        }
    }

    @Test
    void pathsKeepUnsafeIdsInsideTheRecordingDirectory() {
        Path dir = Path.of("/var/lib/warden/recordings");
        assertThat(ChunkFiles.path(dir, "w-1", "../../etc", 3))
                .isEqualTo(dir.resolve("w-1").resolve("_.._.._etc").resolve("000003.wrc"));
        assertThat(ChunkFiles.path(dir, "w/1", "s 1", 12)).isEqualTo(dir.resolve("w_1").resolve("s_1").resolve("000012.wrc"));
    }
}
