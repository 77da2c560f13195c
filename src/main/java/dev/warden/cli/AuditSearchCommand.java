package dev.warden.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.audit.AuditSearch;
import java.io.PrintWriter;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "search", description = "List audit records, oldest first, a page at a time.")
final class AuditSearchCommand extends ToolCommand {
    enum Format { table, json, csv }

    private static final List<String> COLUMNS = List.of("time", "instance", "seq", "kind", "event", "session",
            "subject", "repository", "target", "verdict", "rules", "outcome", "rows", "sqlstate", "text");

    @Mixin
    AuditCommand.StoreOptions store = new AuditCommand.StoreOptions();

    @Option(names = "--identity", description = "Subject, CI repository, CI actor or issuer (exact; end with * for a prefix).")
    String identity;

    @Option(names = "--from", description = "Records at or after this time (instant or date).")
    String from;

    @Option(names = "--to", description = "Records before this time (instant or date).")
    String to;

    @Option(names = "--verdict", description = "Statements with this decision (allow, block, ...).")
    String verdict;

    @Option(names = "--kind", defaultValue = "statement",
            description = "statement (default), outcome, session, lifecycle, prune or all.")
    String kind;

    @Option(names = "--session", description = "Records of one session.")
    String session;

    @Option(names = "--target", description = "Records for one target.")
    String target;

    @Option(names = "--instance", description = "Records of one Warden instance.")
    String instance;

    @Option(names = "--limit", defaultValue = "100", description = "Records per page (default ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--cursor", description = "Continue after the previous page (printed at its end).")
    String cursor;

    @Option(names = "--format", defaultValue = "table", description = "table (default), json (one JSON object per line) or csv.")
    Format format;

    @Override
    String toolName() {
        return "audit search";
    }

    @Override
    int run(PrintWriter out, PrintWriter err) throws Exception {
        try (Connection c = store.connect()) {
            AuditSearch.Page page = AuditSearch.search(c, new AuditSearch.Query(identity,
                    AuditCommand.parseTime(from, "--from"), AuditCommand.parseTime(to, "--to"), verdict, kind, session,
                    target, instance, limit, cursor));
            switch (format) {
                case json -> {
                    ObjectMapper json = new ObjectMapper();
                    for (AuditSearch.Entry e : page.entries()) {
                        out.println(json.writeValueAsString(e.toMap()));
                    }
                }
                case csv -> {
                    out.println(String.join(",", COLUMNS));
                    for (AuditSearch.Entry e : page.entries()) {
                        out.println(String.join(",", row(e).values().stream().map(AuditSearchCommand::csv).toList()));
                    }
                }
                default -> table(out, page.entries());
            }
            if (page.nextCursor() != null) {
                err.println("more records: add --cursor " + page.nextCursor());
            }
            return 0;
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, String> row(AuditSearch.Entry e) {
        Map<String, Object> r = e.record();
        Map<String, Object> id = (Map<String, Object>) r.get("identity");
        Map<String, Object> ci = id == null ? null : (Map<String, Object>) id.get("ci");
        Map<String, Object> v = (Map<String, Object>) r.get("verdict");
        Map<String, Object> o = e.outcome() != null ? e.outcome() : e.kind().equals("outcome") ? r : null;
        Map<String, String> m = new LinkedHashMap<>();
        m.put("time", e.at().toString());
        m.put("instance", e.instanceId());
        m.put("seq", Long.toString(e.seq()));
        m.put("kind", e.kind());
        m.put("event", s(e.event()));
        m.put("session", s(r.get("session")));
        m.put("subject", id == null ? s(r.get("user")) : s(id.get("subject")));
        m.put("repository", ci == null ? "" : s(ci.get("repository")));
        m.put("target", s(r.get("target")));
        m.put("verdict", v == null ? "" : s(v.get("decision")));
        m.put("rules", v == null ? "" : String.join(" ", ((List<Object>) v.get("rules")).stream().map(String::valueOf).toList()));
        m.put("outcome", o == null ? "" : o.get("tag") != null ? s(o.get("tag")) : s(o.get("event")));
        m.put("rows", o == null ? "" : s(o.get("rows")));
        m.put("sqlstate", o == null ? "" : s(o.get("sqlState")));
        m.put("text", r.get("text") != null ? s(r.get("text")) : s(r.get("detail")));
        return m;
    }

    private static void table(PrintWriter out, List<AuditSearch.Entry> entries) {
        List<String> cols = List.of("time", "instance", "seq", "kind", "subject", "target", "verdict", "outcome",
                "sqlstate", "text");
        List<List<String>> rows = new ArrayList<>();
        for (AuditSearch.Entry e : entries) {
            Map<String, String> r = row(e);
            List<String> line = new ArrayList<>();
            for (String c : cols) {
                String v = r.get(c).replaceAll("\\s+", " ");
                line.add(c.equals("text") && v.length() > 60 ? v.substring(0, 59) + "…" : v);
            }
            rows.add(line);
        }
        int[] w = new int[cols.size()];
        for (int i = 0; i < cols.size(); i++) {
            w[i] = cols.get(i).length();
            for (List<String> r : rows) {
                w[i] = Math.max(w[i], r.get(i).length());
            }
        }
        out.println(pad(cols, w));
        for (List<String> r : rows) {
            out.println(pad(r, w));
        }
        out.println("(" + entries.size() + " records)");
    }

    private static String pad(List<String> cells, int[] w) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            sb.append(i == cells.size() - 1 ? cells.get(i) : String.format("%-" + w[i] + "s  ", cells.get(i)));
        }
        return sb.toString().stripTrailing();
    }

    private static String s(Object o) {
        return o == null ? "" : o.toString();
    }

    private static String csv(String v) {
        return v.contains(",") || v.contains("\"") || v.contains("\n") || v.contains("\r")
                ? "\"" + v.replace("\"", "\"\"") + "\"" : v;
    }
}
