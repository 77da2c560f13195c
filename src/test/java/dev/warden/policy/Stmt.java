package dev.warden.policy;

import dev.warden.sql.Statement;
import dev.warden.sql.Statement.CopyDirection;
import dev.warden.sql.Statement.Kind;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Builds Statement facts by hand, as the SQL analyzer would, so the policy tests do not depend on it. */
final class Stmt {
    private final Kind kind;
    private final String command;
    private final String text;
    private String fingerprint;
    private boolean parsed = true;
    private List<String> tables = List.of();
    private List<String> written = List.of();
    private Set<String> functions = Set.of();
    private boolean hasWhere;
    private boolean dataModifyingCte;
    private boolean createsTable;
    private CopyDirection copyDirection = CopyDirection.NONE;
    private boolean copyProgram;
    private boolean explainAnalyzeWrite;
    private Statement inner;

    private Stmt(Kind kind, String command, String text) {
        this.kind = kind;
        this.command = command;
        this.text = text;
        // a crude stand-in for the analyzer's fingerprint: literals replaced, case folded
        this.fingerprint = text.replaceAll("'[^']*'", "?").replaceAll("\\b\\d+\\b", "?")
                .replaceAll("\\s+", " ").trim().toLowerCase(Locale.ROOT);
    }

    static Stmt of(Kind kind, String command, String text) {
        return new Stmt(kind, command, text);
    }

    static Statement select(String text, String... tables) {
        return of(Kind.SELECT, "SELECT", text).tables(tables).build();
    }

    Stmt fingerprint(String fp) {
        this.fingerprint = fp;
        return this;
    }

    Stmt unparsed() {
        this.parsed = false;
        return this;
    }

    Stmt tables(String... t) {
        this.tables = List.of(t);
        return this;
    }

    Stmt writes(String... t) {
        this.written = List.of(t);
        return this;
    }

    Stmt functions(String... f) {
        this.functions = Set.of(f);
        return this;
    }

    Stmt where() {
        this.hasWhere = true;
        return this;
    }

    Stmt dataModifyingCte() {
        this.dataModifyingCte = true;
        return this;
    }

    Stmt createsTable() {
        this.createsTable = true;
        return this;
    }

    Stmt copy(CopyDirection d) {
        this.copyDirection = d;
        return this;
    }

    Stmt program() {
        this.copyProgram = true;
        return this;
    }

    Stmt explainAnalyzeWrite() {
        this.explainAnalyzeWrite = true;
        return this;
    }

    Stmt inner(Statement s) {
        this.inner = s;
        return this;
    }

    Statement build() {
        return new Statement(kind, command, text, fingerprint, parsed, tables, written, List.of(), functions,
                hasWhere, dataModifyingCte, createsTable, copyDirection, copyProgram, explainAnalyzeWrite, inner, null);
    }
}
