package dev.warden.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.warden.recording.RecordingSettings;
import dev.warden.recording.RecordingSettings.Overflow;
import dev.warden.recording.RecordingSettings.TargetRecording;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The {@code recording:} section of warden.yaml (docs/recording.md). Every key is optional: without
 * the section every session of every target is recorded under {@code data/recordings}, kept 90 days,
 * and statements are refused when recording cannot keep up.
 */
public final class RecordingSection {
    static final Set<String> KEYS = Set.of("enabled", "directory", "overflow", "bufferBytes", "chunkBytes",
            "chunkInterval", "stallTimeout", "retention", "compressionLevel", "targets", "s3");

    private RecordingSection() {
    }

    static RecordingSettings parse(Node r, Path baseDir, Set<String> targetNames) {
        Path base = baseDir == null ? Path.of("").toAbsolutePath() : baseDir.toAbsolutePath();
        r.allowOnly(KEYS);
        RecordingSettings d = RecordingSettings.defaults(base.resolve("data"));
        if (!r.get("s3").isMissing()) {
            throw r.get("s3").error("S3-compatible storage is described in docs/recording.md but not built yet; "
                    + "remove recording.s3 and use recording.directory");
        }
        String overflow = r.get("overflow").text("fail-closed").trim().toLowerCase();
        Overflow o = switch (overflow) {
            case "fail-closed" -> Overflow.FAIL_CLOSED;
            case "drop-and-mark" -> Overflow.DROP_AND_MARK;
            default -> throw r.get("overflow").error("expected fail-closed or drop-and-mark, got '" + overflow + "'");
        };
        Path dir = r.get("directory").isMissing() ? d.directory() : base.resolve(r.get("directory").requiredText());
        long buffer = r.get("bufferBytes").bytes(d.bufferBytes(), 1L << 20, 1L << 34);
        long chunk = r.get("chunkBytes").bytes(d.chunkBytes(), 64L << 10, 1L << 30);
        Duration interval = r.get("chunkInterval").duration(d.chunkInterval());
        Duration stall = r.get("stallTimeout").duration(d.stallTimeout());
        if (interval.isZero() || stall.isZero()) {
            throw r.error("chunkInterval and stallTimeout must be longer than 0");
        }
        Duration retention = AuditSection.retention(r.get("retention"), d.retention());
        int level = r.get("compressionLevel").integer(d.level(), 1, 19);
        Map<String, TargetRecording> targets = new LinkedHashMap<>();
        for (Map.Entry<String, Node> t : r.get("targets").entries().entrySet()) {
            Node n = t.getValue();
            if (!targetNames.contains(t.getKey())) {
                throw n.error("'" + t.getKey() + "' is not a configured target");
            }
            n.allowOnly(Set.of("enabled", "retention"));
            targets.put(t.getKey(), new TargetRecording(n.get("enabled").bool(true),
                    n.get("retention").isMissing() ? null : AuditSection.retention(n.get("retention"), retention)));
        }
        return new RecordingSettings(r.get("enabled").bool(true), dir, o, buffer, chunk, interval, stall, retention,
                level, targets);
    }

    /** The recording section of a config file, for the CLI (replay, verify) without loading the rest. */
    public static RecordingSettings fromConfigFile(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file));
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
        Node n = new Node(root, "");
        Set<String> targets = n.get("targets").entries().keySet();
        return parse(n.get("recording"), file.toAbsolutePath().getParent(), targets);
    }
}
