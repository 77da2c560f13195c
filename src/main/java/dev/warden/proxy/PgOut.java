package dev.warden.proxy;

import dev.warden.wire.BackendCodec;
import dev.warden.wire.BackendMessage;
import dev.warden.wire.FrontendCodec;
import dev.warden.wire.FrontendMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The messages Warden itself writes, encoded with the wire codec into pooled buffers. */
final class PgOut {
    private PgOut() {
    }

    static ByteBuf error(ByteBufAllocator a, String severity, String sqlState, String message, String detail, String hint) {
        Map<Character, String> f = new LinkedHashMap<>();
        f.put('S', severity);
        f.put('V', severity);
        f.put('C', sqlState);
        f.put('M', message);
        if (detail != null) {
            f.put('D', detail);
        }
        if (hint != null) {
            f.put('H', hint);
        }
        return backend(a, new BackendMessage.ErrorResponse(f));
    }

    static ByteBuf notice(ByteBufAllocator a, String sqlState, String message, String detail) {
        Map<Character, String> f = new LinkedHashMap<>();
        f.put('S', "NOTICE");
        f.put('V', "NOTICE");
        f.put('C', sqlState);
        f.put('M', message);
        if (detail != null) {
            f.put('D', detail);
        }
        return backend(a, new BackendMessage.NoticeResponse(f));
    }

    static ByteBuf authentication(ByteBufAllocator a, int code, byte[] data) {
        return backend(a, new BackendMessage.Authentication(code, data));
    }

    static ByteBuf authenticationOk(ByteBufAllocator a) {
        return backend(a, BackendMessage.Authentication.ok());
    }

    static ByteBuf authenticationSasl(ByteBufAllocator a, List<String> mechanisms) {
        return backend(a, BackendMessage.Authentication.sasl(mechanisms));
    }

    static ByteBuf parameterStatus(ByteBufAllocator a, String name, String value) {
        return backend(a, new BackendMessage.ParameterStatus(name, value));
    }

    static ByteBuf backendKeyData(ByteBufAllocator a, int pid, int secret) {
        return backend(a, new BackendMessage.BackendKeyData(pid, secret));
    }

    static ByteBuf readyForQuery(ByteBufAllocator a, byte status) {
        return backend(a, new BackendMessage.ReadyForQuery((char) status));
    }

    static ByteBuf negotiateProtocolVersion(ByteBufAllocator a, int minor, List<String> unrecognized) {
        return backend(a, new BackendMessage.NegotiateProtocolVersion(minor, unrecognized));
    }

    static ByteBuf singleByte(ByteBufAllocator a, char c) {
        return a.buffer(1).writeByte(c);
    }

    static ByteBuf sslRequest(ByteBufAllocator a) {
        return frontend(a, new FrontendMessage.SSLRequest());
    }

    static ByteBuf startup(ByteBufAllocator a, Map<String, String> params) {
        return frontend(a, new FrontendMessage.StartupMessage(FrontendMessage.PROTOCOL_3_0, params));
    }

    static ByteBuf cancelRequest(ByteBufAllocator a, int pid, int secret) {
        return frontend(a, new FrontendMessage.CancelRequest(pid, secret));
    }

    static ByteBuf password(ByteBufAllocator a, byte[] payload) {
        return frontend(a, new FrontendMessage.PasswordMessage(payload));
    }

    static ByteBuf saslInitial(ByteBufAllocator a, String mechanism, byte[] data) {
        return frontend(a, FrontendMessage.PasswordMessage.saslInitialResponse(mechanism, data));
    }

    static ByteBuf terminate(ByteBufAllocator a) {
        return frontend(a, new FrontendMessage.Terminate());
    }

    private static ByteBuf backend(ByteBufAllocator a, BackendMessage m) {
        ByteBuf out = a.buffer();
        BackendCodec.encode(m, out);
        return out;
    }

    static ByteBuf frontendMessage(ByteBufAllocator a, FrontendMessage m) {
        return frontend(a, m);
    }

    private static ByteBuf frontend(ByteBufAllocator a, FrontendMessage m) {
        ByteBuf out = a.buffer();
        FrontendCodec.encode(m, out);
        return out;
    }
}
