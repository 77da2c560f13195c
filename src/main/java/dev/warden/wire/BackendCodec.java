package dev.warden.wire;

import dev.warden.wire.BackendMessage.Authentication;
import dev.warden.wire.BackendMessage.BackendKeyData;
import dev.warden.wire.BackendMessage.BindComplete;
import dev.warden.wire.BackendMessage.CloseComplete;
import dev.warden.wire.BackendMessage.CommandComplete;
import dev.warden.wire.BackendMessage.CopyBothResponse;
import dev.warden.wire.BackendMessage.CopyData;
import dev.warden.wire.BackendMessage.CopyDone;
import dev.warden.wire.BackendMessage.CopyInResponse;
import dev.warden.wire.BackendMessage.CopyOutResponse;
import dev.warden.wire.BackendMessage.CopyResponse;
import dev.warden.wire.BackendMessage.DataRow;
import dev.warden.wire.BackendMessage.EmptyQueryResponse;
import dev.warden.wire.BackendMessage.ErrorResponse;
import dev.warden.wire.BackendMessage.FunctionCallResponse;
import dev.warden.wire.BackendMessage.NegotiateProtocolVersion;
import dev.warden.wire.BackendMessage.NoData;
import dev.warden.wire.BackendMessage.NoticeResponse;
import dev.warden.wire.BackendMessage.NotificationResponse;
import dev.warden.wire.BackendMessage.ParameterDescription;
import dev.warden.wire.BackendMessage.ParameterStatus;
import dev.warden.wire.BackendMessage.ParseComplete;
import dev.warden.wire.BackendMessage.PortalSuspended;
import dev.warden.wire.BackendMessage.ReadyForQuery;
import dev.warden.wire.BackendMessage.RowDescription;
import dev.warden.wire.WirePrimitives.Reader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes and encodes server messages, with the same contract as {@link FrontendCodec}: decoding
 * reads one whole frame by absolute index and reports malformed bytes as
 * {@link ProtocolViolation}; encoding refuses content the decoder would reject.
 */
public final class BackendCodec {

    private BackendCodec() {
    }

    /** Name of a backend message type, or {@code null} if the type byte is not one. */
    static String messageName(byte type) {
        switch (type) {
            case 'R': return "Authentication";
            case 'K': return "BackendKeyData";
            case '2': return "BindComplete";
            case '3': return "CloseComplete";
            case 'C': return "CommandComplete";
            case 'd': return "CopyData";
            case 'c': return "CopyDone";
            case 'G': return "CopyInResponse";
            case 'H': return "CopyOutResponse";
            case 'W': return "CopyBothResponse";
            case 'D': return "DataRow";
            case 'I': return "EmptyQueryResponse";
            case 'E': return "ErrorResponse";
            case 'V': return "FunctionCallResponse";
            case 'v': return "NegotiateProtocolVersion";
            case 'n': return "NoData";
            case 'N': return "NoticeResponse";
            case 'A': return "NotificationResponse";
            case 't': return "ParameterDescription";
            case 'S': return "ParameterStatus";
            case '1': return "ParseComplete";
            case 's': return "PortalSuspended";
            case 'Z': return "ReadyForQuery";
            case 'T': return "RowDescription";
            default: return null;
        }
    }

