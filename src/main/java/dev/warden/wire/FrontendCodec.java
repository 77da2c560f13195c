package dev.warden.wire;

import dev.warden.wire.FrontendMessage.Bind;
import dev.warden.wire.FrontendMessage.CancelRequest;
import dev.warden.wire.FrontendMessage.Close;
import dev.warden.wire.FrontendMessage.CopyData;
import dev.warden.wire.FrontendMessage.CopyDone;
import dev.warden.wire.FrontendMessage.CopyFail;
import dev.warden.wire.FrontendMessage.Describe;
import dev.warden.wire.FrontendMessage.Execute;
import dev.warden.wire.FrontendMessage.Flush;
import dev.warden.wire.FrontendMessage.FunctionCall;
import dev.warden.wire.FrontendMessage.GSSENCRequest;
import dev.warden.wire.FrontendMessage.Parse;
import dev.warden.wire.FrontendMessage.PasswordMessage;
import dev.warden.wire.FrontendMessage.Query;
import dev.warden.wire.FrontendMessage.SSLRequest;
import dev.warden.wire.FrontendMessage.StartupMessage;
import dev.warden.wire.FrontendMessage.Sync;
import dev.warden.wire.FrontendMessage.Terminate;
import dev.warden.wire.WirePrimitives.Reader;
import io.netty.buffer.ByteBuf;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decodes and encodes client messages. Decoding takes one whole frame (as cut by the frame
 * decoder), reads it with absolute indexes only, and turns anything malformed into a
 * {@link ProtocolViolation}. Encoding refuses (IllegalArgumentException) messages whose bytes the
 * decoder would reject, so whatever it writes decodes back to an equal message.
 */
public final class FrontendCodec {

    /** PostgreSQL's MAX_STARTUP_PACKET_LENGTH; the server refuses longer startup packets. */
    public static final int MAX_STARTUP_PACKET = 10000;

    private FrontendCodec() {
    }

    /** Decodes an untyped startup-phase packet, {@code frame} starting with its length word. */
    public static FrontendMessage decodeStartup(ByteBuf frame) {
        int start = frame.readerIndex();
        int n = frame.readableBytes();
        if (n < 8) {
            throw new ProtocolViolation("startup packet of " + n + " bytes is shorter than the minimum of 8");
        }
        int len = frame.getInt(start);
        if (len != n) {
            throw new ProtocolViolation("startup packet declares length " + len + " but the frame holds " + n + " bytes");
        }
        if (len > MAX_STARTUP_PACKET) {
            throw new ProtocolViolation("startup packet of " + len + " bytes exceeds the limit of " + MAX_STARTUP_PACKET);
        }
        int code = frame.getInt(start + 4);
        switch (code) {
            case FrontendMessage.SSL_REQUEST_CODE:
                expectLength("SSLRequest", len, 8);
                return new SSLRequest();
            case FrontendMessage.GSSENC_REQUEST_CODE:
                expectLength("GSSENCRequest", len, 8);
                return new GSSENCRequest();
            case FrontendMessage.CANCEL_REQUEST_CODE:
                // Protocol 3.2 allows longer secret keys; this model is 3.0's fixed 4-byte key.
                expectLength("CancelRequest", len, 16);
                return new CancelRequest(frame.getInt(start + 8), frame.getInt(start + 12));
            default:
                return decodeStartupMessage(frame, start, len, code);
        }
    }

    private static void expectLength(String what, int len, int expected) {
        if (len != expected) {
            throw new ProtocolViolation(what + " must be " + expected + " bytes long, not " + len);
        }
    }

    private static StartupMessage decodeStartupMessage(ByteBuf frame, int start, int len, int version) {
        if (version >>> 16 != 3) {
            // Protocol 2 used a fixed-layout packet; parsing it as name/value pairs would be wrong.
            throw new ProtocolViolation("unsupported frontend protocol " + (version >>> 16) + "." + (version & 0xFFFF)
                    + ": only 3.x is supported");
        }
        Reader r = new Reader(frame, start + 8, start + len, "startup");
        Map<String, String> params = new LinkedHashMap<>();
        while (true) {
            if (r.remaining() == 0) {
                throw r.violation("has no terminating NUL byte after its parameter list");
            }
            String name = r.cstring("parameter name");
            if (name.isEmpty()) {
                break;
            }
            String value = r.cstring("value of parameter \"" + name + "\"");
            // The server keeps the last duplicate; a gateway that looked at the first would be
            // checking a different user or database than the one that gets used.
            if (params.put(name, value) != null) {
                throw r.violation("has parameter \"" + name + "\" more than once");
            }
        }
        r.expectEnd();
        return new StartupMessage(version, params);
    }

