package dev.warden.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** The report as JSON: the content itself, the form every other rendering is made from. */
public final class ReportJson {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ReportJson() {
    }

    public static byte[] render(EvidenceReport r) {
        try {
            return JSON.writeValueAsString(r).concat("\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("report cannot be written as JSON", e);
        }
    }

    public static EvidenceReport parse(byte[] json) throws IOException {
        return JSON.readValue(json, EvidenceReport.class);
    }
}
