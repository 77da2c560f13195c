package dev.warden.cli;

import dev.warden.audit.AuditSettings;
import dev.warden.config.RecordingSection;
import dev.warden.recording.Bundle;
import dev.warden.recording.Entry;
import dev.warden.recording.RecordingIndex;
import dev.warden.recording.RecordingReader;
import dev.warden.recording.RecordingSettings;
import dev.warden.recording.TerminalRenderer;
import dev.warden.recording.Transcript;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.sql.Connection;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ./warden replay}: list recorded sessions, replay one as psql showed it, dump its wire messages, export it. */
@Command(name = "replay", description = "List recorded sessions, replay one as the client saw it, or export it as a "
        + "verifiable bundle. Exit status 0 on success, 1 when a chunk was withheld because its file is not the one "
        + "the audit attests (modified or misattributed; see warden audit verify), 2 when it could not be done.")
final class ReplayCommand implements Callable<Integer> {
    @Mixin
    AuditCommand.StoreOptions store = new AuditCommand.StoreOptions();

    @Parameters(arity = "0..1", paramLabel = "SESSION", description = "The session id (from --list).")
    String session;

    @Option(names = "--list", description = "List recorded sessions, newest first.")
    boolean list;

    @Option(names = "--identity", description = "--list: sessions of this identity (subject, CI repository or user; "
            + "'acme/*' for a prefix).")
    String identity;

    @Option(names = "--ci-run", description = "--list: sessions of this CI run id.")
    String ciRun;

    @Option(names = "--target", description = "--list: sessions on this target.")
    String target;

    @Option(names = "--since", description = "--list: sessions started at or after this time (instant or date).")
    String since;

    @Option(names = "--limit", description = "--list: at most this many sessions (default ${DEFAULT-VALUE}).",
            defaultValue = "100")
    int limit;

    @Option(names = "--speed", description = "1 = as fast as it happened, 10 = ten times faster, max = at once "
            + "(default ${DEFAULT-VALUE}).", defaultValue = "max")
    String speed;

    @Option(names = "--from", description = "Start at step N.", defaultValue = "1")
    int from;

    @Option(names = "--rows", description = "Show the first N rows of each result (default ${DEFAULT-VALUE}).",
            defaultValue = "20")
    int rows;

    @Option(names = "--raw", description = "Dump every recorded wire message, decoded, with its time and direction.")
    boolean raw;

    @Option(names = "--export", description = "Write a self-contained, verifiable bundle (zip) of the session to FILE.")
    Path export;

    @Option(names = "--recordings", description = "The recording directory (default: recording.directory of --config).")
    Path recordings;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            AuditSettings.Store s = store.resolveStore();
            Path dir = recordings != null ? recordings : store.config != null
                    ? RecordingSection.fromConfigFile(store.config).directory()
                    : RecordingSettings.defaults(Path.of("data")).directory();
            try (RecordingIndex index = new RecordingIndex(s, "warden-replay")) {
                if (list || session == null) {
                    return list(index, out);
                }
                RecordingIndex.SessionRow row = index.session(session);
                if (row == null) {
                    err.println("warden replay: no recorded session " + dev.warden.recording.ChunkFiles.printable(session)
                            + " (see --list)");
                    err.flush();
                    return 2;
                }
                RecordingReader reader = new RecordingReader(index, dir);
                if (export != null) {
                    PublicKey key = store.resolveKeys().get(0);
                    try (Connection c = store.connect(); OutputStream o = Files.newOutputStream(export)) {
                        Bundle.export(index, dir, c, session, key, o);
                    }
                    out.println("exported session " + session + " to " + export + " (check it with: warden audit verify "
                            + "--bundle " + export + ")");
                    out.flush();
                    return 0;
                }
                if (raw) {
                    long[] start = {0};
                    int[] withheld = {0};
                    reader.read(row, new RecordingReader.Sink() {
                        @Override
                        public void accept(Entry e) {
                            if (start[0] == 0) {
                                start[0] = e.micros();
                            }
                            TerminalRenderer.raw(out, e, start[0]);
                        }

                        @Override
                        public void missing(RecordingIndex.ChunkRow chunk, String why) {
                            out.println("GAP: " + why);
                        }

                        @Override
                        public void unattested(RecordingIndex.ChunkRow chunk, String why) {
                            out.println("UNATTESTED: " + why);
                        }

                        @Override
                        public void withheld(RecordingIndex.ChunkRow chunk, String why) {
                            withheld[0]++;
                            missing(chunk, why);
                        }
                    });
                    out.flush();
                    return withheld(withheld[0], err);
                }
                Transcript t = reader.transcript(row, rows);
                new TerminalRenderer(out, parseSpeed(speed)).render(t.steps(), from);
                return withheld(t.withheld(), err);
            }
        } catch (Exception e) {
            err.println("warden replay: " + dev.warden.recording.ChunkFiles.printable(e.getMessage()));
            err.flush();
            return 2;
        }
    }

    /** Exit status 1 when a chunk was withheld (modified or misattributed), else 0. */
    private int withheld(int chunks, PrintWriter err) {
        if (chunks == 0) {
            return 0;
        }
        err.println("warden replay: " + chunks + " chunk(s) of session " + dev.warden.recording.ChunkFiles.printable(session) + " not shown: "
                + "not the file the audit attests (modified or misattributed) — run warden audit verify");
        err.flush();
        return 1;
    }

    private int list(RecordingIndex index, PrintWriter out) throws Exception {
        List<RecordingIndex.SessionRow> rs = index.sessions(new RecordingIndex.Filter(identity, ciRun, target,
                AuditCommand.parseTime(since, "--since"), null, limit));
        out.println(String.format("%-22s %-28s %-18s %-10s %-24s %10s", "SESSION", "IDENTITY", "CI RUN", "TARGET",
                "STARTED", "STATEMENTS"));
        for (RecordingIndex.SessionRow r : rs) {
            String who = r.ciRepository() != null ? r.ciRepository() : r.subject() != null ? r.subject() : r.user();
            out.println(String.format("%-22s %-28s %-18s %-10s %-24s %10d", r.session(), who,
                    r.ciRun() == null ? "-" : r.ciRun(), r.target(),
                    r.started() == null ? "-" : DateTimeFormatter.ISO_INSTANT.format(r.started()), r.statements()));
        }
        if (rs.isEmpty()) {
            out.println("(no recorded sessions match)");
        }
        out.flush();
        return 0;
    }

    static double parseSpeed(String s) {
        if (s == null || s.equalsIgnoreCase("max")) {
            return 0;
        }
        try {
            double d = Double.parseDouble(s);
            if (d > 0) {
                return d;
            }
        } catch (NumberFormatException ignored) {
            // fall through
        }
        throw new IllegalArgumentException("--speed: expected 1, 10 or max, got '" + s + "'");
    }


}
