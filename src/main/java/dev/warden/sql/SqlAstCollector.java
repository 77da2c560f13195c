package dev.warden.sql;

import dev.warden.sql.Statement.Clause;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import net.sf.jsqlparser.expression.Alias;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.ParenthesedStatement;
import net.sf.jsqlparser.statement.ReturningClause;
import net.sf.jsqlparser.statement.delete.Delete;
import net.sf.jsqlparser.statement.delete.ParenthesedDelete;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.insert.ParenthesedInsert;
import net.sf.jsqlparser.statement.merge.Merge;
import net.sf.jsqlparser.statement.merge.MergeDelete;
import net.sf.jsqlparser.statement.merge.MergeInsert;
import net.sf.jsqlparser.statement.merge.MergeOperation;
import net.sf.jsqlparser.statement.merge.MergeUpdate;
import net.sf.jsqlparser.statement.select.AllColumns;
import net.sf.jsqlparser.statement.select.AllTableColumns;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.OrderByElement;
import net.sf.jsqlparser.statement.select.ParenthesedFromItem;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.SelectItem;
import net.sf.jsqlparser.statement.select.SetOperationList;
import net.sf.jsqlparser.statement.select.TableFunction;
import net.sf.jsqlparser.statement.select.TableStatement;
import net.sf.jsqlparser.statement.select.Values;
import net.sf.jsqlparser.statement.select.WithItem;
import net.sf.jsqlparser.statement.truncate.Truncate;
import net.sf.jsqlparser.statement.update.ParenthesedUpdate;
import net.sf.jsqlparser.statement.update.Update;
import net.sf.jsqlparser.statement.update.UpdateSet;

/**
 * (Over ~400 lines: one JSqlParser visitor; splitting it would spread one traversal over files.)
 *
 * Walks a JSqlParser tree of a DML statement and records its tables, columns per clause and
 * function calls. Columns are resolved through the aliases of the enclosing FROM scopes, innermost
 * first; an unqualified column resolves only when its scope has exactly one table, else its table is
 * null. Columns of a subquery's select list take the clause the subquery sits in (a scalar
 * subquery in the select list returns data; one in WHERE only filters).
 *
 * <p>One file on purpose: it is a single JSqlParser visitor; its length is the number of node types it
 * has to look into.
 */
final class SqlAstCollector {

    /** Value keywords JSqlParser reads as columns; they are neither columns nor interesting calls. */
    private static final Set<String> VALUE_WORDS = Set.of("current_user", "session_user", "current_role", "user",
            "current_date", "current_time", "current_timestamp", "localtime", "localtimestamp", "current_catalog",
            "current_schema", "true", "false", "null", "default");

    private final SqlNames names;
    private final Facts f;
    private SqlScope scope = new SqlScope(null);
    private Clause clause = Clause.OTHER;
    /** What a select list's columns count as: SELECT at top level, the enclosing clause in subqueries. */
    private Clause selectClause = Clause.SELECT;
    private final SqlExprCollector expressions = new SqlExprCollector(this);

    private SqlAstCollector(SqlNames names, Facts f) {
        this.names = names;
        this.f = f;
    }

    static void collect(net.sf.jsqlparser.statement.Statement st, SqlNames names, Facts f) {
        new SqlAstCollector(names, f).statement(st);
    }

    private void statement(net.sf.jsqlparser.statement.Statement st) {
        if (st instanceof Select s) {
            select(s);
        } else if (st instanceof Insert i) {
            insert(i);
        } else if (st instanceof Update u) {
            update(u);
        } else if (st instanceof Delete d) {
            delete(d);
        } else if (st instanceof Merge m) {
            merge(m);
        } else if (st instanceof Truncate t && t.getTables() != null) {
            t.getTables().forEach(x -> f.write(table(x)));
        }
    }

    // ------------------------------------------------------------------ statements

    private void select(Select s) {
        SqlScope saved = scope;
        scope = new SqlScope(saved);
        try {
            with(s.getWithItemsList());
            if (s instanceof PlainSelect p) {
                plain(p);
            } else if (s instanceof SetOperationList so) {
                so.getSelects().forEach(this::select);
            } else if (s instanceof ParenthesedSelect ps && ps.getSelect() != null) {
                select(ps.getSelect());
            } else if (s instanceof Values v) {
                expr(v.getExpressions(), Clause.OTHER);
            } else if (s instanceof TableStatement ts) {
                from(ts.getTable());
            }
            orderBy(s.getOrderByElements());
            if (s.getLimit() != null) {
                expr(s.getLimit().getRowCount(), Clause.OTHER);
                expr(s.getLimit().getOffset(), Clause.OTHER);
            }
            if (s.getOffset() != null) {
                expr(s.getOffset().getOffset(), Clause.OTHER);
            }
        } finally {
            scope = saved;
        }
    }

