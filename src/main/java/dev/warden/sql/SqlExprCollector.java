package dev.warden.sql;

import java.util.List;
import java.util.Locale;
import net.sf.jsqlparser.expression.AnalyticExpression;
import net.sf.jsqlparser.expression.AnyComparisonExpression;
import net.sf.jsqlparser.expression.ExpressionVisitorAdapter;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.NextValExpression;
import net.sf.jsqlparser.expression.TrimFunction;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.select.AllColumns;
import net.sf.jsqlparser.statement.select.AllTableColumns;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.Select;

/**
 * The expression half of {@link SqlAstCollector}: JSqlParser's adapter walks every expression
 * node; this records columns, function calls and subqueries through the collector, which knows
 * the scopes and the current clause.
 */
final class SqlExprCollector extends ExpressionVisitorAdapter<Void> {

    private final SqlAstCollector owner;
    private int inFunction;

    SqlExprCollector(SqlAstCollector owner) {
        this.owner = owner;
    }

    @Override
    public <S> Void visit(Column column, S context) {
        owner.column(column);
        return null;
    }

    @Override
    public <S> Void visit(AllColumns all, S context) {
        owner.star(all, inFunction > 0);
        return null;
    }

    @Override
    public <S> Void visit(AllTableColumns all, S context) {
        owner.star(all, inFunction > 0);
        return null;
    }

    @Override
    public <S> Void visit(Function function, S context) {
        owner.function(name(function.getMultipartName(), function.getName()));
        inFunction++;
        try {
            super.visit(function, context);
            if (function.getNamedParameters() != null) {
                function.getNamedParameters().forEach(e -> e.accept(this, context));
            }
        } finally {
            inFunction--;
        }
        return null;
    }

    @Override
    public <S> Void visit(AnalyticExpression a, S context) {
        owner.function(name(null, a.getName()));
        inFunction++;
        try {
            return super.visit(a, context);
        } finally {
            inFunction--;
        }
    }

    @Override
    public <S> Void visit(TrimFunction trim, S context) {
        super.visit(trim, context);
        if (trim.getFromExpression() != null) {
            trim.getFromExpression().accept(this, context);
        }
        return null;
    }

    @Override
    public <S> Void visit(NextValExpression n, S context) {
        owner.function("nextval");
        return null;
    }

    @Override
    public <S> Void visit(ParenthesedSelect select, S context) {
        return subquery(select);
    }

    @Override
    public <S> Void visit(Select select, S context) {
        return subquery(select);
    }

    @Override
    public <S> Void visit(AnyComparisonExpression any, S context) {
        return subquery(any.getSelect());
    }

    private Void subquery(Select s) {
        int saved = inFunction;
        inFunction = 0; // a subquery's own select list is not inside the call around it
        try {
            owner.subquery(s);
        } finally {
            inFunction = saved;
        }
        return null;
    }

    /** The name as written, lower case unless quoted; null for syntax JSqlParser models as a call (ANY, ROLLUP). */
    static String name(List<String> parts, String name) {
        if (parts == null || parts.isEmpty() || parts.size() == 1) {
            String raw = parts != null && parts.size() == 1 ? parts.get(0) : name;
            if (raw == null) {
                return null;
            }
            boolean quoted = raw.startsWith("\"");
            String n = SqlNames.part(raw);
            return !quoted && SqlTokenScan.NOT_CALLS.contains(n.toUpperCase(Locale.ROOT)) ? null : n;
        }
        StringBuilder sb = new StringBuilder();
        for (String p : parts) {
            sb.append(sb.length() > 0 ? "." : "").append(SqlNames.part(p));
        }
        return sb.toString();
    }
}
