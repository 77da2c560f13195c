package dev.warden.report;

import dev.warden.audit.AuditLog;
import dev.warden.audit.AuditSettings;
import dev.warden.audit.AuditStore;
import dev.warden.report.ReportSettings.Format;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evidence reports inside a running gateway: the scheduled runs (claimed in the control store so
 * that instances sharing it produce each report once), on-demand runs for the REST API, the files
 * under {@code reports.outputDir} and the index the HTTP API lists. Blocking work (JDBC, rendering):
 * call it from Quartz or worker threads, never from an event loop.
 */
public final class ReportService {
    private static final Logger LOG = LoggerFactory.getLogger(ReportService.class);

    /** A report this instance produced: where its files are and what the integrity check said. */
    public record Run(String id, ReportGenerator.Request request, Map<Format, Path> files, boolean integrityOk,
                      String verdict, List<String> recipients) {
    }

    private final ReportSettings settings;
    private final AuditSettings.Store store;
    private final AuditLog audit;
    private final KeyPair key;
    private final ReportIndex index;
    private final String instance;

    /**
     * @param audit the running audit log (for a fresh checkpoint before each report, and the instance id), or null
     * @param key   the audit signing key pair (reports are signed with it)
     */
    public ReportService(ReportSettings settings, AuditSettings.Store store, AuditLog audit, KeyPair key) {
        this.settings = settings;
        this.store = store;
        this.audit = audit;
        this.key = key;
        this.index = new ReportIndex(store);
        this.instance = audit == null ? "warden" : audit.instanceId();
    }

    public void start() throws SQLException {
        index.migrate();
    }

    public ReportSettings settings() {
        return settings;
    }

    public ReportIndex index() {
        return index;
    }

    /** The period a schedule covers when it fires at {@code now}: the previous day or the previous month. */
    public ReportGenerator.Request scheduledPeriod(String kind, String target, Instant now) {
        LocalDate today = ZonedDateTime.ofInstant(now, settings.timeZone()).toLocalDate();
        LocalDate from;
        LocalDate to;
        switch (kind) {
            case "daily" -> {
                from = today.minusDays(1);
                to = today;
            }
            case "monthly" -> {
                to = today.withDayOfMonth(1);
                from = to.minusMonths(1);
            }
            default -> throw new IllegalArgumentException("unknown schedule '" + kind + "' (daily or monthly)");
        }
        return new ReportGenerator.Request(from.atStartOfDay(settings.timeZone()).toInstant(),
                to.atStartOfDay(settings.timeZone()).toInstant(), target, kind);
    }

    /** Targets reported on: {@code reports.targets}, or every configured target. */
    public List<String> targets() {
        return settings.targets().isEmpty() ? new ArrayList<>(settings.classifiedTables().keySet()) : settings.targets();
    }

    /** A schedule fired: every target's report for the period, each produced here only if this instance claims it. */
    public List<Run> runScheduled(String kind, Instant now) {
        List<Run> runs = new ArrayList<>();
        for (String target : targets()) {
            ReportGenerator.Request req = scheduledPeriod(kind, target, now);
            try {
                if (!index.claim(req.id(), req, instance)) {
                    LOG.debug("report {}: already claimed (by another instance or an earlier run)", req.id());
                    continue;
                }
                runs.add(produceClaimed(req.id(), req));
            } catch (Exception e) {
                LOG.error("report {} failed: {}", req.id(), e.getMessage(), e);
            }
        }
        return runs;
    }

    /** An on-demand report (REST): always produced, under an id of its own. */
    public Run runAdhoc(ReportGenerator.Request req) throws Exception {
        byte[] r = new byte[4];
        new java.security.SecureRandom().nextBytes(r);
        String id = req.id() + "-" + HexFormat.of().formatHex(r);
        if (!index.claim(id, req, instance)) {
            throw new IllegalStateException("report id " + id + " exists already");
        }
        return produceClaimed(id, req);
    }

