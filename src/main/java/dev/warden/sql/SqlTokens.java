package dev.warden.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The significant tokens of one statement (no whitespace or comments) for callers outside this
 * package that reason about names, such as the masking lineage. Names are normalised as
 * PostgreSQL does: unquoted words folded to lower case, quoted identifiers kept as written.
 */
public final class SqlTokens {
    public enum Type { NAME, STRING, NUMBER, PARAM, OP, PUNCT }

    /**
     * @param type   what sort of token
     * @param text   for NAME the normalised name; otherwise the token as written
     * @param quoted for NAME: whether it was a quoted identifier (then never a keyword)
     */
    public record Tok(Type type, String text, boolean quoted) {
        public boolean is(String punctOrOp) {
            return (type == Type.PUNCT || type == Type.OP) && text.equals(punctOrOp);
        }

        /** An unquoted word equal to the keyword (lower case). */
        public boolean isWord(String lower) {
            return type == Type.NAME && !quoted && text.equals(lower);
        }
    }

    private SqlTokens() {
    }

    public static List<Tok> of(String statementSql) {
        return of(statementSql, true);
    }

    /** The tokens as PostgreSQL reads them with {@code standard_conforming_strings} on or (false) off. */
    public static List<Tok> of(String statementSql, boolean standardConformingStrings) {
        List<Tok> out = new ArrayList<>();
        List<SqlLexer.Token> toks = SqlLexer.tokens(statementSql, standardConformingStrings).list();
        for (int k = 0; k < toks.size(); k++) {
            SqlLexer.Token t = toks.get(k);
            if (t.type() == SqlScanner.QIDENT && t.prefix() == 'U') {
                // U&"cust\006fmers" is customers to PostgreSQL: decoded, with a UESCAPE 'c' clause if present
                char esc = '\\';
                if (k + 2 < toks.size() && toks.get(k + 1).type() == SqlScanner.WORD
                        && toks.get(k + 1).text().equalsIgnoreCase("uescape")
                        && toks.get(k + 2).type() == SqlScanner.STRING && toks.get(k + 2).text().length() == 3) {
                    esc = toks.get(k + 2).text().charAt(1);
                    out.add(new Tok(Type.NAME, SqlNames.unicode(t.text().substring(2), esc), true));
                    k += 2;
                    continue;
                }
                out.add(new Tok(Type.NAME, SqlNames.unicode(t.text().substring(2), esc), true));
                continue;
            }
            switch (t.type()) {
                case SqlScanner.WORD -> out.add(new Tok(Type.NAME, t.text().toLowerCase(Locale.ROOT), false));
                case SqlScanner.QIDENT -> out.add(new Tok(Type.NAME, unquote(t.text()), true));
                case SqlScanner.STRING -> out.add(new Tok(Type.STRING, t.text(), false));
                case SqlScanner.NUMBER -> out.add(new Tok(Type.NUMBER, t.text(), false));
                case SqlScanner.PARAM -> out.add(new Tok(Type.PARAM, t.text(), false));
                case SqlScanner.OP -> out.add(new Tok(Type.OP, t.text(), false));
                default -> out.add(new Tok(Type.PUNCT, t.text(), false));
            }
        }
        return out;
    }

    private static String unquote(String q) {
        int start = 1;
        if (q.length() < start + 1) {
            return q;
        }
        return q.substring(start, q.length() - 1).replace("\"\"", "\"");
    }
}
