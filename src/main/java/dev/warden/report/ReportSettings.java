package dev.warden.report;

import java.nio.file.Path;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The {@code reports:} section of warden.yaml (parsed by {@code dev.warden.config.ReportsSection}):
 * when evidence reports are produced, for which targets, in which formats, where they are kept and
 * to whom they are mailed. Paths are absolute, secrets resolved.
 *
 * @param enabled            false: no scheduled reports (on-demand reports still work)
 * @param daily              the daily schedule (the previous day)
 * @param monthly            the monthly schedule (the previous month)
 * @param timeZone           where days and months begin and end
 * @param outputDir          where report files are written (one directory per report)
 * @param targets            targets to report on; empty: every configured target
 * @param formats            formats written and offered for download
 * @param recipients         compliance mailbox(es) the PDF and HTML go to; empty: no mail
 * @param mail               the SMTP server, or null (no mail)
 * @param classifiedTables   per target, the tables holding customer data (from {@code targets.*.classifiedTables})
 */
public record ReportSettings(boolean enabled, Schedule daily, Schedule monthly, ZoneId timeZone, Path outputDir,
                             List<String> targets, List<Format> formats, List<String> recipients, Mail mail,
                             Map<String, List<String>> classifiedTables) {

    public static final String DAILY_CRON = "0 0 6 * * ?";
    public static final String MONTHLY_CRON = "0 0 6 1 * ?";

    public ReportSettings {
        Objects.requireNonNull(timeZone, "timeZone");
        Objects.requireNonNull(outputDir, "outputDir");
        targets = List.copyOf(targets);
        formats = List.copyOf(formats);
        recipients = List.copyOf(recipients);
        classifiedTables = Map.copyOf(classifiedTables);
    }

    /** A Quartz cron expression (seconds first, e.g. "0 0 6 * * ?") and whether it runs. */
    public record Schedule(boolean enabled, String cron) {
    }

    public enum Format {
        HTML("html", "text/html; charset=utf-8"), PDF("pdf", "application/pdf"),
        JSON("json", "application/json"), CSV("csv", "text/csv; charset=utf-8");

        private final String extension;
        private final String contentType;

        Format(String extension, String contentType) {
            this.extension = extension;
            this.contentType = contentType;
        }

        public String extension() {
            return extension;
        }

        public String contentType() {
            return contentType;
        }

        public static Format of(String name) {
            for (Format f : values()) {
                if (f.extension.equalsIgnoreCase(name)) {
                    return f;
                }
            }
            throw new IllegalArgumentException("unknown report format '" + name + "'; known: html, pdf, json, csv");
        }
    }

    public enum Tls { NONE, STARTTLS, SMTPS }

    /** The SMTP server reports are sent through. */
    public record Mail(String host, int port, Tls tls, String username, String password, String from) {
        public Mail {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(from, "from");
        }

        @Override
        public String toString() {
            return "Mail[" + host + ":" + port + " tls=" + tls + " user=" + username + " from=" + from + "]";
        }
    }

    /** Defaults: both schedules on, UTC, {@code dataDir/reports}, every format, no mail. */
    public static ReportSettings defaults(Path dataDir, Map<String, List<String>> classifiedTables) {
        return new ReportSettings(true, new Schedule(true, DAILY_CRON), new Schedule(true, MONTHLY_CRON),
                ZoneId.of("UTC"), dataDir.toAbsolutePath().resolve("reports"), List.of(), List.of(Format.values()),
                List.of(), null, classifiedTables);
    }

    /** The tables of {@code target} that hold customer data ("schema.table", lower case). */
    public List<String> classifiedTablesOf(String target) {
        return classifiedTables.getOrDefault(target, List.of());
    }
}
