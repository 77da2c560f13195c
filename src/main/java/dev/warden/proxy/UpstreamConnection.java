package dev.warden.proxy;

import dev.warden.config.WardenConfig.SslMode;
import dev.warden.config.WardenConfig.Target;
import dev.warden.identity.scram.Md5Password;
import dev.warden.masking.ResultMasker;
import dev.warden.identity.scram.ScramClientSession;
import dev.warden.identity.scram.ScramException;
import dev.warden.wire.BackendCodec;
import dev.warden.wire.BackendFrameDecoder;
import dev.warden.wire.BackendMessage;
import dev.warden.wire.ProtocolViolation;
import dev.warden.wire.SqlState;
import dev.warden.wire.Wire;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Warden's own connection to a target PostgreSQL, on the same event loop as its client so that
 * relaying needs no thread hand-off. It negotiates TLS per the target's sslmode, logs in with the
 * credentials from config (SCRAM-SHA-256, md5 or cleartext), then relays every backend message to
 * the client as the same bytes.
 */
final class UpstreamConnection extends ChannelInboundHandlerAdapter {
    /** What the client session learns from the upstream. */
    interface Listener {
        void upstreamReady(Map<String, String> parameters, byte txStatus);

        void upstreamFailed(String sqlState, String message, Map<Character, String> serverError);

        /** A backend message once the session is established; ownership passes to the listener. */
        void upstreamMessage(ByteBuf frame);

        void upstreamReadComplete();

        void upstreamWritabilityChanged(boolean writable);

        void upstreamClosed();
    }

    private enum Phase { CONNECTING, TLS, STARTUP, AUTH, READY, CLOSED }

    private final Gateway gw;
    private final Target target;
    /** The role Warden logs in as: the target's user, or a role granted to a CI identity. */
    private final String role;
    private final Map<String, String> startupParams;
    private final Listener listener;
    private final BackendFrameDecoder decoder;
    /** Null unless the target masks data; then it sees every message in both directions once logged in. */
    private final ResultMasker masker;
    private Channel channel;
    private Phase phase = Phase.CONNECTING;
    private ScramClientSession scram;
    private final Map<String, String> parameters = new LinkedHashMap<>();
    private int upstreamPid;
    private int upstreamSecret;
    private boolean tls;

    private UpstreamConnection(Gateway gw, Target target, String role, Map<String, String> startupParams, Listener listener,
                               ResultMasker masker) {
        this.masker = masker;
        this.gw = gw;
        this.target = target;
        this.role = role;
        this.startupParams = startupParams;
        this.listener = listener;
        this.decoder = new BackendFrameDecoder(Integer.MAX_VALUE);
    }

