package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.PGConnection;

/**
 * Protected values never leave the gateway, whatever the query looks like: each test is an attack
 * (alias, expression, cast, aggregate, whole row, view, CTE, UNION, quoting, search_path, binary
 * format, prepared statements, cursors, COPY, copies into tables, predicates) run with pgJDBC
 * through the real gateway against PostgreSQL 17, asserting the exact masked output or a 42501.
 */
class MaskingIT {
    static final String DB = "maskdb";
    static final String[] SSNS = {"123-45-6789", "987-65-4321"};
    static final String[] PANS = {"4111111111111111", "5500005555555559"};
    static TestGateway gw;

    @BeforeAll
    static void start() throws Exception {
        SharedPostgres.ensureDatabase(DB);
        try (Connection c = SharedPostgres.get().connect(SharedPostgres.APP_ROLE, SharedPostgres.APP_PASSWORD, DB);
             Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS sneaky CASCADE");
            s.execute("DROP TABLE IF EXISTS cards, customers, copies CASCADE");
            s.execute("CREATE TABLE customers (id int PRIMARY KEY, full_name text, ssn char(11), date_of_birth date, "
                    + "email text, phone text, city text)");
            s.execute("INSERT INTO customers VALUES (1, 'Ann Lee', '" + SSNS[0] + "', '1984-07-23', 'ann@example.com', "
                    + "'555-123-4567', 'Boston'), (2, 'Bo Chan', '" + SSNS[1] + "', '1990-02-03', 'bo@bank.test', "
                    + "'555-987-6543', 'Denver')");
            s.execute("CREATE TABLE cards (id int PRIMARY KEY, customer_id int, pan char(16))");
            s.execute("INSERT INTO cards VALUES (10, 1, '" + PANS[0] + "'), (20, 2, '" + PANS[1] + "')");
            s.execute("CREATE TABLE copies (v text)");
            s.execute("CREATE VIEW customer_contacts AS SELECT id, ssn, upper(email) AS mail, city FROM customers");
            s.execute("CREATE SCHEMA sneaky");
            s.execute("CREATE VIEW sneaky.people AS SELECT * FROM public.customers");
        }
        String target = SharedPostgres.targetYaml(DB);
        gw = TestGateway.builder().rules(Path.of("src/test/resources/rules-masking"))
                .user("fraud-investigator", "    password: fi-pw\n")
                .target("bank", target + String.join("\n",
                        "    masking:",
                        "      columns:",
                        "        public.customers.ssn: ssn",
                        "        public.customers.email: email",
                        "        public.customers.date_of_birth: dob",
                        "        public.customers.full_name: name",
                        "        public.cards.pan: pan",
                        "      detectors: [ssn, pan, email]", ""))
                .target("plain", target).start();
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    static Connection bank(String... params) throws SQLException {
        return gw.connectAs(TestGateway.USER, TestGateway.PASSWORD, "bank", params);
    }

    /** Every row as a list of getString values. */
    static List<List<String>> rows(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return collect(rs);
        }
    }

