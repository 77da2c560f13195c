package dev.warden.proxy;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * GET /health: a small JSON status for load balancers and operators (bean {@code gatewayHealth}).
 * While the audit store is unavailable Warden refuses every statement, so the answer is then 503
 * with status AUDIT_UNAVAILABLE: a load balancer should send clients elsewhere.
 */
final class HealthProcessor implements Processor {
    private final Gateway gw;

    HealthProcessor(Gateway gw) {
        this.gw = gw;
    }

    @Override
    public void process(Exchange exchange) {
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json");
        dev.warden.audit.AuditHealth a = gw.audit() == null ? null : gw.audit().health();
        boolean up = a == null || a.available();
        if (!up) {
            exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, 503);
        }
        StringBuilder b = new StringBuilder("{\"status\":\"").append(up ? "UP" : "AUDIT_UNAVAILABLE")
                .append("\",\"sessions\":").append(gw.sessionCount())
                .append(",\"targets\":").append(gw.config().targets().size())
                .append(",\"loginFailures\":").append(gw.loginFailures());
        if (a != null) {
            b.append(",\"audit\":{\"available\":").append(a.available())
                    .append(",\"queued\":").append(a.queued())
                    .append(",\"written\":").append(a.written())
                    .append(",\"commits\":").append(a.commits())
                    .append(",\"syncs\":").append(a.syncs())
                    .append(",\"refused\":").append(a.refused())
                    .append(",\"dropped\":").append(a.dropped())
                    .append(",\"outages\":").append(a.outages())
                    .append(",\"headSeq\":").append(a.headSeq()).append('}');
        }
        exchange.getMessage().setBody(b.append('}').toString());
    }
}
