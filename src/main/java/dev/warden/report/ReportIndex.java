package dev.warden.report;

import dev.warden.audit.AuditSettings;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * Table {@code report} in the control store: one row per report, written when an instance claims
 * it and updated when it is done. Why a claim: instances sharing a PostgreSQL store all run the same
 * schedules; the first to insert the row for (kind, target, period) produces the report and the others
 * see the primary-key conflict (SQLSTATE 23505, on H2 and PostgreSQL alike) and skip it. The table is
 * an index, not evidence: the report files are signed, and every figure in them is recomputed from
 * the audit records.
 */
public final class ReportIndex {
    static final String DDL = "CREATE TABLE IF NOT EXISTS report ("
            + "id VARCHAR(200) PRIMARY KEY, "
            + "kind VARCHAR(16) NOT NULL, "
            + "target VARCHAR(64) NOT NULL, "
            + "period_from TIMESTAMP WITH TIME ZONE NOT NULL, "
            + "period_to TIMESTAMP WITH TIME ZONE NOT NULL, "
            + "status VARCHAR(16) NOT NULL, "
            + "claimed_by VARCHAR(200) NOT NULL, "
            + "claimed_at TIMESTAMP WITH TIME ZONE NOT NULL, "
            + "completed_at TIMESTAMP WITH TIME ZONE, "
            + "directory VARCHAR(1000), "
            + "formats VARCHAR(100), "
            + "sha256 VARCHAR(64), "
            + "integrity_ok BOOLEAN, "
            + "detail VARCHAR(2000))";

    /** A row of the index. {@code target} is "*" for a report on every target. */
    public record Entry(String id, String kind, String target, Instant from, Instant to, String status,
                        String claimedBy, Instant claimedAt, Instant completedAt, String directory, List<String> formats,
                        String sha256, Boolean integrityOk, String detail) {
    }

    private final AuditSettings.Store store;

    public ReportIndex(AuditSettings.Store store) {
        this.store = store;
    }

    /** Creates the table if needed (as the schema owner when the store has one, granting the application role). */
    public void migrate() throws SQLException {
        boolean split = store.schemaUser() != null && !store.schemaUser().equals(store.user());
        for (int attempt = 0; ; attempt++) {
            try (Connection c = split ? connect(store.schemaUser(), store.schemaPassword()) : connect(store.user(), store.password());
                 Statement s = c.createStatement()) {
                s.execute(DDL);
                if (split) {
                    s.execute("GRANT SELECT, INSERT, UPDATE ON report TO \"" + store.user().replace("\"", "\"\"") + "\"");
                }
                return;
            } catch (SQLException e) {
                // two instances creating the table at the same moment: one of them sees a conflict; try once more
                if (attempt > 0) {
                    throw new SQLException("cannot create the report table in the control store: " + e.getMessage(), e);
                }
            }
        }
    }

    Connection connect() throws SQLException {
        return connect(store.user(), store.password());
    }

    private Connection connect(String user, String password) throws SQLException {
        Properties p = new Properties();
        if (user != null) {
            p.setProperty("user", user);
        }
        if (password != null) {
            p.setProperty("password", password);
        }
        return DriverManager.getConnection(store.url(), p);
    }

    /** Inserts the row; false when another instance (or an earlier run) has it already. */
    public boolean claim(String id, ReportGenerator.Request req, String claimedBy) throws SQLException {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("INSERT INTO report (id, kind, target, "
                + "period_from, period_to, status, claimed_by, claimed_at) VALUES (?, ?, ?, ?, ?, 'running', ?, ?)")) {
            ps.setString(1, id);
            ps.setString(2, req.kind());
            ps.setString(3, req.target() == null ? "*" : req.target());
            ps.setObject(4, utc(req.from()));
            ps.setObject(5, utc(req.to()));
            ps.setString(6, claimedBy);
            ps.setObject(7, utc(Instant.now()));
            ps.executeUpdate();
            return true;
        } catch (SQLException e) {
            if ("23505".equals(e.getSQLState())) {
                return false;
            }
            throw e;
        }
    }

    public void completed(String id, String directory, List<String> formats, String sha256, boolean integrityOk,
                          String detail) throws SQLException {
        update(id, "done", directory, String.join(",", formats), sha256, integrityOk, detail);
    }

    public void failed(String id, String detail) throws SQLException {
        update(id, "failed", null, null, null, null, detail);
    }

    private void update(String id, String status, String dir, String formats, String sha, Boolean ok, String detail)
            throws SQLException {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("UPDATE report SET status = ?, "
                + "completed_at = ?, directory = ?, formats = ?, sha256 = ?, integrity_ok = ?, detail = ? WHERE id = ?")) {
            ps.setString(1, status);
            ps.setObject(2, utc(Instant.now()));
            ps.setString(3, dir);
            ps.setString(4, formats);
            ps.setString(5, sha);
            if (ok == null) {
                ps.setNull(6, java.sql.Types.BOOLEAN);
            } else {
                ps.setBoolean(6, ok);
            }
            ps.setString(7, detail == null ? null : detail.length() > 2000 ? detail.substring(0, 2000) : detail);
            ps.setString(8, id);
            ps.executeUpdate();
        }
    }

    /** The newest reports first. */
    public List<Entry> list(int limit) throws SQLException {
        List<Entry> out = new ArrayList<>();
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("SELECT * FROM report "
                + "ORDER BY claimed_at DESC, id FETCH FIRST " + Math.max(1, Math.min(limit, 10_000)) + " ROWS ONLY");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(entry(rs));
            }
        }
        return out;
    }

    public Optional<Entry> get(String id) throws SQLException {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("SELECT * FROM report WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(entry(rs)) : Optional.empty();
            }
        }
    }

    private static Entry entry(ResultSet rs) throws SQLException {
        String formats = rs.getString("formats");
        Object ok = rs.getObject("integrity_ok");
        return new Entry(rs.getString("id"), rs.getString("kind"), rs.getString("target"), instant(rs, "period_from"),
                instant(rs, "period_to"), rs.getString("status"), rs.getString("claimed_by"), instant(rs, "claimed_at"),
                instant(rs, "completed_at"), rs.getString("directory"),
                formats == null || formats.isEmpty() ? List.of() : List.of(formats.split(",")), rs.getString("sha256"),
                ok == null ? null : rs.getBoolean("integrity_ok"), rs.getString("detail"));
    }

    private static Instant instant(ResultSet rs, String col) throws SQLException {
        OffsetDateTime t = rs.getObject(col, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    private static OffsetDateTime utc(Instant t) {
        return OffsetDateTime.ofInstant(t, ZoneOffset.UTC);
    }
}
