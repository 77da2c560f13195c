package dev.warden.proxy;

import io.netty.channel.ChannelHandlerContext;
import org.apache.camel.Exchange;
import org.apache.camel.component.netty.NettyConsumer;
import org.apache.camel.component.netty.handlers.ServerChannelHandler;

/**
 * The end of the client pipeline: turns each {@link RoundTrip} into one Camel Exchange and runs the
 * statements route synchronously on the event loop (the route holds no blocking step; a statement that
 * must wait for a person parks the session instead). Unlike Camel's own handler it hands the outcome
 * back to the session, so a route that fails or decides nothing makes Warden fail closed.
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
        Throwable failure = null;
        try {
            consumer.createUoW(exchange);
            consumer.getProcessor().process(exchange);
            failure = exchange.getException();
        } catch (Throwable e) {
            failure = e;
        } finally {
            try {
                consumer.doneUoW(exchange);
                consumer.releaseExchange(exchange, false);
            } finally {
                rt.session().decided(rt, failure);
            }
        }
    }
}
