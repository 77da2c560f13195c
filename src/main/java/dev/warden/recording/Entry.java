package dev.warden.recording;

import java.nio.charset.StandardCharsets;

/**
 * One recorded message. On disk (uncompressed) each entry is {@code kind (1 byte) ‖ time (8 bytes,
 * microseconds since the epoch) ‖ length (4 bytes) ‖ data}, big-endian; chunks hold whole entries.
 *
 * @param kind  {@link #CLIENT} a message from the client, {@link #SERVER} a message as the client
 *              received it (after masking; Warden's own refusals and notices included), {@link #WARDEN}
 *              a note from Warden (JSON: the statement's audit record and verdict), {@link #GAP} bytes
 *              that could not be recorded (JSON: how many messages and bytes)
 * @param micros when Warden saw it
 * @param data   the whole wire message (type byte and length included) or the JSON note
 */
public record Entry(byte kind, long micros, byte[] data) {
    public static final byte CLIENT = 'C';
    public static final byte SERVER = 'S';
    public static final byte WARDEN = 'W';
    public static final byte GAP = 'G';
    static final int HEADER = 13;

    public String text() {
        return new String(data, StandardCharsets.UTF_8);
    }

    /** The wire message type ('Q', 'D', ...) for client and server entries. */
    public char messageType() {
        return data.length == 0 ? '?' : (char) data[0];
    }
}
