package dev.warden.proxy;

import io.netty.channel.ChannelHandlerContext;
import org.apache.camel.Exchange;
import org.apache.camel.component.netty.NettyConsumer;
import org.apache.camel.component.netty.handlers.ServerChannelHandler;

/**
 * The end of the client pipeline: turns each {@link RoundTrip} into one Camel Exchange and runs the
 * statements route. A route of synchronous steps completes before this method returns, on the event
 * loop; a route that goes asynchronous (a statement waiting for a person) completes later, and the
 * session keeps the client's later round trips queued until then. Unlike Camel's own handler this
 * one hands the outcome back to the session, so a route that fails or decides nothing makes Warden
 * fail closed.
 */
final class RoundTripHandler extends ServerChannelHandler {
    private final NettyConsumer consumer;

    RoundTripHandler(NettyConsumer consumer) {
        super(consumer);
        this.consumer = consumer;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
        RoundTrip rt = (RoundTrip) msg;
        Exchange exchange = consumer.createExchange(false);
        exchange.getIn().setBody(rt);
        try {
            consumer.createUoW(exchange);
            consumer.getAsyncProcessor().process(exchange, doneSync -> complete(ctx, rt, exchange, exchange.getException()));
        } catch (Throwable e) {
            complete(ctx, rt, exchange, e);
        }
    }

    private void complete(ChannelHandlerContext ctx, RoundTrip rt, Exchange exchange, Throwable failure) {
        try {
            consumer.doneUoW(exchange);
            consumer.releaseExchange(exchange, false);
        } finally {
            if (ctx.executor().inEventLoop()) {
                rt.session().decided(rt, failure);
            } else {
                ctx.executor().execute(() -> rt.session().decided(rt, failure));
            }
        }
    }
}
