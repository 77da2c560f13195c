package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Raw-byte bypass suite: every attack runs through the real gateway and the test looks at the
 * bytes the client's socket received — not at what a driver decoded — for any planted secret in
 * any of its common encodings (as is, digits only, reversed, upper/lower case, hex and base64 of its
 * UTF-8 bytes, md5, binary int4/int8/numeric of its digits, hex of its number).
 *
 * <p>The secrets are random per run (SSNs, Luhn-valid PANs, e-mail addresses, names), so a pass
 * cannot come from stale data, and the positive controls run the same attacks against the same
 * database through an unmasked target and a privileged grant, where the planted values must be
 * found: the checker itself is shown to see each encoding.
 *
 * <p>Each attack runs in five ways: simple query, extended protocol with text results, extended
 * protocol with binary results and an Execute without Describe (as pgJDBC does for server-prepared
 * statements), pgJDBC and pgJDBC with binary transfer (its socket teed by {@link TeeSocketFactory}).
 */
class MaskingLeakIT {
    static final String DB = "leakdb";
    static final int ROWS = 4;
    static final SecureRandom RANDOM = new SecureRandom();
    static final String[] SSN = new String[ROWS];
    static final String[] PAN = new String[ROWS];
    static final String[] EMAIL = new String[ROWS];
    static final String[] NAME = new String[ROWS];
    static final String[] CITY = {"Boston", "Denver", "Austin", "Reno"};
    static final String VICTIM_SSN = randomSsn();
    static TestGateway gw;

    enum Mode { SIMPLE, EXTENDED_TEXT, EXTENDED_BINARY, JDBC, JDBC_BINARY }

    /** What the product must do with an attack, besides never letting a secret through. */
    enum Expect {
        /** Runs and returns rows (masked): the protection is the masking, not a refusal. */
        ROWS,
        /** Refused with 42501 by rule "Protected data stays masked". */
        REFUSED,
        /** Either is fine (errors from PostgreSQL included); only the bytes are judged. */
        ANY
    }

    record Attack(String name, Expect expect, List<String> steps) {
        @Override
        public String toString() {
            return name;
        }
    }

    record Step(String sql, int rows, String sqlState, String message) {
    }

    record Outcome(byte[] bytes, List<Step> steps) {
        boolean refused() {
            return steps.stream().anyMatch(s -> "42501".equals(s.sqlState()));
        }

        int rows() {
            return steps.stream().mapToInt(Step::rows).sum();
        }
    }

    static Attack a(String name, Expect expect, String... steps) {
        return new Attack(name, expect, List.of(steps));
    }

    static final String HIDDEN_SELECT = "EXECUTE 'SELECT string_agg(s' || 'sn, '','') FROM cust' || 'omers' INTO v;";

