package dev.warden.recording;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Reads the recorder's JSON notes (written by {@link Json} and {@link SessionTap}). */
final class JsonRead {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private JsonRead() {
    }

    static Object parse(String s) {
        try {
            return MAPPER.readValue(s, Object.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage());
        }
    }
}
