package dev.warden.audit;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Walks every chain in the store and every checkpoint signature, and names the first place where
 * something is wrong: a record modified, deleted, inserted or reordered, a checkpoint that does not
 * verify with the given public key, records missing after a checkpoint (a truncated tail — against
 * the store's checkpoints or an exported checkpoint file). Understands retention pruning: a chain may
 * start after record 1 only where a prune record says so and a signed checkpoint anchors the cut.
 */
public final class AuditVerifier {
    private static final byte[] GENESIS = new byte[32];

    /**
     * @param from     verify only from the checkpoint before the first record at or after this time (null: from the start)
     * @param to       verify only up to the first checkpoint after the last record at or before this time (null: to the end)
     * @param exported checkpoints an auditor kept (from {@code export-checkpoint}); empty for none
     * @param instance only this chain (null: all chains in the store)
     */
    public record Options(Instant from, Instant to, List<Checkpoint> exported, String instance) {
        public Options {
            exported = exported == null ? List.of() : List.copyOf(exported);
        }

        public static Options all() {
            return new Options(null, null, List.of(), null);
        }
    }

    /** The result for one chain: what was checked and the first problem, if any. */
    public record ChainReport(String instanceId, long firstSeq, long lastSeq, long recordsChecked, int checkpoints,
                              Checkpoint lastCheckpoint, long unsignedTail, String problem, List<String> gaps) {
        public boolean ok() {
            return problem == null;
        }

        public String summary() {
            if (problem != null) {
                return problem;
            }
            String s = "instance " + instanceId + ": " + recordsChecked + " records (" + firstSeq + ".." + lastSeq
                    + ") and " + checkpoints + " checkpoints verify";
            if (lastCheckpoint != null) {
                s += "; last checkpoint #" + lastCheckpoint.number() + " at record " + lastCheckpoint.seq();
            }
            if (unsignedTail > 0) {
                s += "; the last " + unsignedTail + " records are not covered by a checkpoint yet";
            }
            for (String g : gaps) {
                s += "\n  gap — " + g;
            }
            return s;
        }
    }

    public record Report(List<ChainReport> chains) {
        public boolean ok() {
            return chains.stream().allMatch(ChainReport::ok);
        }

        /** The first problem found, or null. */
        public String firstProblem() {
            return chains.stream().filter(c -> !c.ok()).map(ChainReport::problem).findFirst().orElse(null);
        }
    }

    private final Connection conn;
    private final List<PublicKey> keys;
    private final Options options;
    private final MessageDigest sha;

    private AuditVerifier(Connection conn, List<PublicKey> keys, Options options) {
        this.conn = conn;
        this.keys = List.copyOf(keys);
        this.options = options;
        try {
            this.sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Verifies with the trusted public keys (any of them may have signed a checkpoint). */
    public static Report verify(Connection conn, List<PublicKey> keys, Options options) throws SQLException {
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("at least one public key is needed");
        }
        boolean auto = conn.getAutoCommit();
        conn.setAutoCommit(false); // PostgreSQL streams rows only inside a transaction
        try {
            AuditVerifier v = new AuditVerifier(conn, keys, options);
            List<ChainReport> out = new ArrayList<>();
            for (String instance : v.instances()) {
                out.add(v.chain(instance));
            }
            return new Report(out);
        } finally {
            conn.rollback();
            conn.setAutoCommit(auto);
        }
    }

    private TreeSet<String> instances() throws SQLException {
        TreeSet<String> out = new TreeSet<>();
        out.addAll(RecordScan.instances(conn));
        try (PreparedStatement ps = conn.prepareStatement("SELECT DISTINCT instance_id FROM audit_checkpoint");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        options.exported().forEach(c -> out.add(c.instanceId()));
        if (options.instance() != null) {
            out.retainAll(List.of(options.instance()));
            out.add(options.instance());
        }
        return out;
    }

    private ChainReport chain(String instance) throws SQLException {
        List<Checkpoint> stored = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement("SELECT " + StoreSql.CHECKPOINT_COLUMNS
                + " FROM audit_checkpoint WHERE instance_id = ? ORDER BY number")) {
            ps.setString(1, instance);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    stored.add(StoreSql.checkpoint(rs));
                }
            }
        }
        ChainWalk walk = new ChainWalk(instance, sha);
        String problem = checkCheckpoints(instance, stored);
        if (problem != null) {
            return walk.report(stored, 0, problem);
        }
        TreeMap<Long, Checkpoint> byNumber = new TreeMap<>();
        stored.forEach(c -> byNumber.put(c.number(), c));
        List<String> notInStore = new ArrayList<>();
        for (Checkpoint e : options.exported()) {
            if (!e.instanceId().equals(instance)) {
                continue;
            }
            String where = "checkpoint #" + e.number() + " (instance " + instance + ", from the exported file)";
            if (!verifies(e)) {
                return walk.report(stored, 0, where + ": signature does not verify with the given public key");
            }
            Checkpoint s = byNumber.get(e.number());
            if (s != null && !Arrays.equals(s.body(), e.body())) {
                return walk.report(stored, 0, where + ": differs from the store's checkpoint #" + e.number()
                        + " — the store's checkpoints were replaced");
            }
            if (s == null) {
                notInStore.add(where + ": missing from the store — deleted");
            }
            byNumber.putIfAbsent(e.number(), e);
        }
        List<Checkpoint> all = new ArrayList<>(byNumber.values());
        long startSeq = 1;
        byte[] startPrev = null;
        if (options.from() != null) {
            long fromSeq = firstSeqAt(instance, options.from());
            Checkpoint anchor = null;
            for (Checkpoint c : all) {
                if (fromSeq > 0 && c.seq() < fromSeq && (anchor == null || c.seq() > anchor.seq())) {
                    anchor = c;
                }
            }
            if (anchor != null) {
                startSeq = anchor.seq() + 1;
                startPrev = anchor.head();
            }
        }
        long endSeq = Long.MAX_VALUE;
        if (options.to() != null) {
            long toSeq = lastSeqAt(instance, options.to());
            for (Checkpoint c : all) {
                if (c.seq() >= toSeq && c.seq() < endSeq) {
                    endSeq = c.seq();
                }
            }
        }
        walk.expect(startSeq, startPrev, options.from() != null, all);
        String[] found = {null};
        long lo = startSeq;
        long hi = endSeq;
        RecordScan.chainBlocks(conn, instance, lo, hi, b -> {
            found[0] = walk.block(b);
            if (found[0] != null) {
                return false;
            }
            for (StoredRecord r : b.records()) {
                if (r.seq() < lo || r.seq() > hi) {
                    continue;
                }
                found[0] = walk.next(r);
                if (found[0] != null) {
                    return false;
                }
            }
            return true;
        });
        if (found[0] != null) {
            return walk.report(all, 0, found[0]);
        }
        problem = walk.finish(options.from() == null, options.to() == null);
        if (problem == null && walk.count() == 0 && all.isEmpty() && instance.equals(options.instance())) {
            problem = "instance " + instance + ": the store holds no records and no checkpoints of this chain";
        }
        if (problem == null && !notInStore.isEmpty()) {
            problem = notInStore.get(0);
        }
        Checkpoint newest = all.isEmpty() ? null : all.get(all.size() - 1);
        long unsigned = newest == null ? walk.lastSeq() - walk.firstSeq() + 1 : Math.max(0, walk.lastSeq() - newest.seq());
        return walk.report(all, walk.count() == 0 ? 0 : unsigned, problem);
    }

    /** Signatures, body against columns, numbering from #1 without gaps, positions never going back. */
    private String checkCheckpoints(String instance, List<Checkpoint> cps) {
        long expected = 1;
        long lastSeq = 0;
        for (Checkpoint c : cps) {
            String where = "checkpoint #" + c.number() + " (instance " + instance + ")";
            if (!verifies(c)) {
                return where + ": signature does not verify with the given public key (it names key " + c.keyId()
                        + "; given " + String.join(", ", keys.stream().map(SigningKeys::keyId).toList()) + ")";
            }
            if (!c.bodyMatchesFields() || !c.instanceId().equals(instance)) {
                return where + ": the stored columns differ from the signed content — modified";
            }
            if (c.number() != expected) {
                return expected == c.number() - 1 ? "checkpoint #" + expected + " (instance " + instance
                        + "): missing — deleted" : "checkpoints #" + expected + "..#" + (c.number() - 1)
                        + " (instance " + instance + "): missing — deleted";
            }
            if (c.seq() < lastSeq) {
                return where + ": covers record " + c.seq() + ", before the previous checkpoint's " + lastSeq
                        + " — checkpoints reordered";
            }
            expected = c.number() + 1;
            lastSeq = c.seq();
        }
        return null;
    }

    private boolean verifies(Checkpoint c) {
        for (PublicKey k : keys) {
            if (c.verifies(k)) {
                return true;
            }
        }
        return false;
    }

    /** The position of the chain's first record at or after {@code t}, 0 if none. */
    private long firstSeqAt(String instance, Instant t) throws SQLException {
        long[] found = {0};
        RecordScan.byTime(conn, instance, t, null, null, 0, r -> {
            found[0] = r.seq();
            return false;
        });
        return found[0];
    }

    /** The position of the chain's last record at or before {@code t}, 0 if none. */
    private long lastSeqAt(String instance, Instant t) throws SQLException {
        long[] found = {0};
        RecordScan.byTime(conn, instance, null, t.plusNanos(1000), null, 0, r -> {
            found[0] = Math.max(found[0], r.seq());
            return true;
        });
        return found[0];
    }

    static byte[] genesis() {
        return GENESIS.clone();
    }

    static Map<String, Object> payloadOf(Map<String, Object> body) {
        @SuppressWarnings("unchecked")
        Map<String, Object> p = (Map<String, Object>) body.get("payload");
        return p;
    }
}