    /** Connects on the client's own event loop, with the same transport (epoll or NIO). */
    static UpstreamConnection open(Gateway gw, Target target, String role, Map<String, String> startupParams,
                                   Channel client, Listener listener, ResultMasker masker) {
        UpstreamConnection up = new UpstreamConnection(gw, target, role, startupParams, listener, masker);
        Bootstrap b = new Bootstrap().group(client.eventLoop()).channel(Gateway.socketChannelClass(client))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) target.connectTimeout().toMillis())
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast("frames", up.decoder).addLast("upstream", up);
                        if (masker != null) {
                            ch.pipeline().addLast("masking-tap", up.new ClientFrameTap());
                        }
                    }
                });
        b.connect(target.host(), target.port()).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                up.fail(SqlState.CONNECTION_FAILURE, "Warden could not connect to target '" + target.name() + "' at "
                        + target.host() + ":" + target.port() + ": " + f.cause().getMessage(), null);
            }
        });
        return up;
    }

    Channel channel() {
        return channel;
    }

    int upstreamPid() {
        return upstreamPid;
    }

    int upstreamSecret() {
        return upstreamSecret;
    }

    Target target() {
        return target;
    }

    boolean isTls() {
        return tls;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        if (target.sslmode() == SslMode.DISABLE) {
            sendStartup(ctx);
        } else {
            phase = Phase.TLS;
            decoder.expectSslAnswer();
            ctx.writeAndFlush(PgOut.sslRequest(ctx.alloc()));
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (phase == Phase.READY) {
            listener.upstreamMessage(masker == null ? (ByteBuf) msg : masker.serverMessage((ByteBuf) msg, ctx.alloc()));
            return;
        }
        try {
            if (msg instanceof Byte answer) {
                onSslAnswer(ctx, answer);
            } else {
                onStartupMessage(ctx, (ByteBuf) msg);
            }
        } catch (ScramException e) {
            fail(SqlState.CONNECTION_FAILURE, "Warden could not log in to target '" + target.name() + "': " + e.getDetail(), null);
        } catch (ProtocolViolation e) {
            fail(SqlState.CONNECTION_FAILURE, "target '" + target.name() + "' broke the protocol during login: " + e.getMessage(), null);
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onSslAnswer(ChannelHandlerContext ctx, byte answer) {
        if (answer != 'S') {
            fail(SqlState.CONNECTION_FAILURE, "target '" + target.name() + "' does not accept TLS but its sslmode is "
                    + target.sslmode().name().toLowerCase().replace('_', '-'), null);
            return;
        }
        SslHandler ssl = gw.tls().upstreamHandler(target, ctx.alloc());
        ctx.pipeline().addFirst("tls", ssl);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent done && phase == Phase.TLS) {
            if (done.isSuccess()) {
                tls = true;
                sendStartup(ctx);
            } else {
                fail(SqlState.CONNECTION_FAILURE, "TLS handshake with target '" + target.name() + "' failed: "
                        + rootMessage(done.cause()), null);
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    private void sendStartup(ChannelHandlerContext ctx) {
        phase = Phase.STARTUP;
        Map<String, String> params = new LinkedHashMap<>(startupParams);
        params.put("user", role);
        params.put("database", target.database());
        ctx.writeAndFlush(PgOut.startup(ctx.alloc(), params));
    }

    private void onStartupMessage(ChannelHandlerContext ctx, ByteBuf frame) throws ScramException {
        byte type = frame.getByte(frame.readerIndex());
        switch (type) {
            case Wire.AUTHENTICATION -> onAuthentication(ctx, frame);
            case Wire.PARAMETER_STATUS -> {
                var ps = (BackendMessage.ParameterStatus) BackendCodec.decode(frame);
                parameters.put(ps.name(), ps.value());
            }
            case Wire.BACKEND_KEY_DATA -> {
                var k = (BackendMessage.BackendKeyData) BackendCodec.decode(frame);
                upstreamPid = k.processId();
                upstreamSecret = k.secretKey();
            }
            case Wire.READY_FOR_QUERY -> {
                phase = Phase.READY;
                listener.upstreamReady(parameters, frame.getByte(frame.readerIndex() + 5));
            }
            case Wire.ERROR_RESPONSE -> {
                var err = (BackendMessage.ErrorResponse) BackendCodec.decode(frame);
                String code = err.fields().getOrDefault('C', SqlState.CONNECTION_FAILURE);
                // the client's own login succeeded: a refused upstream login is Warden's (config) problem,
                // so it must not look like "your password is wrong"
                fail(code.startsWith("28") ? SqlState.CONNECTION_FAILURE : code,
                        "target '" + target.name() + "' refused Warden's login: " + err.fields().get('M'), err.fields());
            }
            case Wire.NOTICE_RESPONSE, Wire.NEGOTIATE_PROTOCOL_VERSION -> {
                // startup notices are not interesting to the client; Warden speaks 3.0 upstream
            }
            default -> throw new ProtocolViolation("unexpected message '" + (char) type + "' during login");
        }
    }

    private void onAuthentication(ChannelHandlerContext ctx, ByteBuf frame) throws ScramException {
        int at = frame.readerIndex() + 5;
        int code = frame.getInt(at);
        int len = frame.getInt(frame.readerIndex() + 1);
        byte[] data = new byte[len - 8];
        frame.getBytes(at + 4, data);
        phase = Phase.AUTH;
        switch (code) {
            case 0 -> {
                // a server that skips the SCRAM final step never proved it knows the password
                if (scram != null && !scram.isAuthenticated()) {
                    throw new ScramException("server sent AuthenticationOk before completing SCRAM");
                }
            }
            case 3 -> ctx.writeAndFlush(PgOut.password(ctx.alloc(), cstring(password())));
            case 5 -> ctx.writeAndFlush(PgOut.password(ctx.alloc(),
                    cstring(Md5Password.response(role, password(), data))));
            case 10 -> {
                List<String> mechs = cstrings(data);
                if (!mechs.contains("SCRAM-SHA-256")) {
                    throw new ScramException("server offers only " + mechs + "; Warden speaks SCRAM-SHA-256");
                }
                scram = new ScramClientSession(password(), gw.random());
                ctx.writeAndFlush(PgOut.saslInitial(ctx.alloc(), "SCRAM-SHA-256", scram.clientFirst()));
            }
            case 11 -> ctx.writeAndFlush(PgOut.password(ctx.alloc(), scram.handleServerFirst(data)));
            case 12 -> scram.verifyServerFinal(data);
            default -> throw new ScramException("target asks for an authentication method Warden does not support (code " + code + ")");
        }
    }

    private String password() throws ScramException {
        String p = target.passwordFor(role);
        if (p == null) {
            throw new ScramException("the target asks for a password for role " + role + " and none is configured (targets."
                    + target.name() + (role.equals(target.user()) ? ".password)" : ".roles)"));
        }
        return p;
    }

    private static byte[] cstring(String s) {
        return cstring(s.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] cstring(byte[] b) {
        byte[] out = new byte[b.length + 1];
        System.arraycopy(b, 0, out, 0, b.length);
        return out;
    }

    private static List<String> cstrings(byte[] data) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < data.length; i++) {
            if (data[i] == 0) {
                if (i > start) {
                    out.add(new String(data, start, i - start, StandardCharsets.UTF_8));
                }
                start = i + 1;
            }
        }
        return out;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (phase == Phase.READY) {
            listener.upstreamReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        listener.upstreamWritabilityChanged(ctx.channel().isWritable());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (phase == Phase.READY) {
            phase = Phase.CLOSED;
            listener.upstreamClosed();
        } else if (phase != Phase.CLOSED) {
            fail(SqlState.CONNECTION_FAILURE, "target '" + target.name() + "' closed the connection during login", null);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (phase == Phase.READY) {
            gw.log().warn("connection to target {} failed: {}", target.name(), rootMessage(cause));
            ctx.close();
        } else {
            fail(SqlState.CONNECTION_FAILURE, "connection to target '" + target.name() + "' failed during login: "
                    + rootMessage(cause), null);
        }
    }

    private void fail(String sqlState, String message, Map<Character, String> serverError) {
        if (phase == Phase.CLOSED) {
            return;
        }
        phase = Phase.CLOSED;
        if (channel != null) {
            channel.close();
        }
        listener.upstreamFailed(sqlState, message, serverError);
    }

    /** Ends the session politely: Terminate, then close once it is written. */
    void terminate() {
        if (channel == null || phase == Phase.CLOSED) {
            if (channel != null) {
                channel.close();
            }
            phase = Phase.CLOSED;
            return;
        }
        phase = Phase.CLOSED;
        if (channel.isActive()) {
            channel.writeAndFlush(PgOut.terminate(channel.alloc())).addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
    }

    /**
     * Shows the masker every message that goes upstream once logged in, in the order it is written. A
     * write may carry several messages (ClientSession writes a run of relayed messages as one buffer,
     * see WriteCoalescer): each is shown on its own, by its length prefix. A length that does not fit
     * (it cannot: relayed messages were validated) hands the rest over whole, which the masker refuses.
     */
    private final class ClientFrameTap extends io.netty.channel.ChannelOutboundHandlerAdapter {
        @Override
        public void write(ChannelHandlerContext ctx, Object msg, io.netty.channel.ChannelPromise promise) {
            if (phase == Phase.READY && msg instanceof ByteBuf b) {
                int at = b.readerIndex();
                int end = b.writerIndex();
                while (at < end) {
                    int len = end - at >= 5 ? b.getInt(at + 1) + 1 : -1;
                    if (len < 5 || len > end - at) {
                        len = end - at;
                    }
                    masker.clientFrame(len == b.readableBytes() ? b : b.slice(at, len));
                    at += len;
                }
            }
            ctx.write(msg, promise);
        }
    }

    static String rootMessage(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