    /** Decodes one typed message: type byte, length word and body, nothing more. */
    public static BackendMessage decode(ByteBuf frame) {
        int start = frame.readerIndex();
        String problem = WirePrimitives.typedFrameProblem(frame);
        if (problem != null) {
            String name = frame.isReadable() ? messageName(frame.getByte(start)) : null;
            throw new ProtocolViolation(WirePrimitives.subject(name, frame) + " " + problem);
        }
        byte type = frame.getByte(start);
        String name = messageName(type);
        if (name == null) {
            throw new ProtocolViolation("unknown backend message type " + WirePrimitives.describeType(type));
        }
        Reader r = new Reader(frame, start + 5, start + frame.readableBytes(), name);
        BackendMessage m = switch (type) {
            case 'R' -> decodeAuthentication(r);
            case 'K' -> new BackendKeyData(r.int32("process ID"), r.int32("secret key"));
            case '2' -> new BindComplete();
            case '3' -> new CloseComplete();
            case 'C' -> new CommandComplete(r.cstring("command tag"));
            case 'd' -> new CopyData(r.rest());
            case 'c' -> new CopyDone();
            case 'G' -> new CopyInResponse(r.int8("overall format") & 0xFF, r.int16s("column format codes"));
            case 'H' -> new CopyOutResponse(r.int8("overall format") & 0xFF, r.int16s("column format codes"));
            case 'W' -> new CopyBothResponse(r.int8("overall format") & 0xFF, r.int16s("column format codes"));
            case 'D' -> new DataRow(r.values(r.uint16("column count"), "column value", "column values"));
            case 'I' -> new EmptyQueryResponse();
            case 'E' -> new ErrorResponse(decodeFields(r));
            case 'V' -> new FunctionCallResponse(r.value("result value"));
            case 'v' -> decodeNegotiate(r);
            case 'n' -> new NoData();
            case 'N' -> new NoticeResponse(decodeFields(r));
            case 'A' -> new NotificationResponse(r.int32("process ID"), r.cstring("channel name"), r.cstring("payload"));
            case 't' -> new ParameterDescription(r.int32s(r.uint16("parameter count"), "parameter types"));
            case 'S' -> new ParameterStatus(r.cstring("parameter name"), r.cstring("parameter value"));
            case '1' -> new ParseComplete();
            case 's' -> new PortalSuspended();
            case 'Z' -> decodeReadyForQuery(r);
            default -> decodeRowDescription(r); // 'T': messageName() admitted nothing else
        };
        r.expectEnd();
        return m;
    }

    private static Authentication decodeAuthentication(Reader r) {
        int code = r.int32("request code");
        byte[] data = r.rest();
        String problem = authenticationProblem(code, data);
        if (problem != null) {
            throw r.violation(problem);
        }
        return new Authentication(code, data);
    }

    /** The data layout each request code defines; {@code null} when {@code data} follows it. */
    private static String authenticationProblem(int code, byte[] data) {
        switch (code) {
            case Authentication.OK, Authentication.KERBEROS_V5, Authentication.CLEARTEXT_PASSWORD,
                    Authentication.GSS, Authentication.SSPI:
                return data.length == 0 ? null
                        : "has request code " + code + ", which carries no data, yet " + data.length + " bytes follow it";
            case Authentication.MD5_PASSWORD:
                return data.length == 4 ? null : "has an MD5 salt of " + data.length + " bytes instead of 4";
            case Authentication.GSS_CONTINUE, Authentication.SASL_CONTINUE, Authentication.SASL_FINAL:
                return null;
            case Authentication.SASL:
                try {
                    decodeSaslMechanisms(data);
                    return null;
                } catch (ProtocolViolation e) {
                    return "has a malformed SASL mechanism list (" + e.getMessage() + ")";
                }
            default:
                return "has unknown request code " + code;
        }
    }

    /** AuthenticationSASL's data: NUL-terminated names, then an empty one. */
    static List<String> decodeSaslMechanisms(byte[] data) {
        Reader r = new Reader(Unpooled.wrappedBuffer(data), 0, data.length, "AuthenticationSASL");
        List<String> names = new ArrayList<>();
        while (true) {
            if (r.remaining() == 0) {
                throw r.violation("has no terminating NUL byte after its mechanism list");
            }
            String name = r.cstring("mechanism name");
            if (name.isEmpty()) {
                r.expectEnd();
                return List.copyOf(names);
            }
            names.add(name);
        }
    }

