package dev.warden.sql;

import java.util.ArrayList;
import java.util.List;

/**
 * The analyser's table of expectations: one statement per row with its kind, command, tables,
 * written tables, functions and flags. Flags not listed must be off: where, dmcte, creates,
 * copy=FROM|TO, program, eaw (EXPLAIN ANALYZE of a write), writes, unparsed, prep=name, inner=KIND.
 * Tables assume search_path "$user", public.
 */
final class SqlAnalyzerCases {

    record Case(String sql, String kind, String command, String tables, String written, String functions,
            String flags) {
        @Override
        public String toString() {
            return sql.replace("\n", "\\n");
        }
    }

    private static final List<Case> CASES = new ArrayList<>();

    private static void c(String sql, String kind, String command, String tables, String written, String functions,
            String flags) {
        CASES.add(new Case(sql, kind, command, tables, written, functions, flags));
    }

    static List<Case> all() {
        return CASES;
    }

    static {
        // ---- SELECT and friends
        c("SELECT * FROM t WHERE id = 5", "SELECT", "SELECT", "public.t", "", "", "");
        c("select *  from T where id=6 -- x", "SELECT", "SELECT", "public.t", "", "", "");
        c("SeLeCt   *   FrOm   \"T\"   wHeRe  X=1", "SELECT", "SELECT", "public.T", "", "", "");
        c("SELECT 1", "SELECT", "SELECT", "", "", "", "");
        c("SELECT 1 FOR UPDATE", "SELECT", "SELECT", "", "", "", "");
        c("SELECT * FROM t FOR UPDATE OF t SKIP LOCKED", "SELECT", "SELECT", "public.t", "", "", "");
        c("TABLE t", "SELECT", "SELECT", "public.t", "", "", "");
        c("VALUES (1), (2)", "SELECT", "SELECT", "", "", "", "");
        c("(SELECT * FROM a) UNION (SELECT * FROM b)", "SELECT", "SELECT", "public.a,public.b", "", "", "");
        c("SELECT a FROM t1 UNION ALL SELECT b FROM t2 ORDER BY 1", "SELECT", "SELECT", "public.t1,public.t2", "", "", "");
        c("SELECT * FROM \"Public\".\"Customers\"", "SELECT", "SELECT", "Public.Customers", "", "", "");
        c("SELECT * FROM bank.public.t", "SELECT", "SELECT", "public.t", "", "", "");
        c("SELECT * FROM Bank.Accounts", "SELECT", "SELECT", "bank.accounts", "", "", "");
        c("SELECT * FROM pg_shadow", "SELECT", "SELECT", "pg_catalog.pg_shadow", "", "", "");
        c("SELECT * FROM pg_catalog.pg_authid", "SELECT", "SELECT", "pg_catalog.pg_authid", "", "", "");
        c("SELECT * FROM pg_catalog.pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace", "SELECT", "SELECT",
                "pg_catalog.pg_class,pg_catalog.pg_namespace", "", "", "");
        c("SELECT * FROM information_schema.tables", "SELECT", "SELECT", "information_schema.tables", "", "", "");
        c("SELECT U&\"d\\0061t\\0061\" FROM U&\"t\\0061b\"", "SELECT", "SELECT", "public.tab", "", "", "");
        c("SELECT a FROM U&\"t!0061b\" UESCAPE '!'", "SELECT", "SELECT", "public.tab", "", "", "");
        c("SELECT E'\\'' FROM t", "SELECT", "SELECT", "public.t", "", "", "");
        c("SELECT 'a' /* x /* y */ z */ FROM t", "SELECT", "SELECT", "public.t", "", "", "");
        c("SELECT $$; DROP TABLE t; $$", "SELECT", "SELECT", "", "", "", "");
        c("SELECT $tag$a$tag$, $1 FROM t", "SELECT", "SELECT", "public.t", "", "", "");
        c("SELECT 0x1F, 0o17, 0b101, 1_000_000, 1.5e-3, .5 FROM t", "SELECT", "SELECT", "public.t", "", "", "");
        c("SELECT a FROM t JOIN u USING (id)", "SELECT", "SELECT", "public.t,public.u", "", "", "");
        c("SELECT * FROM a LEFT JOIN b ON a.id = b.aid RIGHT JOIN c ON c.id = b.cid", "SELECT", "SELECT",
                "public.a,public.b,public.c", "", "", "");
        c("SELECT * FROM t1 NATURAL JOIN t2 CROSS JOIN t3", "SELECT", "SELECT", "public.t1,public.t2,public.t3", "", "", "");
        c("SELECT * FROM a, LATERAL (SELECT * FROM b WHERE b.x = a.x) c", "SELECT", "SELECT", "public.a,public.b", "", "", "");
        c("SELECT * FROM t WHERE a = 1 OR EXISTS (SELECT 1 FROM u WHERE u.a = t.a)", "SELECT", "SELECT",
                "public.t,public.u", "", "", "");
        c("SELECT (SELECT max(x) FROM u) FROM t", "SELECT", "SELECT", "public.t,public.u", "", "max", "");
        c("SELECT * FROM a WHERE id IN (SELECT cid FROM b WHERE b.x IN (SELECT y FROM c))", "SELECT", "SELECT",
                "public.a,public.b,public.c", "", "", "");
        c("SELECT * FROM t WHERE a = ANY(ARRAY(SELECT b FROM u))", "SELECT", "SELECT", "public.t,public.u", "", "", "");
        c("SELECT * FROM t WHERE a IN (1,2,3) AND b = ANY($1)", "SELECT", "SELECT", "public.t", "", "", "");
        c("WITH a AS (SELECT * FROM customers), b AS (SELECT * FROM a) SELECT * FROM b", "SELECT", "SELECT",
                "public.customers", "", "", "");
        c("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r WHERE n < 10) SELECT * FROM r", "SELECT",
                "SELECT", "", "", "", "");
        c("WITH x AS MATERIALIZED (SELECT 1) SELECT * FROM x", "SELECT", "SELECT", "", "", "", "");
        c("SELECT * FROM ONLY t", "SELECT", "SELECT", "public.t", "", "", "");
        c("SELECT * FROM t TABLESAMPLE SYSTEM (10)", "SELECT", "SELECT", "public.t", "", "", "");
        c("SELECT DISTINCT ON (a) a, b FROM t ORDER BY a", "SELECT", "SELECT", "public.t", "", "", "");
        c("SELECT a FROM t GROUP BY ROLLUP (a)", "SELECT", "SELECT", "public.t", "", "", "");
        c("SELECT count(*) FILTER (WHERE x > 1) OVER (PARTITION BY y) FROM t", "SELECT", "SELECT", "public.t", "",
                "count", "");
        c("SELECT coalesce(a, b), nullif(a, 1), greatest(a, b) FROM t", "SELECT", "SELECT", "public.t", "",
                "coalesce,nullif,greatest", "");
        c("SELECT string_agg(a, ',' ORDER BY a), array_agg(DISTINCT b) FROM t", "SELECT", "SELECT", "public.t", "",
                "string_agg,array_agg", "");
        c("SELECT extract(epoch FROM now())", "SELECT", "SELECT", "", "", "now", "");
        c("SELECT * FROM generate_series(1, 10) g", "SELECT", "SELECT", "", "", "generate_series", "");
        c("SELECT * FROM unnest(ARRAY[1,2]) WITH ORDINALITY AS u(x, n)", "SELECT", "SELECT", "", "", "unnest", "");
        c("SELECT * FROM (VALUES (1,2)) v(a,b)", "SELECT", "SELECT", "", "", "", "");
        c("SELECT ARRAY[1,2], '{1}'::int[], x->>'a', x #> '{a}' FROM t", "SELECT", "SELECT", "public.t", "", "", "");
        c("SELECT CAST(a AS text), a::varchar(10), a::numeric(10,2) FROM t", "SELECT", "SELECT", "public.t", "", "", "");
        c("SELECT interval '1 day', date '2020-01-01'", "SELECT", "SELECT", "", "", "", "");
        c("SELECT current_user, session_user, now()", "SELECT", "SELECT", "", "", "now", "");
        c("SELECT nextval('seq')", "SELECT", "SELECT", "", "", "nextval", "");
        c("SELECT set_config('search_path', 'x', false)", "SELECT", "SELECT", "", "", "set_config", "");
        c("SELECT 1 WHERE 1 = 1", "SELECT", "SELECT", "", "", "", "");
        c("SELECT * FROM t ORDER BY a NULLS FIRST LIMIT 10 OFFSET 5", "SELECT", "SELECT", "public.t", "", "", "");
        c("SELECT * FROM t FETCH FIRST 5 ROWS ONLY", "SELECT", "SELECT", "public.t", "", "", "");

        // ---- dangerous functions
        c("SELECT pg_read_file('/etc/passwd')", "SELECT", "SELECT", "", "", "pg_read_file", "");
        c("SELECT PG_READ_FILE('/etc/passwd')", "SELECT", "SELECT", "", "", "pg_read_file", "");
        c("SELECT \"pg_read_file\"('/etc/passwd')", "SELECT", "SELECT", "", "", "pg_read_file", "");
        c("SELECT pg_catalog.pg_read_file('/etc/passwd')", "SELECT", "SELECT", "", "", "pg_catalog.pg_read_file", "");
        c("SELECT pg_read_binary_file('/x'), pg_ls_dir('/')", "SELECT", "SELECT", "", "",
                "pg_read_binary_file,pg_ls_dir", "");
        c("SELECT lo_export(1, '/tmp/x')", "SELECT", "SELECT", "", "", "lo_export", "");
        c("SELECT lo_import('/etc/passwd')", "SELECT", "SELECT", "", "", "lo_import", "");
        c("SELECT * FROM dblink('host=x', 'select 1') AS t(a int)", "SELECT", "SELECT", "", "", "dblink", "");
        c("SELECT * FROM dblink.dblink('x', 'y') AS t(a int)", "SELECT", "SELECT", "", "", "dblink.dblink", "");
        c("SELECT dblink_exec('x', 'DROP TABLE t')", "SELECT", "SELECT", "", "", "dblink_exec", "");
        c("SELECT pg_sleep(10)", "SELECT", "SELECT", "", "", "pg_sleep", "");
        c("SELECT pg_terminate_backend(pid) FROM pg_stat_activity", "SELECT", "SELECT", "pg_catalog.pg_stat_activity",
                "", "pg_terminate_backend", "");
        c("SELECT public.myfunc(1)", "SELECT", "SELECT", "", "", "public.myfunc", "");
        c("SELECT upper(name) FROM customers WHERE lower(email) = 'x'", "SELECT", "SELECT", "public.customers", "",
                "upper,lower", "");
        c("SELECT * FROM t WHERE a = (SELECT pg_read_file('x'))", "SELECT", "SELECT", "public.t", "", "pg_read_file", "");

        // ---- SELECT INTO and data-modifying CTEs
        c("SELECT * INTO x FROM customers", "SELECT", "SELECT INTO", "public.customers,public.x", "public.x", "",
                "creates,writes");
        c("SELECT * INTO TEMP x FROM customers", "SELECT", "SELECT INTO", "public.customers,public.x", "public.x", "",
                "creates,writes,unparsed");
        c("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "SELECT", "SELECT", "public.t", "public.t", "",
                "dmcte,writes");
        c("WITH d AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM d", "SELECT", "SELECT", "public.t",
                "public.t", "", "dmcte,writes");
        c("WITH d AS (UPDATE t SET a=1 RETURNING *) SELECT * FROM d", "SELECT", "SELECT", "public.t", "public.t", "",
                "dmcte,writes");
        c("WITH d AS (DELETE FROM t WHERE x = 1 RETURNING *) INSERT INTO archive SELECT * FROM d", "INSERT", "INSERT",
                "public.t,public.archive", "public.t,public.archive", "", "dmcte,writes");
        c("WITH d AS (SELECT 1) DELETE FROM t WHERE id IN (SELECT * FROM d)", "DELETE", "DELETE", "public.t",
                "public.t", "", "where,writes");

        // ---- INSERT / UPDATE / DELETE / MERGE / TRUNCATE
        c("INSERT INTO t VALUES (1, now()) RETURNING id", "INSERT", "INSERT", "public.t", "public.t", "now", "writes");
        c("INSERT INTO t (a, b) VALUES (1, 2) ON CONFLICT (a) DO UPDATE SET b = EXCLUDED.b", "INSERT", "INSERT",
                "public.t", "public.t", "", "writes");
        c("INSERT INTO t (a) SELECT ssn FROM customers ON CONFLICT DO NOTHING RETURNING *", "INSERT", "INSERT",
                "public.t,public.customers", "public.t", "", "writes");
        c("INSERT INTO s.t (a) OVERRIDING SYSTEM VALUE VALUES (1)", "INSERT", "INSERT", "s.t", "s.t", "", "writes");
        c("INSERT INTO t DEFAULT VALUES", "INSERT", "INSERT", "public.t", "public.t", "", "writes");
        c("INSERT INTO t VALUES (pg_read_file('/etc/passwd'))", "INSERT", "INSERT", "public.t", "public.t",
                "pg_read_file", "writes");
        c("UPDATE t SET a = 1", "UPDATE", "UPDATE", "public.t", "public.t", "", "writes");
        c("UPDATE t SET a = 1 WHERE id = 2", "UPDATE", "UPDATE", "public.t", "public.t", "", "where,writes");
        c("UPDATE t SET a = u.a FROM u WHERE t.id = u.id RETURNING t.*", "UPDATE", "UPDATE", "public.t,public.u",
                "public.t", "", "where,writes");
        c("UPDATE t SET a = (SELECT max(b) FROM u) WHERE id = 1 OR true", "UPDATE", "UPDATE", "public.t,public.u",
                "public.t", "max", "writes");
        c("UPDATE t AS x SET a = 1 WHERE x.b = 2", "UPDATE", "UPDATE", "public.t", "public.t", "", "where,writes");
        c("UPDATE ONLY t SET a = 1 WHERE b = 2", "UPDATE", "UPDATE", "public.t", "public.t", "", "where,writes,unparsed");
        c("UPDATE t SET a = 1 WHERE $1", "UPDATE", "UPDATE", "public.t", "public.t", "", "writes");
        c("DELETE FROM t", "DELETE", "DELETE", "public.t", "public.t", "", "writes");
        c("DELETE FROM t WHERE true", "DELETE", "DELETE", "public.t", "public.t", "", "writes");
        c("DELETE FROM t WHERE 1 = 1", "DELETE", "DELETE", "public.t", "public.t", "", "writes");
        c("DELETE FROM t WHERE 'a' = 'a'", "DELETE", "DELETE", "public.t", "public.t", "", "writes");
        c("DELETE FROM t WHERE id = id", "DELETE", "DELETE", "public.t", "public.t", "", "writes");
        c("DELETE FROM t WHERE NOT false", "DELETE", "DELETE", "public.t", "public.t", "", "writes");
        c("DELETE FROM t WHERE id = 5 AND true", "DELETE", "DELETE", "public.t", "public.t", "", "where,writes");
        c("DELETE FROM t WHERE id > 5 OR 2 > 1", "DELETE", "DELETE", "public.t", "public.t", "", "writes");
        c("DELETE FROM t WHERE id > 5 OR 1 = 2", "DELETE", "DELETE", "public.t", "public.t", "", "writes");
        c("DELETE FROM t WHERE a = 1 AND (b = 2 OR c >= c)", "DELETE", "DELETE", "public.t", "public.t", "",
                "where,writes");
        c("DELETE FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.id = t.id)", "DELETE", "DELETE", "public.t,public.u",
                "public.t", "", "where,writes");
        c("DELETE FROM t USING u WHERE t.id = u.id", "DELETE", "DELETE", "public.t,public.u", "public.t", "",
                "where,writes");
        c("DELETE FROM t AS x WHERE x.a = 1", "DELETE", "DELETE", "public.t", "public.t", "", "where,writes");
        c("DELETE FROM t WHERE CURRENT OF c", "DELETE", "DELETE", "public.t", "public.t", "", "where,writes,unparsed");
        c("delete from ONLY bank.accounts where id = 1 returning *", "DELETE", "DELETE", "bank.accounts",
                "bank.accounts", "", "where,writes,unparsed");
        c("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = s.a "
                + "WHEN NOT MATCHED THEN INSERT (id, a) VALUES (s.id, s.a)", "MERGE", "MERGE", "public.t,public.s",
                "public.t", "", "writes");
        c("MERGE INTO t USING (SELECT * FROM s) src ON t.id = src.id WHEN MATCHED THEN DELETE", "MERGE", "MERGE",
                "public.t,public.s", "public.t", "", "writes");
        c("TRUNCATE t", "DELETE", "TRUNCATE", "public.t", "public.t", "", "writes");
        c("TRUNCATE TABLE ONLY a, b * RESTART IDENTITY CASCADE", "DELETE", "TRUNCATE", "public.a,public.b",
                "public.a,public.b", "", "writes");

        // ---- DDL
        c("DROP TABLE t", "DDL", "DROP TABLE", "public.t", "public.t", "", "writes");
        c("/* x */ DROP TABLE t", "DDL", "DROP TABLE", "public.t", "public.t", "", "writes");
        c("-- c\nDROP TABLE t", "DDL", "DROP TABLE", "public.t", "public.t", "", "writes");
        c("drop/**/table t", "DDL", "DROP TABLE", "public.t", "public.t", "", "writes");
        c("DROP TABLE IF EXISTS a, s.b CASCADE", "DDL", "DROP TABLE", "public.a,s.b", "public.a,s.b", "",
                "writes,unparsed");
        c("DROP MATERIALIZED VIEW IF EXISTS mv", "DDL", "DROP MATERIALIZED VIEW", "public.mv", "public.mv", "", "writes");
        c("DROP SCHEMA bank CASCADE", "DDL", "DROP SCHEMA", "", "", "", "writes");
        c("DROP DATABASE bank", "DDL", "DROP DATABASE", "", "", "", "writes,unparsed");
        c("ALTER TABLE t ADD COLUMN c int", "DDL", "ALTER TABLE", "public.t", "public.t", "", "writes");
        c("ALTER TABLE IF EXISTS ONLY s.t RENAME TO u", "DDL", "ALTER TABLE", "s.t", "s.t", "", "writes,unparsed");
        c("ALTER TABLE customers DISABLE ROW LEVEL SECURITY", "DDL", "ALTER TABLE", "public.customers",
                "public.customers", "", "writes,unparsed");
        c("CREATE TABLE x AS SELECT * FROM customers", "DDL", "CREATE TABLE", "public.x,public.customers", "public.x",
                "", "creates,writes,inner=SELECT");
        c("CREATE TABLE x AS SELECT * FROM customers WITH NO DATA", "DDL", "CREATE TABLE", "public.x,public.customers",
                "public.x", "", "creates,writes,inner=SELECT");
        c("CREATE MATERIALIZED VIEW mv AS SELECT * FROM customers", "DDL", "CREATE MATERIALIZED VIEW",
                "public.mv,public.customers", "public.mv", "", "creates,writes,inner=SELECT");
        c("CREATE OR REPLACE TEMP VIEW v AS SELECT a FROM t", "DDL", "CREATE VIEW", "public.v,public.t", "public.v", "",
                "writes,inner=SELECT");
        c("CREATE TEMPORARY TABLE tmp (a int)", "DDL", "CREATE TABLE", "public.tmp", "public.tmp", "", "writes");
        c("CREATE TABLE t (a int DEFAULT pg_read_file('x'), b varchar(10), c numeric(10,2) REFERENCES u(id))", "DDL",
                "CREATE TABLE", "public.t", "public.t", "pg_read_file", "writes");
        c("CREATE TABLE p1 PARTITION OF customers FOR VALUES FROM (1) TO (10)", "DDL", "CREATE TABLE",
                "public.p1,public.customers", "public.p1,public.customers", "", "writes,unparsed");
        c("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON ONLY s.t USING btree (lower(a))", "DDL", "CREATE INDEX",
                "s.t", "s.t", "lower", "writes,unparsed");
        c("CREATE INDEX i ON t (a)", "DDL", "CREATE INDEX", "public.t", "public.t", "", "writes");
        c("CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()", "DDL", "CREATE TRIGGER", "public.t",
                "public.t", "", "writes,unparsed");
        c("CREATE EVENT TRIGGER et ON ddl_command_start EXECUTE FUNCTION f()", "DDL", "CREATE EVENT TRIGGER", "", "",
                "", "writes,unparsed");
        c("CREATE POLICY p ON customers USING (true)", "DDL", "CREATE POLICY", "public.customers", "public.customers",
                "", "writes,unparsed");
        c("CREATE RULE r AS ON INSERT TO t DO INSTEAD (INSERT INTO u VALUES (1); DELETE FROM v)", "DDL", "CREATE RULE",
                "public.t,public.u,public.v", "public.t,public.u,public.v", "", "writes,inner=INSERT");
        c("CREATE RULE r AS ON DELETE TO t DO INSTEAD NOTHING", "DDL", "CREATE RULE", "public.t", "public.t", "",
                "writes");
        c("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql", "DDL", "CREATE FUNCTION", "", "", "",
                "writes");
        c("CREATE OR REPLACE FUNCTION f(a int) RETURNS TABLE (x int) LANGUAGE plpgsql AS $$ BEGIN "
                + "PERFORM pg_read_file('x'); END $$", "DDL", "CREATE FUNCTION", "", "", "", "writes");
        c("CREATE EXTENSION dblink", "DDL", "CREATE EXTENSION", "", "", "", "writes,unparsed");
        c("CREATE EXTENSION IF NOT EXISTS postgres_fdw", "DDL", "CREATE EXTENSION", "", "", "", "writes,unparsed");
        c("CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'x')", "DDL", "CREATE SERVER", "", "", "",
                "writes,unparsed");
        c("CREATE FOREIGN DATA WRAPPER w", "DDL", "CREATE FOREIGN DATA WRAPPER", "", "", "", "writes,unparsed");
        c("CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'a', password 'b')", "DDL", "CREATE USER MAPPING", "",
                "", "", "writes,unparsed");
        c("IMPORT FOREIGN SCHEMA s FROM SERVER srv INTO public", "DDL", "IMPORT FOREIGN SCHEMA", "", "", "",
                "writes,unparsed");
        c("ALTER SYSTEM SET work_mem = '1GB'", "DDL", "ALTER SYSTEM", "", "", "", "writes");
        c("ALTER SYSTEM RESET ALL", "DDL", "ALTER SYSTEM", "", "", "", "writes");
        c("COMMENT ON TABLE t IS 'x'", "DDL", "COMMENT", "public.t", "public.t", "", "writes");
        c("COMMENT ON COLUMN bank.customers.ssn IS 'x'", "DDL", "COMMENT", "bank.customers", "bank.customers", "",
                "writes");
        c("SECURITY LABEL ON TABLE t IS 'x'", "DDL", "SECURITY LABEL", "", "", "", "writes,unparsed");
        c("CREATE SCHEMA s", "DDL", "CREATE SCHEMA", "", "", "", "writes");

        // ---- DCL
        c("GRANT SELECT ON t TO bob", "DCL", "GRANT", "public.t", "public.t", "", "writes");
        c("GRANT SELECT, UPDATE (a) ON TABLE s.t, u TO bob WITH GRANT OPTION", "DCL", "GRANT", "s.t,public.u",
                "s.t,public.u", "", "writes,unparsed");
        c("GRANT admin TO bob", "DCL", "GRANT", "", "", "", "writes");
        c("GRANT USAGE ON SCHEMA s TO bob", "DCL", "GRANT", "", "", "", "writes,unparsed");
        c("REVOKE ALL ON t FROM bob", "DCL", "REVOKE", "public.t", "public.t", "", "writes,unparsed");
        c("REVOKE SELECT ON ALL TABLES IN SCHEMA public FROM bob", "DCL", "REVOKE", "", "", "", "writes,unparsed");
        c("CREATE ROLE bob LOGIN", "DCL", "CREATE ROLE", "", "", "", "writes,unparsed");
        c("CREATE USER bob WITH PASSWORD 'x'", "DCL", "CREATE USER", "", "", "", "writes,unparsed");
        c("ALTER ROLE bob SUPERUSER", "DCL", "ALTER ROLE", "", "", "", "writes,unparsed");
        c("ALTER USER bob WITH SUPERUSER", "DCL", "ALTER USER", "", "", "", "writes,unparsed");
        c("DROP ROLE bob", "DCL", "DROP ROLE", "", "", "", "writes");
        c("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO bob", "DCL", "ALTER DEFAULT PRIVILEGES", "", "", "",
                "writes,unparsed");
        c("REASSIGN OWNED BY a TO b", "DCL", "REASSIGN OWNED", "", "", "", "writes,unparsed");
        c("DROP OWNED BY a", "DCL", "DROP OWNED", "", "", "", "writes");

        // ---- COPY
        c("COPY (SELECT ssn FROM customers) TO STDOUT", "COPY", "COPY", "public.customers", "", "",
                "copy=TO,inner=SELECT");
        c("COPY t FROM PROGRAM 'curl http://x'", "COPY", "COPY", "public.t", "public.t", "", "copy=FROM,program,writes");
        c("COPY t TO PROGRAM 'gzip > /tmp/x'", "COPY", "COPY", "public.t", "", "", "copy=TO,program,writes");
        c("COPY customers TO STDOUT", "COPY", "COPY", "public.customers", "", "", "copy=TO");
        c("COPY customers (ssn, name) TO '/tmp/x'", "COPY", "COPY", "public.customers", "", "", "copy=TO");
        c("COPY t FROM STDIN WITH (FORMAT csv)", "COPY", "COPY", "public.t", "public.t", "", "copy=FROM,writes");
        c("COPY (SELECT lo_import('/etc/passwd')) TO STDOUT", "COPY", "COPY", "", "", "lo_import",
                "copy=TO,inner=SELECT");

        // ---- EXPLAIN
        c("EXPLAIN ANALYZE DELETE FROM t", "EXPLAIN", "EXPLAIN", "public.t", "public.t", "",
                "eaw,writes,inner=DELETE");
        c("EXPLAIN (ANALYZE, BUFFERS) DELETE FROM t", "EXPLAIN", "EXPLAIN", "public.t", "public.t", "",
                "eaw,writes,inner=DELETE");
        c("EXPLAIN DELETE FROM t", "EXPLAIN", "EXPLAIN", "public.t", "", "", "inner=DELETE");
        c("EXPLAIN (ANALYZE false) DELETE FROM t", "EXPLAIN", "EXPLAIN", "public.t", "", "", "inner=DELETE");
        c("EXPLAIN ANALYZE SELECT * FROM t", "EXPLAIN", "EXPLAIN", "public.t", "", "", "inner=SELECT");
        c("EXPLAIN (FORMAT JSON, ANALYZE) WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "EXPLAIN", "EXPLAIN",
                "public.t", "public.t", "", "dmcte,eaw,writes,inner=SELECT");
        c("EXPLAIN ANALYZE CREATE TABLE x AS SELECT 1", "EXPLAIN", "EXPLAIN", "public.x", "public.x", "",
                "creates,eaw,writes,inner=DDL");
        c("EXPLAIN SELECT pg_read_file('x')", "EXPLAIN", "EXPLAIN", "", "", "pg_read_file", "inner=SELECT");

        // ---- PREPARE / EXECUTE / DEALLOCATE / cursors
        c("PREPARE p AS DELETE FROM t", "PREPARE", "PREPARE", "public.t", "", "", "prep=p,inner=DELETE");
        c("PREPARE p (int) AS SELECT * FROM customers WHERE id = $1", "PREPARE", "PREPARE", "public.customers", "", "",
                "prep=p,inner=SELECT");
        c("EXECUTE p", "EXECUTE", "EXECUTE", "", "", "", "prep=p");
        c("EXECUTE P(1, 2)", "EXECUTE", "EXECUTE", "", "", "", "prep=p");
        c("EXECUTE q(pg_read_file('/x'))", "EXECUTE", "EXECUTE", "", "", "pg_read_file", "prep=q");
        c("DEALLOCATE p", "DEALLOCATE", "DEALLOCATE", "", "", "", "prep=p");
        c("DEALLOCATE PREPARE \"P\"", "DEALLOCATE", "DEALLOCATE", "", "", "", "prep=P");
        c("DEALLOCATE ALL", "DEALLOCATE", "DEALLOCATE ALL", "", "", "", "");
        c("DECLARE c CURSOR FOR SELECT * FROM customers", "DECLARE", "DECLARE", "public.customers", "", "",
                "inner=SELECT");
        c("DECLARE c BINARY SCROLL CURSOR WITH HOLD FOR SELECT ssn FROM customers", "DECLARE", "DECLARE",
                "public.customers", "", "", "inner=SELECT");
        c("FETCH 10 FROM c", "FETCH", "FETCH", "", "", "", "");
        c("FETCH ALL IN c", "FETCH", "FETCH", "", "", "", "");
        c("MOVE NEXT FROM c", "FETCH", "MOVE", "", "", "", "");
        c("CLOSE c", "CLOSE", "CLOSE", "", "", "", "");

        // ---- DO / CALL
        c("DO $$ BEGIN DELETE FROM t; END $$", "DO", "DO", "", "", "", "");
        c("DO LANGUAGE plpgsql $body$ BEGIN PERFORM pg_sleep(1); END $body$", "DO", "DO", "", "", "", "");
        c("CALL p()", "CALL", "CALL", "", "", "p", "");
        c("CALL s.proc(1, pg_read_file('x'))", "CALL", "CALL", "", "", "s.proc,pg_read_file", "");

        // ---- SET / RESET
        c("SET ROLE admin", "SET", "SET ROLE", "", "", "", "");
        c("SET LOCAL ROLE admin", "SET", "SET ROLE", "", "", "", "");
        c("SET role = 'admin'", "SET", "SET ROLE", "", "", "", "");
        c("SET SESSION AUTHORIZATION x", "SET", "SET SESSION AUTHORIZATION", "", "", "", "");
        c("SET session_authorization = 'x'", "SET", "SET SESSION AUTHORIZATION", "", "", "", "");
        c("SET search_path TO bank, public", "SET", "SET", "", "", "", "");
        c("SET statement_timeout = 0", "SET", "SET", "", "", "", "");
        c("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "SET", "SET TRANSACTION", "", "", "", "");
        c("RESET ROLE", "RESET", "RESET ROLE", "", "", "", "");
        c("RESET SESSION AUTHORIZATION", "RESET", "RESET SESSION AUTHORIZATION", "", "", "", "");
        c("RESET ALL", "RESET", "RESET ALL", "", "", "", "");
        c("RESET work_mem", "RESET", "RESET", "", "", "", "");

        // ---- transactions
        c("BEGIN", "TRANSACTION", "BEGIN", "", "", "", "");
        c("begin isolation level serializable", "TRANSACTION", "BEGIN", "", "", "", "");
        c("START TRANSACTION READ ONLY", "TRANSACTION", "START TRANSACTION", "", "", "", "");
        c("COMMIT", "TRANSACTION", "COMMIT", "", "", "", "");
        c("END", "TRANSACTION", "COMMIT", "", "", "", "");
        c("ROLLBACK", "TRANSACTION", "ROLLBACK", "", "", "", "");
        c("ABORT", "TRANSACTION", "ROLLBACK", "", "", "", "");
        c("SAVEPOINT a", "TRANSACTION", "SAVEPOINT", "", "", "", "");
        c("RELEASE SAVEPOINT a", "TRANSACTION", "RELEASE SAVEPOINT", "", "", "", "");
        c("ROLLBACK TO SAVEPOINT a", "TRANSACTION", "ROLLBACK TO SAVEPOINT", "", "", "", "");
        c("PREPARE TRANSACTION 'x'", "TRANSACTION", "PREPARE TRANSACTION", "", "", "", "");
        c("COMMIT PREPARED 'x'", "TRANSACTION", "COMMIT PREPARED", "", "", "", "");
        c("ROLLBACK PREPARED 'x'", "TRANSACTION", "ROLLBACK PREPARED", "", "", "", "");

        // ---- maintenance and utility
        c("VACUUM", "MAINTENANCE", "VACUUM", "", "", "", "");
        c("VACUUM FULL t", "MAINTENANCE", "VACUUM", "public.t", "", "", "");
        c("VACUUM (VERBOSE, ANALYZE) a, b (x)", "MAINTENANCE", "VACUUM", "public.a,public.b", "", "", "");
        c("ANALYZE t", "MAINTENANCE", "ANALYZE", "public.t", "", "", "");
        c("ANALYSE VERBOSE t (a)", "MAINTENANCE", "ANALYZE", "public.t", "", "", "");
        c("CLUSTER t USING i", "MAINTENANCE", "CLUSTER", "public.t", "", "", "");
        c("REINDEX (VERBOSE) TABLE CONCURRENTLY t", "MAINTENANCE", "REINDEX", "public.t", "", "", "");
        c("CHECKPOINT", "MAINTENANCE", "CHECKPOINT", "", "", "", "");
        c("REFRESH MATERIALIZED VIEW CONCURRENTLY mv WITH DATA", "MAINTENANCE", "REFRESH MATERIALIZED VIEW", "public.mv",
                "", "", "");
        c("SHOW search_path", "UTILITY", "SHOW", "", "", "", "");
        c("LISTEN x", "UTILITY", "LISTEN", "", "", "", "");
        c("NOTIFY x, 'hi'", "UTILITY", "NOTIFY", "", "", "", "");
        c("UNLISTEN *", "UTILITY", "UNLISTEN", "", "", "", "");
        c("DISCARD ALL", "UTILITY", "DISCARD ALL", "", "", "", "");
        c("LOCK TABLE a, ONLY b IN ACCESS EXCLUSIVE MODE", "UTILITY", "LOCK", "public.a,public.b", "", "", "");
        c("LOAD 'plugin'", "UTILITY", "LOAD", "", "", "", "");

        // ---- broken, hostile or unknown input
        c("SELECT 'abc", "SELECT", "SELECT", "", "", "", "unparsed");
        c("SELECT /* unterminated", "SELECT", "SELECT", "", "", "", "unparsed");
        c("/* unterminated", "UNKNOWN", "", "", "", "", "unparsed");
        c("DROP TABLE \"Unterminated", "DDL", "DROP TABLE", "public.Unterminated", "public.Unterminated", "",
                "writes,unparsed");
        c("DELETE FROM t WHERE x = 'unterminated", "DELETE", "DELETE", "public.t", "public.t", "",
                "where,writes,unparsed");
        c("SELECT (1", "SELECT", "SELECT", "", "", "", "unparsed");
        c("SELECT 1 garbage here", "SELECT", "SELECT", "", "", "", "unparsed");
        c("SELECT 1 DROP TABLE t", "SELECT", "SELECT", "", "", "", "unparsed");
        c("SELECT * FROM t WHERE a = 'x' COLLATE \"C\"", "SELECT", "SELECT", "public.t", "", "", "unparsed");
        c("SELECT * FROM ROWS FROM (f(1), g(2)) AS x", "SELECT", "SELECT", "", "", "f,g", "unparsed");
        c("SELECT * FROM xmltable('/a' PASSING '<a/>' COLUMNS b int)", "SELECT", "SELECT", "", "", "xmltable",
                "unparsed");
        c("xyzzy foo bar", "UNKNOWN", "XYZZY", "", "", "", "unparsed");
        c("WITH", "UNKNOWN", "WITH", "", "", "", "unparsed");
        c("(", "UNKNOWN", "", "", "", "", "unparsed");
    }

    private SqlAnalyzerCases() {
    }
}