    static final List<Attack> ATTACKS = List.of(
            a("plain select", Expect.ROWS, "SELECT * FROM customers"),
            a("aliases", Expect.ROWS, "SELECT ssn AS x, email AS y, full_name z FROM customers"),
            a("casts", Expect.ROWS, "SELECT ssn::text, email::varchar, CAST(full_name AS varchar(50)), ssn::varchar(3) FROM customers"),
            a("functions", Expect.ROWS, "SELECT upper(ssn), lower(email), initcap(full_name), trim(ssn), lpad(ssn, 20) FROM customers"),
            a("concatenation", Expect.ROWS, "SELECT ssn || '', 'x' || email, concat(ssn, email), concat_ws('-', ssn, pan) "
                    + "FROM customers JOIN cards ON cards.customer_id = customers.id"),
            a("scalar subquery", Expect.ROWS, "SELECT (SELECT ssn FROM customers c2 WHERE c2.id = c.id) FROM customers c"),
            a("subquery in FROM", Expect.ROWS, "SELECT s || '', s, e FROM (SELECT ssn AS s, email e FROM customers) sub"),
            a("CTE", Expect.ROWS, "WITH t AS (SELECT ssn s, email e FROM customers) SELECT s, e, s || e FROM t"),
            a("recursive CTE", Expect.ROWS, "WITH RECURSIVE r(n, s) AS (SELECT 1, ssn::text FROM customers UNION ALL "
                    + "SELECT n + 1, reverse(s) FROM r WHERE n < 2) SELECT s FROM r"),
            a("view with computed column", Expect.ROWS, "SELECT * FROM customer_view"),
            a("whole row", Expect.ROWS, "SELECT c FROM customers c"),
            a("whole row as text", Expect.ROWS, "SELECT c::text, c.*::text, row(c.*)::text FROM customers c"),
            a("field selection from a whole row", Expect.ROWS, "SELECT (c).ssn, (c).email || '' FROM customers c"),
            a("(c).* expansion", Expect.ANY, "SELECT (c).* FROM customers c"),
            a("to_json", Expect.ROWS, "SELECT to_json(c), to_json(ssn), to_jsonb(email) FROM customers c"),
            a("row_to_json", Expect.ROWS, "SELECT row_to_json(c)::text, row_to_json(row(ssn, email)) FROM customers c"),
            a("json_agg", Expect.ROWS, "SELECT json_agg(ssn), json_agg(c)::text, jsonb_agg(email) FROM customers c"),
            a("jsonb_build_object", Expect.ROWS, "SELECT jsonb_build_object('s', ssn, 'e', email, 'p', "
                    + "(SELECT pan FROM cards WHERE customer_id = c.id)) FROM customers c"),
            a("json operators", Expect.ROWS, "SELECT to_jsonb(c) ->> 'ssn', (to_jsonb(c) -> 'email')::text FROM customers c"),
            a("jsonb_each_text", Expect.ROWS, "SELECT j.key, j.value FROM customers c, jsonb_each_text(to_jsonb(c)) j"),
            a("json_populate_record", Expect.ROWS, "SELECT * FROM customers c, json_populate_record(null::customers, to_json(c)) r"),
            a("aggregates", Expect.ROWS, "SELECT string_agg(ssn, ','), max(ssn), min(email), array_agg(pan)::text FROM customers, cards"),
            a("union all", Expect.ROWS, "SELECT id, city FROM customers WHERE id < 0 UNION ALL SELECT id, ssn FROM customers"),
            a("union of classes", Expect.ROWS, "SELECT ssn FROM customers UNION SELECT email FROM customers UNION SELECT pan FROM cards"),
            a("except", Expect.ROWS, "SELECT reverse(ssn) FROM customers EXCEPT SELECT city FROM customers"),
            a("VALUES", Expect.ROWS, "VALUES ((SELECT string_agg(reverse(ssn), ',') FROM customers))"),
            a("TABLE", Expect.ROWS, "TABLE customers"),
            a("unnest", Expect.ROWS, "SELECT unnest(array[ssn, email]), u FROM customers c, unnest(array[c.ssn]) u"),
            a("COPY table TO STDOUT", Expect.REFUSED, "COPY customers TO STDOUT"),
            a("COPY query TO STDOUT csv", Expect.REFUSED, "COPY (SELECT reverse(ssn) FROM customers) TO STDOUT WITH (FORMAT csv)"),
            a("COPY column binary", Expect.REFUSED, "COPY cards (pan) TO STDOUT WITH (FORMAT binary)"),
            a("cursor", Expect.ROWS, "BEGIN", "DECLARE k CURSOR FOR SELECT ssn, ssn || '', email FROM customers",
                    "FETCH ALL FROM k", "COMMIT"),
            a("binary cursor", Expect.ROWS, "BEGIN", "DECLARE k BINARY CURSOR FOR SELECT ssn, replace(ssn, '-', '')::int, "
                    + "pan::numeric FROM customers JOIN cards ON cards.customer_id = customers.id", "FETCH ALL FROM k", "COMMIT"),
            a("SQL PREPARE/EXECUTE", Expect.ROWS, "PREPARE p AS SELECT ssn || '', email, ssn FROM customers", "EXECUTE p"),
            a("SQL PREPARE with parameter", Expect.ROWS, "PREPARE q(int) AS SELECT reverse(ssn) FROM customers WHERE id > $1",
                    "EXECUTE q(0)"),
            a("LATERAL", Expect.ROWS, "SELECT x.s, x.t FROM customers c, LATERAL (SELECT c.ssn AS s, c.email || '' AS t) x"),
            a("FULL JOIN USING", Expect.ROWS, "SELECT * FROM customers c1 FULL JOIN customers c2 USING (id)"),
            a("JOIN USING on a renamed protected column", Expect.ANY, "SELECT * FROM (SELECT id, ssn AS k FROM customers) a "
                    + "FULL JOIN (SELECT id, email AS k FROM customers) b USING (id, k)"),
            a("UPDATE RETURNING", Expect.ROWS, "BEGIN", "UPDATE customers SET city = city RETURNING ssn, email, reverse(ssn), customers",
                    "ROLLBACK"),
            a("UPDATE RETURNING subquery", Expect.ANY, "BEGIN", "UPDATE customers SET note = 'n' WHERE id = 1 "
                    + "RETURNING (SELECT string_agg(ssn, ',') FROM customers)", "ROLLBACK"),
            a("INSERT RETURNING subquery", Expect.ANY, "BEGIN", "INSERT INTO customers (id, full_name, ssn, email, city) "
                    + "VALUES (900, 'X Y', '000-00-0000', 'x@y.test', 'C') RETURNING (SELECT string_agg(reverse(ssn), ',') FROM customers)",
                    "ROLLBACK"),
            a("INSERT RETURNING *", Expect.ANY, "BEGIN", "INSERT INTO cards VALUES (99, 1, '4000000000000002') "
                    + "RETURNING *, (SELECT max(pan) FROM cards)", "ROLLBACK"),
            a("DELETE RETURNING", Expect.ROWS, "BEGIN", "DELETE FROM cards RETURNING pan, pan || ''", "ROLLBACK"),
            a("EXPLAIN VERBOSE", Expect.ANY, "EXPLAIN (VERBOSE) SELECT ssn, reverse(ssn) FROM customers"),
            a("EXPLAIN ANALYZE VERBOSE", Expect.ANY, "EXPLAIN (ANALYZE, VERBOSE, COSTS OFF) SELECT ssn, reverse(email) FROM customers"),
            a("EXPLAIN ANALYZE as a predicate oracle", Expect.REFUSED, "EXPLAIN ANALYZE SELECT id FROM customers WHERE ssn > '5'"),
            a("unique violation echoes the value", Expect.ANY, "INSERT INTO customers (id, full_name, ssn, email, city) "
                    + "VALUES (901, 'A B', '%SSN0%', 'q@q.test', 'X')"),
            a("unique violation copying another row's SSN", Expect.ANY,
                    "UPDATE customers SET ssn = (SELECT ssn FROM customers WHERE id = 2) WHERE id = 1"),
            a("unique violation copying another row's e-mail", Expect.ANY,
                    "UPDATE customers SET email = (SELECT max(email) FROM customers) WHERE id = 1"),
            a("failing cast ssn::int", Expect.ANY, "SELECT ssn::int FROM customers"),
            a("failing cast pan::int (out of range)", Expect.ANY, "SELECT pan::int FROM cards"),
            a("failing cast email::int", Expect.ANY, "SELECT email::int FROM customers"),
            a("failing cast of the digits to int2", Expect.ANY, "SELECT replace(ssn, '-', '')::int2 FROM customers"),
            a("unquoted value in an error message", Expect.ANY,
                    "SELECT make_date(replace(ssn, '-', '')::int, 1, 1) FROM customers"),
            a("reversed value in an XML parse error", Expect.ANY, "SELECT xmlparse(content '<' || reverse(ssn)) FROM customers"),
            a("check constraint DETAIL", Expect.ANY, "BEGIN", "UPDATE customers SET city = 'Nowhere' WHERE id = 1", "ROLLBACK"),
            a("not-null DETAIL", Expect.ANY, "BEGIN", "UPDATE customers SET full_name = NULL WHERE id = 1", "ROLLBACK"),
            a("RAISE NOTICE in a DO block", Expect.REFUSED,
                    "DO $$ BEGIN RAISE NOTICE '%', (SELECT string_agg(ssn, ',') FROM customers); END $$"),
            a("RAISE NOTICE of dynamic SQL in a DO block", Expect.REFUSED,
                    "DO $$ DECLARE v text; BEGIN " + HIDDEN_SELECT + " RAISE NOTICE '%', reverse(v); END $$"),
            a("RAISE EXCEPTION of dynamic SQL in a DO block", Expect.REFUSED,
                    "DO $$ DECLARE v text; BEGIN " + HIDDEN_SELECT + " RAISE EXCEPTION 'got %', reverse(v); END $$"),
            a("function with dynamic SQL", Expect.REFUSED, "CREATE OR REPLACE FUNCTION sneaky() RETURNS text LANGUAGE plpgsql AS $$ "
                    + "DECLARE v text; BEGIN " + HIDDEN_SELECT + " RETURN reverse(v); END $$", "SELECT sneaky()"),
            a("NOTICE from an existing function (detectors)", Expect.ANY, "SELECT leak_notice()"),
            a("base64", Expect.ROWS, "SELECT encode(convert_to(ssn, 'UTF8'), 'base64'), encode(convert_to(email, 'UTF8'), 'base64') "
                    + "FROM customers"),
            a("hex and bytea", Expect.ROWS, "SELECT encode(ssn::bytea, 'hex'), ssn::bytea, convert_to(pan, 'UTF8') "
                    + "FROM customers, cards"),
            a("hashes", Expect.ROWS, "SELECT md5(ssn), md5(email), sha256(convert_to(ssn, 'UTF8')) FROM customers"),
            a("substring/left/right/overlay", Expect.ROWS, "SELECT substring(ssn from 1 for 11), left(ssn, 20), right(ssn, 20), "
                    + "overlay(ssn placing 'x' from 12 for 0), substr(email, 1) FROM customers"),
            a("regexp_replace and format", Expect.ROWS, "SELECT regexp_replace(ssn, '(\\d)', '\\1', 'g'), format('%s', ssn), "
                    + "format('%s|%s', email, full_name) FROM customers"),
            a("arrays", Expect.ROWS, "SELECT array[ssn], array[ssn]::text, string_to_array(ssn, '-'), "
                    + "string_to_array(ssn, NULL)::text FROM customers"),
            a("translate and replace", Expect.ROWS, "SELECT translate(ssn, '-', ''), replace(ssn, '-', ''), "
                    + "translate(pan, '0123456789', '0123456789') FROM customers, cards"),
            a("reverse", Expect.ROWS, "SELECT reverse(ssn), reverse(email), reverse(pan), reverse(full_name) FROM customers, cards"),
            a("xmlelement", Expect.ANY, "SELECT xmlelement(name x, ssn), xmlforest(ssn, email)::text FROM customers"),
            a("window functions", Expect.ROWS, "SELECT first_value(ssn) OVER (), lag(email) OVER (ORDER BY id), "
                    + "nth_value(full_name, 1) OVER () FROM customers"),
            a("GROUP BY ssn", Expect.REFUSED, "SELECT ssn, count(*) FROM customers GROUP BY ssn"),
            a("DISTINCT ON ssn", Expect.ANY, "SELECT DISTINCT ON (ssn) ssn, id FROM customers"),
            a("ORDER BY ssn LIMIT probing", Expect.REFUSED, "SELECT id FROM customers ORDER BY ssn LIMIT 1"),
            a("ORDER BY position of ssn", Expect.REFUSED, "SELECT id, ssn FROM customers ORDER BY 2 LIMIT 1"),
            a("comments between tokens", Expect.ROWS, "SELECT/**/ssn/**/||/**/''/**/FROM/**/customers"),
            a("nested comments", Expect.ROWS, "SELECT /* /* nested */ ssn */ reverse(ssn) FROM customers"),
            a("line comment", Expect.ROWS, "SELECT 1 -- x\n, reverse(ssn) FROM customers"),
            a("mixed case", Expect.ROWS, "SeLeCt SsN || '', ReVeRsE(eMaIl) FrOm PuBlIc.CuStOmErS"),
            a("quoted identifiers", Expect.ROWS, "SELECT \"ssn\" || '', \"public\".\"customers\".\"email\" || '' FROM \"public\".\"customers\""),
            a("unicode-escaped identifier", Expect.ROWS, "SELECT U&\"\\0073sn\" || '', reverse(U&\"\\0073sn\") FROM customers"),
            a("dollar-quoted literal", Expect.ROWS, "SELECT $q$ $q$ || ssn FROM customers"),
            a("numbers of the digits", Expect.ROWS, "SELECT replace(ssn, '-', '')::int, replace(ssn, '-', '')::bigint, "
                    + "replace(ssn, '-', '')::numeric, pan::numeric, pan::bigint FROM customers JOIN cards ON cards.customer_id = customers.id"),
            a("to_hex of the numbers", Expect.ROWS, "SELECT to_hex(replace(ssn, '-', '')::int), to_hex(pan::bigint) "
                    + "FROM customers JOIN cards ON cards.customer_id = customers.id"),
            a("FOR UPDATE", Expect.ROWS, "SELECT ssn, email FROM customers FOR UPDATE"),
            a("pg_stats sample values", Expect.REFUSED, "SELECT attname, most_common_vals::text, histogram_bounds::text "
                    + "FROM pg_stats WHERE tablename IN ('customers', 'cards')"),
            a("query_to_xml runs SQL from a string", Expect.REFUSED,
                    "SELECT query_to_xml('select ssn, email from cust' || 'omers', true, false, '')"),
            a("table_to_xml", Expect.REFUSED, "SELECT table_to_xml('public.cards', true, false, '')::text"),
            a("set_config as a side channel", Expect.REFUSED,
                    "SELECT set_config('leak.v', (SELECT string_agg(ssn, ',') FROM customers), false)",
                    "SELECT current_setting('leak.v')", "SHOW leak.v"),
            a("pg_notify as a side channel", Expect.REFUSED, "LISTEN leakch",
                    "SELECT pg_notify('leakch', (SELECT string_agg(email, ',') FROM customers))", "SELECT 1"),
            a("large object as a side channel", Expect.REFUSED,
                    "SELECT lo_from_bytea(424242, convert_to((SELECT string_agg(ssn, ',') FROM customers), 'UTF8'))",
                    "SELECT convert_from(lo_get(424242), 'UTF8')", "SELECT lo_unlink(424242)"),
            a("setval as a side channel", Expect.REFUSED,
                    "SELECT setval('leakseq', replace(ssn, '-', '')::bigint) FROM customers WHERE id = 1",
                    "SELECT last_value FROM leakseq"),
            a("advisory lock keys as a side channel", Expect.REFUSED,
                    "SELECT pg_advisory_lock(replace(ssn, '-', '')::bigint) FROM customers WHERE id = 1",
                    "SELECT objid, classid FROM pg_locks WHERE locktype = 'advisory'", "SELECT pg_advisory_unlock_all()"),
            a("UPDATE copying a whole row into another column", Expect.REFUSED,
                    "BEGIN", "UPDATE customers c SET note = reverse(c::text)", "SELECT note FROM customers", "ROLLBACK"),
            a("UPDATE copying into another column", Expect.REFUSED, "BEGIN", "UPDATE customers SET note = reverse(ssn)",
                    "SELECT note FROM customers", "ROLLBACK"),
            a("INSERT ... SELECT", Expect.REFUSED, "INSERT INTO copies SELECT reverse(ssn) FROM customers"),
            a("SELECT INTO TEMP", Expect.REFUSED, "SELECT ssn INTO TEMP t1 FROM customers"),
            a("MERGE", Expect.REFUSED, "MERGE INTO copies USING customers c ON false "
                    + "WHEN NOT MATCHED THEN INSERT VALUES (reverse(c.ssn))"),
            a("renaming a protected column", Expect.REFUSED, "ALTER TABLE victims RENAME COLUMN ssn TO s2",
                    "SELECT s2 FROM victims", "ALTER TABLE victims RENAME COLUMN s2 TO ssn"),
            a("renaming a protected table", Expect.REFUSED, "ALTER TABLE victims RENAME TO victims2",
                    "SELECT ssn FROM victims2", "ALTER TABLE victims2 RENAME TO victims"),
            a("generated column copying a protected one", Expect.REFUSED,
                    "ALTER TABLE victims ADD COLUMN g text GENERATED ALWAYS AS (reverse(ssn)) STORED",
                    "SELECT g FROM victims", "ALTER TABLE victims DROP COLUMN g"),
            a("trigger copying rows elsewhere", Expect.REFUSED,
                    "CREATE OR REPLACE FUNCTION cp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                            + "INSERT INTO copies VALUES (reverse(row_to_json(NEW)::text)); RETURN NEW; END $$",
                    "CREATE TRIGGER t_cp AFTER UPDATE ON victims FOR EACH ROW EXECUTE FUNCTION cp()",
                    "UPDATE victims SET id = id", "SELECT v FROM copies", "DROP TRIGGER IF EXISTS t_cp ON victims"),
            a("view created on the fly", Expect.ANY, "CREATE VIEW leak_v AS SELECT reverse(ssn) AS r, ssn AS s FROM customers",
                    "SELECT * FROM leak_v", "DROP VIEW IF EXISTS leak_v"),
            a("materialized view", Expect.ANY, "CREATE MATERIALIZED VIEW leak_mv AS SELECT reverse(ssn) AS r FROM customers",
                    "SELECT * FROM leak_mv", "DROP MATERIALIZED VIEW IF EXISTS leak_mv"));

