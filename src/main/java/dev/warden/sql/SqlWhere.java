package dev.warden.sql;

import net.sf.jsqlparser.expression.AnyComparisonExpression;
import net.sf.jsqlparser.expression.BinaryExpression;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.ExpressionVisitorAdapter;
import net.sf.jsqlparser.expression.operators.conditional.AndExpression;
import net.sf.jsqlparser.expression.operators.conditional.OrExpression;
import net.sf.jsqlparser.expression.operators.relational.EqualsTo;
import net.sf.jsqlparser.expression.operators.relational.ExistsExpression;
import net.sf.jsqlparser.expression.operators.relational.GreaterThanEquals;
import net.sf.jsqlparser.expression.operators.relational.MinorThanEquals;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.Select;

/**
 * Whether an UPDATE's or DELETE's WHERE really restricts the rows: "WHERE true", "WHERE 1 = 1",
 * "WHERE id = id", "WHERE id = 5 OR 1 = 1" and a condition that mentions no column at all (it is
 * the same for every row) do not, so a rule against unbounded writes cannot be dodged with a token
 * WHERE. A subquery counts as possibly restricting (it may be correlated).
 */
final class SqlWhere {

    private SqlWhere() {
    }

    static boolean restricts(Expression where) {
        return where != null && rowDependent(where) && fold(where) != Boolean.TRUE;
    }

    /** True when the expression mentions a column or a subquery, i.e. may differ from row to row. */
    static boolean rowDependent(Expression e) {
        boolean[] found = {false};
        e.accept(new ExpressionVisitorAdapter<Void>() {
            @Override
            public <S> Void visit(Column column, S context) {
                String n = SqlNames.part(column.getColumnName());
                found[0] |= column.getTable() != null && column.getTable().getName() != null
                        || !(n.equals("true") || n.equals("false") || n.equals("null"));
                return null;
            }

            @Override
            public <S> Void visit(ParenthesedSelect select, S context) {
                found[0] = true;
                return null;
            }

            @Override
            public <S> Void visit(Select select, S context) {
                found[0] = true;
                return null;
            }

            @Override
            public <S> Void visit(AnyComparisonExpression any, S context) {
                found[0] = true;
                return null;
            }

            @Override
            public <S> Void visit(ExistsExpression exists, S context) {
                found[0] = true;
                return null;
            }
        }, null);
        return found[0];
    }

    /**
     * TRUE when the condition lets every row through, null when it may restrict. Literal values
     * are deliberately ignored (a row-independent part counts as true, whatever it compares):
     * statements that differ only in literals share a fingerprint, so they must share this fact,
     * or "WHERE id = 5 OR 1 = 2" could vouch for a cached "WHERE id = 5 OR 1 = 1".
     */
    static Boolean fold(Expression e) {
        if (!rowDependent(e)) {
            return Boolean.TRUE;
        }
        if (e instanceof ParenthesedExpressionList<?> p && p.size() == 1) {
            return fold(p.get(0));
        }
        if (e instanceof AndExpression a) {
            return fold(a.getLeftExpression()) == Boolean.TRUE && fold(a.getRightExpression()) == Boolean.TRUE
                    ? Boolean.TRUE : null;
        }
        if (e instanceof OrExpression o) {
            return fold(o.getLeftExpression()) == Boolean.TRUE || fold(o.getRightExpression()) == Boolean.TRUE
                    ? Boolean.TRUE : null;
        }
        if (e instanceof BinaryExpression b && b.getLeftExpression() instanceof Column l
                && b.getRightExpression() instanceof Column r
                && l.getFullyQualifiedName().equalsIgnoreCase(r.getFullyQualifiedName())
                && (b instanceof EqualsTo || b instanceof GreaterThanEquals || b instanceof MinorThanEquals)) {
            return Boolean.TRUE; // x = x holds for every non-null x
        }
        return null;
    }
}