    private void plain(PlainSelect p) {
        from(p.getFromItem());
        joins(p.getJoins());
        if (p.getDistinct() != null && p.getDistinct().getOnSelectItems() != null) {
            p.getDistinct().getOnSelectItems().forEach(i -> expr(i.getExpression(), Clause.SELECT));
        }
        selectItems(p.getSelectItems(), Clause.SELECT);
        if (p.getIntoTables() != null && !p.getIntoTables().isEmpty()) {
            f.createsTable = true;
            p.getIntoTables().forEach(t -> f.write(table(t)));
        }
        expr(p.getWhere(), Clause.WHERE);
        if (p.getGroupBy() != null) {
            expr(p.getGroupBy().getGroupByExpressionList(), Clause.GROUP_ORDER);
            if (p.getGroupBy().getGroupingSets() != null) {
                p.getGroupBy().getGroupingSets().forEach(g -> expr(g, Clause.GROUP_ORDER));
            }
        }
        expr(p.getHaving(), Clause.WHERE);
    }

    private void insert(Insert i) {
        with(i.getWithItemsList());
        String target = table(i.getTable());
        f.write(target);
        SqlScope saved = scope;
        scope = new SqlScope(saved);
        try {
            register(i.getTable(), target);
            if (i.getColumns() != null) {
                i.getColumns().forEach(c -> f.column(target, SqlNames.part(c.getColumnName()), Clause.SET));
            }
            if (i.getSelect() instanceof Values v) {
                expr(v.getExpressions(), Clause.OTHER);
            } else if (i.getSelect() != null) {
                select(i.getSelect());
            }
            if (i.getConflictAction() != null) {
                scope.aliases.put("excluded", target);
                updateSets(i.getConflictAction().getUpdateSets(), target);
                expr(i.getConflictAction().getWhereExpression(), Clause.WHERE);
            }
            returning(i.getReturningClause());
        } finally {
            scope = saved;
        }
    }

    private void update(Update u) {
        with(u.getWithItemsList());
        String target = table(u.getTable());
        f.write(target);
        SqlScope saved = scope;
        scope = new SqlScope(saved);
        try {
            register(u.getTable(), target);
            joins(u.getStartJoins());
            from(u.getFromItem());
            joins(u.getJoins());
            updateSets(u.getUpdateSets(), target);
            expr(u.getWhere(), Clause.WHERE);
            f.hasWhere = SqlWhere.restricts(u.getWhere());
            returning(u.getReturningClause());
        } finally {
            scope = saved;
        }
    }

    private void delete(Delete d) {
        with(d.getWithItemsList());
        String target = table(d.getTable());
        f.write(target);
        SqlScope saved = scope;
        scope = new SqlScope(saved);
        try {
            register(d.getTable(), target);
            if (d.getTables() != null) {
                d.getTables().forEach(t -> f.write(table(t)));
            }
            if (d.getUsingList() != null) {
                d.getUsingList().forEach(this::from);
            }
            joins(d.getJoins());
            expr(d.getWhere(), Clause.WHERE);
            f.hasWhere = SqlWhere.restricts(d.getWhere());
            returning(d.getReturningClause());
        } finally {
            scope = saved;
        }
    }

    private void merge(Merge m) {
        with(m.getWithItemsList());
        String target = table(m.getTable());
        f.write(target);
        SqlScope saved = scope;
        scope = new SqlScope(saved);
        try {
            register(m.getTable(), target);
            from(m.getFromItem());
            expr(m.getOnCondition(), Clause.JOIN);
            if (m.getOperations() != null) {
                for (MergeOperation op : m.getOperations()) {
                    if (op instanceof MergeUpdate mu) {
                        expr(mu.getAndPredicate(), Clause.WHERE);
                        updateSets(mu.getUpdateSets(), target);
                        expr(mu.getWhereCondition(), Clause.WHERE);
                        expr(mu.getDeleteWhereCondition(), Clause.WHERE);
                    } else if (op instanceof MergeInsert mi) {
                        expr(mi.getAndPredicate(), Clause.WHERE);
                        if (mi.getColumns() != null) {
                            mi.getColumns().forEach(c -> f.column(target, SqlNames.part(c.getColumnName()), Clause.SET));
                        }
                        expr(mi.getValues(), Clause.OTHER);
                        expr(mi.getWhereCondition(), Clause.WHERE);
                    } else if (op instanceof MergeDelete md) {
                        expr(md.getAndPredicate(), Clause.WHERE);
                    }
                }
            }
        } finally {
            scope = saved;
        }
    }

    // ------------------------------------------------------------------ clauses

