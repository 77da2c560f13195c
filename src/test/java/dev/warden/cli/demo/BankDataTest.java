package dev.warden.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;

class BankDataTest {

    private static final Pattern SSN = Pattern.compile("\\d{3}-\\d{2}-\\d{4}");

    @Test
    void checksumHelpers() {
        // well-known test vectors
        assertThat(BankData.luhnValid("4111111111111111")).isTrue();
        assertThat(BankData.luhnValid("4111111111111112")).isFalse();
        assertThat(BankData.luhnValid("79927398713")).isTrue();
        assertThat(BankData.abaValid("111000025")).isTrue();
        assertThat(BankData.abaValid("111000026")).isFalse();
        assertThat(BankData.abaValid("12345678")).isFalse();
        assertThat(BankData.routingNumbers()).hasSizeGreaterThanOrEqualTo(4).allMatch(BankData::abaValid);
    }

    @Test
    void loadsRealisticDeterministicData() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
            try (Connection admin = pg.getPostgresDatabase().getConnection();
                 Statement st = admin.createStatement()) {
                st.execute("CREATE DATABASE bank_a");
                st.execute("CREATE DATABASE bank_b");
            }
            try (Connection a = pg.getDatabase("postgres", "bank_a").getConnection();
                 Connection b = pg.getDatabase("postgres", "bank_b").getConnection()) {
                long t0 = System.nanoTime();
                BankData.load(a);
                long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
                assertThat(elapsedMs).as("load time in ms").isLessThan(15_000);
                assertThat(a.getAutoCommit()).isTrue();

                checkCounts(a);
                checkValues(a);
                checkSchema(a);

                BankData.load(b);
                for (String table : BankData.TABLES) {
                    assertThat(digest(b, table)).as("contents of " + table).isEqualTo(digest(a, table));
                }
                assertThat(sample(b)).isEqualTo(sample(a)).hasSize(25);

                // loading again into the same database replaces the data with the same rows
                String before = digest(a, "transactions");
                BankData.load(a);
                assertThat(digest(a, "transactions")).isEqualTo(before);
                checkCounts(a);
            }
        }
    }

    private static void checkCounts(Connection c) throws SQLException {
        assertThat(count(c, "SELECT count(*) FROM customers")).isEqualTo(2_000);
        assertThat(count(c, "SELECT count(*) FROM accounts")).isBetween(2_700L, 3_300L);
        assertThat(count(c, "SELECT count(*) FROM cards")).isBetween(2_200L, 2_800L);
        assertThat(count(c, "SELECT count(*) FROM transactions")).isEqualTo(20_000);
        assertThat(count(c, "SELECT count(*) FROM accounts WHERE account_type = 'checking'")).isPositive();
        assertThat(count(c, "SELECT count(*) FROM accounts WHERE account_type = 'savings'")).isPositive();
        // every customer has an account
        assertThat(count(c, "SELECT count(*) FROM customers cu"
            + " WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.customer_id = cu.id)")).isZero();
    }

    private static void checkValues(Connection c) throws SQLException {
        List<String> pans = strings(c, "SELECT pan FROM cards");
        assertThat(pans).isNotEmpty().allSatisfy(pan -> {
            assertThat(pan).matches("(4\\d{5}|5[1-5]\\d{4})\\d{10}");
            assertThat(BankData.luhnValid(pan)).as("Luhn of %s", pan).isTrue();
        });
        List<String> routing = strings(c, "SELECT DISTINCT routing_number FROM accounts");
        assertThat(routing).hasSizeGreaterThanOrEqualTo(4).allSatisfy(rtn ->
            assertThat(BankData.abaValid(rtn)).as("ABA checksum of %s", rtn).isTrue());
        List<String> ssns = strings(c, "SELECT ssn FROM customers");
        assertThat(ssns).hasSize(2_000).doesNotHaveDuplicates().allSatisfy(ssn -> {
            assertThat(ssn).matches(SSN);
            int area = Integer.parseInt(ssn.substring(0, 3));
            assertThat(area).isBetween(1, 899).isNotEqualTo(666);
            assertThat(ssn.substring(4, 6)).isNotEqualTo("00");
            assertThat(ssn.substring(7)).isNotEqualTo("0000");
        });
        assertThat(strings(c, "SELECT account_number FROM accounts"))
            .allSatisfy(n -> assertThat(n).matches("[1-9]\\d{9,11}"));
        assertThat(strings(c, "SELECT expiry FROM cards"))
            .allSatisfy(e -> assertThat(e).matches("(0[1-9]|1[0-2])/\\d{2}"));
        assertThat(strings(c, "SELECT email FROM customers"))
            .allSatisfy(e -> assertThat(e).matches("[a-z0-9.]+@[a-z.]+"));
        assertThat(strings(c, "SELECT postal_code FROM customers")).allSatisfy(z -> assertThat(z).matches("\\d{5}"));
        assertThat(count(c, "SELECT count(DISTINCT category) FROM transactions")).isGreaterThan(8);
        assertThat(count(c, "SELECT count(*) FROM transactions WHERE amount > 0")).isPositive();
        assertThat(count(c, "SELECT count(*) FROM transactions WHERE amount < 0")).isPositive();
    }

    private static void checkSchema(Connection c) throws SQLException {
        Map<String, String> comments = new TreeMap<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("""
                 SELECT cls.relname || '.' || att.attname, col_description(cls.oid, att.attnum)
                 FROM pg_class cls JOIN pg_attribute att ON att.attrelid = cls.oid
                 WHERE cls.relname IN ('customers', 'accounts', 'cards', 'transactions')
                   AND att.attnum > 0 AND col_description(cls.oid, att.attnum) LIKE 'SENSITIVE%'""")) {
            while (rs.next()) {
                comments.put(rs.getString(1), rs.getString(2));
            }
        }
        assertThat(comments.keySet()).containsExactlyInAnyOrder("customers.ssn", "customers.date_of_birth",
            "customers.email", "customers.phone", "customers.street_address", "accounts.account_number",
            "accounts.routing_number", "cards.pan");
        assertThat(count(c, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
            + " AND conrelid IN ('accounts'::regclass, 'cards'::regclass, 'transactions'::regclass)")).isEqualTo(3);
        assertThat(count(c, "SELECT count(*) FROM pg_constraint WHERE contype = 'p'"
            + " AND conrelid IN ('customers'::regclass, 'accounts'::regclass, 'cards'::regclass,"
            + " 'transactions'::regclass)")).isEqualTo(4);
        assertThat(count(c, "SELECT count(*) FROM pg_indexes WHERE tablename = 'transactions'")).isGreaterThan(2);
        // ANALYZE ran
        assertThat(count(c, "SELECT count(*) FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL"
            + " AND relname IN ('customers', 'accounts', 'cards', 'transactions')")).isEqualTo(4);
        // identity sequences continue after the loaded ids
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("INSERT INTO customers (full_name, ssn, date_of_birth, email, phone,"
                + " street_address, city, state, postal_code, created_at) VALUES ('Test User', '123-45-6789',"
                + " '1990-01-01', 'test.user@example.com', '212-555-0100', '1 Main St', 'New York', 'NY', '10001',"
                + " now()) RETURNING id")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(2_001);
            }
        } finally {
            c.rollback();
            c.setAutoCommit(true);
        }
    }

    private static String digest(Connection c, String table) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) || ':' || md5(string_agg(t::text, E'\\n' ORDER BY id))"
                 + " FROM " + table + " t")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static List<String> sample(Connection c) throws SQLException {
        return strings(c, """
            SELECT cu.full_name || '|' || cu.ssn || '|' || a.account_number || '|' || a.routing_number || '|'
                   || a.balance || '|' || coalesce(cd.pan, '-') || '|' || extract(epoch FROM cu.created_at)
            FROM customers cu
            JOIN accounts a ON a.customer_id = cu.id
            LEFT JOIN cards cd ON cd.account_id = a.id
            ORDER BY a.id, cd.id
            LIMIT 25""");
    }

    private static long count(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static List<String> strings(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
