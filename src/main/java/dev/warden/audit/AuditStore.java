package dev.warden.audit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control store: JDBC connections (H2 embedded/TCP or PostgreSQL) and the schema migrations
 * run at start. On PostgreSQL the migrations take an advisory lock, so several Warden instances
 * sharing one store can start together; with a separate schema owner they grant the application
 * role SELECT and INSERT only (docs/audit.md).
 */
public final class AuditStore {
    static final int LATEST_VERSION = 2;
    private static final Logger LOG = LoggerFactory.getLogger(AuditStore.class);
    private static final long MIGRATION_LOCK = 0x5741524441554454L; // "WARDAUDT"

    private final AuditSettings.Store settings;

    public AuditStore(AuditSettings.Store settings) {
        this.settings = settings;
    }

    public boolean postgres() {
        return settings.isPostgres();
    }

    public AuditSettings.Store settings() {
        return settings;
    }

    /**
     * Applies what a stopped Warden left in the embedded store's journal ({@code <store>.journal}) to
     * the store behind {@code c}, so that tools read every durable record; nothing for other stores
     * or without a journal. Returns a one-line summary when something was applied or dropped, else null.
     */
    public String applyJournal(Connection c) throws SQLException {
        try {
            AuditJournal.Replay r = AuditJournal.replay(c, AuditJournal.pathFor(settings), new StoreSql(this));
            if (r == null || (r.blocksApplied() == 0 && r.checkpointsApplied() == 0 && r.tornBytes() == 0
                    && r.rejected() == null)) {
                return null;
            }
            return "applied " + r.recordsApplied() + " records and " + r.checkpointsApplied()
                    + " checkpoints left in the journal by a Warden that stopped without storing them"
                    + (r.tornBytes() > 0 ? "; dropped " + r.tornBytes() + " bytes of a partly written entry" : "")
                    + (r.rejected() != null ? "; REJECTED: " + r.rejected() : "");
        } catch (java.io.IOException e) {
            throw new SQLException("cannot read the audit journal " + AuditJournal.pathFor(settings) + ": " + e, "58030", e);
        }
    }

    /** A connection as the application role, autocommit off. */
    public Connection connect() throws SQLException {
        Connection c = connect(settings.user(), settings.password());
        c.setAutoCommit(false);
        return c;
    }

    private Connection connect(String user, String password) throws SQLException {
        Properties p = new Properties();
        if (user != null) {
            p.setProperty("user", user);
        }
        if (password != null) {
            p.setProperty("password", password);
        }
        if (postgres()) {
            p.setProperty("connectTimeout", "3");
            p.setProperty("loginTimeout", "5");
            p.setProperty("socketTimeout", "30");
            p.setProperty("tcpKeepAlive", "true");
            p.setProperty("reWriteBatchedInserts", "true");
            p.setProperty("ApplicationName", "warden-audit");
        }
        return DriverManager.getConnection(settings.url(), p);
    }