    @BeforeAll
    static void plant() throws Exception {
        Set<String> used = new LinkedHashSet<>();
        for (int i = 0; i < ROWS; i++) {
            String s;
            do {
                s = randomSsn();
            } while (!used.add(s) || s.equals(VICTIM_SSN));
            SSN[i] = s;
            PAN[i] = randomPan();
            EMAIL[i] = "p" + randomWord(12) + "@leak" + randomWord(4) + ".test";
            NAME[i] = "Xq" + randomWord(8) + " Yr" + randomWord(8);
        }
        SharedPostgres.ensureDatabase(DB);
        try (Connection c = direct(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS cards, customers, copies, victims, victims2 CASCADE");
            s.execute("DROP MATERIALIZED VIEW IF EXISTS leak_mv");
            s.execute("DROP SEQUENCE IF EXISTS leakseq");
            s.execute("CREATE TABLE customers (id int PRIMARY KEY, full_name text NOT NULL, ssn char(11) UNIQUE, "
                    + "email text UNIQUE, city text CHECK (city <> 'Nowhere'), note text)");
            s.execute("CREATE TABLE cards (id int PRIMARY KEY, customer_id int, pan char(16))");
            for (int i = 0; i < ROWS; i++) {
                s.execute("INSERT INTO customers VALUES (" + (i + 1) + ", '" + NAME[i] + "', '" + SSN[i] + "', '" + EMAIL[i]
                        + "', '" + CITY[i] + "', 'note " + (i + 1) + "')");
                s.execute("INSERT INTO cards VALUES (" + (10 * (i + 1)) + ", " + (i + 1) + ", '" + PAN[i] + "')");
            }
            s.execute("CREATE TABLE copies (v text)");
            s.execute("CREATE TABLE victims (id int PRIMARY KEY, ssn text)");
            s.execute("INSERT INTO victims VALUES (1, '" + VICTIM_SSN + "')");
            s.execute("CREATE SEQUENCE leakseq");
            s.execute("CREATE VIEW customer_view AS SELECT id, ssn, email, reverse(ssn) AS r, city FROM customers");
            s.execute("CREATE OR REPLACE FUNCTION leak_notice() RETURNS int LANGUAGE plpgsql AS $$ BEGIN "
                    + "RAISE NOTICE '%', (SELECT string_agg(ssn, ',') FROM customers); RETURN 1; END $$");
            s.execute("ANALYZE customers");
            s.execute("ANALYZE cards");
        }
        String target = SharedPostgres.targetYaml(DB);
        gw = TestGateway.builder().rules(Path.of("src/test/resources/rules-masking"))
                .user("fraud-investigator", "    password: fi-pw\n")
                .target("bank", target + String.join("\n",
                        "    masking:",
                        "      columns:",
                        "        public.customers.ssn: ssn",
                        "        public.customers.email: email",
                        "        public.customers.full_name: name",
                        "        public.cards.pan: pan",
                        "        public.victims.ssn: ssn",
                        "      detectors: [ssn, pan, email]", ""))
                .target("plain", target).start();
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    static Connection direct() throws SQLException {
        return SharedPostgres.get().connect(SharedPostgres.APP_ROLE, SharedPostgres.APP_PASSWORD, DB);
    }

    static Stream<Arguments> attacks() {
        List<Arguments> out = new ArrayList<>();
        for (Attack a : ATTACKS) {
            for (Mode m : Mode.values()) {
                out.add(Arguments.of(a, m));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} [{1}]")
    @MethodSource("attacks")
    void noPlantedValueReachesTheClientInAnyEncoding(Attack attack, Mode mode) throws Exception {
        Outcome o = run(mode, "bank", TestGateway.USER, TestGateway.PASSWORD, attack.steps());
        assertNoSecret(o, attack + " [" + mode + "]");
        switch (attack.expect()) {
            case ROWS -> {
                assertThat(o.refused()).as("%s must run (masked), not be refused: %s", attack, o.steps()).isFalse();
                assertThat(o.rows()).as("%s must return rows: %s", attack, o.steps()).isPositive();
            }
            case REFUSED -> assertThat(o.refused()).as("%s must be refused with 42501: %s", attack, o.steps()).isTrue();
            case ANY -> {
                // only the bytes count
            }
        }
    }

    @Test
    void theSuiteHasAtLeastFiftyAttacks() {
        assertThat(ATTACKS.size()).isGreaterThanOrEqualTo(50);
        assertThat(ATTACKS.stream().map(Attack::name).distinct().count()).isEqualTo(ATTACKS.size());
    }

    // ------------------------------------------------------------------ positive controls

    static Stream<Arguments> controls() {
        return Stream.of(
                Arguments.of("plain select", Mode.SIMPLE, "ssn as is"),
                Arguments.of("plain select", Mode.JDBC, "ssn as is"),
                Arguments.of("plain select", Mode.JDBC_BINARY, "email as is"),
                Arguments.of("reverse", Mode.EXTENDED_TEXT, "ssn reversed"),
                Arguments.of("base64", Mode.SIMPLE, "ssn base64"),
                Arguments.of("hex and bytea", Mode.EXTENDED_BINARY, "ssn as is"),
                Arguments.of("hex and bytea", Mode.SIMPLE, "ssn hex"),
                Arguments.of("hashes", Mode.SIMPLE, "ssn md5"),
                Arguments.of("numbers of the digits", Mode.EXTENDED_BINARY, "ssn digits int4"),
                Arguments.of("numbers of the digits", Mode.EXTENDED_BINARY, "ssn digits numeric"),
                Arguments.of("numbers of the digits", Mode.EXTENDED_BINARY, "pan int8"),
                Arguments.of("numbers of the digits", Mode.SIMPLE, "ssn digits"),
                Arguments.of("to_hex of the numbers", Mode.SIMPLE, "ssn number hex"),
                Arguments.of("failing cast ssn::int", Mode.SIMPLE, "ssn as is"),
                Arguments.of("unquoted value in an error message", Mode.SIMPLE, "ssn digits"),
                Arguments.of("check constraint DETAIL", Mode.JDBC, "email as is"),
                Arguments.of("advisory lock keys as a side channel", Mode.SIMPLE, "ssn digits"),
                Arguments.of("NOTICE from an existing function (detectors)", Mode.SIMPLE, "ssn as is"));
    }

    /**
     * The checker finds each encoding when it is there: the same attacks through a target without
     * masking (same database) leak exactly the form named.
     */
    @ParameterizedTest(name = "{0} [{1}] shows {2} without masking")
    @MethodSource("controls")
    void withoutMaskingTheCheckerFindsThePlantedValue(String attackName, Mode mode, String form) throws Exception {
        Attack attack = ATTACKS.stream().filter(x -> x.name().equals(attackName)).findFirst().orElseThrow();
        Outcome o = run(mode, "plain", TestGateway.USER, TestGateway.PASSWORD, attack.steps());
        assertThat(findings(o.bytes())).as("bytes of %s [%s] on the unmasked target: %s", attackName, mode, o.steps())
                .anySatisfy(f -> assertThat(f).contains(form));
    }

    @Test
    void nonProtectedColumnsAreExactInEveryMode() throws Exception {
        for (Mode m : Mode.values()) {
            Outcome o = run(m, "bank", TestGateway.USER, TestGateway.PASSWORD,
                    List.of("SELECT id, city, note, id * 2, upper(city) FROM customers ORDER BY id"));
            assertThat(o.rows()).as(m.toString()).isEqualTo(ROWS);
            String text = new String(o.bytes(), StandardCharsets.ISO_8859_1);
            for (int i = 0; i < ROWS; i++) {
                assertThat(text).as(m.toString()).contains(CITY[i]).contains("note " + (i + 1))
                        .contains(CITY[i].toUpperCase(Locale.ROOT));
            }
        }
        try (Connection c = gw.connectAs(TestGateway.USER, TestGateway.PASSWORD, "bank");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, city, note, id * 2, ssn FROM customers ORDER BY id")) {
            for (int i = 0; i < ROWS; i++) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(i + 1);
                assertThat(rs.getString(2)).isEqualTo(CITY[i]);
                assertThat(rs.getString(3)).isEqualTo("note " + (i + 1));
                assertThat(rs.getInt(4)).isEqualTo(2 * (i + 1));
                assertThat(rs.getString(5)).isEqualTo("***-**-" + SSN[i].substring(7));
            }
            assertThat(rs.next()).isFalse();
        }
    }

    @Test
    void theUnmaskedGrantGetsExactValues() throws Exception {
        // rules/masking.drl: fraud-investigator sees ssn and pan in clear (and may filter on them); e-mail stays masked
        try (Connection c = gw.connectAs("fraud-investigator", "fi-pw", "bank");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT customers.id, ssn, pan, email, reverse(ssn) FROM customers "
                     + "JOIN cards ON cards.customer_id = customers.id WHERE ssn LIKE '%' ORDER BY customers.id")) {
            for (int i = 0; i < ROWS; i++) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(2)).isEqualTo(SSN[i]);
                assertThat(rs.getString(3)).isEqualTo(PAN[i]);
                assertThat(rs.getString(4)).isEqualTo("****" + EMAIL[i].substring(EMAIL[i].indexOf('@')));
                assertThat(rs.getString(5)).isEqualTo(new StringBuilder(SSN[i]).reverse().toString());
            }
        }
        Outcome o = run(Mode.EXTENDED_BINARY, "bank", "fraud-investigator", "fi-pw",
                List.of("SELECT ssn, pan, replace(ssn, '-', '')::int FROM customers JOIN cards ON cards.customer_id = customers.id"));
        assertThat(findings(o.bytes())).anySatisfy(f -> assertThat(f).contains("ssn digits int4"))
                .anySatisfy(f -> assertThat(f).contains("pan as is"))
                .noneSatisfy(f -> assertThat(f).contains("email"));
    }

