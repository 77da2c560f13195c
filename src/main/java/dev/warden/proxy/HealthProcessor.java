package dev.warden.proxy;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/** GET /health: a small JSON status for load balancers and operators (bean {@code gatewayHealth}). */
final class HealthProcessor implements Processor {
    private final Gateway gw;

    HealthProcessor(Gateway gw) {
        this.gw = gw;
    }

    @Override
    public void process(Exchange exchange) {
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json");
        exchange.getMessage().setBody("{\"status\":\"UP\",\"sessions\":" + gw.sessionCount() + ",\"targets\":"
                + gw.config().targets().size() + ",\"loginFailures\":" + gw.loginFailures() + "}");
    }
}