    /** Name of a typed frontend message, or {@code null} if the type byte is not one. */
    static String messageName(byte type) {
        switch (type) {
            case 'Q': return "Query";
            case 'P': return "Parse";
            case 'B': return "Bind";
            case 'D': return "Describe";
            case 'E': return "Execute";
            case 'S': return "Sync";
            case 'H': return "Flush";
            case 'C': return "Close";
            case 'd': return "CopyData";
            case 'c': return "CopyDone";
            case 'f': return "CopyFail";
            case 'F': return "FunctionCall";
            case 'p': return "PasswordMessage";
            case 'X': return "Terminate";
            default: return null;
        }
    }

    /** Decodes one typed message: type byte, length word and body, nothing more. */
    public static FrontendMessage decode(ByteBuf frame) {
        int start = frame.readerIndex();
        String problem = WirePrimitives.typedFrameProblem(frame);
        if (problem != null) {
            String name = frame.isReadable() ? messageName(frame.getByte(start)) : null;
            throw new ProtocolViolation(WirePrimitives.subject(name, frame) + " " + problem);
        }
        byte type = frame.getByte(start);
        String name = messageName(type);
        if (name == null) {
            throw new ProtocolViolation("unknown frontend message type " + WirePrimitives.describeType(type));
        }
        Reader r = new Reader(frame, start + 5, start + frame.readableBytes(), name);
        FrontendMessage m = switch (type) {
            case 'Q' -> new Query(r.cstring("query string"));
            case 'P' -> decodeParse(r);
            case 'B' -> decodeBind(r);
            case 'D' -> new Describe(kind(r), r.cstring("name"));
            case 'E' -> new Execute(r.cstring("portal name"), r.int32("row limit"));
            case 'S' -> new Sync();
            case 'H' -> new Flush();
            case 'C' -> new Close(kind(r), r.cstring("name"));
            case 'd' -> new CopyData(r.rest());
            case 'c' -> new CopyDone();
            case 'f' -> new CopyFail(r.cstring("error message"));
            case 'F' -> decodeFunctionCall(r);
            case 'p' -> decodePassword(r);
            default -> new Terminate(); // 'X': messageName() admitted nothing else
        };
        r.expectEnd();
        return m;
    }

    private static Parse decodeParse(Reader r) {
        String name = r.cstring("statement name");
        String sql = r.cstring("query string");
        int n = r.uint16("parameter type count");
        return new Parse(name, sql, r.int32s(n, "parameter types"));
    }

    private static Bind decodeBind(Reader r) {
        String portal = r.cstring("portal name");
        String statement = r.cstring("statement name");
        short[] formats = r.int16s("parameter format codes");
        int n = r.uint16("parameter value count");
        checkFormatCount(r, formats.length, n, "parameter");
        byte[][] values = r.values(n, "parameter value", "parameter values");
        short[] resultFormats = r.int16s("result format codes");
        return new Bind(portal, statement, formats, values, resultFormats);
    }

    private static FunctionCall decodeFunctionCall(Reader r) {
        int oid = r.int32("function OID");
        short[] formats = r.int16s("argument format codes");
        int n = r.uint16("argument count");
        checkFormatCount(r, formats.length, n, "argument");
        byte[][] args = r.values(n, "argument", "arguments");
        return new FunctionCall(oid, formats, args, r.int16("result format code"));
    }

    /** The server's rule: no format codes (all text), one for all, or exactly one per value. */
    private static void checkFormatCount(Reader r, int formats, int values, String what) {
        if (formats > 1 && formats != values) {
            throw r.violation("has " + formats + " " + what + " format codes but " + values + " " + what + " values");
        }
    }

    private static PasswordMessage decodePassword(Reader r) {
        if (r.remaining() == 0) {
            throw r.violation("is empty");
        }
        return new PasswordMessage(r.rest());
    }

    private static byte kind(Reader r) {
        byte kind = r.int8("kind");
        if (kind != 'S' && kind != 'P') {
            throw r.violation("has kind " + WirePrimitives.describeType(kind) + " where 'S' or 'P' is expected");
        }
        return kind;
    }

    // ---------------------------------------------------------------- encoding

    /**
     * Appends {@code m}'s wire form to {@code out}. On IllegalArgumentException (content the
     * protocol cannot carry) nothing is left written.
     */
    public static void encode(FrontendMessage m, ByteBuf out) {
        int mark = out.writerIndex();
        try {
            write(m, out);
        } catch (RuntimeException e) {
            out.writerIndex(mark);
            throw e;
        }
    }