    /** The refusals added for the bypasses above are narrow: the everyday forms of the same statements still run. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {
        "SELECT id, ssn FROM customers ORDER BY 1",
        "SELECT city, count(*) FROM customers GROUP BY 1 ORDER BY 1",
        "BEGIN; UPDATE customers SET city = upper(city), note = note || '!' WHERE id = 1; ROLLBACK",
        "BEGIN; UPDATE customers SET (city, note) = ('X', 'Y') WHERE id = 2; ROLLBACK",
        "DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$",
        "SELECT set_config('application_name', 'leak-suite-2', false)",
        "SELECT pg_advisory_lock(7); SELECT pg_advisory_unlock(7)",
        "BEGIN; ALTER TABLE copies ADD COLUMN extra int; ROLLBACK"})
    void everydayStatementsStillRun(String sql) throws Exception {
        Outcome o = run(Mode.SIMPLE, "bank", TestGateway.USER, TestGateway.PASSWORD, List.of(sql));
        assertThat(o.steps()).allSatisfy(st -> assertThat(st.sqlState()).as(st.toString()).isNull());
        assertNoSecret(o, sql);
    }

    /**
     * Statement analyses are cached by shape, and every DO block has the same shape: a harmless
     * block run first must not make a later block that reads protected data look harmless.
     */
    @Test
    void aHarmlessDoBlockOfTheSameShapeDoesNotVouchForALaterOne() throws Exception {
        Outcome o = run(Mode.SIMPLE, "bank", TestGateway.USER, TestGateway.PASSWORD, List.of(
                "DO $$ BEGIN RAISE NOTICE 'harmless'; END $$",
                "DO $$ BEGIN RAISE NOTICE '%', (SELECT string_agg(reverse(ssn), ',') FROM customers); END $$"));
        assertThat(o.steps().get(0).sqlState()).isNull();
        assertThat(o.steps().get(1).sqlState()).isEqualTo("42501");
        assertNoSecret(o, "two DO blocks of one shape");
    }

