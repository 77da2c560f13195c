package dev.warden.wire;

/**
 * Protocol constants: message type bytes and startup codes.
 *
 * <p>NOTE: this file was created by another engineer and was accidentally overwritten by the
 * dev.warden.wire codec task; its original content was lost. This reconstruction provides the
 * members referenced elsewhere when it was rebuilt (ClientFrameDecoder, UpstreamConnection) plus
 * the remaining type bytes under the same naming. The owner should check it against the original.
 */
public final class Wire {
    /** Protocol 3.0 as sent in a StartupMessage. */
    public static final int PROTOCOL_3_0 = 196608;
    /** PostgreSQL's MAX_STARTUP_PACKET_LENGTH: larger startup packets are rejected. */
    public static final int MAX_STARTUP_PACKET = 10000;
    public static final int CANCEL_REQUEST_CODE = 80877102;
    public static final int SSL_REQUEST_CODE = 80877103;
    public static final int GSSENC_REQUEST_CODE = 80877104;

    // backend (server to client) message types
    public static final byte AUTHENTICATION = 'R';
    public static final byte BACKEND_KEY_DATA = 'K';
    public static final byte BIND_COMPLETE = '2';
    public static final byte CLOSE_COMPLETE = '3';
    public static final byte COMMAND_COMPLETE = 'C';
    public static final byte COPY_IN_RESPONSE = 'G';
    public static final byte COPY_OUT_RESPONSE = 'H';
    public static final byte COPY_BOTH_RESPONSE = 'W';
    public static final byte DATA_ROW = 'D';
    public static final byte EMPTY_QUERY_RESPONSE = 'I';
    public static final byte ERROR_RESPONSE = 'E';
    public static final byte FUNCTION_CALL_RESPONSE = 'V';
    public static final byte NEGOTIATE_PROTOCOL_VERSION = 'v';
    public static final byte NO_DATA = 'n';
    public static final byte NOTICE_RESPONSE = 'N';
    public static final byte NOTIFICATION_RESPONSE = 'A';
    public static final byte PARAMETER_DESCRIPTION = 't';
    public static final byte PARAMETER_STATUS = 'S';
    public static final byte PARSE_COMPLETE = '1';
    public static final byte PORTAL_SUSPENDED = 's';
    public static final byte READY_FOR_QUERY = 'Z';
    public static final byte ROW_DESCRIPTION = 'T';

    // sent by both sides
    public static final byte COPY_DATA = 'd';
    public static final byte COPY_DONE = 'c';

    // frontend (client to server) message types
    public static final byte QUERY = 'Q';
    public static final byte PARSE = 'P';
    public static final byte BIND = 'B';
    public static final byte DESCRIBE = 'D';
    public static final byte EXECUTE = 'E';
    public static final byte SYNC = 'S';
    public static final byte FLUSH = 'H';
    public static final byte CLOSE = 'C';
    public static final byte COPY_FAIL = 'f';
    public static final byte FUNCTION_CALL = 'F';
    public static final byte PASSWORD_MESSAGE = 'p';
    public static final byte TERMINATE = 'X';

    private Wire() {
    }
}
