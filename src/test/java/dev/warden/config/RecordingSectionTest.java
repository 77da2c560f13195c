package dev.warden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.recording.RecordingSettings;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RecordingSectionTest {
    static final String BASE = "users:\n  - name: a\n    password: pw\ntargets:\n  app:\n    host: h\n    database: d\n"
            + "    user: u\n    password: p\n";

    static WardenConfig load(String yaml) {
        return ConfigLoader.parse(BASE + yaml, new Secrets(java.util.Map.of(), Path.of("/srv/w")), Path.of("/srv/w"));
    }

    @Test
    void defaultsRecordEverySessionFailClosed() {
        RecordingSettings r = load("").recording();
        assertThat(r.enabled()).isTrue();
        assertThat(r.records("app")).isTrue();
        assertThat(r.directory()).isEqualTo(Path.of("/srv/w/data/recordings"));
        assertThat(r.overflow()).isEqualTo(RecordingSettings.Overflow.FAIL_CLOSED);
        assertThat(r.retentionOf("app")).isEqualTo(Duration.ofDays(90));
    }

    @Test
    void perTargetSettingsAndOverflow() {
        RecordingSettings r = load("recording:\n  overflow: drop-and-mark\n  directory: rec\n  retention: 7y\n"
                + "  targets:\n    app:\n      enabled: false\n      retention: 30d\n").recording();
        assertThat(r.overflow()).isEqualTo(RecordingSettings.Overflow.DROP_AND_MARK);
        assertThat(r.directory()).isEqualTo(Path.of("/srv/w/rec"));
        assertThat(r.records("app")).isFalse();
        assertThat(r.retentionOf("app")).isEqualTo(Duration.ofDays(30));
        assertThat(r.retentionOf("other")).isEqualTo(Duration.ofDays(7 * 365));
    }

    @Test
    void mistakesNameTheKey() {
        assertThatThrownBy(() -> load("recording:\n  overflow: block\n")).hasMessageContaining("recording.overflow")
                .hasMessageContaining("fail-closed or drop-and-mark");
        assertThatThrownBy(() -> load("recording:\n  targets:\n    nosuch:\n      enabled: false\n"))
                .hasMessageContaining("'nosuch' is not a configured target");
        assertThatThrownBy(() -> load("recording:\n  s3:\n    bucket: b\n")).hasMessageContaining("not built yet");
    }
}