    private static void write(FrontendMessage m, ByteBuf out) {
        if (m instanceof StartupMessage s) {
            writeStartup(s, out);
        } else if (m instanceof SSLRequest) {
            out.writeInt(8).writeInt(FrontendMessage.SSL_REQUEST_CODE);
        } else if (m instanceof GSSENCRequest) {
            out.writeInt(8).writeInt(FrontendMessage.GSSENC_REQUEST_CODE);
        } else if (m instanceof CancelRequest c) {
            out.writeInt(16).writeInt(FrontendMessage.CANCEL_REQUEST_CODE).writeInt(c.processId()).writeInt(c.secretKey());
        } else {
            int at = WirePrimitives.beginTyped(out, typeOf(m));
            writeBody(m, out);
            WirePrimitives.endTyped(out, at);
        }
    }

    private static void writeStartup(StartupMessage s, ByteBuf out) {
        if (s.majorVersion() != 3) {
            throw new IllegalArgumentException("only protocol 3.x startup messages can be encoded");
        }
        int at = out.writerIndex();
        out.writeInt(0).writeInt(s.protocolVersion());
        for (Map.Entry<String, String> e : s.parameters().entrySet()) {
            if (e.getKey().isEmpty()) {
                throw new IllegalArgumentException("startup parameter names must not be empty");
            }
            WirePrimitives.writeCString(out, e.getKey(), "startup parameter name");
            WirePrimitives.writeCString(out, e.getValue(), "value of startup parameter " + e.getKey());
        }
        out.writeByte(0);
        int len = out.writerIndex() - at;
        if (len > MAX_STARTUP_PACKET) {
            throw new IllegalArgumentException("startup packet of " + len + " bytes exceeds " + MAX_STARTUP_PACKET);
        }
        out.setInt(at, len);
    }

    private static char typeOf(FrontendMessage m) {
        if (m instanceof Query) return 'Q';
        if (m instanceof Parse) return 'P';
        if (m instanceof Bind) return 'B';
        if (m instanceof Describe) return 'D';
        if (m instanceof Execute) return 'E';
        if (m instanceof Sync) return 'S';
        if (m instanceof Flush) return 'H';
        if (m instanceof Close) return 'C';
        if (m instanceof CopyData) return 'd';
        if (m instanceof CopyDone) return 'c';
        if (m instanceof CopyFail) return 'f';
        if (m instanceof FunctionCall) return 'F';
        if (m instanceof PasswordMessage) return 'p';
        if (m instanceof Terminate) return 'X';
        throw new IllegalArgumentException("not a typed frontend message: " + m);
    }

    private static void writeBody(FrontendMessage m, ByteBuf out) {
        if (m instanceof Query q) {
            WirePrimitives.writeCString(out, q.sql(), "query string");
        } else if (m instanceof Parse p) {
            WirePrimitives.writeCString(out, p.name(), "statement name");
            WirePrimitives.writeCString(out, p.sql(), "query string");
            WirePrimitives.writeCount16(out, p.paramTypeOids().length, "parameter types");
            for (int oid : p.paramTypeOids()) {
                out.writeInt(oid);
            }
        } else if (m instanceof Bind b) {
            requireFormatCount(b.paramFormats().length, b.paramValues().length, "Bind parameter");
            WirePrimitives.writeCString(out, b.portal(), "portal name");
            WirePrimitives.writeCString(out, b.statement(), "statement name");
            WirePrimitives.writeInt16s(out, b.paramFormats(), "parameter formats");
            WirePrimitives.writeValues(out, b.paramValues(), "parameter values");
            WirePrimitives.writeInt16s(out, b.resultFormats(), "result formats");
        } else if (m instanceof Describe d) {
            out.writeByte(d.kind());
            WirePrimitives.writeCString(out, d.name(), "name");
        } else if (m instanceof Execute e) {
            WirePrimitives.writeCString(out, e.portal(), "portal name");
            out.writeInt(e.maxRows());
        } else if (m instanceof Close c) {
            out.writeByte(c.kind());
            WirePrimitives.writeCString(out, c.name(), "name");
        } else if (m instanceof CopyData d) {
            out.writeBytes(d.data());
        } else if (m instanceof CopyFail f) {
            WirePrimitives.writeCString(out, f.message(), "error message");
        } else if (m instanceof FunctionCall f) {
            requireFormatCount(f.argFormats().length, f.args().length, "FunctionCall argument");
            out.writeInt(f.functionOid());
            WirePrimitives.writeInt16s(out, f.argFormats(), "argument formats");
            WirePrimitives.writeValues(out, f.args(), "arguments");
            out.writeShort(f.resultFormat());
        } else if (m instanceof PasswordMessage p) {
            if (p.payload().length == 0) {
                throw new IllegalArgumentException("PasswordMessage payload must not be empty");
            }
            out.writeBytes(p.payload());
        }
        // Sync, Flush, CopyDone and Terminate have no body.
    }

    private static void requireFormatCount(int formats, int values, String what) {
        if (formats > 1 && formats != values) {
            throw new IllegalArgumentException(what + " format count " + formats + " must be 0, 1 or " + values);
        }
    }
}
