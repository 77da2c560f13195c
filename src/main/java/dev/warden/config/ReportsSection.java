package dev.warden.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.warden.report.ReportSettings;
import dev.warden.report.ReportSettings.Format;
import dev.warden.report.ReportSettings.Mail;
import dev.warden.report.ReportSettings.Schedule;
import dev.warden.report.ReportSettings.Tls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.quartz.CronExpression;

/**
 * The {@code reports:} section of warden.yaml (config/warden.yaml, docs/reports.md). Every key is
 * optional: without the section, reports are produced daily at 06:00 for the previous day and on the
 * 1st at 06:00 for the previous month, in every format, under {@code data/reports}, and not mailed.
 * The mail server lives under {@code reports.mail} (kept apart from any other mail settings).
 */
public final class ReportsSection {
    static final Set<String> KEYS = Set.of("enabled", "daily", "monthly", "timeZone", "outputDir", "targets", "formats",
            "recipients", "mail");

    private ReportsSection() {
    }

    static ReportSettings parse(Node r, Path baseDir, Secrets secrets, Map<String, List<String>> classified,
                                boolean withMail) {
        Path base = baseDir == null ? Path.of("").toAbsolutePath() : baseDir.toAbsolutePath();
        r.allowOnly(KEYS);
        ReportSettings d = ReportSettings.defaults(base.resolve("data"), classified);
        boolean enabled = r.get("enabled").bool(true);
        Schedule daily = schedule(r.get("daily"), ReportSettings.DAILY_CRON);
        Schedule monthly = schedule(r.get("monthly"), ReportSettings.MONTHLY_CRON);
        ZoneId zone;
        try {
            zone = ZoneId.of(r.get("timeZone").text("UTC").trim());
        } catch (DateTimeException e) {
            throw r.get("timeZone").error("expected a time zone such as UTC or America/New_York, got '"
                    + r.get("timeZone").text("") + "'");
        }
        Path out = r.get("outputDir").isMissing() ? d.outputDir() : base.resolve(r.get("outputDir").requiredText());
        List<String> targets = new ArrayList<>();
        for (Node t : r.get("targets").items()) {
            String name = t.requiredText();
            if (!classified.containsKey(name)) {
                throw t.error("'" + name + "' is not a configured target");
            }
            targets.add(name);
        }
        List<Format> formats = new ArrayList<>();
        for (Node f : r.get("formats").items()) {
            try {
                Format format = Format.of(f.requiredText().trim());
                if (!formats.contains(format)) {
                    formats.add(format);
                }
            } catch (IllegalArgumentException e) {
                throw f.error(e.getMessage());
            }
        }
        if (r.get("formats").isMissing()) {
            formats.addAll(d.formats());
        } else if (formats.isEmpty()) {
            throw r.get("formats").error("list at least one of html, pdf, json, csv");
        }
        if (!formats.contains(Format.JSON)) {
            formats.add(Format.JSON); // the machine-readable content every other format is rendered from
        }
        List<String> recipients = new ArrayList<>();
        for (Node n : r.get("recipients").items()) {
            String a = n.requiredText().trim();
            if (!a.matches("[^@\\s,;<>]+@[^@\\s,;<>]+")) {
                throw n.error("expected a mail address such as compliance@example.com, got '" + a + "'");
            }
            recipients.add(a);
        }
        Mail mail = withMail ? mail(r.get("mail"), secrets) : null;
        if (withMail && !recipients.isEmpty() && mail == null) {
            throw r.get("mail").error("is required when recipients are listed (the SMTP server to send reports through)");
        }
        return new ReportSettings(enabled, daily, monthly, zone, out, targets, formats, recipients, mail, classified);
    }

    private static Schedule schedule(Node s, String dflt) {
        s.allowOnly(Set.of("enabled", "cron"));
        String cron = s.get("cron").text(dflt).trim();
        if (!CronExpression.isValidExpression(cron)) {
            throw s.get("cron").error("expected a Quartz cron expression with seconds first, such as '" + dflt
                    + "', got '" + cron + "'");
        }
        return new Schedule(s.get("enabled").bool(true), cron);
    }

    private static Mail mail(Node m, Secrets secrets) {
        if (m.isMissing()) {
            return null;
        }
        m.allowOnly(Set.of("host", "port", "tls", "username", "password", "from"));
        Tls tls = m.get("tls").choice(Tls.class, Tls.STARTTLS);
        int dfltPort = switch (tls) {
            case NONE -> 25;
            case STARTTLS -> 587;
            case SMTPS -> 465;
        };
        String user = m.get("username").text(null);
        String password = secrets.resolve(m.get("password").text(null), m.get("password").path());
        if (password != null && user == null) {
            throw m.get("password").error("a password needs a username");
        }
        String from = m.get("from").requiredText().trim();
        if (!from.matches("[^@\\s,;<>]+@[^@\\s,;<>]+")) {
            throw m.get("from").error("expected a mail address such as warden@example.com, got '" + from + "'");
        }
        return new Mail(m.get("host").requiredText().trim(), m.get("port").integer(dfltPort, 1, 65535), tls, user,
                password, from);
    }

    /** Classified tables per target, as the policy sees them (parsed by ConfigLoader; here for the CLI). */
    static Map<String, List<String>> classified(Node targets) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (Map.Entry<String, Node> e : targets.entries().entrySet()) {
            List<String> tables = new ArrayList<>();
            for (Node t : e.getValue().get("classifiedTables").items()) {
                String name = t.requiredText().trim().toLowerCase();
                tables.add(name.contains(".") ? name : "public." + name);
            }
            out.put(e.getKey(), List.copyOf(tables));
        }
        return out;
    }

    /**
     * Reads only the reports section and the targets' classified tables of a config file, without the
     * mail server's secrets (for {@code ./warden report}, which writes files and sends no mail).
     */
    public static ReportSettings fromConfigFile(Path file, Map<String, String> env) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file));
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
        Path base = file.toAbsolutePath().getParent();
        Node r = new Node(root, "");
        return parse(r.get("reports"), base, new Secrets(env, base), classified(r.get("targets")), false);
    }
}
