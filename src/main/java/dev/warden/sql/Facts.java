package dev.warden.sql;

import dev.warden.sql.Statement.Clause;
import dev.warden.sql.Statement.ColumnRef;
import dev.warden.sql.Statement.CopyDirection;
import dev.warden.sql.Statement.Kind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** What the collectors find about one statement, gathered mutably and frozen into a {@link Statement}. */
final class Facts {

    final Set<String> tables = new LinkedHashSet<>();
    final Set<String> written = new LinkedHashSet<>();
    final Set<ColumnRef> columns = new LinkedHashSet<>();
    final Set<String> functions = new LinkedHashSet<>();
    boolean hasWhere;
    boolean dataModifyingCte;
    boolean createsTable;
    CopyDirection copyDirection = CopyDirection.NONE;
    boolean copyProgram;
    boolean explainAnalyzeWrite;
    Statement inner;
    String preparedName;

    void read(String table) {
        if (table != null) {
            tables.add(table);
        }
    }

    void write(String table) {
        if (table != null) {
            tables.add(table);
            written.add(table);
        }
    }

    void column(String table, String column, Clause clause) {
        if (column != null) {
            columns.add(new ColumnRef(table, column, clause));
        }
    }

    void function(String name) {
        if (name != null && !name.isEmpty()) {
            functions.add(name);
        }
    }

    /** Takes over what an inner statement reads and calls; its writes only when asked (it really runs). */
    void absorb(Statement s, boolean itsWritesToo) {
        if (s == null) {
            return;
        }
        tables.addAll(s.tables());
        columns.addAll(s.columns());
        functions.addAll(s.functions());
        if (itsWritesToo) {
            written.addAll(s.writtenTables());
        }
    }

    Statement build(Kind kind, String command, String text, String fingerprint, boolean parsed) {
        return new Statement(kind, command, text, fingerprint, parsed,
                List.copyOf(tables), List.copyOf(written), List.copyOf(new ArrayList<>(columns)),
                Collections.unmodifiableSet(new LinkedHashSet<>(functions)),
                hasWhere, dataModifyingCte, createsTable, copyDirection, copyProgram, explainAnalyzeWrite,
                inner, preparedName);
    }
}
