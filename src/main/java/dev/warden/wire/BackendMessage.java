package dev.warden.wire;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * (Just over ~400 lines: one sealed family of records, one per backend message type.)
 *
 * Every message a server can send in protocol 3.0, as decoded by {@link BackendCodec}.
 *
 * <p>As in {@link FrontendMessage}, records holding arrays compare array contents, arrays are not
 * copied (treat them as immutable), and a {@code null} value is SQL NULL.
 *
 * <p>One file on purpose: it is the sealed set of server message records of the v3 protocol, one small
 * record each.
 */
public sealed interface BackendMessage {

    /**
     * All authentication requests share type 'R' and differ by {@code code}; {@code data} is what
     * follows the code (empty for most). {@link BackendCodec} only accepts the data layout each
     * code defines, and the factories build exactly those.
     */
    record Authentication(int code, byte[] data) implements BackendMessage {
        public static final int OK = 0;
        public static final int KERBEROS_V5 = 2;
        public static final int CLEARTEXT_PASSWORD = 3;
        public static final int MD5_PASSWORD = 5;
        public static final int GSS = 7;
        public static final int GSS_CONTINUE = 8;
        public static final int SSPI = 9;
        public static final int SASL = 10;
        public static final int SASL_CONTINUE = 11;
        public static final int SASL_FINAL = 12;

        public Authentication {
            Objects.requireNonNull(data, "data");
        }

        public static Authentication ok() {
            return new Authentication(OK, new byte[0]);
        }

        public static Authentication kerberosV5() {
            return new Authentication(KERBEROS_V5, new byte[0]);
        }

        public static Authentication cleartextPassword() {
            return new Authentication(CLEARTEXT_PASSWORD, new byte[0]);
        }

        public static Authentication md5Password(byte[] salt) {
            if (salt.length != 4) {
                throw new IllegalArgumentException("MD5 salt must be 4 bytes, not " + salt.length);
            }
            return new Authentication(MD5_PASSWORD, salt);
        }

        public static Authentication gss() {
            return new Authentication(GSS, new byte[0]);
        }

        public static Authentication gssContinue(byte[] data) {
            return new Authentication(GSS_CONTINUE, data);
        }

        public static Authentication sspi() {
            return new Authentication(SSPI, new byte[0]);
        }

        /** AuthenticationSASL: the mechanisms in the server's order of preference. */
        public static Authentication sasl(List<String> mechanisms) {
            return new Authentication(SASL, BackendCodec.encodeSaslMechanisms(mechanisms));
        }

        public static Authentication saslContinue(byte[] data) {
            return new Authentication(SASL_CONTINUE, data);
        }

        public static Authentication saslFinal(byte[] data) {
            return new Authentication(SASL_FINAL, data);
        }

        /** The mechanisms of an AuthenticationSASL; {@link ProtocolViolation} if the list is malformed. */
        public List<String> saslMechanisms() {
            if (code != SASL) {
                throw new IllegalStateException("not an AuthenticationSASL request (code " + code + ")");
            }
            return BackendCodec.decodeSaslMechanisms(data);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Authentication a && code == a.code && Arrays.equals(data, a.data);
        }

        @Override
        public int hashCode() {
            return 31 * code + Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "Authentication[code=" + code + ", data=" + data.length + " bytes]";
        }
    }

    record BackendKeyData(int processId, int secretKey) implements BackendMessage {
    }

    record BindComplete() implements BackendMessage {
    }

    record CloseComplete() implements BackendMessage {
    }

    record CommandComplete(String tag) implements BackendMessage {
        public CommandComplete {
            Objects.requireNonNull(tag, "tag");
        }
    }

    record CopyData(byte[] data) implements BackendMessage {
        public CopyData {
            Objects.requireNonNull(data, "data");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof CopyData c && Arrays.equals(data, c.data);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "CopyData[" + data.length + " bytes]";
        }
    }

    record CopyDone() implements BackendMessage {
    }

    /** Shared shape of the three copy responses: overall format (0 text, 1 binary) and per column. */
    sealed interface CopyResponse extends BackendMessage {
        int overallFormat();

        short[] columnFormats();
    }

    record CopyInResponse(int overallFormat, short[] columnFormats) implements CopyResponse {
        public CopyInResponse {
            checkCopyResponse(overallFormat, columnFormats);
        }

        @Override
        public boolean equals(Object o) {
            return sameCopyResponse(this, o);
        }

        @Override
        public int hashCode() {
            return hashCopyResponse(this);
        }

        @Override
        public String toString() {
            return showCopyResponse(this);
        }
    }

    record CopyOutResponse(int overallFormat, short[] columnFormats) implements CopyResponse {
        public CopyOutResponse {
            checkCopyResponse(overallFormat, columnFormats);
        }

        @Override
        public boolean equals(Object o) {
            return sameCopyResponse(this, o);
        }

        @Override
        public int hashCode() {
            return hashCopyResponse(this);
        }

        @Override
        public String toString() {
            return showCopyResponse(this);
        }
    }

    record CopyBothResponse(int overallFormat, short[] columnFormats) implements CopyResponse {
        public CopyBothResponse {
            checkCopyResponse(overallFormat, columnFormats);
        }

        @Override
        public boolean equals(Object o) {
            return sameCopyResponse(this, o);
        }

        @Override
        public int hashCode() {
            return hashCopyResponse(this);
        }

        @Override
        public String toString() {
            return showCopyResponse(this);
        }
    }

