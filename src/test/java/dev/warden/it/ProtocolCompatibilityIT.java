package dev.warden.it;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import java.io.DataOutputStream;
import java.io.InputStream;
import java.io.StringReader;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.math.BigDecimal;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Array;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Savepoint;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.PGStatement;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;
import org.postgresql.largeobject.LargeObject;
import org.postgresql.largeobject.LargeObjectManager;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Everything a pgJDBC client does must keep working through Warden: both query protocols, server-side
 * prepared statements, pipelined batches, binary transfer, COPY, LISTEN/NOTIFY, notices, ParameterStatus,
 * error handling, cancel, Terminate and very large values. The upstream is observed directly (as the
 * superuser, bypassing Warden) wherever the client's own view could hide a fault.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ProtocolCompatibilityIT {
    private static final String RUN = Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);
    private static final int CANCEL_REQUEST_CODE = 80877102;

    private static TestGateway gw;
    /** Direct superuser connection to appdb, not through Warden: watches the upstream side. */
    private static Connection su;
    private static ExecutorService pool;

    @BeforeAll
    static void start() throws SQLException {
        gw = TestGateway.builder().start();
        su = SharedPostgres.get().superuser(SharedPostgres.APP_DB);
        pool = Executors.newCachedThreadPool();
    }

    @AfterAll
    static void stop() throws SQLException {
        if (pool != null) {
            pool.shutdownNow();
        }
        if (su != null) {
            su.close();
        }
        if (gw != null) {
            gw.close();
        }
    }

    // ---------------------------------------------------------------- startup

    @Test
    void clientPreferringTlsFallsBackToPlaintextWhenWardenOffersNone() throws Exception {
        // sslmode=prefer is pgJDBC's default: an SSLRequest answered 'N', then a plain StartupMessage
        try (Connection c = gw.connect("sslmode=prefer")) {
            assertThat(scalar(c, "SELECT current_user")).isEqualTo(SharedPostgres.APP_ROLE);
        }
    }

    @Test
    void startupParametersReachTheServer() throws Exception {
        try (Connection c = gw.connect(new String[] {"options=-c%20statement_timeout%3D1500%20-c%20work_mem%3D7MB",
                "currentSchema=pg_catalog,public", "ApplicationName=pc-startup-" + RUN})) {
            assertThat(scalar(c, "SHOW statement_timeout")).isEqualTo("1500ms");
            assertThat(scalar(c, "SHOW work_mem")).isEqualTo("7MB");
            assertThat(scalar(c, "SHOW search_path")).isEqualTo("pg_catalog,public");
            assertThat(scalar(c, "SHOW application_name")).isEqualTo("pc-startup-" + RUN);
            // and the timeout is in force: PostgreSQL cancels the statement itself
            assertThat(sqlStateOf(() -> exec(c, "SELECT pg_sleep(10)"))).isEqualTo("57014");
        }
    }

    // ---------------------------------------------------------------- simple query protocol

    @Test
    void simpleQueryProtocolRunsMultiStatementStringsInOrder() throws Exception {
        String t = table("pc_simple");
        try (Connection c = gw.connect("preferQueryMode=simple"); Statement s = c.createStatement()) {
            boolean first = s.execute("CREATE TABLE " + t + " (id int PRIMARY KEY, v text); "
                    + "INSERT INTO " + t + " VALUES (1, 'a'), (2, 'b'); "
                    + "SELECT v FROM " + t + " ORDER BY id; "
                    + "UPDATE " + t + " SET v = 'c' WHERE id = 2");
            assertThat(allResults(s, first)).containsExactly("update:0", "update:2", "rows:[a, b]", "update:1");

            // one simple Query is one implicit transaction: a later failure undoes the earlier statements
            String state = sqlStateOf(() -> s.execute("INSERT INTO " + t + " VALUES (3, 'd'); SELECT 1/0"));
            assertThat(state).isEqualTo("22012");
            assertThat(column(c, "SELECT v FROM " + t + " ORDER BY id")).containsExactly("a", "c");
        }
    }

    @Test
    void simpleQueryProtocolInlinesParametersIncludingQuotes() throws Exception {
        try (Connection c = gw.connect("preferQueryMode=simple");
             PreparedStatement ps = c.prepareStatement("SELECT ?::int + 1, ?::text, ?::text IS NULL")) {
            ps.setInt(1, 41);
            ps.setString(2, "O'Brien; DROP TABLE x; -- \\ ü€");
            ps.setString(3, null);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(42);
                assertThat(rs.getString(2)).isEqualTo("O'Brien; DROP TABLE x; -- \\ ü€");
                assertThat(rs.getBoolean(3)).isTrue();
            }
        }
    }

    @Test
    void emptyQueryIsAnsweredAndTheSessionContinuesInBothProtocols() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = gw.connect("preferQueryMode=" + mode); Statement s = c.createStatement()) {
                assertThat(s.execute("")).as(mode).isFalse();
                assertThat(s.getResultSet()).as(mode).isNull();
                assertThat(s.execute(";")).as(mode).isFalse();
                assertThat(s.getResultSet()).as(mode).isNull();
                try (PreparedStatement ps = c.prepareStatement("")) {
                    assertThat(ps.execute()).as(mode).isFalse();
                }
                assertThat(scalar(c, "SELECT 'still here'")).as(mode).isEqualTo("still here");
            }
        }
    }

    // ---------------------------------------------------------------- extended query protocol

    @Test
    void unnamedExtendedProtocolStatementsBindParametersAndLeaveNoNamedStatement() throws Exception {
        String marker = "pc_unnamed_" + RUN;
        try (Connection c = gw.connect();
             PreparedStatement ps = c.prepareStatement("SELECT ?::int * 2, ?::text || '!', ?::bigint /* " + marker + " */")) {
            // describe-only round trips before the first execution
            assertThat(ps.getMetaData().getColumnCount()).isEqualTo(3);
            assertThat(ps.getMetaData().getColumnTypeName(3)).isEqualTo("int8");
            assertThat(ps.getParameterMetaData().getParameterCount()).isEqualTo(3);
            assertThat(ps.getParameterMetaData().getParameterTypeName(2)).isEqualTo("text");
            for (int i = 0; i < 3; i++) {
                ps.setInt(1, i);
                ps.setString(2, "v" + i);
                ps.setLong(3, Long.MIN_VALUE + i);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(2 * i);
                    assertThat(rs.getString(2)).isEqualTo("v" + i + "!");
                    assertThat(rs.getLong(3)).isEqualTo(Long.MIN_VALUE + i);
                    assertThat(rs.next()).isFalse();
                }
            }
            // below the default prepareThreshold (5) pgJDBC uses the unnamed statement only
            assertThat(ps.unwrap(PGStatement.class).isUseServerPrepare()).isFalse();
            assertThat(namedStatements(c, marker)).isEmpty();
        }
    }

    @Test
    void namedServerSidePreparedStatementIsPreparedOnceAndExecutedRepeatedly() throws Exception {
        String marker = "pc_named_" + RUN;
        try (Connection c = gw.connect("prepareThreshold=1");
             PreparedStatement ps = c.prepareStatement("SELECT ?::int * 3, ?::text /* " + marker + " */")) {
            for (int i = 0; i < 6; i++) {
                ps.setInt(1, i);
                ps.setString(2, "v" + i);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(3 * i);
                    assertThat(rs.getString(2)).isEqualTo("v" + i);
                }
            }
            assertThat(ps.unwrap(PGStatement.class).isUseServerPrepare()).isTrue();
            List<String[]> named = namedStatements(c, marker);
            assertThat(named).hasSize(1);
            assertThat(named.get(0)[0]).matches("S_\\d+");
            // every one of the 6 executions ran the same server-side statement
            assertThat(named.get(0)[1]).isEqualTo("6");
        }
    }

    @Test
    void namedStatementIsRePreparedAfterDeallocateAll() throws Exception {
        String marker = "pc_dealloc_" + RUN;
        try (Connection c = gw.connect("prepareThreshold=1");
             PreparedStatement ps = c.prepareStatement("SELECT ?::int + 100 /* " + marker + " */")) {
            for (int i = 0; i < 3; i++) {
                ps.setInt(1, i);
                assertThat(single(ps)).isEqualTo(100 + i);
            }
            assertThat(namedStatements(c, marker)).hasSize(1);
            try (Statement s = c.createStatement()) {
                s.execute("DEALLOCATE ALL");
            }
            assertThat(namedStatements(c, marker)).isEmpty();
            for (int i = 0; i < 3; i++) {
                ps.setInt(1, 10 + i);
                assertThat(single(ps)).isEqualTo(110 + i);
            }
            List<String[]> again = namedStatements(c, marker);
            assertThat(again).hasSize(1);
            assertThat(again.get(0)[1]).isEqualTo("3");
        }
    }

    @Test
    void namedStatementIsRePreparedAfterTheTableChangesShape() throws Exception {
        String t = table("pc_ddl");
        try (Connection c = gw.connect("prepareThreshold=1")) {
            exec(c, "CREATE TABLE " + t + " (id int PRIMARY KEY, a text)", "INSERT INTO " + t + " VALUES (1, 'one')");
            try (PreparedStatement ps = c.prepareStatement("SELECT * FROM " + t + " WHERE id = ?")) {
                ps.setInt(1, 1);
                for (int i = 0; i < 2; i++) {
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.getMetaData().getColumnCount()).isEqualTo(2);
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getString("a")).isEqualTo("one");
                    }
                }
                exec(c, "ALTER TABLE " + t + " ADD COLUMN b text DEFAULT 'added'");
                // the server answers the stale statement with "cached plan must not change result type";
                // pgJDBC re-prepares and retries, which needs the error and the retry relayed faithfully
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.getMetaData().getColumnCount()).isEqualTo(3);
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString("b")).isEqualTo("added");
                }
            }
        }
    }

    // ---------------------------------------------------------------- batches

    @Test
    void pipelinedBatchOfAThousandInsertsArrivesCompletely() throws Exception {
        String t = table("pc_batch");
        try (Connection c = gw.connect()) {
            exec(c, "CREATE TABLE " + t + " (id int PRIMARY KEY, v text NOT NULL)");
            int[] counts;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " (id, v) VALUES (?, ?)")) {
                for (int i = 1; i <= 1000; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "row-" + i);
                    ps.addBatch();
                }
                counts = ps.executeBatch();
            }
            assertThat(counts).hasSize(1000).containsOnly(1);
            assertThat(scalar(c, "SELECT count(*) FROM " + t)).isEqualTo(1000L);
            assertThat(scalar(c, "SELECT sum(id) FROM " + t)).isEqualTo(500_500L);
            assertThat(scalar(c, "SELECT count(*) FROM " + t + " WHERE v = 'row-' || id")).isEqualTo(1000L);
        }
    }

    @Test
    void rewrittenBatchedInsertsArriveCompletely() throws Exception {
        String t = table("pc_rewrite");
        try (Connection c = gw.connect("reWriteBatchedInserts=true")) {
            exec(c, "CREATE TABLE " + t + " (id int PRIMARY KEY, v text NOT NULL)");
            int[] counts;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " (id, v) VALUES (?, ?)")) {
                for (int i = 1; i <= 1000; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "row-" + i);
                    ps.addBatch();
                }
                counts = ps.executeBatch();
            }
            assertThat(counts).hasSize(1000).containsOnly(Statement.SUCCESS_NO_INFO);
            assertThat(scalar(c, "SELECT count(*) FROM " + t)).isEqualTo(1000L);
            assertThat(scalar(c, "SELECT sum(id) FROM " + t)).isEqualTo(500_500L);
            assertThat(scalar(c, "SELECT count(*) FROM " + t + " WHERE v = 'row-' || id")).isEqualTo(1000L);
        }
    }

    @Test
    void failingBatchInATransactionRollsBackAndTheSessionStaysUsable() throws Exception {
        String t = table("pc_batchfail");
        try (Connection c = gw.connect()) {
            exec(c, "CREATE TABLE " + t + " (id int PRIMARY KEY)");
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " (id) VALUES (?)")) {
                for (int i = 1; i <= 1000; i++) {
                    ps.setInt(1, i == 700 ? 1 : i); // row 700 repeats key 1
                    ps.addBatch();
                }
                BatchUpdateException e = catchSql(ps::executeBatch, BatchUpdateException.class);
                SQLException cause = e.getNextException() != null ? e.getNextException() : e;
                assertThat(cause.getSQLState()).isEqualTo("23505");
                c.rollback();
                for (int i = 1; i <= 1000; i++) {
                    ps.setInt(1, i);
                    ps.addBatch();
                }
                assertThat(ps.executeBatch()).hasSize(1000).containsOnly(1);
                c.commit();
            }
            c.setAutoCommit(true);
            assertThat(scalar(c, "SELECT count(*) FROM " + t)).isEqualTo(1000L);
        }
    }

    // ---------------------------------------------------------------- binary transfer

    @Test
    void binaryTransferRoundTripsEveryCommonType() throws Exception {
        String t = table("pc_binary");
        byte[] blob = new byte[1 << 20];
        new Random(20240229L).nextBytes(blob);
        UUID uuid = UUID.randomUUID();
        BigDecimal num = new BigDecimal("-12345678901234567890.000000000000000123");
        OffsetDateTime ts = OffsetDateTime.of(2024, 2, 29, 13, 14, 15, 123_456_000, ZoneOffset.ofHours(2));
        Integer[] ints = {1, null, -3, Integer.MAX_VALUE, Integer.MIN_VALUE};
        String[] texts = {"a", "b c", "ü€😀", null, "", "quote\"back\\slash"};
        try (Connection c = gw.connect("binaryTransfer=true", "prepareThreshold=-1")) {
            exec(c, "CREATE TABLE " + t + " (id int4, big int8, num numeric, ts timestamptz, data bytea, u uuid,"
                    + " ints int4[], texts text[])");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setInt(1, Integer.MIN_VALUE);
                ps.setLong(2, Long.MAX_VALUE);
                ps.setBigDecimal(3, num);
                ps.setObject(4, ts);
                ps.setBytes(5, blob);
                ps.setObject(6, uuid);
                ps.setArray(7, c.createArrayOf("int4", ints));
                ps.setArray(8, c.createArrayOf("text", texts));
                assertThat(ps.executeUpdate()).isEqualTo(1);
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT id, big, num, ts, data, u, ints, texts,"
                    + " md5(data), length(data) FROM " + t + " WHERE id = ?")) {
                ps.setInt(1, Integer.MIN_VALUE);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getObject(1)).isEqualTo(Integer.MIN_VALUE);
                    assertThat(rs.getObject(2)).isEqualTo(Long.MAX_VALUE);
                    assertThat(rs.getBigDecimal(3)).isEqualTo(num);
                    assertThat(rs.getObject(4, OffsetDateTime.class).toInstant()).isEqualTo(ts.toInstant());
                    assertThat(rs.getBytes(5)).isEqualTo(blob);
                    assertThat(rs.getObject(6)).isEqualTo(uuid);
                    assertThat((Object[]) rs.getArray(7).getArray()).containsExactly((Object[]) ints);
                    assertThat((Object[]) rs.getArray(8).getArray()).containsExactly((Object[]) texts);
                    // the server saw exactly the bytes that were sent, not just something that reads back equal
                    assertThat(rs.getString(9)).isEqualTo(md5Hex(blob));
                    assertThat(rs.getInt(10)).isEqualTo(blob.length);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT ?::numeric, '0'::numeric, '-0.0001'::numeric,"
                    + " '99999999999999999999999999.9999'::numeric, '1e100'::numeric, 'NaN'::numeric,"
                    + " ARRAY[1.5, -2.25]::numeric[], '{{1,2},{3,4}}'::int8[], '2000-01-01 00:00:00+00'::timestamptz")) {
                ps.setBigDecimal(1, new BigDecimal("0.000000000000000000000000000001"));
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getBigDecimal(1)).isEqualByComparingTo("1E-30");
                    assertThat(rs.getBigDecimal(2)).isEqualByComparingTo("0");
                    assertThat(rs.getBigDecimal(3)).isEqualByComparingTo("-0.0001");
                    assertThat(rs.getBigDecimal(4)).isEqualByComparingTo("99999999999999999999999999.9999");
                    assertThat(rs.getBigDecimal(5)).isEqualByComparingTo("1E+100");
                    assertThat(rs.getDouble(6)).isNaN();
                    assertThat((Object[]) rs.getArray(7).getArray()).extracting(o -> ((BigDecimal) o).toPlainString())
                            .containsExactly("1.5", "-2.25");
                    Array matrix = rs.getArray(8);
                    assertThat(matrix.getArray()).isEqualTo(new Long[][] {{1L, 2L}, {3L, 4L}});
                    assertThat(rs.getObject(9, OffsetDateTime.class).toInstant())
                            .isEqualTo(OffsetDateTime.of(2000, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC).toInstant());
                }
            }
        }
    }

    // ---------------------------------------------------------------- COPY

    @Test
    void copyInAndCopyOutMoveAHundredThousandRowsUnchanged() throws Exception {
        String t = table("pc_copy");
        StringBuilder data = new StringBuilder();
        long idSum = 0;
        for (int i = 1; i <= 100_000; i++) {
            idSum += i;
            data.append(i).append('\t');
            if (i % 1000 == 0) {
                data.append("\\N");
            } else {
                data.append("name-ü€-").append(i).append("\\ttab\\\\back");
            }
            data.append('\t').append(i * 7L).append(".25\n");
        }
        String expected = data.toString();
        try (Connection c = gw.connect()) {
            exec(c, "CREATE TABLE " + t + " (id int PRIMARY KEY, name text, amount numeric(20,2))");
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            long in = copy.copyIn("COPY " + t + " FROM STDIN", new StringReader(expected));
            assertThat(in).isEqualTo(100_000L);
            assertThat(scalar(c, "SELECT count(*) FROM " + t)).isEqualTo(100_000L);
            assertThat(scalar(c, "SELECT sum(id) FROM " + t)).isEqualTo(idSum);
            assertThat(scalar(c, "SELECT count(*) FROM " + t + " WHERE name IS NULL")).isEqualTo(100L);
            assertThat(scalar(c, "SELECT name FROM " + t + " WHERE id = 5")).isEqualTo("name-ü€-5\ttab\\back");

            StringWriter out = new StringWriter();
            long outRows = copy.copyOut("COPY (SELECT * FROM " + t + " ORDER BY id) TO STDOUT", out);
            assertThat(outRows).isEqualTo(100_000L);
            String actual = out.toString();
            assertThat(actual.length()).isEqualTo(expected.length());
            assertThat(actual).isEqualTo(expected);
        }
    }

    @Test
    void copyInThatFailsOnABadRowLeavesTheSessionUsable() throws Exception {
        String t = table("pc_copyfail");
        StringBuilder data = new StringBuilder();
        for (int i = 1; i <= 100_000; i++) {
            data.append(i == 50_001 ? "not-a-number" : Integer.toString(i)).append("\tv").append(i).append('\n');
        }
        try (Connection c = gw.connect()) {
            exec(c, "CREATE TABLE " + t + " (id int, v text)");
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            String state = sqlStateOf(() -> copy.copyIn("COPY " + t + " FROM STDIN", new StringReader(data.toString())));
            assertThat(state).isEqualTo("22P02");
            assertThat(scalar(c, "SELECT count(*) FROM " + t)).isEqualTo(0L);

            // a COPY the client abandons itself (CopyFail) also leaves nothing behind
            CopyIn abandoned = copy.copyIn("COPY " + t + " FROM STDIN");
            byte[] rows = "1\ta\n2\tb\n".getBytes(StandardCharsets.UTF_8);
            abandoned.writeToCopy(rows, 0, rows.length);
            abandoned.cancelCopy();
            assertThat(scalar(c, "SELECT count(*) FROM " + t)).isEqualTo(0L);

            // and the next COPY on the same session works
            long ok = copy.copyIn("COPY " + t + " FROM STDIN", new StringReader("1\tx\n2\ty\n3\tz\n"));
            assertThat(ok).isEqualTo(3L);
            assertThat(column(c, "SELECT v FROM " + t + " ORDER BY id")).containsExactly("x", "y", "z");
        }
    }

    // ---------------------------------------------------------------- fastpath (FunctionCall)

    @Test
    void largeObjectApiOverFastpathFunctionCallsRoundTripsData() throws Exception {
        byte[] content = new byte[300_000];
        new Random(7).nextBytes(content);
        try (Connection c = gw.connect()) {
            c.setAutoCommit(false);
            LargeObjectManager lom = c.unwrap(PGConnection.class).getLargeObjectAPI();
            long oid = lom.createLO(LargeObjectManager.READWRITE);
            try (LargeObject lo = lom.open(oid, LargeObjectManager.WRITE)) {
                lo.write(content);
            }
            c.commit();
            try (LargeObject lo = lom.open(oid, LargeObjectManager.READ)) {
                assertThat(lo.size64()).isEqualTo(content.length);
                assertThat(lo.read(content.length)).isEqualTo(content);
            }
            lom.delete(oid);
            c.commit();
        }
    }

    // ---------------------------------------------------------------- LISTEN / NOTIFY

    @Test
    void notificationFromAnotherSessionReachesTheListenerWithChannelAndPayload() throws Exception {
        String channel = "pc_chan_" + RUN;
        try (Connection a = gw.connect(); Connection b = gw.connect()) {
            exec(a, "LISTEN " + channel);
            int bUpstreamPid = ((Number) scalar(b, "SELECT pg_backend_pid()")).intValue();
            exec(b, "NOTIFY " + channel + ", 'hello from B ü€'");
            PGNotification[] got = a.unwrap(PGConnection.class).getNotifications(10_000);
            assertThat(got).hasSize(1);
            assertThat(got[0].getName()).isEqualTo(channel);
            assertThat(got[0].getParameter()).isEqualTo("hello from B ü€");
            assertThat(got[0].getPID()).isEqualTo(bUpstreamPid);
        }
    }

    @Test
    void notificationsArriveInOrderAndOnlyAfterTheSendersCommit() throws Exception {
        String channel = "pc_order_" + RUN;
        try (Connection a = gw.connect(); Connection b = gw.connect()) {
            exec(a, "LISTEN " + channel);
            PGConnection listener = a.unwrap(PGConnection.class);
            b.setAutoCommit(false);
            try (PreparedStatement ps = b.prepareStatement("SELECT pg_notify(?, ?)")) {
                for (int i = 0; i < 100; i++) {
                    ps.setString(1, channel);
                    ps.setString(2, "n" + i);
                    ps.execute();
                }
            }
            // bounded wait that must come back empty: nothing is sent before the sender commits
            assertThat(listener.getNotifications(300)).isEmpty();
            b.commit();
            List<String> payloads = new ArrayList<>();
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                for (PGNotification n : listener.getNotifications(1000)) {
                    payloads.add(n.getName() + ":" + n.getParameter());
                }
                return payloads.size() >= 100;
            });
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                expected.add(channel + ":n" + i);
            }
            assertThat(payloads).containsExactlyElementsOf(expected);
        }
    }

    // ---------------------------------------------------------------- notices

    @Test
    void raisedNoticesBecomeSqlWarningsInBothProtocols() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = gw.connect("preferQueryMode=" + mode); Statement s = c.createStatement()) {
                s.execute("DO $$ BEGIN RAISE NOTICE 'hello %', 42; RAISE WARNING 'second %', 'one'; END $$");
                SQLWarning w = s.getWarnings();
                assertThat((Object) w).as(mode).isNotNull();
                assertThat(w.getMessage()).as(mode).isEqualTo("hello 42");
                assertThat(w.getSQLState()).as(mode).isEqualTo("00000");
                assertThat((Object) w.getNextWarning()).as(mode).isNotNull();
                assertThat(w.getNextWarning().getMessage()).as(mode).isEqualTo("second one");
                assertThat(w.getNextWarning().getSQLState()).as(mode).isEqualTo("01000");
            }
        }
    }

    // ---------------------------------------------------------------- ParameterStatus

    @Test
    void parameterStatusReflectsStartupValuesAndLaterSets() throws Exception {
        String app = "pc-params-" + RUN;
        try (Connection c = gw.connect("ApplicationName=" + app)) {
            PGConnection pg = c.unwrap(PGConnection.class);
            assertThat(pg.getParameterStatus("server_version")).startsWith("17");
            assertThat(pg.getParameterStatus("client_encoding")).isEqualTo("UTF8");
            assertThat(pg.getParameterStatus("application_name")).isEqualTo(app);
            assertThat(scalar(c, "SHOW application_name")).isEqualTo(app);

            exec(c, "SET application_name = 'x'");
            assertThat(pg.getParameterStatus("application_name")).isEqualTo("x");
            exec(c, "SET TimeZone = 'Asia/Tokyo'");
            assertThat(pg.getParameterStatus("TimeZone")).isEqualTo("Asia/Tokyo");
            exec(c, "SET DateStyle = 'ISO, DMY'");
            assertThat(pg.getParameterStatus("DateStyle")).isEqualTo("ISO, DMY");

            // a SET undone by ROLLBACK is reported again
            c.setAutoCommit(false);
            exec(c, "SET application_name = 'in-tx'");
            assertThat(pg.getParameterStatus("application_name")).isEqualTo("in-tx");
            c.rollback();
            c.setAutoCommit(true);
            exec(c, "SELECT 1");
            assertThat(pg.getParameterStatus("application_name")).isEqualTo("x");
            assertThat(scalar(c, "SHOW application_name")).isEqualTo("x");
        }
    }

    // ---------------------------------------------------------------- errors in transactions

    @Test
    void errorInATransactionAbortsItUntilRollback() throws Exception {
        String t = table("pc_tx");
        try (Connection c = gw.connect()) {
            exec(c, "CREATE TABLE " + t + " (id int PRIMARY KEY)");
            c.setAutoCommit(false);
            exec(c, "INSERT INTO " + t + " VALUES (1)");
            assertThat(sqlStateOf(() -> exec(c, "SELECT 1/0"))).isEqualTo("22012");
            assertThat(sqlStateOf(() -> exec(c, "SELECT 1"))).isEqualTo("25P02");
            assertThat(sqlStateOf(() -> exec(c, "INSERT INTO " + t + " VALUES (2)"))).isEqualTo("25P02");
            c.rollback();
            assertThat(scalar(c, "SELECT 1")).isEqualTo(1);
            assertThat(scalar(c, "SELECT count(*) FROM " + t)).isEqualTo(0L);
            c.commit();
        }
    }

    @Test
    void rollbackToSavepointKeepsTheTransactionAlive() throws Exception {
        String t = table("pc_savepoint");
        try (Connection c = gw.connect()) {
            exec(c, "CREATE TABLE " + t + " (id int PRIMARY KEY)");
            c.setAutoCommit(false);
            exec(c, "INSERT INTO " + t + " VALUES (1)");
            Savepoint sp = c.setSavepoint("before_dup");
            assertThat(sqlStateOf(() -> exec(c, "INSERT INTO " + t + " VALUES (1)"))).isEqualTo("23505");
            assertThat(sqlStateOf(() -> exec(c, "SELECT 1"))).isEqualTo("25P02");
            c.rollback(sp);
            exec(c, "INSERT INTO " + t + " VALUES (2)");
            c.commit();
            c.setAutoCommit(true);
            assertThat(column(c, "SELECT id::text FROM " + t + " ORDER BY id")).containsExactly("1", "2");
        }
    }

    @Test
    void uniqueViolationReportsSqlStateConstraintAndTable() throws Exception {
        String t = table("pc_unique");
        String constraint = t + "_email_uq";
        try (Connection c = gw.connect()) {
            exec(c, "CREATE TABLE " + t + " (id int, email text, CONSTRAINT " + constraint + " UNIQUE (email))",
                    "INSERT INTO " + t + " VALUES (1, 'a@example.com')");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " VALUES (?, ?)")) {
                ps.setInt(1, 2);
                ps.setString(2, "a@example.com");
                PSQLException e = catchSql(ps::executeUpdate, PSQLException.class);
                assertThat(e.getSQLState()).isEqualTo("23505");
                ServerErrorMessage m = e.getServerErrorMessage();
                assertThat(m).isNotNull();
                assertThat(m.getConstraint()).isEqualTo(constraint);
                assertThat(m.getTable()).isEqualTo(t);
                assertThat(m.getSchema()).isEqualTo("public");
                assertThat(m.getSeverity()).isEqualTo("ERROR");
                assertThat(m.getDetail()).contains("a@example.com").contains("already exists");
            }
            assertThat(scalar(c, "SELECT count(*) FROM " + t)).isEqualTo(1L);
        }
    }

    // ---------------------------------------------------------------- cancel

    @Test
    void statementCancelStopsARunningQueryWith57014AndTheSessionStaysUsable() throws Exception {
        String app = "pc-cancel-" + RUN;
        try (Connection c = gw.connect("ApplicationName=" + app); Statement s = c.createStatement()) {
            try {
                Future<Boolean> running = pool.submit(() -> s.execute("SELECT pg_sleep(30)"));
                await().atMost(Duration.ofSeconds(10)).until(() -> upstreamRunning(app, "SELECT pg_sleep(30)"));
                long t0 = System.nanoTime();
                s.cancel();
                assertThat(failureOf(running, Duration.ofSeconds(10)).getSQLState()).isEqualTo("57014");
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
                assertThat(upstreamRunning(app, "SELECT pg_sleep(30)")).isFalse();
                assertThat(scalar(c, "SELECT 40 + 2")).isEqualTo(42);
            } finally {
                cancelLeftovers(app);
            }
        }
    }

    @Test
    void cancelRequestWithAWrongKeyCancelsNothing() throws Exception {
        String app = "pc-wrongkey-" + RUN;
        try (Connection c = gw.connect("ApplicationName=" + app); Statement s = c.createStatement()) {
            try {
                int pid = c.unwrap(PGConnection.class).getBackendPID();
                int key = cancelKey(c);
                Future<String> sleeper = pool.submit(() -> {
                    try (ResultSet rs = s.executeQuery("SELECT pg_sleep(2), 'completed'")) {
                        rs.next();
                        return rs.getString(2);
                    }
                });
                await().atMost(Duration.ofSeconds(10)).until(() -> upstreamRunning(app, "SELECT pg_sleep(2), 'completed'"));
                sendRawCancel(pid, key ^ 0x5a5a5a5a); // this session, wrong key
                sendRawCancel(pid ^ 0x40000000, key); // right key, no such session
                assertThat(sleeper.get(30, SECONDS)).isEqualTo("completed");

                // control: the same hand-made CancelRequest with the right key does cancel
                Future<Boolean> longSleep = pool.submit(() -> s.execute("SELECT pg_sleep(30)"));
                await().atMost(Duration.ofSeconds(10)).until(() -> upstreamRunning(app, "SELECT pg_sleep(30)"));
                sendRawCancel(pid, key);
                assertThat(failureOf(longSleep, Duration.ofSeconds(10)).getSQLState()).isEqualTo("57014");
                assertThat(scalar(c, "SELECT 'usable'")).isEqualTo("usable");
            } finally {
                cancelLeftovers(app);
            }
        }
    }

    @Test
    void cancelIsDeliveredEvenWhenTheGatewayIsAtItsConnectionLimit() throws Exception {
        // PostgreSQL itself serves a CancelRequest when it is full; a cancel is how a client gets out of trouble
        String app = "pc-fullcancel-" + RUN;
        try (TestGateway full = TestGateway.builder().limits("  maxConnections: 1").start();
             Connection c = full.connect("ApplicationName=" + app);
             Statement s = c.createStatement()) {
            try {
                Future<Boolean> running = pool.submit(() -> s.execute("SELECT pg_sleep(30)"));
                await().atMost(Duration.ofSeconds(10)).until(() -> upstreamRunning(app, "SELECT pg_sleep(30)"));
                // the gateway is full: another login is refused ...
                assertThat(sqlStateOf(() -> full.connect().close())).isEqualTo("53300");
                // ... but the cancel still gets through
                s.cancel();
                assertThat(failureOf(running, Duration.ofSeconds(10)).getSQLState()).isEqualTo("57014");
                assertThat(scalar(c, "SELECT 'usable'")).isEqualTo("usable");
            } finally {
                cancelLeftovers(app);
            }
        }
    }

    // ---------------------------------------------------------------- session end

    @Test
    void closeSendsTerminateAndTheUpstreamBackendEndsCleanly() throws Exception {
        String app = "pc-term-" + RUN;
        try (TestGateway own = TestGateway.builder().start()) {
            long abandonedBefore = abandonedSessions();
            Connection c = own.connect("ApplicationName=" + app);
            assertThat(scalar(c, "SELECT 1")).isEqualTo(1);
            assertThat(upstreamBackends(app)).isEqualTo(1);
            assertThat(own.gateway().sessionCount()).isEqualTo(1);
            c.close();
            await().atMost(Duration.ofSeconds(10)).until(() -> upstreamBackends(app) == 0);
            await().atMost(Duration.ofSeconds(10)).until(() -> own.gateway().sessionCount() == 0);
            // the backend ended on a Terminate, not on a lost connection
            assertThat(abandonedSessions()).isEqualTo(abandonedBefore);
        }
    }

    @Test
    void abruptClientDisconnectAlsoReleasesTheUpstreamBackend() throws Exception {
        String app = "pc-abort-" + RUN;
        try (TestGateway own = TestGateway.builder().start()) {
            Connection c = own.connect("ApplicationName=" + app);
            assertThat(scalar(c, "SELECT 1")).isEqualTo(1);
            assertThat(upstreamBackends(app)).isEqualTo(1);
            c.abort(Runnable::run); // closes the socket without a Terminate
            await().atMost(Duration.ofSeconds(10)).until(() -> upstreamBackends(app) == 0);
            await().atMost(Duration.ofSeconds(10)).until(() -> own.gateway().sessionCount() == 0);
        }
    }

    // ---------------------------------------------------------------- large values

    @Test
    void fiftyMegabyteTextValueRoundTripsBothWays() throws Exception {
        int size = 50_000_000;
        try (Connection c = gw.connect()) {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT repeat('x', 50000000)")) {
                assertThat(rs.next()).isTrue();
                String v = rs.getString(1);
                assertThat(v.length()).isEqualTo(size);
                assertThat(v.chars().allMatch(ch -> ch == 'x')).isTrue();
            }
            byte[] raw = new byte[size];
            Random r = new Random(50);
            for (int i = 0; i < size; i++) {
                raw[i] = (byte) ('a' + r.nextInt(26));
            }
            String sent = new String(raw, StandardCharsets.US_ASCII);
            try (PreparedStatement ps = c.prepareStatement("SELECT length(v), md5(v), v FROM (SELECT ?::text AS v) s")) {
                ps.setString(1, sent);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(size);
                    assertThat(rs.getString(2)).isEqualTo(md5Hex(raw));
                    String back = rs.getString(3);
                    assertThat(back.length()).isEqualTo(size);
                    assertThat(back.equals(sent)).as("50 MB value came back unchanged").isTrue();
                }
            }
        }
    }

    @Test
    void halfAMillionRowResultStreamsCompletely() throws Exception {
        String sql = "SELECT g, md5(g::text) FROM generate_series(1, 500000) g ORDER BY g";
        try (Connection c = gw.connect()) {
            String serverDigest = (String) scalar(c,
                    "SELECT md5(string_agg(g || ':' || md5(g::text), ',' ORDER BY g)) FROM generate_series(1, 500000) g");
            // once with a cursor (portal suspended every 1000 rows), once all at once
            for (int fetchSize : new int[] {1000, 0}) {
                c.setAutoCommit(fetchSize == 0);
                MessageDigest md = MessageDigest.getInstance("MD5");
                long rows = 0;
                long sum = 0;
                try (Statement s = c.createStatement()) {
                    s.setFetchSize(fetchSize);
                    try (ResultSet rs = s.executeQuery(sql)) {
                        while (rs.next()) {
                            int g = rs.getInt(1);
                            if (rows > 0) {
                                md.update((byte) ',');
                            }
                            md.update((g + ":" + rs.getString(2)).getBytes(StandardCharsets.US_ASCII));
                            rows++;
                            sum += g;
                        }
                    }
                }
                if (!c.getAutoCommit()) {
                    c.commit();
                }
                assertThat(rows).as("fetchSize %d", fetchSize).isEqualTo(500_000L);
                assertThat(sum).as("fetchSize %d", fetchSize).isEqualTo(500_000L * 500_001L / 2);
                assertThat(HexFormat.of().formatHex(md.digest())).as("fetchSize %d", fetchSize).isEqualTo(serverDigest);
            }
        }
    }

    // ================================================================ helpers

    private static String table(String base) {
        return base + "_" + RUN;
    }

    @FunctionalInterface
    interface SqlAction {
        void run() throws Exception;
    }

    private static void exec(Connection c, String... sqls) throws SQLException {
        try (Statement s = c.createStatement()) {
            for (String sql : sqls) {
                s.execute(sql);
            }
        }
    }

    private static Object scalar(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).as("a row from %s", sql).isTrue();
            return rs.getObject(1);
        }
    }

    private static List<String> column(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static int single(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            assertThat(rs.next()).isTrue();
            return rs.getInt(1);
        }
    }

    /** Every result of a multi-statement execute, as "update:n" or "rows:[...]". */
    private static List<String> allResults(Statement s, boolean firstIsResultSet) throws SQLException {
        List<String> out = new ArrayList<>();
        boolean isRs = firstIsResultSet;
        while (true) {
            if (isRs) {
                List<String> vals = new ArrayList<>();
                try (ResultSet rs = s.getResultSet()) {
                    while (rs.next()) {
                        vals.add(rs.getString(1));
                    }
                }
                out.add("rows:" + vals);
            } else {
                int n = s.getUpdateCount();
                if (n == -1) {
                    return out;
                }
                out.add("update:" + n);
            }
            isRs = s.getMoreResults();
        }
    }

    /** Named (protocol-level) prepared statements whose text contains the marker: [name, executions]. */
    private static List<String[]> namedStatements(Connection c, String marker) throws SQLException {
        // the marker is assembled by the server so that this lookup's own text does not contain it
        String half = marker.substring(0, marker.length() / 2);
        String rest = marker.substring(marker.length() / 2);
        List<String[]> out = new ArrayList<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT name, generic_plans + custom_plans FROM pg_prepared_statements"
                     + " WHERE NOT from_sql AND strpos(statement, '" + half + "' || '" + rest + "') > 0")) {
            while (rs.next()) {
                out.add(new String[] {rs.getString(1), rs.getString(2)});
            }
        }
        return out;
    }

    private static String sqlStateOf(SqlAction action) {
        return catchSql(action, SQLException.class).getSQLState();
    }

    private static <E extends SQLException> E catchSql(SqlAction action, Class<E> type) {
        try {
            action.run();
        } catch (Exception e) {
            assertThat(e).isInstanceOf(type);
            return type.cast(e);
        }
        return fail("expected %s but the statement succeeded", type.getSimpleName());
    }

    private static SQLException failureOf(Future<?> f, Duration within) throws InterruptedException, TimeoutException {
        try {
            f.get(within.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(SQLException.class);
            return (SQLException) e.getCause();
        }
        return fail("the statement completed normally");
    }

    private static long upstreamBackends(String app) throws SQLException {
        try (PreparedStatement ps = su.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE application_name = ?")) {
            ps.setString(1, app);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static boolean upstreamRunning(String app, String query) throws SQLException {
        try (PreparedStatement ps = su.prepareStatement("SELECT count(*) FROM pg_stat_activity"
                + " WHERE application_name = ? AND state = 'active' AND query = ?")) {
            ps.setString(1, app);
            ps.setString(2, query);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1) > 0;
            }
        }
    }

    /** Cancels, directly upstream, whatever the sessions with this application_name still run (a failed test's leftovers). */
    private static void cancelLeftovers(String app) throws SQLException {
        try (PreparedStatement ps = su.prepareStatement("SELECT pg_cancel_backend(pid) FROM pg_stat_activity"
                + " WHERE application_name = ? AND state = 'active'")) {
            ps.setString(1, app);
            ps.executeQuery().close();
        }
    }

    private static long abandonedSessions() throws SQLException {
        try (Statement s = su.createStatement()) {
            s.execute("SELECT pg_stat_clear_snapshot()");
            try (ResultSet rs = s.executeQuery("SELECT sessions_abandoned FROM pg_stat_database WHERE datname = '"
                    + SharedPostgres.APP_DB + "'")) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** The cancel key Warden gave this pgJDBC connection (pgJDBC keeps it private). */
    private static int cancelKey(Connection c) throws Exception {
        Object qe = c.unwrap(BaseConnection.class).getQueryExecutor();
        for (Class<?> k = qe.getClass(); k != null; k = k.getSuperclass()) {
            try {
                Field f = k.getDeclaredField("cancelKey");
                f.setAccessible(true);
                Object v = f.get(qe);
                if (v instanceof byte[] b) {
                    assertThat(b).hasSize(4);
                    return ByteBuffer.wrap(b).getInt();
                }
                return (Integer) v;
            } catch (NoSuchFieldException e) {
                // look further up
            }
        }
        throw new IllegalStateException("no cancelKey field in " + qe.getClass());
    }

    /** A hand-made CancelRequest to Warden; returns once Warden has closed the connection. */
    private static void sendRawCancel(int pid, int key) throws Exception {
        try (Socket s = new Socket("127.0.0.1", gw.port())) {
            s.setSoTimeout(10_000);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(16);
            out.writeInt(CANCEL_REQUEST_CODE);
            out.writeInt(pid);
            out.writeInt(key);
            out.flush();
            InputStream in = s.getInputStream();
            assertThat(in.read()).as("Warden answers a CancelRequest by closing the connection").isEqualTo(-1);
        }
    }

    private static String md5Hex(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(b));
    }
}
