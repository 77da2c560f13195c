package dev.warden.policy;

import dev.warden.sql.Statement;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Helpers for rules that need to look at a statement's words, imported into DRL with
 * {@code import function dev.warden.policy.SqlShape.leadsWith;}. They read the fingerprint (the
 * statement's shape, literals already replaced by '?') so that rules stay independent of literal
 * values, and fall back to the text when the analyzer gave no fingerprint.
 *
 * <p>Written in Java rather than as DRL functions because they run for every statement on a cache
 * miss: patterns are compiled once, and only the statement's head is examined.
 */
public final class SqlShape {
    /** Leading words are all a rule needs to recognise a command; bounded so huge statements cost the same. */
    static final int HEAD = 256;
    private static final int MAX_PATTERNS = 1_000;
    private static final Map<String, Pattern> PATTERNS = new ConcurrentHashMap<>();
    private static final Pattern COPY_ENDPOINT = Pattern.compile("(?i)(from|to)\\s+([^\\s;,()]+)");

    private SqlShape() {
    }

    /**
     * Whether the statement starts (after comments and whitespace) with words matching the regex,
     * case-insensitively (whitespace in the statement is folded to single spaces).
     * E.g. {@code leadsWith(this, "alter system\\b")}.
     */
    public static boolean leadsWith(Statement s, String regex) {
        return pattern(regex).matcher(head(s)).lookingAt();
    }

    /** Whether the statement calls a function whose name, without schema, matches the regex (lower case). */
    public static boolean callsAny(Statement s, String regex) {
        Pattern p = pattern(regex);
        for (String f : s.functions()) {
            if (p.matcher(f.substring(f.lastIndexOf('.') + 1)).matches()) {
                return true;
            }
        }
        return false;
    }

    /**
     * For COPY: whether it reads or writes a file on the database server, i.e. the first FROM/TO
     * outside parentheses and quotes is followed by something other than STDIN, STDOUT or PROGRAM
     * (a file name, which the fingerprint shows as '?'). Unbalanced quotes count as a file.
     */
    public static boolean copiesServerFile(Statement s) {
        String t = source(s);
        Matcher m = COPY_ENDPOINT.matcher(t);
        int depth = 0;
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c == '\'' || c == '"') {
                int end = t.indexOf(c, i + 1);
                if (end < 0) {
                    return true;
                }
                i = end;
            } else if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (depth == 0 && (c == 'f' || c == 'F' || c == 't' || c == 'T')
                    && (i == 0 || !isWordChar(t.charAt(i - 1))) && m.region(i, t.length()).lookingAt()) {
                String where = m.group(2).toLowerCase(Locale.ROOT);
                return !where.equals("stdin") && !where.equals("stdout") && !where.equals("program");
            }
        }
        return false;
    }

    /**
     * The first {@value #HEAD} characters of the statement's shape after leading whitespace and
     * comments (nested block comments included, as PostgreSQL allows), whitespace runs folded to
     * one space.
     */
    public static String head(Statement s) {
        String t = source(s);
        int i = skipCommentsAndSpace(t, 0);
        StringBuilder b = new StringBuilder(Math.min(HEAD, t.length() - i));
        boolean space = false;
        for (; i < t.length() && b.length() < HEAD; i++) {
            char c = t.charAt(i);
            if (Character.isWhitespace(c)) {
                space = true;
            } else {
                if (space) {
                    b.append(' ');
                    space = false;
                }
                b.append(c);
            }
        }
        return b.length() > HEAD ? b.substring(0, HEAD) : b.toString();
    }

    private static String source(Statement s) {
        String fp = s.fingerprint();
        String t = fp != null && !fp.isBlank() ? fp : s.text();
        return t == null ? "" : t;
    }

    private static int skipCommentsAndSpace(String t, int i) {
        while (i < t.length()) {
            if (Character.isWhitespace(t.charAt(i))) {
                i++;
            } else if (t.startsWith("--", i)) {
                int nl = t.indexOf('\n', i);
                i = nl < 0 ? t.length() : nl + 1;
            } else if (t.startsWith("/*", i)) {
                int depth = 0;
                do {
                    if (t.startsWith("/*", i)) {
                        depth++;
                        i += 2;
                    } else if (t.startsWith("*/", i)) {
                        depth--;
                        i += 2;
                    } else {
                        i++;
                    }
                } while (depth > 0 && i < t.length());
            } else {
                break;
            }
        }
        return Math.min(i, t.length());
    }

    private static boolean isWordChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '$';
    }

    /** Rules pass literal regexes, so the set is small; the cap only guards against a rule building them. */
    private static Pattern pattern(String regex) {
        Pattern p = PATTERNS.get(regex);
        if (p == null) {
            p = Pattern.compile(regex, Pattern.CASE_INSENSITIVE);
            if (PATTERNS.size() < MAX_PATTERNS) {
                PATTERNS.put(regex, p);
            }
        }
        return p;
    }
}
