package dev.warden.sql;

import dev.warden.sql.SqlLexer.Token;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import net.sf.jsqlparser.parser.CCJSqlParser;
import net.sf.jsqlparser.parser.CCJSqlParserConstants;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.statement.UnsupportedStatement;

/**
 * Runs JSqlParser on one statement. The text it sees is rebuilt from Warden's own tokens, so
 * PostgreSQL lexical forms JSqlParser gets wrong (nested comments, E'' and U&'' strings, U&""
 * identifiers, dollar quotes, 1_000) cannot make the two disagree about the structure. The parse
 * runs on a shared pool with a deadline because some inputs make JSqlParser backtrack for
 * seconds; CCJSqlParserUtil.parse is not used since it builds a thread pool and logs on every call.
 */
final class SqlParse {

    /** A parse that takes longer than this is abandoned and the statement counts as unparsed. */
    static final long TIMEOUT_MS = 2_000;
    /** Deeper parenthesis nesting than this is not worth the parser's time (nor its stack). */
    private static final int MAX_DEPTH = 100;
    /** JSqlParser's own limit for its slow "complex" mode. */
    private static final int COMPLEX_DEPTH = 10;

    private static final AtomicInteger THREADS = new AtomicInteger();
    private static final ThreadPoolExecutor POOL = new ThreadPoolExecutor(0, 32, 30, TimeUnit.SECONDS,
            new SynchronousQueue<>(), r -> {
                Thread t = new Thread(r, "warden-sql-parse-" + THREADS.incrementAndGet());
                t.setDaemon(true);
                return t;
            }, new ThreadPoolExecutor.CallerRunsPolicy());

    private SqlParse() {
    }

    /** The parsed statement, or null when JSqlParser rejects, times out, or leaves input unread. */
    static net.sf.jsqlparser.statement.Statement parse(String text, List<Token> tokens) {
        if (tokens.isEmpty()) {
            return null;
        }
        int depth = maxDepth(tokens);
        if (depth > MAX_DEPTH) {
            return null;
        }
        String sql = normalize(text, tokens);
        AtomicReference<CCJSqlParser> current = new AtomicReference<>();
        Future<net.sf.jsqlparser.statement.Statement> future = POOL.submit(() -> {
            net.sf.jsqlparser.statement.Statement st = attempt(sql, false, current);
            return st != null || depth > COMPLEX_DEPTH ? st : attempt(sql, true, current);
        });
        try {
            net.sf.jsqlparser.statement.Statement st = future.get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
            return st instanceof UnsupportedStatement ? null : st;
        } catch (TimeoutException e) {
            CCJSqlParser p = current.get();
            if (p != null) {
                p.interrupted = true; // JSqlParser's own way to make a running parse give up
            }
            future.cancel(true);
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            future.cancel(true);
            return null;
        } catch (Exception e) {
            return null;
        }
    }

    private static net.sf.jsqlparser.statement.Statement attempt(String sql, boolean complex,
            AtomicReference<CCJSqlParser> current) {
        try {
            CCJSqlParser parser = CCJSqlParserUtil.newParser(sql).withAllowComplexParsing(complex);
            current.set(parser);
            net.sf.jsqlparser.statement.Statement st = parser.Statement();
            // Statement() stops at a ';' or at EOF: anything after it means it read only a prefix
            boolean all = parser.token.kind == CCJSqlParserConstants.EOF
                    || parser.getNextToken().kind == CCJSqlParserConstants.EOF;
            return all ? st : null;
        } catch (Exception | StackOverflowError e) {
            return null;
        }
    }

    static int maxDepth(List<Token> tokens) {
        int depth = 0;
        int max = 0;
        for (Token t : tokens) {
            if (t.is('(')) {
                max = Math.max(max, ++depth);
            } else if (t.is(')')) {
                depth--;
            }
        }
        return max;
    }

    /**
     * The statement as JSqlParser should see it: comments become a space, U&"" identifiers plain
     * quoted ones, every string literal '?' and every number 1. Literal values never matter to the
     * facts, and statements that differ only in them share a fingerprint (and so a cached
     * analysis): JSqlParser must not get the chance to accept one spelling and reject another
     * (it rejects 0x1F or 1_000 in places where it accepts 1, and E'\'' everywhere).
     */
    static String normalize(String text, List<Token> tokens) {
        StringBuilder sb = new StringBuilder(text.length());
        int prevEnd = 0;
        for (int k = 0; k < tokens.size(); k++) {
            Token t = tokens.get(k);
            if (t.start() > prevEnd) {
                boolean blank = text.substring(prevEnd, t.start()).isBlank();
                sb.append(blank ? text.substring(prevEnd, t.start()) : " ");
            }
            boolean uescape = SqlCommand.w(tokens, k + 1).equals("UESCAPE") && k + 2 < tokens.size();
            if (t.type() == SqlScanner.QIDENT && t.prefix() == 'U') {
                char esc = uescape && tokens.get(k + 2).text().length() == 3 ? tokens.get(k + 2).text().charAt(1) : '\\';
                sb.append('"').append(SqlNames.unicode(t.text().substring(2), esc).replace("\"", "\"\"")).append('"');
            } else if (t.type() == SqlScanner.STRING) {
                sb.append("'?'");
            } else if (t.type() == SqlScanner.NUMBER) {
                sb.append('1');
            } else {
                sb.append(t.text());
            }
            if (uescape && t.prefix() == 'U') {
                k += 2;
                t = tokens.get(k);
            }
            prevEnd = t.end();
        }
        return sb.toString();
    }
}
