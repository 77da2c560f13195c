package dev.warden.sql;

/**
 * The scanning core of {@link SqlLexer}: one instance walks one string token by token, following
 * PostgreSQL's scan.l (strings, E'' and U&'' strings, bit strings, quoted and U&"" identifiers,
 * dollar quotes, nested block comments, numbers, $n parameters, operators). It allocates nothing
 * per token: {@link #next} only moves {@link #start}/{@link #end} and sets {@link #type}.
 */
final class SqlScanner {

    static final int EOF = 0, WS = 1, COMMENT = 2, WORD = 3, QIDENT = 4, STRING = 5, NUMBER = 6,
            PARAM = 7, OP = 8, PUNCT = 9;

    final String s;
    final int n;
    private final boolean standardStrings;
    private int pos;
    int start;
    int end;
    int type;
    boolean incomplete;
    /** For STRING: 0, 'E', 'U', 'B', 'X', 'N' or '$'; for QIDENT: 0 or 'U'; for COMMENT: '-' or '*'. */
    char prefix;

    SqlScanner(String sql, boolean standardConformingStrings) {
        this.s = sql == null ? "" : sql;
        this.n = s.length();
        this.standardStrings = standardConformingStrings;
    }

    char charAt0() {
        return s.charAt(start);
    }

    boolean wordIs(String upper) {
        return end - start == upper.length() && s.regionMatches(true, start, upper, 0, upper.length());
    }

    private char at(int i) {
        return i < n ? s.charAt(i) : '\0';
    }