    @Test
    void errorsAndNoticesOfOtherStatementsKeepTheirText() throws Exception {
        Outcome o = run(Mode.SIMPLE, "bank", TestGateway.USER, TestGateway.PASSWORD,
                List.of("SELECT 'abc'::int", "DO $$ BEGIN RAISE NOTICE 'count is %', 123456; END $$"));
        String text = new String(o.bytes(), StandardCharsets.UTF_8);
        assertThat(text).contains("invalid input syntax for type integer: \"abc\"").contains("count is 123456");
        Outcome touching = run(Mode.SIMPLE, "bank", TestGateway.USER, TestGateway.PASSWORD,
                List.of("SELECT make_date(replace(ssn, '-', '')::int, 1, 1) FROM customers"));
        assertThat(touching.steps().get(0).sqlState()).isEqualTo("22008");
        assertThat(touching.steps().get(0).message()).endsWith(" out of range: ****").doesNotContainPattern("\\d");
    }

    // ------------------------------------------------------------------ running an attack

    static Outcome run(Mode mode, String target, String user, String password, List<String> steps) throws Exception {
        List<String> sql = steps.stream().map(s -> s.replace("%SSN0%", SSN[0])).toList();
        return switch (mode) {
            case JDBC, JDBC_BINARY -> runJdbc(mode == Mode.JDBC_BINARY, target, user, password, sql);
            default -> runRaw(mode, target, user, password, sql);
        };
    }

