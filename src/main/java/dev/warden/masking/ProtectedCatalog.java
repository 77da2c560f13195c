package dev.warden.masking;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which (table OID, attribute number) pairs of one target hold protected data, read from the
 * target's own catalog with Warden's upstream credentials. Views are resolved to the columns they
 * are built from (pg_depend on the view's rewrite rule, then the view's definition item by item),
 * child tables inherit their parent's protection, and every user relation's OID is kept so that a
 * relation created after the snapshot is recognised as unknown (and masked) rather than trusted.
 *
 * <p>Loads run on the given executor, never on an event loop; the relay only reads the immutable
 * {@link Snapshot}. A snapshot is marked stale after DDL and reloaded before the next statement.
 */
public final class ProtectedCatalog {
    private static final Logger LOG = LoggerFactory.getLogger("dev.warden.masking");

    /** A protected column: where it is, its class, and whether it is computed from protected data (view expressions). */
    public record Column(String relation, String name, DataClass cls, boolean derived) {
    }

    /**
     * @param byOrigin          (relation OID &lt;&lt; 16 | attnum) to the protected column
     * @param relations         OIDs of every user relation when loaded
     * @param protectedTables   bare names of relations (tables, views) with protected columns
     * @param protectedColumns  bare column names that are protected somewhere, with their class
     * @param columnsByTable    bare relation name to all its column names
     * @param classifiedTables  bare names of classified tables (for the detectors)
     */
    public record Snapshot(long version, Map<Long, Column> byOrigin, Set<Integer> relations, Set<String> protectedTables,
                           Map<String, DataClass> protectedColumns, Map<String, Set<String>> columnsByTable,
                           Set<String> classifiedTables, Set<Integer> protectedRelations) {
        public Column origin(int tableOid, int attnum) {
            return byOrigin.get(key(tableOid, attnum));
        }

        /** Whether the relation has any protected column (its whole-row references are then protected too). */
        public boolean hasProtected(int tableOid) {
            return protectedRelations.contains(tableOid);
        }

        public boolean knows(int tableOid) {
            return tableOid > 0 && tableOid < dev.warden.masking.PgTypes.FIRST_USER_OID || relations.contains(tableOid);
        }
    }

    static long key(int oid, int attnum) {
        return ((oid & 0xffffffffL) << 16) | (attnum & 0xffff);
    }

    private final String target;
    private final String url;
    private final Properties props;
    private final Map<String, DataClass> configured;
    private final Set<String> classified;
    private final Executor executor;
    private volatile Snapshot snapshot;
    private volatile boolean stale = true;
    private CompletableFuture<Snapshot> loading;
    private Connection conn;
    private long versions;
    /** The configured protected columns of the last load, by origin (read and written by loads only). */
    private Map<Long, Column> configuredBefore = Map.of();
    private final Set<Long> renamedWarned = new HashSet<>();

    /**
     * @param configured "schema.table.column" to class, from the target's masking config
     * @param classified schema-qualified classified tables
     */
    public ProtectedCatalog(String target, String url, Properties props, Map<String, DataClass> configured,
                            Set<String> classified, Executor executor) {
        this.target = target;
        this.url = url;
        this.props = props;
        this.configured = Map.copyOf(configured);
        this.classified = Set.copyOf(classified);
        this.executor = executor;
    }

    /** The snapshot in force, possibly stale; null before the first load. */
    public Snapshot current() {
        return snapshot;
    }

    /** DDL ran (or a relation unknown to the snapshot showed up): reload before the next statement. */
    public void invalidate() {
        stale = true;
    }

    /** A fresh snapshot: at once when the current one is fresh, else after a load on the executor. */
    public synchronized CompletableFuture<Snapshot> fresh() {
        Snapshot s = snapshot;
        if (s != null && !stale) {
            return CompletableFuture.completedFuture(s);
        }
        if (loading == null) {
            stale = false;
            CompletableFuture<Snapshot> f = CompletableFuture.supplyAsync(this::load, executor);
            loading = f;
            // a load that is already done runs this hook at once, clearing `loading`: return f, never the field
            f.whenComplete((ok, err) -> {
                synchronized (this) {
                    if (loading == f) {
                        loading = null;
                    }
                    if (err != null) {
                        stale = true;
                    }
                }
            });
            return f;
        }
        return loading;
    }

    private Snapshot load() {
        try {
            Snapshot s = read();
            snapshot = s;
            return s;
        } catch (SQLException e) {
            closeQuietly();
            LOG.warn("cannot read the catalog of target {} to find protected columns: {}", target, e.getMessage());
            throw new IllegalStateException("Warden cannot read the catalog of target '" + target
                    + "' to find its protected columns: " + e.getMessage(), e);
        }
    }

