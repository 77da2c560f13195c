package dev.warden.sql;

import java.util.List;

/**
 * How names are spelled in the facts: unquoted identifiers fold to lower case (as PostgreSQL
 * folds them), quoted ones keep their case without the quotes, and tables are qualified with the
 * schema the server would create or find them in, so a rule can say "bank.customers" once.
 */
final class SqlNames {

    private final String defaultSchema;

    SqlNames(List<String> searchPath) {
        this.defaultSchema = defaultSchema(searchPath);
    }

    /**
     * The schema unqualified names are taken to be in: the first search_path entry that is not
     * "$user" (the role-named schema rarely exists) nor pg_catalog (pg_* names go there anyway).
     */
    static String defaultSchema(List<String> searchPath) {
        if (searchPath != null) {
            for (String entry : searchPath) {
                if (entry != null && !entry.isEmpty() && !entry.equals("$user") && !entry.equals("pg_catalog")) {
                    return entry;
                }
            }
        }
        return "public";
    }

    String defaultSchema() {
        return defaultSchema;
    }

    /**
     * "schema.name" for a table; database parts (db.schema.table) are dropped because PostgreSQL
     * only accepts the current database there. Unqualified pg_* names are system catalogs, which
     * the server always searches first.
     */
    String table(List<String> parts) {
        if (parts.isEmpty()) {
            return null;
        }
        String name = parts.get(parts.size() - 1);
        if (parts.size() >= 2) {
            return parts.get(parts.size() - 2) + "." + name;
        }
        return (name.startsWith("pg_") ? "pg_catalog" : defaultSchema) + "." + name;
    }

    /** Normalises one name part as the parser or lexer spelled it: "Quoted" keeps case, bare folds. */
    static String part(String raw) {
        if (raw == null || raw.isEmpty()) {
            return raw;
        }
        if (raw.length() >= 2 && raw.charAt(0) == '"' && raw.charAt(raw.length() - 1) == '"') {
            return raw.substring(1, raw.length() - 1).replace("\"\"", "\"");
        }
        if (raw.charAt(0) == '"') {
            return raw.substring(1).replace("\"\"", "\""); // unterminated: still name what it would be
        }
        if (raw.length() >= 2 && raw.charAt(0) == '`' && raw.charAt(raw.length() - 1) == '`') {
            return raw.substring(1, raw.length() - 1);
        }
        return lower(raw);
    }

    /** ASCII-only lower-casing, as PostgreSQL folds unquoted identifiers in UTF-8 databases. */
    static String lower(String s) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                if (sb == null) {
                    sb = new StringBuilder(s);
                }
                sb.setCharAt(i, (char) (c + 32));
            }
        }
        return sb == null ? s : sb.toString();
    }

    /** The identifier a name token stands for; U&"..." is decoded with the given escape character. */
    static String ident(SqlLexer.Token t, char escape) {
        if (t.type() == SqlScanner.WORD) {
            return lower(t.text());
        }
        if (t.prefix() == 'U') {
            return unicode(t.text().substring(2), escape);
        }
        return part(t.text());
    }

    /** Decodes the body of a U&"..." or U&'...' token: \XXXX, \+XXXXXX and a doubled escape character. */
    static String unicode(String quoted, char escape) {
        String body = quoted.length() >= 2 ? quoted.substring(1, quoted.length() - 1) : quoted;
        char q = quoted.isEmpty() ? '"' : quoted.charAt(0);
        body = body.replace(String.valueOf(q) + q, String.valueOf(q));
        StringBuilder sb = new StringBuilder(body.length());
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c != escape || i + 1 >= body.length()) {
                sb.append(c);
            } else if (body.charAt(i + 1) == escape) {
                sb.append(escape);
                i++;
            } else {
                int digits = body.charAt(i + 1) == '+' ? 6 : 4;
                int from = i + 1 + (digits == 6 ? 1 : 0);
                int cp = hex(body, from, digits);
                if (cp < 0 || !Character.isValidCodePoint(cp)) {
                    sb.append(c); // not a valid escape: PostgreSQL rejects it, keep the text visible
                } else {
                    sb.appendCodePoint(cp);
                    i = from + digits - 1;
                }
            }
        }
        return sb.toString();
    }

    private static int hex(String s, int from, int len) {
        if (from + len > s.length()) {
            return -1;
        }
        int v = 0;
        for (int i = from; i < from + len; i++) {
            int d = Character.digit(s.charAt(i), 16);
            if (d < 0) {
                return -1;
            }
            v = v * 16 + d;
        }
        return v;
    }
}