    static byte[] encodeSaslMechanisms(List<String> mechanisms) {
        ByteBuf b = Unpooled.buffer();
        for (String m : mechanisms) {
            if (m.isEmpty()) {
                throw new IllegalArgumentException("SASL mechanism names must not be empty");
            }
            WirePrimitives.writeCString(b, m, "SASL mechanism name");
        }
        b.writeByte(0);
        byte[] a = new byte[b.readableBytes()];
        b.readBytes(a);
        return a;
    }

    private static Map<Character, String> decodeFields(Reader r) {
        Map<Character, String> fields = new LinkedHashMap<>();
        while (true) {
            if (r.remaining() == 0) {
                throw r.violation("has no terminating NUL byte after its field list");
            }
            byte code = r.int8("field code");
            if (code == 0) {
                return fields;
            }
            String value = r.cstring("field " + WirePrimitives.describeType(code));
            // A repeated code would make the message mean different things to different clients.
            if (fields.put((char) (code & 0xFF), value) != null) {
                throw r.violation("has field " + WirePrimitives.describeType(code) + " more than once");
            }
        }
    }

    private static NegotiateProtocolVersion decodeNegotiate(Reader r) {
        int minor = r.int32("newest minor version");
        int n = r.int32("option count");
        // Each name takes at least its NUL byte; checking first keeps a hostile count from looping.
        if (n < 0 || n > r.remaining()) {
            throw r.violation("declares " + n + " unrecognized options but only " + r.remaining() + " bytes follow");
        }
        List<String> options = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            options.add(r.cstring("option name " + (i + 1)));
        }
        return new NegotiateProtocolVersion(minor, options);
    }

    private static ReadyForQuery decodeReadyForQuery(Reader r) {
        byte status = r.int8("transaction status");
        if (status != 'I' && status != 'T' && status != 'E') {
            throw r.violation("has transaction status " + WirePrimitives.describeType(status)
                    + " where 'I', 'T' or 'E' is expected");
        }
        return new ReadyForQuery((char) status);
    }

    private static RowDescription decodeRowDescription(Reader r) {
        int n = r.uint16("field count");
        List<RowDescription.Field> fields = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (r.remaining() == 0) {
                throw r.violation("declares " + n + " fields but the message ends after " + i);
            }
            String f = "field " + (i + 1) + " ";
            fields.add(new RowDescription.Field(r.cstring(f + "name"), r.int32(f + "table OID"),
                    r.int16(f + "column number"), r.int32(f + "type OID"), r.int16(f + "type size"),
                    r.int32(f + "type modifier"), r.int16(f + "format code")));
        }
        return new RowDescription(fields);
    }

    // ---------------------------------------------------------------- encoding

    /**
     * Appends {@code m}'s wire form to {@code out}. On IllegalArgumentException (content the
     * protocol cannot carry) nothing is left written.
     */
    public static void encode(BackendMessage m, ByteBuf out) {
        int mark = out.writerIndex();
        try {
            int at = WirePrimitives.beginTyped(out, typeOf(m));
            writeBody(m, out);
            WirePrimitives.endTyped(out, at);
        } catch (RuntimeException e) {
            out.writerIndex(mark);
            throw e;
        }
    }

    private static char typeOf(BackendMessage m) {
        if (m instanceof Authentication) return 'R';
        if (m instanceof BackendKeyData) return 'K';
        if (m instanceof BindComplete) return '2';
        if (m instanceof CloseComplete) return '3';
        if (m instanceof CommandComplete) return 'C';
        if (m instanceof CopyData) return 'd';
        if (m instanceof CopyDone) return 'c';
        if (m instanceof CopyInResponse) return 'G';
        if (m instanceof CopyOutResponse) return 'H';
        if (m instanceof CopyBothResponse) return 'W';
        if (m instanceof DataRow) return 'D';
        if (m instanceof EmptyQueryResponse) return 'I';
        if (m instanceof ErrorResponse) return 'E';
        if (m instanceof FunctionCallResponse) return 'V';
        if (m instanceof NegotiateProtocolVersion) return 'v';
        if (m instanceof NoData) return 'n';
        if (m instanceof NoticeResponse) return 'N';
        if (m instanceof NotificationResponse) return 'A';
        if (m instanceof ParameterDescription) return 't';
        if (m instanceof ParameterStatus) return 'S';
        if (m instanceof ParseComplete) return '1';
        if (m instanceof PortalSuspended) return 's';
        if (m instanceof ReadyForQuery) return 'Z';
        if (m instanceof RowDescription) return 'T';
        throw new IllegalArgumentException("unknown backend message: " + m);
    }

    private static void writeBody(BackendMessage m, ByteBuf out) {
        if (m instanceof Authentication a) {
            String problem = authenticationProblem(a.code(), a.data());
            if (problem != null) {
                throw new IllegalArgumentException("Authentication message " + problem);
            }
            out.writeInt(a.code()).writeBytes(a.data());
        } else if (m instanceof BackendKeyData k) {
            out.writeInt(k.processId()).writeInt(k.secretKey());
        } else if (m instanceof CommandComplete c) {
            WirePrimitives.writeCString(out, c.tag(), "command tag");
        } else if (m instanceof CopyData d) {
            out.writeBytes(d.data());
        } else if (m instanceof CopyResponse c) {
            out.writeByte(c.overallFormat());
            WirePrimitives.writeInt16s(out, c.columnFormats(), "column formats");
        } else if (m instanceof DataRow d) {
            WirePrimitives.writeValues(out, d.values(), "columns");
        } else if (m instanceof ErrorResponse e) {
            writeFields(out, e.fields());
        } else if (m instanceof NoticeResponse n) {
            writeFields(out, n.fields());
        } else if (m instanceof FunctionCallResponse f) {
            WirePrimitives.writeValue(out, f.value());
        } else if (m instanceof NegotiateProtocolVersion v) {
            out.writeInt(v.newestMinorVersion()).writeInt(v.unrecognizedOptions().size());
            for (String o : v.unrecognizedOptions()) {
                WirePrimitives.writeCString(out, o, "option name");
            }
        } else if (m instanceof NotificationResponse n) {
            out.writeInt(n.processId());
            WirePrimitives.writeCString(out, n.channel(), "channel name");
            WirePrimitives.writeCString(out, n.payload(), "payload");
        } else if (m instanceof ParameterDescription p) {
            WirePrimitives.writeCount16(out, p.typeOids().length, "parameter types");
            for (int oid : p.typeOids()) {
                out.writeInt(oid);
            }
        } else if (m instanceof ParameterStatus p) {
            WirePrimitives.writeCString(out, p.name(), "parameter name");
            WirePrimitives.writeCString(out, p.value(), "parameter value");
        } else if (m instanceof ReadyForQuery z) {
            out.writeByte(z.status());
        } else if (m instanceof RowDescription t) {
            WirePrimitives.writeCount16(out, t.fields().size(), "row description fields");
            for (RowDescription.Field f : t.fields()) {
                WirePrimitives.writeCString(out, f.name(), "field name");
                out.writeInt(f.tableOid()).writeShort(f.columnAttr()).writeInt(f.typeOid())
                        .writeShort(f.typeSize()).writeInt(f.typeModifier()).writeShort(f.format());
            }
        }
        // The remaining messages have no body.
    }

    private static void writeFields(ByteBuf out, Map<Character, String> fields) {
        for (Map.Entry<Character, String> e : fields.entrySet()) {
            char code = e.getKey();
            if (code == 0 || code > 0xFF) {
                throw new IllegalArgumentException("field code must be a non-zero single byte, not " + (int) code);
            }
            out.writeByte(code);
            WirePrimitives.writeCString(out, e.getValue(), "field '" + code + "'");
        }
        out.writeByte(0);
    }
}
