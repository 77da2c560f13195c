package dev.warden.report;

import dev.warden.report.ReportSettings.Format;
import jakarta.activation.DataHandler;
import jakarta.activation.FileDataSource;
import java.nio.file.Path;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.attachment.AttachmentMessage;

/**
 * Bean {@code reportMail}: turns one produced report (body: {@link ReportService.Run}) into a mail to
 * the compliance recipients with the PDF and HTML attached, and sets header {@code WardenReportMail}
 * to whether it should be sent (a server and recipients are configured). The route sends it.
 */
public final class ReportMailProcessor implements Processor {
    public static final String SEND = "WardenReportMail";
    private final ReportService service;

    public ReportMailProcessor(ReportService service) {
        this.service = service;
    }

    @Override
    public void process(Exchange exchange) {
        ReportService.Run run = exchange.getIn().getBody(ReportService.Run.class);
        AttachmentMessage msg = exchange.getMessage(AttachmentMessage.class);
        boolean send = run != null && service.mails();
        msg.setHeader(SEND, send);
        if (!send) {
            return;
        }
        ReportSettings s = service.settings();
        ReportGenerator.Request r = run.request();
        String what = r.kind() + " evidence report, " + (r.target() == null ? "all targets" : "target " + r.target())
                + ", " + r.from() + " to " + r.to();
        msg.setHeader("From", s.mail().from());
        msg.setHeader("To", String.join(",", run.recipients()));
        msg.setHeader("Subject", (run.integrityOk() ? "" : "[INTEGRITY PROBLEM] ") + "Warden " + what);
        msg.setHeader(Exchange.CONTENT_TYPE, "text/plain; charset=UTF-8");
        msg.setBody("Warden " + what + ".\n\nIntegrity: " + run.verdict() + "\n\nReport id: " + run.id()
                + "\nAttached: the report as PDF and HTML, each with its signature (.sig). Check them with\n"
                + "  ./warden report verify FILE --public-key audit-signing-key.pub.pem\n"
                + "JSON and CSV: GET /api/reports/" + run.id() + "?format=json|csv\n");
        for (Format f : new Format[] {Format.PDF, Format.HTML}) {
            Path file = run.files().get(f);
            if (file != null) {
                attach(msg, run.id() + "." + f.extension(), file, f.contentType());
                Path sig = ReportSignature.sigFileFor(file);
                attach(msg, run.id() + "." + f.extension() + ".sig", sig, "text/plain");
            }
        }
    }

    private static void attach(AttachmentMessage msg, String name, Path file, String type) {
        FileDataSource ds = new FileDataSource(file.toFile()) {
            @Override
            public String getContentType() {
                return type;
            }
        };
        msg.addAttachment(name, new DataHandler(ds));
    }
}
