package dev.warden.sql;

import static dev.warden.sql.SqlTokenScan.isPunct;
import static dev.warden.sql.SqlTokenScan.word;

import dev.warden.sql.SqlLexer.Token;
import dev.warden.sql.Statement.Kind;
import java.util.ArrayList;
import java.util.List;

/**
 * Which search_path a statement leaves behind, so unqualified names in later statements resolve
 * as the server will resolve them. A rule should still deny set_config with a non-literal value:
 * that changes the path in a way no lexer can follow.
 */
final class SqlSearchPath {

    /** What SET search_path TO DEFAULT and RESET give, unless the role or database sets another. */
    static final List<String> DEFAULT = List.of("$user", "public");

    private SqlSearchPath() {
    }

    /** Reads the statement's own text: literals matter here, so never a cached look-alike's. */
    static List<String> from(String text) {
        if (text == null) {
            return null;
        }
        List<Token> t = SqlLexer.tokens(text, true).list();
        SqlCommand.Verdict v = SqlCommand.classify(t);
        int i = v.mainIndex();
        String w1 = word(t, i + 1);
        if (v.kind() == Kind.RESET) {
            return w1.equals("SEARCH_PATH") || w1.equals("ALL") ? DEFAULT : null;
        }
        if (v.kind() == Kind.UTILITY && v.command().equals("DISCARD ALL")) {
            return DEFAULT;
        }
        if (v.kind() == Kind.SELECT) {
            return setConfig(t);
        }
        if (v.kind() != Kind.SET || !v.command().equals("SET")) {
            return null;
        }
        int k = w1.equals("SESSION") || w1.equals("LOCAL") ? i + 2 : i + 1;
        if (!word(t, k).equals("SEARCH_PATH")) {
            return null;
        }
        k++;
        if (word(t, k).equals("TO") || (k < t.size() && t.get(k).text().equals("="))) {
            k++;
        }
        if (word(t, k).equals("DEFAULT")) {
            return DEFAULT;
        }
        List<String> out = new ArrayList<>();
        for (; k < t.size(); k++) {
            Token tok = t.get(k);
            if (tok.type() == SqlScanner.STRING) {
                out.add(string(tok));
            } else if (tok.isName()) {
                out.add(SqlNames.ident(tok, '\\'));
            } else if (!tok.is(',')) {
                return null; // not a list of names: leave the tracked path alone
            }
        }
        out.removeIf(String::isEmpty);
        return out.isEmpty() ? null : List.copyOf(out);
    }

    /** set_config('search_path', 'a, "B"', ...): the value is a comma-separated list as in postgresql.conf. */
    private static List<String> setConfig(List<Token> t) {
        for (int k = 0; k + 4 < t.size(); k++) {
            if (word(t, k).equals("SET_CONFIG") && isPunct(t, k + 1, '(') && t.get(k + 2).type() == SqlScanner.STRING
                    && string(t.get(k + 2)).equalsIgnoreCase("search_path") && isPunct(t, k + 3, ',')
                    && t.get(k + 4).type() == SqlScanner.STRING) {
                List<String> out = new ArrayList<>();
                for (String item : string(t.get(k + 4)).split(",")) {
                    String e = item.strip();
                    if (!e.isEmpty()) {
                        out.add(SqlNames.part(e));
                    }
                }
                return List.copyOf(out);
            }
        }
        return null;
    }

    /** The value of a string literal token (plain, E'', dollar-quoted). */
    static String string(Token tok) {
        String x = tok.text();
        if (tok.prefix() == '$') {
            int tag = x.indexOf('$', 1) + 1;
            return x.length() >= 2 * tag ? x.substring(tag, x.length() - tag) : "";
        }
        int open = x.indexOf('\'');
        String body = x.length() - open >= 2 ? x.substring(open + 1, x.length() - 1) : "";
        if (tok.prefix() == 'E') {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < body.length(); i++) {
                char c = body.charAt(i);
                if (c == '\\' && i + 1 < body.length()) {
                    c = body.charAt(++i);
                    c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
                } else if (c == '\'' && i + 1 < body.length() && body.charAt(i + 1) == '\'') {
                    i++;
                }
                sb.append(c);
            }
            return sb.toString();
        }
        return body.replace("''", "'");
    }
}
