package dev.warden.recording;

import dev.warden.wire.BackendCodec;
import dev.warden.wire.FrontendCodec;
import io.netty.buffer.Unpooled;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;

/**
 * Renders a {@link Transcript} the way psql would have shown the session, with Warden's decisions
 * in between and the time that passed before each step. {@code speed} 0 prints at once; 1 waits as
 * long as the session did (each wait capped at 30 s, the real time is printed), 10 ten times faster.
 */
public final class TerminalRenderer {
    private final PrintWriter out;
    private final double speed;

    public TerminalRenderer(PrintWriter out, double speed) {
        this.out = out;
        this.speed = speed;
    }

    public void render(List<Step> steps, int from) {
        long start = steps.isEmpty() ? 0 : steps.get(0).at();
        long prev = start;
        for (Step s : steps) {
            if (s.n() < from) {
                prev = s.at() > 0 ? s.at() : prev;
                continue;
            }
            long delta = s.at() > 0 && prev > 0 ? Math.max(0, s.at() - prev) : 0;
            pause(delta);
            if (s.at() > 0) {
                prev = s.at();
            }
            String when = String.format("[%d +%s]", s.n(), elapsed(s.at() > 0 && start > 0 ? s.at() - start : 0));
            switch (s.kind()) {
                case "session" -> out.println(when + " session " + s.detail() + " started "
                        + Instant.ofEpochSecond(s.at() / 1_000_000, (s.at() % 1_000_000) * 1000) + ": " + s.text());
                case "statement" -> {
                    out.println(when + (delta >= 1_000_000 ? " (after " + elapsed(delta) + ")" : ""));
                    String[] lines = s.text().split("\n", -1);
                    for (int i = 0; i < lines.length; i++) {
                        out.println((i == 0 ? "=> " : "-> ") + lines[i]);
                    }
                    for (Step.Decision d : s.statements()) {
                        out.println("   [Warden] " + (d.verdict() == null ? "no verdict" : d.verdict().toUpperCase())
                                + (d.rules().isEmpty() ? "" : " (rule " + String.join(", ", d.rules()) + ")")
                                + (d.auditRecord() == null ? "" : " · audit record " + d.auditRecord()));
                    }
                }
                case "result" -> {
                    if (s.columns() != null) {
                        table(s);
                    } else if (s.tag() != null) {
                        out.println(s.tag());
                    } else if (s.text() != null) {
                        out.println(s.text());
                    }
                }
                case "error" -> {
                    out.println((s.warden() ? "[Warden] " : "") + (s.tag() == null ? "ERROR" : s.tag()) + ":  "
                            + (s.sqlState() == null ? "" : s.sqlState() + ": ") + s.text());
                    detail(s.detail());
                }
                case "notice" -> {
                    out.println((s.warden() ? "[Warden] " : "") + (s.tag() == null ? "NOTICE" : s.tag()) + ":  " + s.text());
                    detail(s.detail());
                }
                case "copy-out" -> {
                    for (List<String> r : s.rows() == null ? List.<List<String>>of() : s.rows()) {
                        out.println(r.get(0));
                    }
                    if (s.rows() != null && s.rowCount() > s.rows().size()) {
                        out.println("… " + (s.rowCount() - s.rows().size()) + " more line(s)");
                    }
                    out.println(s.tag() == null ? s.text() : s.tag());
                }
                case "gap" -> out.println(when + " [Warden] GAP: " + s.text());
                case "unattested" -> out.println(when + " [Warden] UNATTESTED: " + s.text());
                case "end" -> out.println(when + " " + s.text());
                default -> out.println(s.text());
            }
            out.flush();
        }
        out.flush();
    }

    private void detail(String d) {
        if (d != null) {
            for (String line : d.split("\n")) {
                out.println("        " + line);
            }
        }
    }

    private void table(Step s) {
        List<String> cols = s.columns();
        List<List<String>> rows = s.rows() == null ? List.of() : s.rows();
        int[] w = new int[cols.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = cols.get(i).length();
        }
        for (List<String> r : rows) {
            for (int i = 0; i < w.length && i < r.size(); i++) {
                w[i] = Math.max(w[i], cell(r.get(i)).length());
            }
        }
        StringBuilder h = new StringBuilder();
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < w.length; i++) {
            h.append(i == 0 ? " " : " | ").append(center(cols.get(i), w[i]));
            line.append(i == 0 ? "-" : "-+-").append("-".repeat(w[i]));
        }
        out.println(h.toString().stripTrailing());
        out.println(line.append('-'));
        for (List<String> r : rows) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < w.length; i++) {
                String v = i < r.size() ? cell(r.get(i)) : "";
                b.append(i == 0 ? " " : " | ").append(v).append(" ".repeat(w[i] - v.length()));
            }
            out.println(b.toString().stripTrailing());
        }
        if (s.rowCount() > rows.size()) {
            out.println("… " + (s.rowCount() - rows.size()) + " more row(s) not shown (--rows)");
        }
        out.println("(" + s.rowCount() + (s.rowCount() == 1 ? " row)" : " rows)"));
        out.println();
    }

    private static String cell(String v) {
        return v == null ? "" : v.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t");
    }

    private static String center(String s, int w) {
        int pad = w - s.length();
        int left = pad / 2;
        return " ".repeat(left) + s + " ".repeat(pad - left);
    }

    private void pause(long micros) {
        if (speed <= 0 || micros <= 0) {
            return;
        }
        long ms = (long) Math.min(30_000, micros / 1000.0 / speed);
        if (ms > 0) {
            out.flush();
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static String elapsed(long micros) {
        if (micros < 1_000_000) {
            return String.format("%.3fs", micros / 1e6);
        }
        long s = micros / 1_000_000;
        if (s < 60) {
            return String.format("%.1fs", micros / 1e6);
        }
        return s >= 3600 ? (s / 3600) + "h" + (s % 3600 / 60) + "m" : (s / 60) + "m" + (s % 60) + "s";
    }

    /** {@code --raw}: every recorded message decoded, one per line, with its time and direction. */
    public static void raw(PrintWriter out, Entry e, long start) {
        String dir = switch (e.kind()) {
            case Entry.CLIENT -> "C→S";
            case Entry.SERVER -> "S→C";
            case Entry.WARDEN -> "WARDEN";
            case Entry.GAP -> "GAP";
            default -> "?";
        };
        String body;
        try {
            body = switch (e.kind()) {
                case Entry.CLIENT -> String.valueOf(FrontendCodec.decode(Unpooled.wrappedBuffer(e.data())));
                case Entry.SERVER -> String.valueOf(BackendCodec.decode(Unpooled.wrappedBuffer(e.data())));
                default -> e.text();
            };
        } catch (RuntimeException ex) {
            body = "(undecodable " + e.data().length + " bytes: " + ex.getMessage() + ")";
        }
        out.println(String.format("%12s %-6s %s", "+" + elapsed(start == 0 ? 0 : e.micros() - start), dir, body));
    }

}