    record DataRow(byte[][] values) implements BackendMessage {
        public DataRow {
            Objects.requireNonNull(values, "values");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof DataRow d && Arrays.deepEquals(values, d.values);
        }

        @Override
        public int hashCode() {
            return Arrays.deepHashCode(values);
        }

        @Override
        public String toString() {
            return "DataRow" + Arrays.deepToString(values);
        }
    }

    record EmptyQueryResponse() implements BackendMessage {
    }

    /**
     * Fields of ErrorResponse and NoticeResponse, keyed by their one-byte codes ('S', 'C', 'M', ...)
     * in wire order (a read-only LinkedHashMap).
     */
    interface Diagnostic {
        Map<Character, String> fields();

        /** Non-localized severity ('V', since 9.6) when present, else the localized one ('S'). */
        default String severity() {
            String v = fields().get('V');
            return v != null ? v : fields().get('S');
        }

        default String sqlState() {
            return fields().get('C');
        }

        default String message() {
            return fields().get('M');
        }
    }

    record ErrorResponse(Map<Character, String> fields) implements BackendMessage, Diagnostic {
        public ErrorResponse {
            fields = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(fields, "fields")));
        }

        /** An error with the fields every client expects: severity (both forms), SQLSTATE, message. */
        public static ErrorResponse of(String severity, String sqlState, String message) {
            return new ErrorResponse(basicFields(severity, sqlState, message));
        }
    }

    record NoticeResponse(Map<Character, String> fields) implements BackendMessage, Diagnostic {
        public NoticeResponse {
            fields = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(fields, "fields")));
        }

        public static NoticeResponse of(String severity, String sqlState, String message) {
            return new NoticeResponse(basicFields(severity, sqlState, message));
        }
    }

    /** The result of a FunctionCall; {@code value == null} is SQL NULL. */
    record FunctionCallResponse(byte[] value) implements BackendMessage {
        @Override
        public boolean equals(Object o) {
            return o instanceof FunctionCallResponse f && Arrays.equals(value, f.value);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return "FunctionCallResponse[" + (value == null ? "NULL" : value.length + " bytes") + "]";
        }
    }

    /** The newest minor version the server supports, and the {@code _pq_.} options it did not know. */
    record NegotiateProtocolVersion(int newestMinorVersion, List<String> unrecognizedOptions)
            implements BackendMessage {
        public NegotiateProtocolVersion {
            unrecognizedOptions = List.copyOf(unrecognizedOptions);
        }
    }

    record NoData() implements BackendMessage {
    }

    record NotificationResponse(int processId, String channel, String payload) implements BackendMessage {
        public NotificationResponse {
            Objects.requireNonNull(channel, "channel");
            Objects.requireNonNull(payload, "payload");
        }
    }

    record ParameterDescription(int[] typeOids) implements BackendMessage {
        public ParameterDescription {
            Objects.requireNonNull(typeOids, "typeOids");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ParameterDescription p && Arrays.equals(typeOids, p.typeOids);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(typeOids);
        }

        @Override
        public String toString() {
            return "ParameterDescription" + Arrays.toString(typeOids);
        }
    }

    record ParameterStatus(String name, String value) implements BackendMessage {
        public ParameterStatus {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
        }
    }

    record ParseComplete() implements BackendMessage {
    }

    record PortalSuspended() implements BackendMessage {
    }

    /** {@code status}: 'I' idle, 'T' in a transaction block, 'E' in a failed transaction block. */
    record ReadyForQuery(char status) implements BackendMessage {
        public ReadyForQuery {
            if (status != 'I' && status != 'T' && status != 'E') {
                throw new IllegalArgumentException("transaction status must be 'I', 'T' or 'E', not " + (int) status);
            }
        }
    }

    record RowDescription(List<Field> fields) implements BackendMessage {
        public RowDescription {
            fields = List.copyOf(fields);
        }

        /** {@code tableOid}/{@code columnAttr} are 0 when the column is not a plain table column. */
        public record Field(String name, int tableOid, short columnAttr, int typeOid, short typeSize,
                int typeModifier, short format) {
            public Field {
                Objects.requireNonNull(name, "name");
            }
        }
    }

    private static void checkCopyResponse(int overallFormat, short[] columnFormats) {
        if (overallFormat < 0 || overallFormat > 0xFF) {
            throw new IllegalArgumentException("overall format must fit in one byte, not " + overallFormat);
        }
        Objects.requireNonNull(columnFormats, "columnFormats");
    }

    private static boolean sameCopyResponse(CopyResponse a, Object o) {
        return o != null && o.getClass() == a.getClass() && a.overallFormat() == ((CopyResponse) o).overallFormat()
                && Arrays.equals(a.columnFormats(), ((CopyResponse) o).columnFormats());
    }

    private static int hashCopyResponse(CopyResponse c) {
        return Objects.hash(c.getClass().getSimpleName(), c.overallFormat(), Arrays.hashCode(c.columnFormats()));
    }

    private static String showCopyResponse(CopyResponse c) {
        return c.getClass().getSimpleName() + "[overallFormat=" + c.overallFormat() + ", columnFormats="
                + Arrays.toString(c.columnFormats()) + "]";
    }

    private static Map<Character, String> basicFields(String severity, String sqlState, String message) {
        Map<Character, String> f = new LinkedHashMap<>();
        f.put('S', severity);
        f.put('V', severity);
        f.put('C', sqlState);
        f.put('M', message);
        return f;
    }
}
