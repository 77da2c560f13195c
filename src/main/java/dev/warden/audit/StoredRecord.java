package dev.warden.audit;

import java.time.Instant;
import java.util.Map;

/**
 * One audit record as stored, decoded from its block ({@link RecordBlock}): chain position, time,
 * type, canonical body (the hashed bytes), the previous record's hash and its own hash. The header
 * fields (seq, at, type) are a copy of what the body says, kept for scanning without parsing;
 * verification checks that they agree with the body.
 */
public record StoredRecord(String instance, long seq, Instant at, String type, byte[] body, byte[] prevHash,
                           byte[] hash) {

    /** The whole envelope: instance, seq, type, v, payload and (statements) the folded outcome. */
    public Map<String, Object> envelope() {
        return Canonical.decodeObject(body);
    }

    /** The record's payload (canonical tree). */
    public Map<String, Object> payload() {
        return AuditVerifier.payloadOf(envelope());
    }

    /** The searchable fields of the record, derived from its body alone. */
    public RecordCodec.Projection projection() {
        return projection(envelope());
    }

    @SuppressWarnings("unchecked")
    static RecordCodec.Projection projection(Map<String, Object> envelope) {
        Object type = envelope.get("type");
        Object outcome = envelope.get("outcome");
        return RecordCodec.project(type == null ? "" : type.toString(), AuditVerifier.payloadOf(envelope),
                outcome instanceof Map ? (Map<String, Object>) outcome : null);
    }
}