    private Run produceClaimed(String id, ReportGenerator.Request req) throws Exception {
        try {
            if (audit != null && !req.to().isAfter(Instant.now())) {
                // close the period with a signed checkpoint, so the report can quote one
                audit.checkpoint().get(30, TimeUnit.SECONDS);
            }
            EvidenceReport report;
            try (Connection c = new AuditStore(store).connect()) {
                report = ReportGenerator.generate(c, req, id, settings, List.of(key.getPublic()), settings.recipients(),
                        "Warden instance " + instance, ReportGenerator.Progress.NONE);
            }
            Path dir = settings.outputDir().resolve(id);
            Map<Format, Path> files = ReportFiles.write(report, dir, settings.formats(), key);
            String sha = ReportSignature.sha256(Files.readAllBytes(files.get(Format.JSON)));
            index.completed(id, dir.toString(), settings.formats().stream().map(Format::extension).toList(), sha,
                    report.integrity().ok(), report.integrity().verdict());
            if (report.integrity().ok()) {
                LOG.info("report {} written to {}", id, dir);
            } else {
                LOG.error("report {} written to {}; {}", id, dir, report.integrity().verdict());
            }
            return new Run(id, req, files, report.integrity().ok(), report.integrity().verdict(), settings.recipients());
        } catch (Exception e) {
            try {
                index.failed(id, String.valueOf(e.getMessage()));
            } catch (SQLException ignored) {
                // the original failure is what matters
            }
            throw e;
        }
    }

    /** A stored report file, when the report exists, is done and was written in that format. */
    public Optional<Path> file(String id, Format format) throws SQLException {
        Optional<ReportIndex.Entry> e = index.get(id);
        if (e.isEmpty() || e.get().directory() == null || !e.get().formats().contains(format.extension())) {
            return Optional.empty();
        }
        Path f = Path.of(e.get().directory()).resolve("report." + format.extension());
        return Files.exists(f) ? Optional.of(f) : Optional.empty();
    }

    // ---- Camel glue: property placeholders for routes/reports.camel.yaml -----------------------------------

    /** The {@code warden.reports.*} placeholders the routes use. */
    public Properties properties() {
        Properties p = new Properties();
        p.setProperty("warden.reports.daily.enabled", Boolean.toString(settings.enabled() && settings.daily().enabled()));
        p.setProperty("warden.reports.daily.cron", settings.daily().cron().trim().replaceAll("\\s+", "+"));
        p.setProperty("warden.reports.monthly.enabled", Boolean.toString(settings.enabled() && settings.monthly().enabled()));
        p.setProperty("warden.reports.monthly.cron", settings.monthly().cron().trim().replaceAll("\\s+", "+"));
        p.setProperty("warden.reports.timeZone", settings.timeZone().getId());
        p.setProperty("warden.reports.mail.uri", mailUri());
        return p;
    }

    /** Whether reports are mailed: a server and at least one recipient. */
    public boolean mails() {
        return settings.mail() != null && !settings.recipients().isEmpty();
    }

    String mailUri() {
        ReportSettings.Mail m = settings.mail();
        if (m == null) {
            return "log:dev.warden.report.mail?level=DEBUG";
        }
        StringBuilder u = new StringBuilder(m.tls() == ReportSettings.Tls.SMTPS ? "smtps://" : "smtp://");
        u.append(m.host()).append(':').append(m.port()).append("?connectionTimeout=10000")
                .append("&additionalJavaMailProperties=#reportMailProperties");
        if (m.username() != null) {
            u.append("&username=").append(URLEncoder.encode(m.username(), StandardCharsets.UTF_8));
        }
        if (m.password() != null) {
            u.append("&password=RAW(").append(m.password()).append(')');
        }
        return u.toString();
    }

    /** JavaMail settings for the TLS mode (bound as {@code reportMailProperties}). */
    public Properties mailProperties() {
        Properties p = new Properties();
        ReportSettings.Mail m = settings.mail();
        if (m != null && m.tls() == ReportSettings.Tls.STARTTLS) {
            p.setProperty("mail.smtp.starttls.enable", "true");
            p.setProperty("mail.smtp.starttls.required", "true");
        }
        p.setProperty("mail.smtp.timeout", "30000");
        p.setProperty("mail.smtps.timeout", "30000");
        return p;
    }
}
