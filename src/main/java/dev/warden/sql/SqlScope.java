package dev.warden.sql;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.sf.jsqlparser.schema.Table;

/**
 * One FROM scope of a query while {@link SqlAstCollector} walks it: which aliases stand for which
 * tables, which CTE names are visible. Lookups go from the innermost scope outwards, as
 * PostgreSQL resolves correlated references.
 */
final class SqlScope {

    final SqlScope parent;
    /** alias (or bare table name) -> qualified table; "" for derived tables, functions and CTEs. */
    final Map<String, String> aliases = new HashMap<>();
    final List<String> tables = new ArrayList<>();
    final Set<String> ctes = new HashSet<>();
    /** FROM items of any sort, to tell "one table" from "one table and a subquery". */
    int items;

    SqlScope(SqlScope parent) {
        this.parent = parent;
    }

    static String table(Table t, SqlNames names) {
        if (t == null || t.getName() == null) {
            return null;
        }
        List<String> parts = new ArrayList<>(2);
        if (t.getSchemaName() != null) {
            parts.add(SqlNames.part(t.getSchemaName()));
        }
        parts.add(SqlNames.part(t.getName()));
        return names.table(parts);
    }

    void alias(String key, String target) {
        if (key != null) {
            aliases.put(key, target);
        }
    }

    boolean cte(String name) {
        for (SqlScope s = this; s != null; s = s.parent) {
            if (s.ctes.contains(name)) {
                return true;
            }
        }
        return false;
    }

    /** The table a qualifier (alias or table name) stands for in the innermost scope that knows it. */
    String qualifier(Table t, SqlNames names) {
        if (t == null || t.getName() == null) {
            return null;
        }
        if (t.getSchemaName() != null) {
            return table(t, names);
        }
        String q = SqlNames.part(t.getName());
        for (SqlScope s = this; s != null; s = s.parent) {
            String v = s.aliases.get(q);
            if (v != null) {
                return v.isEmpty() ? null : v;
            }
        }
        return null;
    }

    /** The single table of the innermost scope that has a FROM, or null when there are several. */
    String only() {
        for (SqlScope s = this; s != null; s = s.parent) {
            if (s.items > 0) {
                return s.items == 1 && s.tables.size() == 1 ? s.tables.get(0) : null;
            }
        }
        return null;
    }
}
