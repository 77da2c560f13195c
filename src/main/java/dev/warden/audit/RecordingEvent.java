package dev.warden.audit;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A session recording's step as the audit records it: a chunk sealed (with its SHA-256, so the
 * recording is as tamper-evident as the chain) or chunks pruned by retention.
 *
 * @param event     chunk | prune
 * @param at        when it happened
 * @param sessionId the recorded session
 * @param target    the session's target
 * @param detail    chunk: {@code chunk}, {@code rawFrom}, {@code rawTo}, {@code messages}, {@code bytes},
 *                  {@code sha256}, {@code first}, {@code last}, {@code gaps}, {@code droppedMessages},
 *                  {@code droppedBytes}; prune: {@code chunks}, {@code retention}, {@code cutoff}. Canonical values only.
 */
public record RecordingEvent(String event, Instant at, String sessionId, String target, Map<String, Object> detail) {
    public RecordingEvent {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(sessionId, "sessionId");
        detail = detail == null ? Map.of() : detail;
    }
}
