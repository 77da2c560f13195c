package dev.warden.proxy;

import dev.warden.sql.SqlAnalyzer;
import dev.warden.sql.SqlLexer;
import dev.warden.sql.Statement;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Statement analysis with a cache keyed by the statement's shape (fingerprint) and the session's
 * search_path: a repeated query shape costs one lexer pass and a hash lookup; JSqlParser runs on a
 * miss only. Shared by all sessions.
 */
final class StatementAnalysis {
    private static final int MAX_ENTRIES = 20_000;

    /** A statement's fingerprint (or, for {@link #byText}, its exact text) and the search_path it ran under. */
    private record Key(String text, List<String> searchPath) {
    }

    /**
     * Texts longer than this are not kept verbatim (their shape still is, by fingerprint), and at most
     * this many are: the two text maps then hold a few MB at worst, whatever texts a client sprays.
     */
    private static final int MAX_TEXT_CHARS = 2048;
    private static final int MAX_TEXT_ENTRIES = 2048;

    private final SqlAnalyzer analyzer = new SqlAnalyzer();
    private final SqlAnalyzer legacyAnalyzer = new SqlAnalyzer(false);
    private final ConcurrentHashMap<Key, Statement> cache = new ConcurrentHashMap<>();
    /**
     * Extended-protocol statements (Parse) repeat verbatim, parameters apart: drivers send the same text
     * with every unnamed Parse. For them the exact text maps to its split and its analysis, which saves
     * both lexer passes (split, fingerprint). Simple Queries usually carry literals, so each text is new:
     * they are not kept here.
     */
    private final ConcurrentHashMap<String, List<String>> splitByText = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Key, Statement> byText = new ConcurrentHashMap<>();

    List<String> split(String sql) {
        return SqlLexer.split(sql);
    }

    /** {@link #split} for the text of a Parse: looked up by the exact text first. */
    List<String> splitParsed(String sql) {
        if (sql.length() > MAX_TEXT_CHARS) {
            return split(sql);
        }
        List<String> parts = splitByText.get(sql);
        if (parts == null) {
            parts = List.copyOf(split(sql));
            bound(splitByText);
            splitByText.put(sql, parts);
        }
        return parts;
    }

    /** {@link #analyze} for a statement of a Parse: looked up by the exact text first. */
    Statement analyzeParsed(String statementSql, List<String> searchPath) {
        if (statementSql.length() > MAX_TEXT_CHARS) {
            return analyze(statementSql, searchPath);
        }
        Key key = new Key(statementSql, searchPath);
        Statement s = byText.get(key);
        if (s == null) {
            s = analyze(statementSql, searchPath);
            bound(byText);
            byText.put(key, s);
        }
        return s;
    }

    private static void bound(ConcurrentHashMap<?, ?> m) {
        if (m.size() >= MAX_TEXT_ENTRIES) {
            m.clear(); // as crude as the shape cache: a client spraying texts only costs itself misses
        }
    }

    /** Splits as PostgreSQL does with standard_conforming_strings off (backslash escapes in '...'). */
    List<String> splitLegacy(String sql) {
        return SqlLexer.split(sql, false);
    }

    /** Analysis under standard_conforming_strings off: rare, so not cached (the fingerprint assumes on). */
    Statement analyzeLegacy(String statementSql, List<String> searchPath) {
        return legacyAnalyzer.analyzeOne(statementSql, searchPath);
    }

    Statement analyze(String statementSql, List<String> searchPath) {
        Key key = new Key(SqlLexer.fingerprint(statementSql), searchPath);
        Statement s = cache.get(key);
        if (s == null) {
            s = analyzer.analyzeOne(statementSql, searchPath);
            if (cache.size() >= MAX_ENTRIES) {
                // a crude bound: shapes are few in practice; an attacker spraying shapes only costs misses
                cache.clear();
            }
            cache.put(key, s);
        }
        return s;
    }
}