    private Snapshot read() throws SQLException {
        if (conn == null || conn.isClosed()) {
            conn = DriverManager.getConnection(url, props);
            conn.setReadOnly(true);
        }
        Map<Integer, String> relName = new HashMap<>();
        Map<Integer, Character> relKind = new HashMap<>();
        Map<Integer, Map<Integer, String>> attrs = new HashMap<>();
        Map<String, Set<String>> columnsByTable = new HashMap<>();
        Map<String, Integer> byQualified = new HashMap<>();
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT c.oid, n.nspname, c.relname, c.relkind, a.attnum, a.attname FROM pg_class c "
                        + "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        + "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
                        + "WHERE c.relkind IN ('r','p','v','m','f') AND n.nspname NOT IN ('pg_catalog','information_schema') "
                        + "AND n.nspname NOT LIKE 'pg_toast%'")) {
            while (rs.next()) {
                int oid = (int) rs.getLong(1);
                String q = rs.getString(2) + "." + rs.getString(3);
                relName.put(oid, q);
                relKind.put(oid, rs.getString(4).charAt(0));
                byQualified.put(q, oid);
                String att = rs.getString(6);
                if (att != null) {
                    attrs.computeIfAbsent(oid, k -> new HashMap<>()).put(rs.getInt(5), att);
                    columnsByTable.computeIfAbsent(rs.getString(3), k -> new HashSet<>()).add(att);
                }
            }
        }
        Map<Long, Column> byOrigin = new HashMap<>();
        Map<String, DataClass> protectedColumns = new HashMap<>();
        Set<String> protectedTables = new HashSet<>();
        Set<Integer> protectedRels = new HashSet<>();
        for (Map.Entry<String, DataClass> c : configured.entrySet()) {
            String q = c.getKey();
            int dot = q.lastIndexOf('.');
            Integer oid = byQualified.get(q.substring(0, dot));
            Integer attnum = oid == null ? null : attnum(attrs.get(oid), q.substring(dot + 1));
            if (attnum == null) {
                LOG.warn("target {}: masked column {} does not exist (yet); it is protected once it does", target, q);
                continue;
            }
            mark(byOrigin, protectedColumns, protectedTables, protectedRels, relName, oid, attnum, q.substring(dot + 1),
                    c.getValue(), false);
        }
        // a configured column that no longer resolves by name but still exists (its table, schema or the column
        // itself was renamed since the last load) stays protected by its OID and number (fail closed)
        for (Map.Entry<Long, Column> e : configuredBefore.entrySet()) {
            int oid = (int) (e.getKey() >>> 16);
            int attnum = (int) (e.getKey() & 0xffff);
            String att = attrs.getOrDefault(oid, Map.of()).get(attnum);
            if (att == null || byOrigin.containsKey(e.getKey())) {
                continue;
            }
            if (renamedWarned.add(e.getKey())) {
                LOG.warn("target {}: protected column {}.{} is now {}.{} (renamed); it stays protected while Warden runs, "
                        + "but the masking configuration must name it anew before the next start", target,
                        e.getValue().relation(), e.getValue().name(), relName.get(oid), att);
            }
            mark(byOrigin, protectedColumns, protectedTables, protectedRels, relName, oid, attnum, att,
                    e.getValue().cls(), false);
        }
        configuredBefore = Map.copyOf(byOrigin);
        inheritance(byOrigin, protectedColumns, protectedTables, protectedRels, relName, attrs);
        views(byOrigin, protectedColumns, protectedTables, protectedRels, relName, relKind, attrs, columnsByTable);
        Set<String> classifiedBare = new HashSet<>(protectedTables);
        for (String t : classified) {
            classifiedBare.add(t.substring(t.indexOf('.') + 1));
        }
        Map<String, Set<String>> cols = new HashMap<>();
        columnsByTable.forEach((k, v) -> cols.put(k, Set.copyOf(v)));
        return new Snapshot(++versions, Map.copyOf(byOrigin), Set.copyOf(relName.keySet()), Set.copyOf(protectedTables),
                Map.copyOf(protectedColumns), Map.copyOf(cols), Set.copyOf(classifiedBare), Set.copyOf(protectedRels));
    }

    private static Integer attnum(Map<Integer, String> a, String name) {
        if (a != null) {
            for (Map.Entry<Integer, String> e : a.entrySet()) {
                if (e.getValue().equals(name)) {
                    return e.getKey();
                }
            }
        }
        return null;
    }

    private static void mark(Map<Long, Column> byOrigin, Map<String, DataClass> cols, Set<String> tables, Set<Integer> rels,
                             Map<Integer, String> relName, int oid, int attnum, String col, DataClass cls, boolean derived) {
        String rel = relName.get(oid);
        byOrigin.put(key(oid, attnum), new Column(rel, col, cls, derived));
        cols.putIfAbsent(col, cls);
        tables.add(rel.substring(rel.indexOf('.') + 1));
        rels.add(oid);
    }

    /** Partitions and inheritance children hold the same data as their parent's protected columns. */
    private void inheritance(Map<Long, Column> byOrigin, Map<String, DataClass> cols, Set<String> tables, Set<Integer> rels,
                             Map<Integer, String> relName, Map<Integer, Map<Integer, String>> attrs) throws SQLException {
        List<int[]> links = new ArrayList<>();
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT inhrelid, inhparent FROM pg_inherits")) {
            while (rs.next()) {
                links.add(new int[] {(int) rs.getLong(1), (int) rs.getLong(2)});
            }
        }
        for (int pass = 0; pass < 8; pass++) {
            boolean changed = false;
            for (int[] l : links) {
                for (Map.Entry<Long, Column> e : List.copyOf(byOrigin.entrySet())) {
                    if ((int) (e.getKey() >>> 16) != l[1] || attrs.get(l[0]) == null) {
                        continue;
                    }
                    Integer child = attnum(attrs.get(l[0]), e.getValue().name());
                    if (child != null && !byOrigin.containsKey(key(l[0], child))) {
                        mark(byOrigin, cols, tables, rels, relName, l[0], child, e.getValue().name(), e.getValue().cls(), false);
                        changed = true;
                    }
                }
            }
            if (!changed) {
                break;
            }
        }
    }

    /**
     * A view (or materialized view) that depends on a protected column, or on a protected relation as
     * a whole row, gets its output columns classified from its definition; when the definition cannot
     * be analysed item by item, all of its columns are protected. Repeated for views over views.
     */
    private void views(Map<Long, Column> byOrigin, Map<String, DataClass> cols, Set<String> tables, Set<Integer> rels,
                       Map<Integer, String> relName, Map<Integer, Character> relKind, Map<Integer, Map<Integer, String>> attrs,
                       Map<String, Set<String>> columnsByTable) throws SQLException {
        Map<Integer, List<long[]>> deps = new HashMap<>();
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT DISTINCT r.ev_class, d.refobjid, d.refobjsubid FROM pg_rewrite r JOIN pg_depend d "
                        + "ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass "
                        + "WHERE d.refobjid <> r.ev_class")) {
            while (rs.next()) {
                deps.computeIfAbsent((int) rs.getLong(1), k -> new ArrayList<>()).add(new long[] {rs.getLong(2), rs.getInt(3)});
            }
        }
        Set<Integer> done = new HashSet<>();
        for (int pass = 0; pass < 16; pass++) {
            List<Integer> todo = new ArrayList<>();
            for (Map.Entry<Integer, List<long[]>> v : deps.entrySet()) {
                if (done.contains(v.getKey()) || !relName.containsKey(v.getKey())) {
                    continue;
                }
                for (long[] d : v.getValue()) {
                    int ref = (int) d[0];
                    if (rels.contains(ref) && (d[1] == 0 || byOrigin.containsKey(key(ref, (int) d[1])))) {
                        todo.add(v.getKey());
                        break;
                    }
                }
            }
            if (todo.isEmpty()) {
                break;
            }
            for (int view : todo) {
                done.add(view);
                String def = viewDefinition(view);
                Snapshot sofar = new Snapshot(0, byOrigin, Set.of(), tables, cols, Map.copyOf(columnsByTable), Set.of(), rels);
                Lineage.Result r = def == null ? null : Lineage.of(def, sofar);
                Map<Integer, String> a = attrs.getOrDefault(view, Map.of());
                for (Map.Entry<Integer, String> col : a.entrySet()) {
                    int i = col.getKey() - 1;
                    Lineage.Output o = r == null ? new Lineage.Output(DataClass.FREETEXT, false) : r.originless(i, a.size());
                    if (o == null && r != null && !r.touchesProtected()) {
                        // the definition names no protected relation by name (e.g. through a function): trust pg_depend
                        o = new Lineage.Output(DataClass.FREETEXT, false);
                    }
                    if (o != null) {
                        mark(byOrigin, cols, tables, rels, relName, view, col.getKey(), col.getValue(), o.cls(), !o.plain());
                    }
                }
            }
        }
    }

    private String viewDefinition(int oid) throws SQLException {
        try (var ps = conn.prepareStatement("SELECT pg_get_viewdef(?::oid)")) {
            ps.setLong(1, oid & 0xffffffffL);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private void closeQuietly() {
        try {
            if (conn != null) {
                conn.close();
            }
        } catch (SQLException ignored) {
            // the connection is being thrown away anyway
        }
        conn = null;
    }

    /** Closes the catalog connection (on the executor, where it is used). */
    public void close() {
        executor.execute(this::closeQuietly);
    }
}
