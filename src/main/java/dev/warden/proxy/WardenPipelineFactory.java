package dev.warden.proxy;

import dev.warden.wire.ClientFrameDecoder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import org.apache.camel.component.netty.NettyConsumer;
import org.apache.camel.component.netty.ServerInitializerFactory;

/**
 * The client pipeline behind the camel-netty consumer: Warden's frame decoder, the session state
 * machine, and at the end the handler that turns each round trip into a Camel Exchange.
 * (A TLS handler is put in front when the client asks for TLS.)
 */
public final class WardenPipelineFactory extends ServerInitializerFactory {
    private final Gateway gw;
    private final NettyConsumer consumer;

    public WardenPipelineFactory(Gateway gw) {
        this(gw, null);
    }

    private WardenPipelineFactory(Gateway gw, NettyConsumer consumer) {
        this.gw = gw;
        this.consumer = consumer;
    }

    @Override
    public ServerInitializerFactory createPipelineFactory(NettyConsumer consumer) {
        return new WardenPipelineFactory(gw, consumer);
    }

    @Override
    protected void initChannel(Channel ch) {
        ch.config().setOption(ChannelOption.TCP_NODELAY, true);
        ClientFrameDecoder decoder = new ClientFrameDecoder(gw.config().limits().maxMessageBytes());
        ch.pipeline()
                .addLast("frames", decoder)
                .addLast("session", new ClientSession(gw, decoder))
                .addLast("camel", new RoundTripHandler(consumer));
    }
}
