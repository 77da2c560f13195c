package dev.warden.proxy;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/** Route step that sends an allowed round trip to the upstream PostgreSQL (bean {@code forwardUpstream}). */
public final class ForwardProcessor implements Processor {
    @Override
    public void process(Exchange exchange) {
        exchange.getIn().getBody(RoundTrip.class).forward();
    }
}