    static Outcome runRaw(Mode mode, String target, String user, String password, List<String> steps) {
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        List<Step> out = new ArrayList<>();
        try (RawPgClient c = RawPgClient.connect(gw.port(), 0, in -> tee(in, seen))) {
            c.login(user, password, target, "leak-suite");
            for (String sql : steps) {
                switch (mode) {
                    case SIMPLE -> {
                        c.write(RawPgClient.query(sql));
                        out.add(step(sql, c.readUntil('Z')));
                    }
                    case EXTENDED_TEXT -> {
                        c.write(RawPgClient.parse("", sql), RawPgClient.bind("", "", 0), RawPgClient.describe('P', ""),
                                RawPgClient.execute(""), RawPgClient.sync());
                        out.add(step(sql, c.readUntil('Z')));
                    }
                    default -> {
                        // as pgJDBC does with a server-prepared statement: describe once, then execute without Describe
                        String name = "s" + out.size();
                        c.write(RawPgClient.parse(name, sql), RawPgClient.describe('S', name), RawPgClient.sync());
                        Step parsed = step(sql, c.readUntil('Z'));
                        if (parsed.sqlState() != null) {
                            out.add(parsed);
                            continue;
                        }
                        c.write(RawPgClient.bind("", name, 1), RawPgClient.execute(""), RawPgClient.close('S', name),
                                RawPgClient.sync());
                        out.add(step(sql, c.readUntil('Z')));
                    }
                }
            }
        }
        return new Outcome(seen.toByteArray(), out);
    }

