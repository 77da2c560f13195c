package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.audit.AuditStore;
import dev.warden.audit.Canonical;
import dev.warden.audit.SigningKeys;
import dev.warden.cli.WardenCli;
import dev.warden.config.WardenConfig;
import dev.warden.report.EvidenceReport;
import dev.warden.report.ReportFiles;
import dev.warden.report.ReportGenerator;
import dev.warden.report.ReportSettings;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * An evidence report over a period seeded through the real gateway (default rulepack: blocks and
 * holds happen; failed logins; reads of a classified table), checked figure by figure against counts
 * taken directly from the store's blocks ({@code audit_block}) with SQL, the tests' own block decoder
 * ({@link AuditBlocks}, not the production reader) and a JSON parser — never through the report's own
 * aggregation. Then the same report in every format, its signature, and a tampered store.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReportIT {
    static final String TABLE = "report_customers";
    static final String XSS = "<script>alert('x')</script>";
    private static final ObjectMapper JSON = new ObjectMapper();

    private TestGateway gw;
    private Instant from;
    private Instant to;

    @BeforeAll
    void seed() throws Exception {
        EmbeddedTarget();
        gw = TestGateway.builder().rules(Path.of("rules"))
                .target(TestGateway.TARGET, String.join("\n",
                        "    host: 127.0.0.1",
                        "    port: " + SharedPostgres.get().port(),
                        "    database: " + SharedPostgres.APP_DB,
                        "    user: " + SharedPostgres.APP_ROLE,
                        "    password: " + SharedPostgres.APP_PASSWORD,
                        "    sslmode: disable",
                        "    environment: production",
                        "    classifiedTables: [public." + TABLE + "]", ""))
                .user("bob", "    password: bob-pw\n")
                .start();
        from = Instant.now().minusSeconds(1);
        try (Connection c = gw.connect("preferQueryMode=simple"); Statement s = c.createStatement()) {
            for (int i = 0; i < 3; i++) {
                try (ResultSet rs = s.executeQuery("SELECT * FROM " + TABLE + " ORDER BY id")) {
                    while (rs.next()) {
                        rs.getString("name");
                    }
                }
            }
            s.executeQuery("SELECT 1").close();
            assertThatThrownBy(() -> s.execute("DELETE FROM " + TABLE + " /* " + XSS + " */"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            assertThatThrownBy(() -> s.execute("CREATE TABLE report_new_table (id int)"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage()).contains("requires approval"));
            assertThatThrownBy(() -> s.execute("GRANT SELECT ON " + TABLE + " TO PUBLIC"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            s.execute("CREATE TEMP TABLE report_scratch (id int)");
        }
        try (Connection c = gw.connectAs("bob", "bob-pw", TestGateway.TARGET); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT name FROM " + TABLE + " WHERE id <= 2")) {
                while (rs.next()) {
                    rs.getString(1);
                }
            }
        }
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(() -> gw.connectAs(TestGateway.USER, "wrong-password", TestGateway.TARGET).close())
                    .isInstanceOf(SQLException.class);
        }
        assertThatThrownBy(() -> gw.connectAs("mallory", "guess", TestGateway.TARGET).close())
                .isInstanceOf(SQLException.class);
        // every session has ended and its records are durable; then a signed checkpoint closes the period
        await().atMost(Duration.ofSeconds(10)).until(() -> count(all(),
                x -> "session".equals(x.get("_kind")) && "disconnect".equals(path(x, "payload", "event"))) >= 5);
        gw.gateway().audit().checkpoint().get(10, TimeUnit.SECONDS);
        to = Instant.now();
    }

    private static void EmbeddedTarget() throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + SharedPostgres.get().port() + "/"
                + SharedPostgres.APP_DB, SharedPostgres.APP_ROLE, SharedPostgres.APP_PASSWORD);
             Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (id int PRIMARY KEY, name text)");
            s.execute("INSERT INTO " + TABLE + " SELECT g, 'customer ' || g FROM generate_series(1, 5) g ON CONFLICT DO NOTHING");
        }
    }

    @AfterAll
    void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    private Connection store() throws SQLException {
        return new AuditStore(gw.gateway().config().audit().store()).connect();
    }

    private static long count(List<Map<String, Object>> recs, Predicate<Map<String, Object>> where) {
        return recs.stream().filter(where).count();
    }

    private ReportSettings settings() {
        WardenConfig cfg = gw.gateway().config();
        return cfg.reports();
    }

    EvidenceReport report() throws Exception {
        ReportGenerator.Request req = new ReportGenerator.Request(from, to, TestGateway.TARGET, "adhoc");
        try (Connection c = store()) {
            return ReportGenerator.generate(c, req, req.id(), settings(), List.of(gw.gateway().audit().publicKey()),
                    List.of("compliance@example.com"), "ReportIT", ReportGenerator.Progress.NONE);
        }
    }

    /**
     * Every record of the store, read with plain SQL, decoded from its block by {@link AuditBlocks} and
     * parsed with Jackson; the frame's header gives _kind, _instance, _seq and _at.
     */
    private List<Map<String, Object>> all() throws Exception {
        List<Map<String, Object>> out = new ArrayList<>();
        try (Connection c = store()) {
            for (AuditBlocks.Rec r : AuditBlocks.records(c)) {
                @SuppressWarnings("unchecked")
                Map<String, Object> m = JSON.readValue(r.body(), Map.class);
                m.put("_kind", r.type());
                m.put("_instance", r.instance());
                m.put("_seq", r.seq());
                m.put("_at", r.at());
                out.add(m);
            }
        }
        return out;
    }

    /** The records of the period (the record's time in [from, to)). */
    private List<Map<String, Object>> records() throws Exception {
        return all().stream().filter(m -> {
            Instant at = (Instant) m.get("_at");
            return !at.isBefore(from) && at.isBefore(to);
        }).toList();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> payload(Map<String, Object> r) {
        return (Map<String, Object>) r.get("payload");
    }

    @SuppressWarnings("unchecked")
    private static String path(Map<String, Object> m, String... keys) {
        Object o = m;
        for (String k : keys) {
            if (!(o instanceof Map)) {
                return null;
            }
            o = ((Map<String, Object>) o).get(k);
        }
        return o == null ? null : o.toString();
    }

    /** Session records of the target with the given event. */
    private static Predicate<Map<String, Object>> session(String event) {
        return x -> "session".equals(x.get("_kind")) && event.equals(path(x, "payload", "event"))
                && "app".equals(path(x, "payload", "target"));
    }

    @Test
    void everyFigureMatchesIndependentCountsOnTheAuditStore() throws Exception {
        EvidenceReport r = report();
        List<Map<String, Object>> recs = records();

        // coverage: per instance, first/last position and count of records in the period
        Map<String, long[]> cover = new TreeMap<>();
        for (Map<String, Object> rec : recs) {
            long seq = (Long) rec.get("_seq");
            long[] cv = cover.computeIfAbsent((String) rec.get("_instance"), k -> new long[] {seq, seq, 0});
            cv[0] = Math.min(cv[0], seq);
            cv[1] = Math.max(cv[1], seq);
            cv[2]++;
        }
        assertThat(cover).hasSize(1);
        assertThat(r.coverage()).hasSize(1);
        EvidenceReport.Coverage cv = r.coverage().get(0);
        long[] expected = cover.get(cv.instance());
        assertThat(expected).as("coverage of instance %s", cv.instance()).isNotNull();
        assertThat(cv.firstSeq()).isEqualTo(expected[0]);
        assertThat(cv.lastSeq()).isEqualTo(expected[1]);
        assertThat(cv.records()).isEqualTo(expected[2]);

        Predicate<Map<String, Object>> appStatement = x -> "statement".equals(x.get("_kind"))
                && "app".equals(path(x, "payload", "target"));
        long statements = count(recs, appStatement);
        assertThat(statements).isGreaterThanOrEqualTo(9);
        assertThat(r.activity().statements()).isEqualTo(statements);
        Map<String, Long> byVerdict = new TreeMap<>();
        for (String v : List.of("allow", "block", "hold")) {
            long n = count(recs, appStatement.and(x -> v.equals(path(x, "payload", "verdict", "decision"))));
            if (n > 0) {
                byVerdict.put(v, n);
            }
        }
        assertThat(r.activity().byVerdict()).isEqualTo(byVerdict);
        assertThat(byVerdict.get("block")).isEqualTo(1);
        assertThat(byVerdict.get("hold")).isEqualTo(2);
        assertThat(r.activity().logins()).isEqualTo(count(recs, session("auth_success"))).isEqualTo(2);

        // exceptions
        assertThat(r.exceptions().blockedStatements()).isEqualTo(byVerdict.get("block"));
        long failed = count(recs, session("auth_failure"));
        assertThat(failed).isEqualTo(3);
        assertThat(r.exceptions().failedLogins()).isEqualTo(failed);
        Map<String, Long> failedByUser = new TreeMap<>();
        for (Map<String, Object> rec : recs) {
            if ("auth_failure".equals(path(rec, "payload", "event"))) {
                failedByUser.merge(path(rec, "payload", "user"), 1L, Long::sum);
            }
        }
        assertThat(r.exceptions().failedLoginsByUser()).isEqualTo(failedByUser);
        assertThat(r.exceptions().failedLoginsByReason().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(failed);
        assertThat(r.exceptions().blockedByRule()).containsEntry("UPDATE or DELETE without WHERE is blocked", 1L);

        // identities: subjects seen in logins and statements
        Set<String> subjects = new HashSet<>();
        Map<String, Long> statementsBySubject = new HashMap<>();
        for (Map<String, Object> rec : recs) {
            String subject = path(rec, "payload", "identity", "subject");
            if (subject != null && ("statement".equals(rec.get("_kind")) || "auth_success".equals(path(rec, "payload", "event")))) {
                subjects.add(subject);
            }
            if ("statement".equals(rec.get("_kind"))) {
                statementsBySubject.merge(subject, 1L, Long::sum);
            }
        }
        assertThat(r.identities().rows()).extracting(EvidenceReport.IdentityRow::subject).containsExactlyInAnyOrderElementsOf(subjects);
        assertThat(subjects).containsExactlyInAnyOrder("alice", "bob");
        for (EvidenceReport.IdentityRow row : r.identities().rows()) {
            assertThat(row.statements()).as(row.subject()).isEqualTo(statementsBySubject.get(row.subject()));
            assertThat(row.sessions()).isEqualTo(1);
        }

        // classified access: statements whose text names the classified table; rows from their outcomes
        Map<String, Map<String, Object>> outcomesByStatement = new HashMap<>();
        for (Map<String, Object> rec : recs) {
            if ("outcome".equals(rec.get("_kind"))) {
                outcomesByStatement.put(path(rec, "payload", "statement"), payload(rec));
            }
        }
        long classified = 0;
        long rows = 0;
        for (Map<String, Object> rec : recs) {
            String text = path(rec, "payload", "text");
            if ("statement".equals(rec.get("_kind")) && text != null && text.contains(TABLE)) {
                classified++;
                @SuppressWarnings("unchecked")
                Map<String, Object> o = rec.get("outcome") != null ? (Map<String, Object>) rec.get("outcome")
                        : outcomesByStatement.get(path(rec, "payload", "id"));
                if (o != null && "ok".equals(o.get("event"))) {
                    rows += ((Number) o.getOrDefault("rows", 0)).longValue();
                }
            }
        }
        assertThat(classified).isEqualTo(6); // 3 reads, the blocked DELETE, the held GRANT, bob's read
        assertThat(rows).isEqualTo(17);     // 3 × 5 + 2
        assertThat(r.classifiedAccess().statements()).isEqualTo(classified);
        assertThat(r.classifiedAccess().rowsReturned()).isEqualTo(rows);
        assertThat(r.classifiedAccess().unmaskedStatements()).isEqualTo(classified);
        assertThat(r.classifiedAccess().readers()).extracting(EvidenceReport.ReaderRow::subject).containsExactlyInAnyOrder("alice", "bob");

        // privileged: held statements plus DDL the policy allowed (a temporary table)
        long privileged = count(recs, appStatement.and(x -> "hold".equals(path(x, "payload", "verdict", "decision"))))
                + recs.stream()
                .filter(x -> "statement".equals(x.get("_kind")) && String.valueOf(path(x, "payload", "text")).startsWith("CREATE TEMP"))
                .count();
        assertThat(privileged).isEqualTo(3);
        assertThat(r.privileged().total()).isEqualTo(privileged);
        assertThat(r.privileged().byStatus()).containsEntry("held, no approval recorded", 2L)
                .containsEntry("allowed by policy", 1L);
        assertThat(r.privileged().operations()).allSatisfy(o -> assertThat(o.record()).startsWith(r.coverage().get(0).instance() + "#"));

        // integrity: verifies, and the checkpoint closing the period is quoted with its signature
        assertThat(r.integrity().ok()).as(r.integrity().verdict()).isTrue();
        assertThat(r.integrity().verdict()).startsWith("VERIFIED");
        EvidenceReport.Chain chain = r.integrity().chains().get(0);
        assertThat(chain.after()).isNotNull();
        assertThat(chain.after().seq()).isGreaterThanOrEqualTo(r.coverage().get(0).lastSeq());
        assertThat(r.integrity().trustedKeyIds()).containsExactly(SigningKeys.keyId(gw.gateway().audit().publicKey()));

        // control effectiveness: the rules version(s) the statements name
        Set<String> versions = new HashSet<>();
        for (Map<String, Object> rec : recs) {
            if ("statement".equals(rec.get("_kind")) && path(rec, "payload", "verdict", "rulesVersion") != null) {
                versions.add(path(rec, "payload", "verdict", "rulesVersion"));
            }
        }
        assertThat(r.effectiveness().rulesVersions()).extracting(EvidenceReport.RulesVersion::version)
                .containsExactlyInAnyOrderElementsOf(versions);
        assertThat(r.effectiveness().rulesVersions().stream().mapToLong(EvidenceReport.RulesVersion::statements).sum())
                .isEqualTo(statements);
    }

    @Test
    void everyFormatCarriesTheFiguresAndItsSignatureCatchesAnyChange(@TempDir Path dir) throws Exception {
        EvidenceReport r = report();
        KeyPair key = SigningKeys.loadOrGenerate(gw.gateway().config().audit().signingKeyFile(), false);
        Map<ReportSettings.Format, Path> files = ReportFiles.write(r, dir, List.of(ReportSettings.Format.values()), key);

        // kept for docs/reports.md (a sample from a real run)
        Path sample = Path.of("target/report-sample");
        Files.createDirectories(sample);
        for (Path f : files.values()) {
            Files.copy(f, sample.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.copy(dev.warden.report.ReportSignature.sigFileFor(f), sample.resolve(f.getFileName() + ".sig"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }

        // JSON parses, and reads back into the same content
        JsonNode json = JSON.readTree(files.get(ReportSettings.Format.JSON).toFile());
        assertThat(json.at("/exceptions/blockedStatements").asLong()).isEqualTo(r.exceptions().blockedStatements());
        assertThat(json.at("/integrity/ok").asBoolean()).isTrue();
        assertThat(dev.warden.report.ReportJson.parse(Files.readAllBytes(files.get(ReportSettings.Format.JSON))))
                .isEqualTo(r);

        // CSV: a header and four cells per row (RFC 4180 quoting)
        List<List<String>> csv = parseCsv(Files.readString(files.get(ReportSettings.Format.CSV)));
        assertThat(csv.get(0)).containsExactly("section", "metric", "key", "value");
        assertThat(csv).allSatisfy(row -> assertThat(row).hasSize(4));
        assertThat(csv).contains(List.of("exceptions", "failedLogins", "", Long.toString(r.exceptions().failedLogins())));
        assertThat(csv).contains(List.of("activity", "statements", "", Long.toString(r.activity().statements())));

        // HTML: three inline SVG charts, everything escaped
        String html = Files.readString(files.get(ReportSettings.Format.HTML));
        assertThat(html).contains("<svg id=\"chart-per-day\"", "<svg id=\"chart-top-identities\"",
                "<svg id=\"chart-approval-latency\"");
        assertThat(html).doesNotContain(XSS).contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
        assertThat(html).doesNotContainPattern("<script");
        assertThat(html).contains("class=\"banner ok\"");
        if (HeadlessChromium.available()) {
            // what a browser builds from it: the three charts are SVG elements with drawn marks
            Path png = dir.resolve("report.png");
            String dom = HeadlessChromium.dumpDom(files.get(ReportSettings.Format.HTML).toUri().toString(), png, dir);
            for (String chart : List.of("chart-per-day", "chart-top-identities", "chart-approval-latency")) {
                int at = dom.indexOf("<svg id=\"" + chart + "\"");
                assertThat(at).as("chart %s in the rendered DOM", chart).isNotNegative();
                String svg = dom.substring(at, dom.indexOf("</svg>", at));
                assertThat(svg).containsPattern("<(rect|path|line|circle|polyline)\\b");
            }
            assertThat(dom).doesNotContain(XSS);
            assertThat(Files.size(png)).as("a screenshot was rendered").isGreaterThan(10_000);
        } else {
            System.out.println("ReportIT: /usr/bin/chromium not installed; the browser check was skipped");
        }
        for (String section : List.of("II.C.22", "II.C.7 / II.C.15", "Authentication and Access", "Architecture, Infrastructure",
                "PCI DSS")) {
            assertThat(html).contains(section);
        }

        // PDF: the key figures, as text PDFBox extracts
        try (PDDocument pdf = Loader.loadPDF(files.get(ReportSettings.Format.PDF).toFile())) {
            String text = new PDFTextStripper().getText(pdf).replaceAll("\\s+", " ");
            assertThat(text).contains("Statements: " + r.activity().statements());
            assertThat(text).contains("Blocked statements " + r.exceptions().blockedStatements());
            assertThat(text).contains("Failed logins " + r.exceptions().failedLogins());
            assertThat(text).contains("Rows returned: " + r.classifiedAccess().rowsReturned());
            assertThat(text).contains("Privileged statements: " + r.privileged().total());
            assertThat(text).contains("VERIFIED");
        }

        // ./warden report verify: every untouched file verifies; a changed byte does not
        Path pub = dir.resolve("audit.pub.pem");
        Files.writeString(pub, SigningKeys.pem("PUBLIC KEY", key.getPublic().getEncoded()));
        for (Path f : files.values()) {
            assertThat(cli("report", "verify", f.toString(), "--public-key", pub.toString())).as(f.toString()).isZero();
        }
        Path pdf = files.get(ReportSettings.Format.PDF);
        byte[] bytes = Files.readAllBytes(pdf);
        bytes[bytes.length / 2] ^= 1;
        Files.write(pdf, bytes);
        assertThat(cli("report", "verify", pdf.toString(), "--public-key", pub.toString())).isEqualTo(1);
        Path js = files.get(ReportSettings.Format.JSON);
        Files.writeString(js, Files.readString(js).replace("\"blockedStatements\" : 1", "\"blockedStatements\" : 0"));
        assertThat(cli("report", "verify", js.toString(), "--public-key", pub.toString())).isEqualTo(1);
        // a signature made with another key does not verify either
        Path other = dir.resolve("other.pem");
        KeyPair otherKey = SigningKeys.generate(other);
        Path csvFile = files.get(ReportSettings.Format.CSV);
        dev.warden.report.ReportSignature.write(csvFile, r.id(), Files.readAllBytes(csvFile), otherKey.getPrivate(),
                otherKey.getPublic());
        assertThat(cli("report", "verify", csvFile.toString(), "--public-key", pub.toString())).isEqualTo(1);
    }

    @Test
    void theCliWritesASignedReportForAPeriodWithProgressOnStandardError(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("nov.html");
        StringWriter err = new StringWriter();
        int rc = cli(err, "report", "--store", gw.gateway().config().audit().store().url(), "--signing-key",
                gw.gateway().config().audit().signingKeyFile().toString(), "--from", from.toString(), "--to", to.toString(),
                "--target", TestGateway.TARGET, "--out", out.toString());
        assertThat(rc).as(err.toString()).isZero();
        assertThat(Files.readString(out)).contains("<svg id=\"chart-per-day\"");
        assertThat(dev.warden.report.ReportSignature.sigFileFor(out)).exists();
    }

    private static int cli(String... args) {
        return cli(new StringWriter(), args);
    }

    private static int cli(StringWriter err, String... args) {
        CommandLine cl = new CommandLine(new WardenCli());
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        return cl.execute(args);
    }

    static List<List<String>> parseCsv(String text) {
        List<List<String>> rows = new ArrayList<>();
        List<String> row = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (quoted) {
                if (ch == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
                    cell.append('"');
                    i++;
                } else if (ch == '"') {
                    quoted = false;
                } else {
                    cell.append(ch);
                }
            } else if (ch == '"') {
                quoted = true;
            } else if (ch == ',') {
                row.add(cell.toString());
                cell.setLength(0);
            } else if (ch == '\r') {
                // part of CRLF
            } else if (ch == '\n') {
                row.add(cell.toString());
                cell.setLength(0);
                rows.add(row);
                row = new ArrayList<>();
            } else {
                cell.append(ch);
            }
        }
        return rows;
    }

    @Test
    void aTamperedRecordMakesTheIntegritySectionFailLoudly(@TempDir Path dir) throws Exception {
        // runs on a copy of the period's evidence: tamper last, in its own gateway-independent check
        EvidenceReport before = report();
        assertThat(before.integrity().ok()).isTrue();
        long seq = before.coverage().get(0).firstSeq() + 3;
        String instance = before.coverage().get(0).instance();
        try (Connection c = store()) {
            // the record's frame is rewritten inside its block (H2 store; PostgreSQL blocks are append-only)
            long firstSeqOfBlock = AuditBlocks.blockOf(c, instance, seq).firstSeq();
            byte[] original = AuditBlocks.rewriteBody(c, instance, seq, body -> {
                Map<String, Object> env = Canonical.decodeObject(body);
                @SuppressWarnings("unchecked")
                Map<String, Object> p = new TreeMap<>((Map<String, Object>) env.get("payload"));
                p.put("tampered", "yes");
                env = new TreeMap<>(env);
                env.put("payload", p);
                return Canonical.encode(env);
            });
            c.commit();
            assertThat(AuditBlocks.blockOf(c, instance, seq).frames()).filteredOn(f -> f.seq() == seq)
                    .singleElement().satisfies(f -> assertThat(f.payload()).containsEntry("tampered", "yes"));
            try {
                EvidenceReport after = report();
                assertThat(after.integrity().ok()).isFalse();
                assertThat(after.integrity().verdict()).startsWith("FAILED").contains("record " + seq)
                        .contains("hash mismatch");
                String html = new String(ReportFiles.render(after, ReportSettings.Format.HTML), StandardCharsets.UTF_8);
                assertThat(html).contains("class=\"banner failed\"").contains("WARNING");
                try (PDDocument pdf = Loader.loadPDF(ReportFiles.render(after, ReportSettings.Format.PDF))) {
                    assertThat(new PDFTextStripper().getText(pdf)).contains("WARNING").contains("FAILED");
                }
            } finally {
                AuditBlocks.setRecords(c, instance, firstSeqOfBlock, original);
                c.commit();
            }
        }
        assertThat(report().integrity().ok()).isTrue();
    }
}
