package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Ways protected values could reach the client unmasked, found in a security review: SQL given as a
 * string, Unicode-escaped names, side channels. Reuses MaskingIT's fixture (database, gateway).
 */
class MaskingSideChannelIT {
    @BeforeAll
    static void start() throws Exception {
        MaskingIT.start();
    }

    @AfterAll
    static void stop() {
        MaskingIT.stop();
    }

    private static String all(String sql) throws Exception {
        try (Connection c = MaskingIT.bank(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            StringBuilder b = new StringBuilder();
            while (rs.next()) {
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    b.append(rs.getString(i)).append('|');
                }
            }
            return b.toString();
        } catch (java.sql.SQLException e) {
            return "refused: " + e.getMessage();
        }
    }

    /** The table name is a string literal: Lineage sees no protected relation, the xml column has no origin. */
    @Test
    void queryToXmlReadsSsnUnmasked() throws Exception {
        String out = all("SELECT query_to_xml('select ssn from customers', false, false, '')");
        MaskingIT.assertNoSecret(out);
    }

    @Test
    void tableToXmlReadsEverythingUnmasked() throws Exception {
        String out = all("SELECT table_to_xml('customers', false, false, '')");
        MaskingIT.assertNoSecret(out);
    }

    /** A Unicode-escaped identifier is not decoded by SqlTokens.unquote, so "customers" is never seen. */
    @Test
    void unicodeEscapedTableNameHidesComputedColumn() throws Exception {
        String out = all("SELECT ssn || '' FROM U&\"cust\\006fmers\"");
        MaskingIT.assertNoSecret(out);
    }

    /** Same trick defeats the predicate exit check (guess a digit at a time). */
    @Test
    void unicodeEscapedTableNameAllowsPredicateOnSsn() throws Exception {
        String out = all("SELECT id FROM U&\"cust\\006fmers\" WHERE ssn LIKE '123-45-678%'");
        assertThat(out).startsWith("refused");
    }

    /** Side channels: the statement names customers (so its result is masked), but the value leaves another way. */
    @Test
    void pgNotifyPayloadCarriesSsn() throws Exception {
        try (Connection c = MaskingIT.bank(); Statement s = c.createStatement()) {
            s.execute("LISTEN leak");
            try {
                s.execute("SELECT pg_notify('leak', ssn) FROM customers");
            } catch (java.sql.SQLException refused) {
                assertThat(refused.getSQLState()).isEqualTo("42501");
                return;
            }
            s.execute("SELECT 1");
            org.postgresql.PGNotification[] n = c.unwrap(org.postgresql.PGConnection.class).getNotifications(2000);
            StringBuilder b = new StringBuilder();
            for (var x : n == null ? new org.postgresql.PGNotification[0] : n) {
                b.append(x.getParameter()).append('|');
            }
            MaskingIT.assertNoSecret(b.toString());
        }
    }

    @Test
    void setConfigThenCurrentSetting() throws Exception {
        try (Connection c = MaskingIT.bank(); Statement s = c.createStatement()) {
            try {
                s.execute("SELECT set_config('x.leak', string_agg(ssn, ','), false) FROM customers");
            } catch (java.sql.SQLException refused) {
                return;
            }
            try (ResultSet rs = s.executeQuery("SELECT current_setting('x.leak')")) {
                rs.next();
                MaskingIT.assertNoSecret(rs.getString(1));
            }
        }
    }

    @Test
    void largeObjectRoundTrip() throws Exception {
        try (Connection c = MaskingIT.bank(); Statement s = c.createStatement()) {
            try {
                s.execute("SELECT lo_from_bytea(424242, convert_to(string_agg(ssn, ','), 'UTF8')) FROM customers");
            } catch (java.sql.SQLException refused) {
                return;
            }
            try (ResultSet rs = s.executeQuery("SELECT convert_from(lo_get(424242), 'UTF8')")) {
                rs.next();
                String v = rs.getString(1);
                s.execute("SELECT lo_unlink(424242)");
                MaskingIT.assertNoSecret(v);
            }
        }
    }
}
