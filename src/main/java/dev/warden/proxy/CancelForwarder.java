package dev.warden.proxy;

import dev.warden.config.WardenConfig.SslMode;
import dev.warden.config.WardenConfig.Target;
import dev.warden.wire.BackendFrameDecoder;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * Delivers a client's cancel to the upstream session it owns: PostgreSQL takes a CancelRequest on a
 * new connection, carrying the key the server gave Warden (which the client never sees).
 */
final class CancelForwarder extends ChannelInboundHandlerAdapter {
    private final Gateway gw;
    private final Target target;
    private final int pid;
    private final int secret;
    private final BackendFrameDecoder decoder = new BackendFrameDecoder(1 << 16);

    private CancelForwarder(Gateway gw, Target target, int pid, int secret) {
        this.gw = gw;
        this.target = target;
        this.pid = pid;
        this.secret = secret;
    }

    static void send(Gateway gw, UpstreamConnection up, Channel client) {
        CancelForwarder f = new CancelForwarder(gw, up.target(), up.upstreamPid(), up.upstreamSecret());
        new Bootstrap().group(client.eventLoop()).channel(Gateway.socketChannelClass(client))
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(f.decoder, f);
                    }
                })
                .connect(up.target().host(), up.target().port())
                .addListener((ChannelFutureListener) cf -> {
                    if (!cf.isSuccess()) {
                        gw.log().warn("could not deliver a cancel to target {}: {}", f.target.name(), cf.cause().toString());
                    }
                });
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (target.sslmode() == SslMode.DISABLE) {
            sendCancel(ctx);
        } else {
            decoder.expectSslAnswer();
            ctx.writeAndFlush(PgOut.sslRequest(ctx.alloc()));
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
        if (msg instanceof Byte b && b == 'S') {
            ctx.pipeline().addFirst(gw.tls().upstreamHandler(target, ctx.alloc()));
        } else {
            ctx.close();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent done) {
            if (done.isSuccess()) {
                sendCancel(ctx);
            } else {
                ctx.close();
            }
        }
    }

    private void sendCancel(ChannelHandlerContext ctx) {
        // the server answers a cancel by closing the connection
        ctx.writeAndFlush(PgOut.cancelRequest(ctx.alloc(), pid, secret));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        gw.log().debug("cancel connection to {} failed: {}", target.name(), cause.toString());
        ctx.close();
    }
}
