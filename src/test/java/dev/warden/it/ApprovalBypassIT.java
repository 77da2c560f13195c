package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.warden.it.RawPgClient.Bytes;
import dev.warden.it.RawPgClient.Msg;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An approval covers one run of exactly the statement (and values) the reviewer saw. Attacks found in
 * a security review: re-Parse of the approved name, SQL PREPARE/EXECUTE, and a Parse approved alone
 * whose values are chosen later.
 */
class ApprovalBypassIT {
    private static final String DBA1 = "dba1@bank.example";
    private static final String API_KEY = "review-test-key-0123456789abcdef0123";

    @TempDir
    static Path dir;
    private static TestGateway gw;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        Path rules = Files.createDirectories(dir.resolve("rules"));
        Files.writeString(rules.resolve("holds.drl"), String.join("\n",
                "package test.holds;",
                "import dev.warden.sql.Statement;",
                "import dev.warden.sql.Statement.Kind;",
                "global dev.warden.policy.Decision verdict;",
                "rule \"Updates of rv_t need a DBA\"",
                "when Statement( kind == Kind.UPDATE, tables contains \"public.rv_t\" )",
                "then verdict.hold(\"dba\", \"medium\", \"rv_t is sensitive\"); end",
                ""));
        gw = TestGateway.builder().rules(rules).apiKey(API_KEY).approvals(String.join("\n",
                "  timeout: 10m",
                "  linkKeyFile: " + dir.resolve("link.key"),
                "  groups:",
                "    dba:",
                "      reviewers: [" + DBA1 + "]", "")).start();
        try (Connection c = db(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS rv_t");
            s.execute("CREATE TABLE rv_t (id int PRIMARY KEY, v text)");
            s.execute("INSERT INTO rv_t SELECT g, 'v' || g FROM generate_series(1, 10) g");
        }
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    static Connection db() throws SQLException {
        return SharedPostgres.get().connect(SharedPostgres.APP_ROLE, SharedPostgres.APP_PASSWORD, SharedPostgres.APP_DB);
    }

    static byte[] parse(String name, String sql) {
        return Bytes.of().cstr(name).cstr(sql).i16(0).typed('P');
    }

    static byte[] bind(String stmt, String... values) {
        Bytes b = Bytes.of().cstr("").cstr(stmt).i16(0).i16(values.length);
        for (String v : values) {
            byte[] x = v.getBytes(StandardCharsets.UTF_8);
            b.i32(x.length).raw(x);
        }
        return b.i16(0).typed('B');
    }

    static byte[] execute() {
        return Bytes.of().cstr("").i32(0).typed('E');
    }

    /** Sends the messages, approves the request named in the NoticeResponse (as DBA1, through the API), reads to ReadyForQuery. */
    private List<Msg> heldThenApproved(RawPgClient raw, byte[]... msgs) throws Exception {
        raw.write(msgs);
        Msg notice;
        do {
            notice = raw.read();
        } while (notice.type() != 'N');
        Matcher m = Pattern.compile("AR-[A-Za-z0-9]+").matcher(notice.message());
        assertThat(m.find()).as(notice.toString()).isTrue();
        HttpResponse<String> ok = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.httpPort()
                        + "/api/approvals/" + m.group() + "/decision")).header("Authorization", "Bearer " + API_KEY)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"decision\":\"approve\",\"reviewer\":\"" + DBA1 + "\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        return raw.readUntil('Z');
    }

    static String valueOf(int id) throws SQLException {
        try (Connection c = db(); PreparedStatement ps = c.prepareStatement("SELECT v FROM rv_t WHERE id = ?")) {
            ps.setInt(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** A re-Parse of the approved name is refused like PostgreSQL would (42P05); the approval stays spent. */
    @Test
    void reparsingTheApprovedNameDoesNotRenewTheApproval() throws Exception {
        try (RawPgClient raw = RawPgClient.login(gw.port(), "review")) {
            // the approved run: statement and values in one round trip, as the reviewer saw them
            heldThenApproved(raw, parse("s1", "UPDATE rv_t SET v = $1 WHERE id = $2"), bind("s1", "first", "1"),
                    execute(), RawPgClient.sync());
            raw.write(parse("s1", "SELECT 1"), RawPgClient.sync()); // PostgreSQL would say 42P05 and keep the UPDATE
            assertThat(raw.readUntil('Z')).anySatisfy(m -> {
                assertThat(m.type()).isEqualTo('E');
                assertThat(m.sqlState()).isEqualTo("42P05");
            });
            raw.write(bind("s1", "second", "2"), execute(), RawPgClient.sync());
            raw.readUntil('Z');
            raw.write(bind("s1", "third", "3"), execute(), RawPgClient.sync());
            raw.readUntil('Z');
        }
        assertThat(valueOf(1)).isEqualTo("first");
        assertThat(valueOf(2)).as("a second run under one approval").isEqualTo("v2");
        assertThat(valueOf(3)).as("a third run under one approval").isEqualTo("v3");
    }

    /** SQL-level PREPARE of a statement that needs approval is refused: EXECUTE would run it again without one. */
    @Test
    void sqlPrepareOfAHeldStatementIsRefused() throws Exception {
        try (RawPgClient raw = RawPgClient.login(gw.port(), "review")) {
            raw.write(RawPgClient.query("PREPARE p(text, int) AS UPDATE rv_t SET v = $1 WHERE id = $2"));
            List<Msg> answer = raw.readUntil('Z');
            Msg err = answer.stream().filter(m -> m.type() == 'E').findFirst().orElseThrow();
            assertThat(err.sqlState()).isEqualTo("42501");
            assertThat(err.message()).contains("cannot be PREPAREd").contains("send it directly");
            raw.write(RawPgClient.query("EXECUTE p('x5', 5)"));
            assertThat(raw.readUntil('Z')).anySatisfy(m -> assertThat(m.type()).isEqualTo('E'));
        }
        assertThat(valueOf(5)).isEqualTo("v5");
    }

    /** Parse alone is approved: the reviewer never sees bind values; any values run later. */
    @Test
    void approvalOfParseAloneLetsClientPickValuesLater() throws Exception {
        try (RawPgClient raw = RawPgClient.login(gw.port(), "review")) {
            heldThenApproved(raw, parse("s9", "UPDATE rv_t SET v = $1 WHERE id = $2"), RawPgClient.sync());
            raw.write(bind("s9", "chosen-later", "9"), execute(), RawPgClient.sync());
            raw.readUntil('Z');
        }
        assertThat(valueOf(9)).as("values nobody reviewed").isEqualTo("v9");
    }
}