    /** Brings the schema to the latest version; a no-op (one query) when it is there already. */
    public void migrate() throws SQLException {
        try (Connection c = connect(settings.user(), settings.password())) {
            if (version(c) >= LATEST_VERSION) {
                warnIfOwnedByApplication(c);
                return;
            }
        }
        boolean split = settings.schemaUser() != null && !settings.schemaUser().equals(settings.user());
        try (Connection c = split ? connect(settings.schemaUser(), settings.schemaPassword())
                : connect(settings.user(), settings.password())) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                if (postgres()) {
                    s.execute("SELECT pg_advisory_xact_lock(" + MIGRATION_LOCK + ")");
                }
                s.execute("CREATE TABLE IF NOT EXISTS audit_schema_version (version INT PRIMARY KEY, "
                        + "applied_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP)");
                int v;
                try (ResultSet rs = s.executeQuery("SELECT COALESCE(MAX(version), 0) FROM audit_schema_version")) {
                    rs.next();
                    v = rs.getInt(1);
                }
                String schema = null;
                if (postgres()) {
                    try (ResultSet rs = s.executeQuery("SELECT quote_ident(current_schema())")) {
                        rs.next();
                        schema = rs.getString(1);
                    }
                }
                for (int next = v + 1; next <= LATEST_VERSION; next++) {
                    for (String sql : statements(next, schema)) {
                        s.execute(sql);
                    }
                    if (next == 2) {
                        long moved = moveRowsIntoBlocks(c);
                        s.execute("DROP TABLE audit_record");
                        if (moved > 0) {
                            LOG.info("audit store: moved {} records into blocks", moved);
                        }
                    }
                    s.execute("INSERT INTO audit_schema_version (version) VALUES (" + next + ")");
                    LOG.info("audit store: schema migrated to version {}", next);
                }
                if (postgres()) {
                    s.execute("REVOKE ALL ON audit_schema_version FROM PUBLIC");
                    if (split) {
                        String app = quoteIdent(settings.user());
                        s.execute("GRANT SELECT, INSERT ON audit_block, audit_checkpoint TO " + app);
                        s.execute("GRANT SELECT ON audit_policy, audit_schema_version, audit_record_v TO " + app);
                        s.execute("GRANT EXECUTE ON FUNCTION audit_prune(varchar, bigint) TO " + app);
                    }
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
        if (!split) {
            try (Connection c = connect(settings.user(), settings.password())) {
                warnIfOwnedByApplication(c);
            }
        }
    }

    /**
     * Schema v2: the v1 rows (one per record) become blocks — each chain's records in order, a block
     * ending at every checkpoint (retention removes whole blocks up to a checkpoint) and after 1000
     * records. Bodies and hashes are moved unchanged, so the chain and its signatures still verify.
     */
    private static long moveRowsIntoBlocks(Connection c) throws SQLException {
        java.util.Map<String, java.util.Set<Long>> cuts = new java.util.HashMap<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT instance_id, seq FROM audit_checkpoint")) {
            while (rs.next()) {
                cuts.computeIfAbsent(rs.getString(1), k -> new java.util.HashSet<>()).add(rs.getLong(2));
            }
        }
        long moved = 0;
        List<StoredRecord> block = new ArrayList<>();
        Long[] pruneTo = {null};
        try (Statement s = c.createStatement()) {
            s.setFetchSize(1000);
            try (ResultSet rs = s.executeQuery("SELECT instance_id, seq, kind, at, ref_seq, body, prev_hash, hash "
                    + "FROM audit_record ORDER BY instance_id, seq")) {
                while (rs.next()) {
                    String instance = rs.getString(1);
                    if (!block.isEmpty() && !block.get(0).instance().equals(instance)) {
                        StoreSql.insertStored(c, block.get(0).instance(), block, pruneTo[0]);
                        block.clear();
                        pruneTo[0] = null;
                    }
                    StoredRecord r = new StoredRecord(instance, rs.getLong(2), StoreSql.instant(rs, "at"),
                            rs.getString(3), rs.getBytes(6), rs.getBytes(7), rs.getBytes(8));
                    long refSeq = rs.getLong(5);
                    if (RecordCodec.PRUNE.equals(r.type()) && !rs.wasNull()) {
                        pruneTo[0] = refSeq;
                    }
                    block.add(r);
                    moved++;
                    if (block.size() >= 1000 || cuts.getOrDefault(instance, java.util.Set.of()).contains(r.seq())) {
                        StoreSql.insertStored(c, instance, block, pruneTo[0]);
                        block.clear();
                        pruneTo[0] = null;
                    }
                }
            }
        }
        if (!block.isEmpty()) {
            StoreSql.insertStored(c, block.get(0).instance(), block, pruneTo[0]);
        }
        return moved;
    }

    /** The schema version, 0 when the store is empty. */
    static int version(Connection c) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(true);
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COALESCE(MAX(version), 0) FROM audit_schema_version")) {
            rs.next();
            return rs.getInt(1);
        } catch (SQLException e) {
            return 0;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    private void warnIfOwnedByApplication(Connection c) throws SQLException {
        if (!postgres()) {
            return;
        }
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT pg_get_userbyid(relowner) = current_user FROM pg_class WHERE oid = 'audit_block'::regclass")) {
            if (rs.next() && rs.getBoolean(1)) {
                LOG.warn("audit store: role {} owns the audit tables, so it could disable the append-only triggers; "
                        + "set audit.store.schemaUser to a separate owner role (docs/audit.md)", settings.user());
            }
        }
    }

    private List<String> statements(int version, String schema) {
        String name = "dev/warden/audit/schema-" + (postgres() ? "postgresql" : "h2") + "-v" + version + ".sql";
        String text;
        try (InputStream in = AuditStore.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        if (schema != null) {
            text = text.replace("${schema}", schema);
        }
        return split(text);
    }

    /** Splits a script at semicolons that end a line, outside dollar-quoted bodies; drops comment lines. */
    static List<String> split(String script) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean inDollar = false;
        for (String line : script.split("\n")) {
            String t = line.strip();
            if (!inDollar && (t.isEmpty() || t.startsWith("--"))) {
                continue;
            }
            int dollars = line.split("\\$\\$", -1).length - 1;
            if (dollars % 2 == 1) {
                inDollar = !inDollar;
            }
            cur.append(line).append('\n');
            if (!inDollar && t.endsWith(";")) {
                String sql = cur.toString().strip();
                out.add(sql.substring(0, sql.length() - 1));
                cur.setLength(0);
            }
        }
        if (!cur.toString().isBlank()) {
            out.add(cur.toString().strip());
        }
        return out;
    }

    static String quoteIdent(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }
}