    private void with(List<WithItem<?>> items) {
        if (items == null) {
            return;
        }
        for (WithItem<?> w : items) {
            scope.ctes.add(SqlNames.part(w.getAliasName()));
            ParenthesedStatement ps = w.getParenthesedStatement();
            if (ps instanceof ParenthesedSelect s) {
                select(s);
            } else if (ps instanceof ParenthesedInsert i) {
                f.dataModifyingCte = true;
                insert(i.getInsert() != null ? i.getInsert() : i);
            } else if (ps instanceof ParenthesedUpdate u) {
                f.dataModifyingCte = true;
                update(u.getUpdate() != null ? u.getUpdate() : u);
            } else if (ps instanceof ParenthesedDelete d) {
                f.dataModifyingCte = true;
                delete(d.getDelete() != null ? d.getDelete() : d);
            }
        }
        f.hasWhere = false; // a CTE's WHERE says nothing about the main statement's
    }

    private void from(FromItem fi) {
        if (fi == null) {
            return;
        }
        scope.items++;
        if (fi instanceof Table t) {
            String name = SqlNames.part(t.getName());
            if (t.getSchemaName() == null && scope.cte(name)) {
                alias(t.getAlias(), name, "");
                return;
            }
            String q = table(t);
            f.read(q);
            scope.tables.add(q);
            alias(t.getAlias(), name, q);
        } else if (fi instanceof ParenthesedSelect ps) {
            select(ps);
            alias(ps.getAlias(), null, "");
        } else if (fi instanceof TableFunction tf) {
            expr(tf.getFunction(), Clause.OTHER);
            alias(tf.getAlias(), null, "");
        } else if (fi instanceof ParenthesedFromItem pf) {
            from(pf.getFromItem());
            joins(pf.getJoins());
            alias(pf.getAlias(), null, "");
        } else if (fi instanceof Values v) {
            expr(v.getExpressions(), Clause.OTHER);
            alias(v.getAlias(), null, "");
        }
    }

    private void joins(List<Join> joins) {
        if (joins == null) {
            return;
        }
        joins.forEach(j -> from(j.getFromItem()));
        for (Join j : joins) {
            if (j.getOnExpressions() != null) {
                j.getOnExpressions().forEach(e -> expr(e, Clause.JOIN));
            }
            if (j.getUsingColumns() != null) {
                j.getUsingColumns().forEach(c -> f.column(null, SqlNames.part(c.getColumnName()), Clause.JOIN));
            }
        }
    }

    private void selectItems(List<? extends SelectItem<?>> items, Clause c) {
        if (items != null) {
            items.forEach(i -> expr(i.getExpression(), c));
        }
    }

    private void updateSets(List<UpdateSet> sets, String target) {
        if (sets == null) {
            return;
        }
        for (UpdateSet us : sets) {
            us.getColumns().forEach(c -> f.column(target, SqlNames.part(c.getColumnName()), Clause.SET));
            expr(us.getValues(), Clause.SET);
        }
    }

    private void returning(ReturningClause r) {
        selectItems(r, Clause.RETURNING);
    }

    private void orderBy(List<OrderByElement> order) {
        if (order != null) {
            order.forEach(o -> expr(o.getExpression(), Clause.GROUP_ORDER));
        }
    }

    private void expr(Expression e, Clause c) {
        if (e == null) {
            return;
        }
        Clause saved = clause;
        clause = c == Clause.SELECT ? selectClause : c;
        try {
            e.accept(expressions, null);
        } finally {
            clause = saved;
        }
    }

    // ------------------------------------------------------------------ names

    private String table(Table t) {
        return SqlScope.table(t, names);
    }

    private void register(Table t, String q) {
        if (t != null && q != null) {
            scope.tables.add(q);
            scope.items++;
            alias(t.getAlias(), SqlNames.part(t.getName()), q);
        }
    }

    private void alias(Alias a, String name, String target) {
        scope.alias(a != null && a.getName() != null ? SqlNames.part(a.getName()) : name, target);
    }

    // ------------------------------------------------------------------ callbacks of SqlExprCollector

    void column(Column column) {
        String name = SqlNames.part(column.getColumnName());
        Table t = column.getTable();
        boolean qualified = t != null && t.getName() != null;
        if (qualified || !VALUE_WORDS.contains(name)) {
            f.column(qualified ? scope.qualifier(t, names) : scope.only(), name, clause);
        }
    }

    /** t.* anywhere; a bare * only outside function calls (count(*) exposes no column). */
    void star(AllColumns all, boolean inFunction) {
        if (all instanceof AllTableColumns atc) {
            f.column(scope.qualifier(atc.getTable(), names), "*", clause);
            return;
        }
        for (SqlScope s = scope; s != null && !inFunction; s = s.parent) {
            if (s.items > 0) {
                s.tables.forEach(t -> f.column(t, "*", clause));
                if (s.items > s.tables.size()) {
                    f.column(null, "*", clause);
                }
                return;
            }
        }
    }

    void function(String name) {
        f.function(name);
    }

    /** A subquery inside an expression: its select list counts as the clause it sits in. */
    void subquery(Select s) {
        if (s == null) {
            return;
        }
        Clause savedSelect = selectClause;
        Clause saved = clause;
        selectClause = clause;
        try {
            select(s);
        } finally {
            selectClause = savedSelect;
            clause = saved;
        }
    }
}
