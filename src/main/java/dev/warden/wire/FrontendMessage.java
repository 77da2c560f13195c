package dev.warden.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Every message a client can send in protocol 3.0, as decoded by {@link FrontendCodec}.
 *
 * <p>Records holding arrays override {@code equals}/{@code hashCode}/{@code toString} to compare
 * array <em>contents</em>, so two decodings of the same bytes are equal. Arrays are not copied:
 * treat them as immutable once a message is built. In value arrays a {@code null} entry is SQL
 * NULL.
 */
public sealed interface FrontendMessage {

    /** Protocol version 3.0 as carried by a StartupMessage. */
    int PROTOCOL_3_0 = 196608;
    int CANCEL_REQUEST_CODE = 80877102;
    int SSL_REQUEST_CODE = 80877103;
    int GSSENC_REQUEST_CODE = 80877104;

    /** Parameters keep the order they had on the wire (a LinkedHashMap, read-only). */
    record StartupMessage(int protocolVersion, Map<String, String> parameters) implements FrontendMessage {
        public StartupMessage {
            parameters = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(parameters, "parameters")));
        }

        public int majorVersion() {
            return protocolVersion >>> 16;
        }

        public int minorVersion() {
            return protocolVersion & 0xFFFF;
        }
    }

    record SSLRequest() implements FrontendMessage {
    }

    record GSSENCRequest() implements FrontendMessage {
    }

    record CancelRequest(int processId, int secretKey) implements FrontendMessage {
    }

    record Query(String sql) implements FrontendMessage {
        public Query {
            Objects.requireNonNull(sql, "sql");
        }
    }

    /** An OID of 0 leaves the parameter's type to the server. */
    record Parse(String name, String sql, int[] paramTypeOids) implements FrontendMessage {
        public Parse {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(sql, "sql");
            Objects.requireNonNull(paramTypeOids, "paramTypeOids");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Parse p && name.equals(p.name) && sql.equals(p.sql)
                    && Arrays.equals(paramTypeOids, p.paramTypeOids);
        }

        @Override
        public int hashCode() {
            return Objects.hash(name, sql, Arrays.hashCode(paramTypeOids));
        }

        @Override
        public String toString() {
            return "Parse[name=" + name + ", sql=" + sql + ", paramTypeOids=" + Arrays.toString(paramTypeOids) + "]";
        }
    }

    /**
     * {@code paramFormats} may hold zero entries (all text), one (applies to all) or one per value;
     * the codec rejects any other count, as the server does.
     */
    record Bind(String portal, String statement, short[] paramFormats, byte[][] paramValues, short[] resultFormats)
            implements FrontendMessage {
        public Bind {
            Objects.requireNonNull(portal, "portal");
            Objects.requireNonNull(statement, "statement");
            Objects.requireNonNull(paramFormats, "paramFormats");
            Objects.requireNonNull(paramValues, "paramValues");
            Objects.requireNonNull(resultFormats, "resultFormats");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Bind b && portal.equals(b.portal) && statement.equals(b.statement)
                    && Arrays.equals(paramFormats, b.paramFormats) && Arrays.deepEquals(paramValues, b.paramValues)
                    && Arrays.equals(resultFormats, b.resultFormats);
        }

        @Override
        public int hashCode() {
            return Objects.hash(portal, statement, Arrays.hashCode(paramFormats), Arrays.deepHashCode(paramValues),
                    Arrays.hashCode(resultFormats));
        }

        @Override
        public String toString() {
            return "Bind[portal=" + portal + ", statement=" + statement + ", paramFormats=" + Arrays.toString(paramFormats)
                    + ", paramValues=" + Arrays.deepToString(paramValues) + ", resultFormats="
                    + Arrays.toString(resultFormats) + "]";
        }
    }

    /** {@code kind} is 'S' (prepared statement) or 'P' (portal). */
    record Describe(byte kind, String name) implements FrontendMessage {
        public Describe {
            checkKind(kind, "Describe");
            Objects.requireNonNull(name, "name");
        }
    }

    /** {@code maxRows} 0 (or negative, which the server treats alike) means no limit. */
    record Execute(String portal, int maxRows) implements FrontendMessage {
        public Execute {
            Objects.requireNonNull(portal, "portal");
        }
    }

    record Sync() implements FrontendMessage {
    }

    record Flush() implements FrontendMessage {
    }

    /** {@code kind} is 'S' (prepared statement) or 'P' (portal). */
    record Close(byte kind, String name) implements FrontendMessage {
        public Close {
            checkKind(kind, "Close");
            Objects.requireNonNull(name, "name");
        }
    }

    record CopyData(byte[] data) implements FrontendMessage {
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

    record CopyDone() implements FrontendMessage {
    }

    record CopyFail(String message) implements FrontendMessage {
        public CopyFail {
            Objects.requireNonNull(message, "message");
        }
    }

    /** The legacy fast-path call; argument format counts follow the same 0/1/n rule as Bind. */
    record FunctionCall(int functionOid, short[] argFormats, byte[][] args, short resultFormat)
            implements FrontendMessage {
        public FunctionCall {
            Objects.requireNonNull(argFormats, "argFormats");
            Objects.requireNonNull(args, "args");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FunctionCall f && functionOid == f.functionOid && resultFormat == f.resultFormat
                    && Arrays.equals(argFormats, f.argFormats) && Arrays.deepEquals(args, f.args);
        }

        @Override
        public int hashCode() {
            return Objects.hash(functionOid, Arrays.hashCode(argFormats), Arrays.deepHashCode(args), resultFormat);
        }

        @Override
        public String toString() {
            return "FunctionCall[functionOid=" + functionOid + ", argFormats=" + Arrays.toString(argFormats)
                    + ", args=" + Arrays.deepToString(args) + ", resultFormat=" + resultFormat + "]";
        }
    }

    /**
     * Type 'p' carries PasswordMessage, GSSResponse, SASLInitialResponse and SASLResponse; only
     * the authentication exchange in progress tells them apart, so the payload stays raw and the
     * helpers below interpret it once the caller knows which one to expect.
     */
    record PasswordMessage(byte[] payload) implements FrontendMessage {
        public PasswordMessage {
            Objects.requireNonNull(payload, "payload");
        }

        /** A cleartext or MD5 ("md5" + hex) password. */
        public static PasswordMessage password(String password) {
            ByteBuf b = Unpooled.buffer();
            WirePrimitives.writeCString(b, password, "password");
            return new PasswordMessage(bytesOf(b));
        }

        /** A SASLInitialResponse; {@code data == null} sends length -1 (no initial response). */
        public static PasswordMessage saslInitialResponse(String mechanism, byte[] data) {
            ByteBuf b = Unpooled.buffer();
            WirePrimitives.writeCString(b, mechanism, "SASL mechanism");
            WirePrimitives.writeValue(b, data);
            return new PasswordMessage(bytesOf(b));
        }

        /** A SASLResponse (or GSSResponse): the payload is the mechanism's data as is. */
        public static PasswordMessage saslResponse(byte[] data) {
            return new PasswordMessage(data);
        }

        /** Reads the payload as a password string; throws {@link ProtocolViolation} if it is not one. */
        public String asPassword() {
            WirePrimitives.Reader r = reader("PasswordMessage");
            String s = r.cstring("password");
            r.expectEnd();
            return s;
        }

        /** Reads the payload as a SASLInitialResponse; throws {@link ProtocolViolation} if malformed. */
        public SaslInitialResponse asSaslInitialResponse() {
            WirePrimitives.Reader r = reader("SASLInitialResponse");
            String mechanism = r.cstring("mechanism name");
            byte[] data = r.value("initial response");
            r.expectEnd();
            return new SaslInitialResponse(mechanism, data);
        }

        private WirePrimitives.Reader reader(String what) {
            return new WirePrimitives.Reader(Unpooled.wrappedBuffer(payload), 0, payload.length, what);
        }

        private static byte[] bytesOf(ByteBuf b) {
            byte[] a = new byte[b.readableBytes()];
            b.readBytes(a);
            return a;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof PasswordMessage p && Arrays.equals(payload, p.payload);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(payload);
        }

        /** Never prints the payload: it may be a password. */
        @Override
        public String toString() {
            return "PasswordMessage[" + payload.length + " bytes]";
        }

        /** {@code data} is {@code null} when the client sent length -1 (no initial response). */
        public record SaslInitialResponse(String mechanism, byte[] data) {
            public SaslInitialResponse {
                Objects.requireNonNull(mechanism, "mechanism");
            }

            /** The data's length as on the wire: -1 when there is none. */
            public int dataLength() {
                return data == null ? -1 : data.length;
            }

            @Override
            public boolean equals(Object o) {
                return o instanceof SaslInitialResponse s && mechanism.equals(s.mechanism) && Arrays.equals(data, s.data);
            }

            @Override
            public int hashCode() {
                return 31 * mechanism.hashCode() + Arrays.hashCode(data);
            }

            @Override
            public String toString() {
                return "SaslInitialResponse[mechanism=" + mechanism + ", dataLength=" + dataLength() + "]";
            }
        }
    }

    record Terminate() implements FrontendMessage {
    }

    private static void checkKind(byte kind, String message) {
        if (kind != 'S' && kind != 'P') {
            throw new IllegalArgumentException(message + " kind must be 'S' or 'P', not " + (kind & 0xFF));
        }
    }
}