    static boolean identStart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
    }

    static boolean identCont(char c) {
        return identStart(c) || (c >= '0' && c <= '9') || c == '$';
    }

    /** Character classes for ASCII, looked up instead of scanned: this loop runs on every statement. */
    private static final byte[] CLASS = new byte[128];
    private static final byte SPACE = 1, OPERATOR = 2, SPECIAL_OP = 4;

    static {
        for (char c : " \t\n\r\f\u000B".toCharArray()) {
            CLASS[c] = SPACE;
        }
        for (char c : "+-*/<>=~!@#%^&|`?".toCharArray()) {
            CLASS[c] |= OPERATOR;
        }
        for (char c : "~!@#%^&|`?".toCharArray()) {
            CLASS[c] |= SPECIAL_OP;
        }
    }

    private static boolean is(char c, byte cls) {
        return c < 128 && (CLASS[c] & cls) != 0;
    }

    private static boolean opChar(char c) {
        return is(c, OPERATOR);
    }

    /** Advances to the next token and returns its type; the token is s[start, end). */
    int next() {
        start = pos;
        incomplete = false;
        prefix = 0;
        if (pos >= n) {
            end = pos;
            return type = EOF;
        }
        char c = s.charAt(pos);
        char d = at(pos + 1);
        if (is(c, SPACE)) {
            while (pos < n && is(s.charAt(pos), SPACE)) {
                pos++;
            }
            type = WS;
        } else if (c == '-' && d == '-') {
            while (pos < n && s.charAt(pos) != '\n' && s.charAt(pos) != '\r') {
                pos++;
            }
            prefix = '-';
            type = COMMENT;
        } else if (c == '/' && d == '*') {
            blockComment();
        } else if ((c == 'e' || c == 'E') && d == '\'') {
            pos++;
            quoted('\'', true);
            prefix = 'E';
            type = STRING;
        } else if ((c == 'b' || c == 'B' || c == 'x' || c == 'X' || c == 'n' || c == 'N') && d == '\'') {
            pos++;
            quoted('\'', (c == 'n' || c == 'N') && !standardStrings);
            prefix = Character.toUpperCase(c);
            type = STRING;
        } else if ((c == 'u' || c == 'U') && d == '&' && (at(pos + 2) == '\'' || at(pos + 2) == '"')) {
            pos += 2;
            char q = s.charAt(pos);
            quoted(q, false);
            prefix = 'U';
            type = q == '"' ? QIDENT : STRING;
        } else if (identStart(c)) {
            while (pos < n && identCont(s.charAt(pos))) {
                pos++;
            }
            type = WORD;
        } else if (c == '"') {
            quoted('"', false);
            type = QIDENT;
        } else if (c == '\'') {
            quoted('\'', !standardStrings);
            type = STRING;
        } else if (c == '$') {
            dollar(d);
        } else if ((c >= '0' && c <= '9') || (c == '.' && d >= '0' && d <= '9')) {
            number(c, d);
        } else if (c == ':') {
            pos += (d == ':' || d == '=') ? 2 : 1;
            type = pos - start == 2 ? OP : PUNCT;
        } else if ("()[],;.".indexOf(c) >= 0) {
            pos++;
            type = PUNCT;
        } else if (opChar(c)) {
            operator();
        } else {
            pos++; // a character PostgreSQL would reject; kept as a one-character operator
            type = OP;
        }
        end = pos;
        return type;
    }

    private void blockComment() {
        int level = 0;
        while (pos < n) {
            char c = s.charAt(pos);
            if (c == '/' && at(pos + 1) == '*') {
                level++;
                pos += 2;
            } else if (c == '*' && at(pos + 1) == '/') {
                pos += 2;
                if (--level == 0) {
                    break;
                }
            } else {
                pos++;
            }
        }
        incomplete = level > 0;
        prefix = '*';
        type = COMMENT;
    }

    /** A quoted run starting at pos (the opening quote); doubled quotes escape, and backslashes when asked. */
    private void quoted(char q, boolean backslash) {
        pos++;
        while (pos < n) {
            char c = s.charAt(pos);
            if (backslash && c == '\\') {
                pos += 2;
            } else if (c == q) {
                if (at(pos + 1) == q) {
                    pos += 2;
                } else {
                    pos++;
                    return;
                }
            } else {
                pos++;
            }
        }
        pos = n;
        incomplete = true;
    }

    /** $1 parameters, $tag$...$tag$ dollar quotes; a lone '$' is kept as an operator character. */
    private void dollar(char d) {
        if (d >= '0' && d <= '9') {
            pos++;
            while (pos < n && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
                pos++;
            }
            type = PARAM;
            return;
        }
        int p = pos + 1;
        if (d != '$') {
            if (!identStart(d)) {
                pos++;
                type = OP;
                return;
            }
            while (p < n && identCont(s.charAt(p)) && s.charAt(p) != '$') {
                p++;
            }
            if (p >= n || s.charAt(p) != '$') {
                pos++;
                type = OP;
                return;
            }
        }
        String tag = s.substring(pos, p + 1);
        int close = s.indexOf(tag, p + 1);
        pos = close < 0 ? n : close + tag.length();
        incomplete = close < 0;
        prefix = '$';
        type = STRING;
    }

    private void number(char c, char d) {
        if (c == '0' && "xXoObB".indexOf(d) >= 0 && d != 0 && radixDigit(d, at(pos + 2))) {
            pos += 2;
            while (pos < n && (radixDigit(d, s.charAt(pos)) || s.charAt(pos) == '_')) {
                pos++;
            }
            type = NUMBER;
            return;
        }
        pos = digits(pos);
        if (at(pos) == '.' && at(pos + 1) != '.') {
            pos = digits(pos + 1);
        }
        char e = at(pos);
        if (e == 'e' || e == 'E') {
            int p = pos + 1;
            if (at(p) == '+' || at(p) == '-') {
                p++;
            }
            if (at(p) >= '0' && at(p) <= '9') {
                pos = digits(p);
            }
        }
        type = NUMBER;
    }

    private int digits(int p) {
        while (p < n && ((s.charAt(p) >= '0' && s.charAt(p) <= '9') || s.charAt(p) == '_')) {
            p++;
        }
        return p;
    }

    private static boolean radixDigit(char radix, char c) {
        return switch (radix) {
            case 'x', 'X' -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
            case 'o', 'O' -> c >= '0' && c <= '7';
            default -> c == '0' || c == '1';
        };
    }

    /** PostgreSQL operator rules: a comment start ends it; a trailing +/- is dropped unless ~!@#%^&|`? occur. */
    private void operator() {
        int p = pos;
        while (p < n && opChar(s.charAt(p))) {
            if (p > pos && ((s.charAt(p) == '-' && at(p + 1) == '-') || (s.charAt(p) == '/' && at(p + 1) == '*'))) {
                break;
            }
            p++;
        }
        if (p - pos > 1) {
            boolean special = false;
            for (int i = pos; i < p; i++) {
                special |= is(s.charAt(i), SPECIAL_OP);
            }
            while (!special && p - pos > 1 && (s.charAt(p - 1) == '+' || s.charAt(p - 1) == '-')) {
                p--;
            }
        }
        pos = p;
        type = OP;
    }
}