    static Step step(String sql, List<RawPgClient.Msg> msgs) {
        int rows = 0;
        String state = null;
        String message = null;
        for (RawPgClient.Msg m : msgs) {
            if (m.type() == 'D') {
                rows++;
            } else if (m.isError() && state == null) {
                state = m.sqlState();
                message = m.message();
            }
        }
        return new Step(sql, rows, state, message);
    }

    static Outcome runJdbc(boolean binary, String target, String user, String password, List<String> steps) throws Exception {
        String id = UUID.randomUUID().toString();
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("socketFactory", TeeSocketFactory.class.getName());
        p.setProperty("socketFactoryArg", id);
        if (binary) {
            p.setProperty("prepareThreshold", "-1");
            p.setProperty("binaryTransfer", "true");
        }
        List<Step> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(gw.url(target), p); Statement s = c.createStatement()) {
            for (String sql : steps) {
                int rows = 0;
                try {
                    boolean isRs = s.execute(sql);
                    while (true) {
                        if (isRs) {
                            try (ResultSet rs = s.getResultSet()) {
                                int n = rs.getMetaData().getColumnCount();
                                while (rs.next()) {
                                    rows++;
                                    for (int i = 1; i <= n; i++) {
                                        rs.getObject(i); // decode every cell, as an application would
                                    }
                                }
                            }
                        } else if (s.getUpdateCount() == -1) {
                            break;
                        }
                        isRs = s.getMoreResults();
                    }
                    out.add(new Step(sql, rows, null, null));
                } catch (SQLException e) {
                    out.add(new Step(sql, rows, e.getSQLState(), e.getMessage()));
                }
            }
        }
        // taken after the connection closed: everything the driver read is in
        byte[] bytes = TeeSocketFactory.captured(id);
        TeeSocketFactory.forget(id);
        return new Outcome(bytes, out);
    }

    static InputStream tee(InputStream in, ByteArrayOutputStream sink) {
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    sink.write(b);
                }
                return b;
            }

            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                int n = super.read(buf, off, len);
                if (n > 0) {
                    sink.write(buf, off, n);
                }
                return n;
            }
        };
    }

    // ------------------------------------------------------------------ what counts as a leak

    /** Every planted secret in every encoding checked: description → bytes; {@code text} forms are matched ignoring case. */
    record Form(String description, byte[] bytes, boolean text) {
    }

    static List<Form> forms() {
        List<Form> f = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) {
            ssnForms(f, SSN[i]);
            String pan = PAN[i];
            text(f, "pan as is", pan);
            text(f, "pan reversed", reverse(pan));
            text(f, "pan hex", hex(pan));
            text(f, "pan base64", base64Prefix(pan));
            text(f, "pan md5", md5(pan));
            text(f, "pan number hex", Long.toHexString(Long.parseLong(pan)));
            f.add(new Form("pan int8", ByteBuffer.allocate(8).putLong(Long.parseLong(pan)).array(), false));
            f.add(new Form("pan numeric", numericDigits(pan), false));
            String email = EMAIL[i];
            String local = email.substring(0, email.indexOf('@'));
            text(f, "email as is", email);
            text(f, "email local part", local);
            text(f, "email reversed", reverse(local));
            text(f, "email hex", hex(email));
            text(f, "email base64", base64Prefix(email));
            text(f, "email md5", md5(email));
            String name = NAME[i];
            text(f, "name as is", name.substring(0, name.indexOf(' ')));
            text(f, "name reversed", reverse(name.substring(0, name.indexOf(' '))));
            text(f, "name hex", hex(name));
        }
        ssnForms(f, VICTIM_SSN);
        return f;
    }

    static void ssnForms(List<Form> f, String ssn) {
        String digits = ssn.replace("-", "");
        int n = Integer.parseInt(digits);
        text(f, "ssn as is", ssn);
        text(f, "ssn digits", digits);
        text(f, "ssn reversed", reverse(ssn));
        text(f, "ssn digits reversed", reverse(digits));
        text(f, "ssn hex", hex(ssn));
        text(f, "ssn base64", base64Prefix(ssn));
        text(f, "ssn digits base64", base64Prefix(digits));
        text(f, "ssn md5", md5(ssn));
        text(f, "ssn number hex", Integer.toHexString(n));
        f.add(new Form("ssn digits int4", ByteBuffer.allocate(4).putInt(n).array(), false));
        f.add(new Form("ssn digits numeric", numericDigits(digits), false));
    }

    static void text(List<Form> f, String description, String s) {
        f.add(new Form(description, s.getBytes(StandardCharsets.UTF_8), true));
    }

    /** Descriptions of every planted form found in {@code bytes}. */
    static List<String> findings(byte[] bytes) {
        String raw = new String(bytes, StandardCharsets.ISO_8859_1);
        String lower = raw.toLowerCase(Locale.ROOT);
        List<String> found = new ArrayList<>();
        for (Form form : forms()) {
            String needle = new String(form.bytes(), StandardCharsets.ISO_8859_1);
            if (form.text() ? lower.contains(needle.toLowerCase(Locale.ROOT)) : raw.contains(needle)) {
                found.add(form.description() + " (" + needle.replaceAll("[^\\x20-\\x7e]", "?") + ")");
            }
        }
        return found;
    }

    static void assertNoSecret(Outcome o, String what) {
        assertThat(o.bytes().length).as("bytes captured for %s", what).isPositive();
        assertThat(findings(o.bytes())).as("planted values in the bytes received for %s; steps %s", what, o.steps()).isEmpty();
    }

    static String reverse(String s) {
        return new StringBuilder(s).reverse().toString();
    }

    static String hex(String s) {
        return HexFormat.of().formatHex(s.getBytes(StandardCharsets.UTF_8));
    }

    /** Base64 of the value's first whole 3-byte groups: found also when the value starts a longer encoded string. */
    static String base64Prefix(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int n = b.length / 3 * 3;
        return Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(b, n));
    }

    static String md5(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The base-10000 digit words of a non-negative integer's binary numeric form (header excluded: dscale varies). */
    static byte[] numericDigits(String digits) {
        BigDecimal v = new BigDecimal(digits);
        String s = v.toPlainString();
        s = "0".repeat((4 - s.length() % 4) % 4) + s;
        ByteBuffer b = ByteBuffer.allocate(s.length() / 4 * 2);
        for (int i = 0; i < s.length(); i += 4) {
            b.putShort(Short.parseShort(s.substring(i, i + 4)));
        }
        return b.array();
    }

    static String randomSsn() {
        int area;
        do {
            area = 100 + RANDOM.nextInt(800);
        } while (area == 666);
        return String.format("%03d-%02d-%04d", area, 10 + RANDOM.nextInt(90), 1000 + RANDOM.nextInt(9000));
    }

    static String randomPan() {
        StringBuilder b = new StringBuilder("4");
        for (int i = 0; i < 14; i++) {
            b.append(RANDOM.nextInt(10));
        }
        for (int d = 0; d < 10; d++) {
            String candidate = b.toString() + d;
            if (luhn(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException();
    }

    static boolean luhn(String s) {
        int sum = 0;
        boolean dbl = false;
        for (int i = s.length() - 1; i >= 0; i--) {
            int d = s.charAt(i) - '0';
            if (dbl) {
                d = d * 2 > 9 ? d * 2 - 9 : d * 2;
            }
            sum += d;
            dbl = !dbl;
        }
        return sum % 10 == 0;
    }

    static String randomWord(int n) {
        String letters = "abcdefghijkmnpqrstuvwxyz";
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append(letters.charAt(RANDOM.nextInt(letters.length())));
        }
        return b.toString();
    }
}
