package dev.warden.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The view {@code audit_record_v} (schema-postgresql-v2.sql) unpacks the frames of {@code audit_block}
 * with plain SQL: it must show exactly the records that {@link RecordScan} decodes — the same
 * positions, times, types and bytes — for blocks of one record and of many, large bodies and
 * non-ASCII text; show nothing it cannot decode rather than fail; and be readable by the roles that
 * docs/audit.md grants it to.
 */
class PostgresRecordViewTest {
    private static final String VIEW_QUERY = "SELECT instance_id, seq, at, kind, body, prev_hash, hash FROM audit_record_v";

    @TempDir
    Path dir;

    @Test
    void theViewShowsExactlyTheRecordsTheBlocksHold() throws Exception {
        AuditSettings.Store store = TestStores.fresh(TestStores.Kind.POSTGRES);
        AuditSettings s = TestStores.settings(dir, store).withCheckpoints(25, Duration.ofHours(1));
        writeRecords(s);

        try (Connection c = DriverManager.getConnection(store.url(), store.user(), store.password())) {
            List<Long> blockSizes = new ArrayList<>();
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT last_seq - first_seq + 1 FROM audit_block ORDER BY first_seq")) {
                while (rs.next()) {
                    blockSizes.add(rs.getLong(1));
                }
            }
            assertThat(blockSizes).as("block sizes").hasSizeGreaterThan(3).contains(1L).anyMatch(n -> n >= 10);

            List<String> decoded = new ArrayList<>();
            for (String instance : RecordScan.instances(c)) {
                RecordScan.chain(c, instance, 1, Long.MAX_VALUE, r -> decoded.add(describe(r)));
            }
            assertThat(decoded).hasSizeGreaterThanOrEqualTo(130); // start, 3 session events, 125 statements, stop; outcomes that were not folded add more
            assertThat(viewRows(c, VIEW_QUERY + " ORDER BY instance_id, seq")).containsExactlyElementsOf(decoded);

            // the bodies are the canonical UTF-8 JSON: readable, and searchable, with SQL alone
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT count(*), max(octet_length(body)) FROM audit_record_v WHERE kind = 'statement' "
                            + "AND convert_from(body, 'UTF8')::jsonb #>> '{payload,text}' LIKE '%é€😀%'")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(5);
                assertThat(rs.getLong(2)).isGreaterThan(70_000); // a length that needs more than two bytes
            }
            // filtered by chain and kind, in SQL
            List<String> sessions = viewRows(c, VIEW_QUERY + " WHERE instance_id = 'i-test' AND kind = 'session' ORDER BY seq");
            assertThat(sessions).hasSize(3).allMatch(row -> row.contains(" session "));
        }
    }

    @Test
    void bytesTheViewCannotDecodeGiveNoRowsNotAnError() throws Exception {
        AuditSettings.Store store = TestStores.fresh(TestStores.Kind.POSTGRES);
        AuditSettings s = TestStores.settings(dir, store).withCheckpoints(1000, Duration.ofHours(1));
        writeRecords(s);
        try (Connection c = DriverManager.getConnection(store.url(), store.user(), store.password())) {
            byte[] block;
            List<StoredRecord> records;
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT records FROM audit_block ORDER BY last_seq - first_seq DESC FETCH FIRST 1 ROWS ONLY")) {
                rs.next();
                block = rs.getBytes(1);
                records = RecordBlock.decode("x", block);
            }
            assertThat(records).hasSizeGreaterThan(3);
            int twoFrames = 1 + RecordBlock.frameSize(records.get(0).body().length)
                    + RecordBlock.frameSize(records.get(1).body().length);
            byte[] negativeLength = block.clone();
            int secondLength = 1 + RecordBlock.frameSize(records.get(0).body().length) + 17;
            negativeLength[secondLength] = (byte) 0x80;
            byte[] otherFormat = block.clone();
            otherFormat[0] = 2;
            insertBlock(c, "bad-cut", java.util.Arrays.copyOf(block, twoFrames + 40)); // third frame cut short
            insertBlock(c, "bad-length", negativeLength);
            insertBlock(c, "bad-format", otherFormat);
            insertBlock(c, "bad-empty", new byte[0]);
            insertBlock(c, "bad-header-only", new byte[] {1});

            assertThat(viewRows(c, VIEW_QUERY + " WHERE instance_id = 'bad-cut' ORDER BY seq")).hasSize(2);
            assertThat(viewRows(c, VIEW_QUERY + " WHERE instance_id = 'bad-length' ORDER BY seq")).hasSize(1);
            for (String bad : List.of("bad-format", "bad-empty", "bad-header-only")) {
                assertThat(viewRows(c, VIEW_QUERY + " WHERE instance_id = '" + bad + "'")).as(bad).isEmpty();
            }
            // filters on the unpacked columns are applied to decoded frames only, never to bytes that are not there
            assertThat(viewRows(c, VIEW_QUERY + " WHERE instance_id LIKE 'bad-%' AND kind IS NOT NULL "
                    + "AND substring(hash FROM 32 FOR 1) IS NOT NULL AND octet_length(body) >= 0")).hasSize(3);
        }
    }

    @Test
    void theApplicationRoleAndAnAuditorCanReadTheView() throws Exception {
        String owner = "audit_view_owner_t";
        String app = "audit_view_app_t";
        String auditor = "audit_view_auditor_t";
        String db = "audit_view_roles";
        try (Connection c = TestStores.pgSuperuser(); Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + db);
            for (String role : List.of(auditor, app, owner)) {
                st.execute("DROP ROLE IF EXISTS " + role);
            }
            st.execute("CREATE ROLE " + owner + " LOGIN PASSWORD 'owner-pw'");
            st.execute("CREATE ROLE " + app + " LOGIN PASSWORD 'app-pw'");
            st.execute("CREATE ROLE " + auditor + " LOGIN PASSWORD 'auditor-pw'");
            st.execute("CREATE DATABASE " + db + " OWNER " + owner);
        }
        String url = TestStores.pgUrl().replace("/" + TestStores.PG_DB, "/" + db);
        AuditSettings.Store store = new AuditSettings.Store(url, app, "app-pw", owner, "owner-pw");
        try (AuditLog log = AuditLog.open(TestStores.settings(dir, store), Clock.systemUTC())) {
            log.statementReceived(TestStores.statement("s", Instant.now(), "SELECT 'ü'"), true).durable().get();
        }
        // as docs/audit.md sets up the auditor role
        try (Connection c = DriverManager.getConnection(url, owner, "owner-pw"); Statement st = c.createStatement()) {
            st.execute("GRANT SELECT ON audit_block, audit_checkpoint, audit_record_v TO " + auditor);
        }
        for (String[] role : List.of(new String[] {app, "app-pw"}, new String[] {auditor, "auditor-pw"})) {
            try (Connection c = DriverManager.getConnection(url, role[0], role[1])) {
                List<String> decoded = new ArrayList<>();
                RecordScan.chain(c, "i-test", 1, Long.MAX_VALUE, r -> decoded.add(describe(r)));
                assertThat(decoded).as(role[0]).hasSizeGreaterThanOrEqualTo(3);
                assertThat(viewRows(c, VIEW_QUERY + " ORDER BY instance_id, seq")).as(role[0])
                        .containsExactlyElementsOf(decoded);
            }
        }
    }

    /** Blocks of one record (strict), many (batched), cut at checkpoints; non-ASCII, escapes, a 70 KB body. */
    private static void writeRecords(AuditSettings s) throws Exception {
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            log.sessionEvent(SessionEvent.connect("s-ü", Instant.now(), "127.0.0.1:5"));
            List<AuditTicket> batched = new ArrayList<>();
            for (int i = 0; i < 120; i++) {
                batched.add(log.statementReceived(TestStores.statement("s-ü", Instant.now(),
                        "SELECT 'Grüße " + i + "', E'tab\\t', '\"quoted\" \\\\ back', '日本語'"), false));
            }
            for (AuditTicket t : batched) {
                t.durable().get();
                t.completed(StatementOutcome.success(Instant.now(), Instant.now(), "SELECT 1", 1, 42));
            }
            for (int i = 0; i < 5; i++) {
                AuditTicket t = log.statementReceived(TestStores.statement("s-ü", Instant.now(),
                        "UPDATE t SET v = 'é€😀 " + i + "'" + (i == 2 ? " -- " + "é€😀ñ".repeat(20_000) : "")), true);
                t.durable().get();
                t.completed(StatementOutcome.success(Instant.now(), Instant.now(), "UPDATE 1", 1, 0));
            }
            log.sessionEvent(SessionEvent.authFailure("s-ü", Instant.now(), "127.0.0.1:9", "mallory", "bank",
                    "wrong password \"quoted\" \\ back ünïcödé"));
            log.sessionEvent(SessionEvent.connect("s-2", Instant.now(), "127.0.0.1:6"));
            log.checkpoint().get();
        }
    }

    private static void insertBlock(Connection c, String instance, byte[] records) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_block (instance_id, first_seq, last_seq, "
                + "min_at, max_at, records) VALUES (?, 1, 1, now(), now(), ?)")) {
            ps.setString(1, instance);
            ps.setBytes(2, records);
            ps.executeUpdate();
        }
    }

    private static List<String> viewRows(Connection c, String query) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(query)) {
            while (rs.next()) {
                out.add(describe(rs.getString(1), rs.getLong(2), rs.getObject(3, OffsetDateTime.class).toInstant(),
                        rs.getString(4), rs.getBytes(5), rs.getBytes(6), rs.getBytes(7)));
            }
        }
        return out;
    }

    private static String describe(StoredRecord r) {
        return describe(r.instance(), r.seq(), r.at(), r.type(), r.body(), r.prevHash(), r.hash());
    }

    private static String describe(String instance, long seq, Instant at, String kind, byte[] body, byte[] prev,
                                   byte[] hash) {
        HexFormat hex = HexFormat.of();
        return instance + " " + seq + " " + at + " " + kind + " " + (body == null ? null : hex.formatHex(body)) + " "
                + (prev == null ? null : hex.formatHex(prev)) + " " + (hash == null ? null : hex.formatHex(hash));
    }
}
