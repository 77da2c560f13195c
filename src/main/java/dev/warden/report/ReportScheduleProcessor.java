package dev.warden.report;

import java.time.Instant;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Bean {@code reportSchedule} (routes/reports.camel.yaml): a schedule fired — header
 * {@code WardenReportKind} is daily or monthly. The body becomes the list of {@link ReportService.Run}s
 * this instance produced (empty when another instance had claimed them).
 */
public final class ReportScheduleProcessor implements Processor {
    public static final String KIND = "WardenReportKind";
    private final ReportService service;

    public ReportScheduleProcessor(ReportService service) {
        this.service = service;
    }

    @Override
    public void process(Exchange exchange) {
        String kind = exchange.getIn().getHeader(KIND, String.class);
        exchange.getMessage().setBody(service.runScheduled(kind, Instant.now()));
    }
}
