package dev.warden.cli;

import dev.warden.audit.AuditSettings;
import dev.warden.audit.SigningKeys;
import dev.warden.config.AuditSection;
import dev.warden.config.ReportsSection;
import dev.warden.report.EvidenceReport;
import dev.warden.report.ReportFiles;
import dev.warden.report.ReportGenerator;
import dev.warden.report.ReportSettings;
import dev.warden.report.ReportSignature;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.sql.Connection;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./warden report --from 2026-11-01 --to 2026-11-30 [--target bank] [--format html|pdf|json|csv]
 * [--out FILE]}: an evidence report for a period, read from the audit store and signed with the audit
 * signing key ({@code FILE} and {@code FILE.sig}). {@code ./warden report verify FILE} checks one.
 */
@Command(name = "report", description = "Produce a signed FFIEC evidence report for a period (docs/reports.md).",
        subcommands = {ReportCommand.Verify.class})
public final class ReportCommand implements Callable<Integer> {
    @Mixin
    AuditCommand.StoreOptions store = new AuditCommand.StoreOptions();

    @Option(names = "--from", description = "Start of the period: a date (its start, in reports.timeZone) or an instant.")
    String from;

    @Option(names = "--to", description = "End of the period: a date (included: the period ends when it ends) or an "
            + "instant (excluded).")
    String to;

    @Option(names = "--target", description = "Report on this target only (default: every target).")
    String target;

    @Option(names = "--format", description = "html, pdf, json or csv (default: from --out's extension, else json).")
    String format;

    @Option(names = "--out", description = "Report file (default: report-<id>.<format> here); FILE.sig is written beside it.")
    Path out;

    @Option(names = "--signing-key", description = "Ed25519 private key (PEM) to sign with (default: audit.signingKey "
            + "of --config).")
    Path signingKey;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter stdout = spec.commandLine().getOut();
        try {
            if (from == null || to == null) {
                err.println("warden report: give --from and --to (e.g. --from 2026-11-01 --to 2026-11-30), "
                        + "or 'report verify FILE'");
                return 2;
            }
            ReportSettings settings = store.config != null
                    ? ReportsSection.fromConfigFile(store.config, System.getenv())
                    : ReportSettings.defaults(Path.of("data"), Map.of());
            ZoneId zone = settings.timeZone();
            Instant start = time(from, zone, false, "--from");
            Instant end = time(to, zone, true, "--to");
            ReportSettings.Format f = format != null ? ReportSettings.Format.of(format)
                    : out != null && out.getFileName().toString().contains(".")
                    ? formatOf(out.getFileName().toString()) : ReportSettings.Format.JSON;
            KeyPair key = signingKey(err);
            if (key == null) {
                return 2;
            }
            List<PublicKey> trusted = new ArrayList<>();
            trusted.add(key.getPublic());
            for (Path p : store.publicKeys) {
                trusted.add(SigningKeys.readPublic(p));
            }
            ReportGenerator.Request req = new ReportGenerator.Request(start, end, target, "adhoc");
            EvidenceReport report;
            long[] shown = {-1};
            try (Connection c = store.connect()) {
                report = ReportGenerator.generate(c, req, req.id(), settings, trusted, List.of(), "./warden report",
                        (done, total) -> {
                            if (total >= 10_000 && done != shown[0]) {
                                shown[0] = done;
                                err.printf(Locale.ROOT, "\rreading audit records: %,d / %,d (%d%%)", done, total,
                                        total == 0 ? 100 : done * 100 / total);
                                err.flush();
                            }
                        });
            }
            if (shown[0] >= 0) {
                err.println();
            }
            Path file = out != null ? out : Path.of("report-" + report.id() + "." + f.extension());
            ReportSignature.write(file, report.id(), ReportFiles.render(report, f), key.getPrivate(), key.getPublic());
            stdout.println("wrote " + file + " and " + ReportSignature.sigFileFor(file));
            stdout.println("integrity: " + report.integrity().verdict());
            stdout.flush();
            err.flush();
            return report.integrity().ok() ? 0 : 1;
        } catch (IllegalArgumentException e) {
            err.println("warden report: " + e.getMessage());
            err.flush();
            return 2;
        } catch (Exception e) {
            err.println("warden report: " + e.getMessage());
            err.flush();
            return 2;
        }
    }

    private KeyPair signingKey(PrintWriter err) throws java.io.IOException {
        Path file = signingKey;
        if (file == null && store.config != null) {
            AuditSettings a = AuditSection.fromConfigFile(store.config, System.getenv());
            file = a.signingKeyFile();
        }
        if (file == null) {
            err.println("warden report: a report is signed with the audit signing key: give --config FILE or "
                    + "--signing-key FILE");
            return null;
        }
        return SigningKeys.loadOrGenerate(file, false);
    }

    private static ReportSettings.Format formatOf(String name) {
        return ReportSettings.Format.of(name.substring(name.lastIndexOf('.') + 1));
    }

    /** A date (start of that day in the zone; for the end: start of the next day) or an instant. */
    static Instant time(String s, ZoneId zone, boolean end, String option) {
        try {
            if (s.length() == 10) {
                LocalDate d = LocalDate.parse(s);
                return (end ? d.plusDays(1) : d).atStartOfDay(zone).toInstant();
            }
            return Instant.parse(s);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(option + ": expected a date such as 2026-11-01 or an instant such as "
                    + "2026-11-01T00:00:00Z, got '" + s + "'");
        }
    }

    @Command(name = "verify", description = "Check a report file against its signature (FILE.sig). Exit status 0: "
            + "it is as signed; 1: it was modified or signed by another key; 2: could not check.")
    static final class Verify implements Callable<Integer> {
        @picocli.CommandLine.Parameters(index = "0", description = "The report file (html, pdf, json or csv).")
        Path file;

        @Option(names = "--sig", description = "The signature file (default: FILE.sig).")
        Path sig;

        @Option(names = "--config", description = "Warden config: trust its audit signing key.")
        Path config;

        @Option(names = "--public-key", description = "Ed25519 public key (PEM) to trust; repeat for several.")
        List<Path> publicKeys = new ArrayList<>();

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            try {
                List<PublicKey> keys = new ArrayList<>();
                for (Path p : publicKeys) {
                    keys.add(SigningKeys.readPublic(p));
                }
                if (config != null) {
                    AuditSettings a = AuditSection.fromConfigFile(config, System.getenv());
                    Path pub = SigningKeys.publicKeyFileFor(a.signingKeyFile());
                    keys.add(SigningKeys.readPublic(java.nio.file.Files.exists(pub) ? pub : a.signingKeyFile()));
                }
                if (keys.isEmpty()) {
                    err.println("warden report verify: give --public-key FILE (the audit signing key's public half) "
                            + "or --config FILE");
                    err.flush();
                    return 2;
                }
                ReportSignature.Signed s = ReportSignature.verify(file, sig != null ? sig : ReportSignature.sigFileFor(file),
                        keys);
                out.println("ok: " + file + " is report " + s.report() + " as signed at " + s.signedAt() + " by key "
                        + s.keyId() + " (SHA-256 " + s.sha256() + ")");
                out.flush();
                return 0;
            } catch (ReportSignature.VerificationException e) {
                err.println("FAILED: " + e.getMessage());
                err.flush();
                return 1;
            } catch (Exception e) {
                err.println("warden report verify: " + e.getMessage());
                err.flush();
                return 2;
            }
        }
    }
}