    static List<List<String>> collect(ResultSet rs) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        List<List<String>> out = new ArrayList<>();
        while (rs.next()) {
            List<String> row = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                row.add(rs.getString(i));
            }
            out.add(row);
        }
        return out;
    }

    static List<List<String>> query(String sql) throws SQLException {
        try (Connection c = bank()) {
            return rows(c, sql);
        }
    }

    static void assertNoSecret(Object result) {
        String s = String.valueOf(result);
        for (String ssn : SSNS) {
            assertThat(s).doesNotContain(ssn).doesNotContain(ssn.replace("-", ""));
        }
        for (String pan : PANS) {
            assertThat(s).doesNotContain(pan);
        }
        assertThat(s).doesNotContain("ann@example.com").doesNotContain("1984-07-23");
    }

    static void assertRefused(String sql, String messagePart) {
        assertThatThrownBy(() -> query(sql)).isInstanceOf(SQLException.class)
                .satisfies(e -> {
                    assertThat(((SQLException) e).getSQLState()).isEqualTo("42501");
                    assertThat(e.getMessage()).contains(messagePart).contains("Protected data stays masked");
                });
    }

    @Test
    void plainSelectOfProtectedColumnsIsMaskedWithTheClassDefaults() throws Exception {
        List<List<String>> r = query("SELECT id, ssn, email, date_of_birth, full_name, city FROM customers ORDER BY id");
        assertThat(r).containsExactly(
                List.of("1", "***-**-6789", "****@example.com", "1984-01-01", "****", "Boston"),
                List.of("2", "***-**-4321", "****@bank.test", "1990-01-01", "****", "Denver"));
        assertThat(query("SELECT pan FROM cards ORDER BY id")).containsExactly(List.of("************1111"), List.of("************5559"));
    }

    @Test
    void anAliasDoesNotEscape() throws Exception {
        assertThat(query("SELECT ssn AS x, pan AS y FROM customers JOIN cards ON cards.customer_id = customers.id ORDER BY customers.id"))
                .containsExactly(List.of("***-**-6789", "************1111"), List.of("***-**-4321", "************5559"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT upper(ssn) FROM customers ORDER BY id",
        "SELECT ssn || '' FROM customers ORDER BY id",
        "SELECT substr(ssn, 1, 3) FROM customers ORDER BY id",
        "SELECT CASE WHEN true THEN ssn END FROM customers ORDER BY id",
        "SELECT ssn::text FROM customers ORDER BY id",
        "SELECT coalesce(ssn, '') FROM customers ORDER BY id",
        "SELECT CAST(ssn AS varchar) FROM customers ORDER BY id",
        "SELECT (SELECT ssn FROM customers c2 WHERE c2.id = customers.id) FROM customers ORDER BY id",
        "SELECT customers.*::text FROM customers ORDER BY id",
        "SELECT upper(/* a */ ssn /* b */) -- comment\n FROM customers ORDER BY id",
        "SELECT \"ssn\" || '' FROM \"customers\" ORDER BY id",
        "SELECT SSN || '' FROM PUBLIC.CUSTOMERS ORDER BY ID",
        "WITH x AS (SELECT id, ssn AS v FROM customers) SELECT v || '' FROM x ORDER BY id",
        "SELECT v || '' FROM (SELECT id, ssn AS v FROM customers) s ORDER BY id",
        "SELECT city::text FROM customers WHERE id = 0 UNION ALL SELECT ssn FROM customers"})
    void computedValuesFromProtectedColumnsAreRedactedWhole(String sql) throws Exception {
        List<List<String>> r = query(sql);
        assertNoSecret(r);
        assertThat(r).hasSize(2).allSatisfy(row -> assertThat(row).containsExactly("****"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT string_agg(ssn, ',') FROM customers",
        "SELECT array_agg(ssn)::text FROM customers",
        "SELECT row_to_json(c)::text FROM customers c",
        "SELECT to_json(c)::text FROM customers c",
        "SELECT json_agg(c.*)::text FROM customers c"})
    void aggregatesAndWholeRowsOverProtectedColumnsAreMaskedWhole(String sql) throws Exception {
        List<List<String>> r = query(sql);
        assertNoSecret(r);
        assertThat(r).allSatisfy(row -> assertThat(row).containsExactly("****"));
    }

    @Test
    void wholeRowsAreRedactedAndNonTextAggregatesBecomeNull() throws Exception {
        List<List<String>> r = query("SELECT c FROM customers c ORDER BY id");
        assertNoSecret(r);
        // the row type is the table's own composite type: redacted whole, as text
        assertThat(r).containsExactly(List.of("****"), List.of("****"));
        List<List<String>> a = query("SELECT array_agg(ssn), row_to_json(row(1, max(ssn))) FROM customers");
        assertNoSecret(a);
        assertThat(a).containsExactly(java.util.Arrays.asList(null, null));
    }

    @Test
    void aViewOverProtectedColumnsIsMaskedThroughItsBaseColumns() throws Exception {
        assertThat(query("SELECT * FROM customer_contacts ORDER BY id")).containsExactly(
                List.of("1", "***-**-6789", "****", "Boston"), List.of("2", "***-**-4321", "****", "Denver"));
    }

    @Test
    void aSearchPathTrickThroughAnotherSchemasViewIsMasked() throws Exception {
        try (Connection c = bank(); Statement s = c.createStatement()) {
            s.execute("SET search_path = sneaky");
            List<List<String>> r = rows(c, "SELECT ssn, ssn || '' FROM people ORDER BY id");
            assertThat(r).containsExactly(List.of("***-**-6789", "****"), List.of("***-**-4321", "****"));
        }
    }

    @Test
    void aCteKeepsTheOriginAndIsMaskedByClass() throws Exception {
        assertThat(query("WITH x AS (SELECT id, ssn AS v FROM customers) SELECT v FROM x ORDER BY id"))
                .containsExactly(List.of("***-**-6789"), List.of("***-**-4321"));
    }

    @Test
    void unprotectedComputedColumnsPassAndContentDetectorsCatchLiteralSecrets() throws Exception {
        assertThat(query("SELECT id + 1, upper(city), count(*) OVER () FROM customers ORDER BY id"))
                .containsExactly(List.of("2", "BOSTON", "2"), List.of("3", "DENVER", "2"));
        assertThat(query("SELECT 'id ' || '555-44-3333' || ' card 4111 1111 1111 1111' FROM customers WHERE id = 1"))
                .containsExactly(List.of("id **** card ****"));
    }

    @Test
    void binaryFormatIsMaskedAndStaysAValidValueOfItsType() throws Exception {
        try (Connection c = bank("prepareThreshold=-1", "binaryTransfer=true", "binaryTransferEnable=1082");
             PreparedStatement ps = c.prepareStatement("SELECT id, ssn, date_of_birth, email, upper(ssn) FROM customers WHERE id = ?")) {
            ps.setInt(1, 1);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(1);
                assertThat(rs.getString(2)).isEqualTo("***-**-6789");
                assertThat(rs.getDate(3).toLocalDate()).isEqualTo(java.time.LocalDate.of(1984, 1, 1));
                assertThat(rs.getString(4)).isEqualTo("****@example.com");
                assertThat(rs.getString(5)).isEqualTo("****");
            }
        }
    }

    @Test
    void serverSidePreparedStatementsAreMaskedOnEveryExecution() throws Exception {
        try (Connection c = bank("prepareThreshold=1");
             PreparedStatement ps = c.prepareStatement("SELECT ssn, lower(ssn), city FROM customers WHERE id = ?")) {
            for (int round = 0; round < 5; round++) {
                ps.setInt(1, 1 + round % 2);
                try (ResultSet rs = ps.executeQuery()) {
                    List<List<String>> r = collect(rs);
                    assertNoSecret(r);
                    assertThat(r).containsExactly(round % 2 == 0 ? List.of("***-**-6789", "****", "Boston")
                            : List.of("***-**-4321", "****", "Denver"));
                }
            }
        }
    }

    @Test
    void cursorFetchIsMasked() throws Exception {
        try (Connection c = bank(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("DECLARE cur CURSOR FOR SELECT ssn, ssn || '!' FROM customers ORDER BY id");
            assertThat(rows(c, "FETCH 2 FROM cur")).containsExactly(List.of("***-**-6789", "****"), List.of("***-**-4321", "****"));
            c.rollback();
        }
    }

    @Test
    void copyToStdoutOfProtectedColumnsIsRefusedAndOfOthersAllowed() throws Exception {
        try (Connection c = bank()) {
            var copy = ((PGConnection) c.unwrap(PGConnection.class)).getCopyAPI();
            assertThatThrownBy(() -> copy.copyOut("COPY customers TO STDOUT", new StringWriter()))
                    .isInstanceOf(SQLException.class).hasMessageContaining("COPY ... TO would export protected columns")
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
            assertThatThrownBy(() -> copy.copyOut("COPY (SELECT upper(ssn) FROM customers) TO STDOUT (FORMAT csv)", new StringWriter()))
                    .isInstanceOf(SQLException.class).hasMessageContaining("COPY");
            StringWriter ok = new StringWriter();
            copy.copyOut("COPY (SELECT id, city FROM customers ORDER BY id) TO STDOUT", ok);
            assertThat(ok.toString()).isEqualTo("1\tBoston\n2\tDenver\n");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "CREATE TABLE stolen AS SELECT ssn FROM customers",
        "SELECT ssn INTO stolen FROM customers",
        "INSERT INTO copies SELECT ssn FROM customers",
        "INSERT INTO copies SELECT c::text FROM customers c",
        "WITH x AS (INSERT INTO copies SELECT upper(ssn) FROM customers RETURNING v) SELECT count(*) FROM x",
        "UPDATE customers SET city = ssn WHERE id = 1"})
    void copiesOfProtectedDataIntoOtherTablesAreRefused(String sql) {
        assertRefused(sql, "cop");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT id FROM customers WHERE ssn LIKE '123%'",
        "SELECT id FROM customers ORDER BY ssn",
        "SELECT count(*) FROM customers GROUP BY email",
        "SELECT id FROM customers JOIN cards USING (id) WHERE pan > '4'"})
    void predicatesOnMaskedColumnsAreRefused(String sql) {
        assertRefused(sql, "filters, joins, groups or sorts on protected column");
    }

    @Test
    void aRefusedStatementLeavesTheSessionUsable() throws Exception {
        try (Connection c = bank(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeQuery("SELECT id FROM customers WHERE ssn = '123-45-6789'"))
                    .isInstanceOf(SQLException.class);
            assertThat(rows(c, "SELECT id FROM customers WHERE city = 'Denver'")).containsExactly(List.of("2"));
        }
    }

    @Test
    void aPrivilegedGrantSeesWhatTheRulesAllow() throws Exception {
        try (Connection c = gw.connectAs("fraud-investigator", "fi-pw", "bank")) {
            assertThat(rows(c, "SELECT ssn, email FROM customers WHERE ssn LIKE '123%'"))
                    .containsExactly(List.of(SSNS[0], "****@example.com"));
        }
    }

    @Test
    void unprotectedColumnsAndTargetsWithoutMaskingAreByteIdentical() throws Exception {
        String sql = "SELECT id, city, phone, id * 2, city || '!' FROM customers ORDER BY id";
        List<List<String>> masked = query(sql);
        try (Connection c = gw.connectAs(TestGateway.USER, TestGateway.PASSWORD, "plain")) {
            assertThat(rows(c, sql)).isEqualTo(masked);
            assertThat(rows(c, "SELECT ssn, pan FROM customers JOIN cards ON cards.customer_id = customers.id ORDER BY customers.id"))
                    .containsExactly(List.of(SSNS[0], PANS[0]), List.of(SSNS[1], PANS[1]));
        }
    }

    @Test
    void aFailingCastCannotReadAProtectedValueOutOfTheErrorMessage() {
        assertThatThrownBy(() -> query("SELECT ssn::int FROM customers WHERE id = 1"))
                .isInstanceOf(SQLException.class)
                .satisfies(e -> {
                    assertThat(((SQLException) e).getSQLState()).isEqualTo("22P02");
                    assertThat(e.getMessage()).contains("integer: ****");
                    assertNoSecret(e.getMessage());
                });
    }

    @SuppressWarnings("unchecked")
    @Test
    void theAuditRecordsWhichColumnsWereMaskedAndHowManyCells() throws Exception {
        query("SELECT id, ssn, upper(email) AS audit_probe FROM customers ORDER BY id");
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() -> {
            var entry = gw.gateway().audit().search(new dev.warden.audit.AuditSearch.Query(null, null, null, null,
                            "statement", null, "bank", null, dev.warden.audit.AuditSearch.MAX_LIMIT, null)).entries().stream()
                    .filter(e -> String.valueOf(e.record().get("text")).contains("audit_probe")).findFirst().orElseThrow();
            assertThat(entry.outcome()).isNotNull();
            var masked = (java.util.Map<String, Object>) entry.outcome().get("masked");
            assertThat((List<String>) masked.get("columns")).containsExactly("public.customers.ssn", "<computed>.audit_probe");
            assertThat(((Number) masked.get("cells")).longValue()).isEqualTo(4);
        });
    }

    @Test
    void simpleQueryProtocolWithSeveralStatementsMasksEachResult() throws Exception {
        try (Connection c = bank("preferQueryMode=simple"); Statement s = c.createStatement()) {
            assertThat(s.execute("SELECT 1; SELECT ssn, upper(ssn) FROM customers WHERE id = 1; SELECT city FROM customers WHERE id = 2"))
                    .isTrue();
            assertThat(collect(s.getResultSet())).containsExactly(List.of("1"));
            assertThat(s.getMoreResults()).isTrue();
            assertThat(collect(s.getResultSet())).containsExactly(List.of("***-**-6789", "****"));
            assertThat(s.getMoreResults()).isTrue();
            assertThat(collect(s.getResultSet())).containsExactly(List.of("Denver"));
        }
    }

    @Test
    void aDoBlockReadingProtectedRelationsIsRefused() {
        assertRefused("DO $$ BEGIN INSERT INTO copies SELECT ssn FROM customers; END $$", "procedural body");
    }
}
