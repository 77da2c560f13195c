package dev.warden.sql;

import java.util.List;
import java.util.Set;

/**
 * What Warden knows about one SQL statement, as a plain fact for the policy rules and the audit.
 * Produced by {@link SqlAnalyzer}; a statement that could not be parsed has {@code parsed=false}
 * and keeps whatever the lexer could still tell (its kind from the leading keywords, tables it
 * could see), never a harmless-looking default.
 *
 * @param kind               what sort of statement it is
 * @param command            the leading command words, upper case, e.g. "SELECT", "DROP TABLE", "SET ROLE", "ALTER SYSTEM"
 * @param text               this statement's own SQL text (one statement of a multi-statement Query)
 * @param fingerprint        the statement's shape: literals and $n replaced by '?', whitespace and case of keywords folded
 * @param parsed             whether the full parser understood it
 * @param tables             tables (and views) read or written, schema-qualified ("public.customers")
 * @param writtenTables      the subset that is written (INSERT/UPDATE/DELETE/MERGE/TRUNCATE/COPY FROM/SELECT INTO target/CTAS target)
 * @param columns            columns referenced per clause
 * @param functions          functions called, lower case, schema-qualified only when written so ("pg_read_file", "dblink.dblink")
 * @param hasWhere           for UPDATE/DELETE: whether a WHERE clause restricts it (false for other kinds)
 * @param dataModifyingCte   a WITH clause contains INSERT/UPDATE/DELETE/MERGE
 * @param createsTable       SELECT INTO or CREATE TABLE AS / CREATE MATERIALIZED VIEW AS
 * @param copyDirection      for COPY: FROM (into a table) or TO (out); NONE otherwise
 * @param copyProgram        COPY ... PROGRAM
 * @param explainAnalyzeWrite EXPLAIN ANALYZE of a data-modifying statement (which really runs it)
 * @param inner              for EXPLAIN, PREPARE, CREATE RULE and the like: the statement inside, analysed; null otherwise
 * @param preparedName       for PREPARE / EXECUTE / DEALLOCATE: the statement name; null otherwise
 */
public record Statement(
        Kind kind,
        String command,
        String text,
        String fingerprint,
        boolean parsed,
        List<String> tables,
        List<String> writtenTables,
        List<ColumnRef> columns,
        Set<String> functions,
        boolean hasWhere,
        boolean dataModifyingCte,
        boolean createsTable,
        CopyDirection copyDirection,
        boolean copyProgram,
        boolean explainAnalyzeWrite,
        Statement inner,
        String preparedName) {

    public enum Kind {
        SELECT, INSERT, UPDATE, DELETE, MERGE, DDL, DCL, COPY, TRANSACTION, SET, RESET, DO, CALL,
        PREPARE, EXECUTE, DEALLOCATE, DECLARE, FETCH, CLOSE, EXPLAIN, MAINTENANCE, UTILITY, UNKNOWN
    }

    public enum CopyDirection { NONE, FROM, TO }

    public enum Clause { SELECT, WHERE, JOIN, GROUP_ORDER, SET, RETURNING, OTHER }

    /** A column reference: table as resolved ("public.customers", or null when unknown), column name lower case. */
    public record ColumnRef(String table, String column, Clause clause) {
    }

    /** True when running this statement changes data or schema (including through CTEs, INTO, EXPLAIN ANALYZE). */
    public boolean writes() {
        return switch (kind) {
            case INSERT, UPDATE, DELETE, MERGE, DDL, DCL -> true;
            case COPY -> copyDirection == CopyDirection.FROM || copyProgram;
            // plain EXPLAIN only plans its inner statement; EXPLAIN ANALYZE runs it
            case EXPLAIN -> explainAnalyzeWrite;
            default -> dataModifyingCte || createsTable || explainAnalyzeWrite
                    || (inner != null && inner.writes() && kind != Kind.PREPARE);
        };
    }

    /**
     * For rules: COPY to or from a file on the database server (COPY t TO '/tmp/x'), which reads or
     * writes server files as pg_read_file would; STDIN/STDOUT and PROGRAM are not files here.
     */
    public boolean copyServerFile() {
        return kind == Kind.COPY && !copyProgram && SqlAnalyzer.copiesServerFile(text);
    }

    /** For rules: whether the statement touches the table (schema-qualified name). */
    public boolean touches(String qualifiedTable) {
        return tables.contains(qualifiedTable);
    }

    /** For rules: whether the statement calls the function (lower-case name, with or without schema). */
    public boolean calls(String function) {
        if (functions.contains(function)) {
            return true;
        }
        for (String f : functions) {
            if (f.endsWith("." + function)) {
                return true;
            }
        }
        return false;
    }
}
