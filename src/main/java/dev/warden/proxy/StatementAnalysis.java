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

    private record Key(String fingerprint, List<String> searchPath) {
    }

    private final SqlAnalyzer analyzer = new SqlAnalyzer();
    private final SqlAnalyzer legacyAnalyzer = new SqlAnalyzer(false);
    private final ConcurrentHashMap<Key, Statement> cache = new ConcurrentHashMap<>();

    List<String> split(String sql) {
        return SqlLexer.split(sql);
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
