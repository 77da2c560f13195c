package dev.warden.audit;

import java.security.MessageDigest;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/** The record-by-record part of {@link AuditVerifier}: one chain, rows in position order. */
final class ChainWalk {
    private static final Set<String> TYPES = Set.of(RecordCodec.STATEMENT, RecordCodec.OUTCOME, RecordCodec.SESSION,
            RecordCodec.LIFECYCLE, RecordCodec.PRUNE, RecordCodec.APPROVAL, RecordCodec.RECORDING);

    private final String instance;
    private final MessageDigest sha;
    private final Map<Long, List<Checkpoint>> cpsBySeq = new HashMap<>();
    private final Set<Long> pruneKept = new HashSet<>();
    private List<Checkpoint> cps = List.of();
    private long startSeq = 1;
    private byte[] startPrev;
    private byte[] prev;
    private long expected;
    private long firstSeq;
    private long lastSeq;
    private long count;
    private long prunedStart;
    private final List<String> gaps = new ArrayList<>();

    ChainWalk(String instance, MessageDigest sha) {
        this.instance = instance;
        this.sha = sha;
    }

    void expect(long start, byte[] prevOfStart, boolean anchored, List<Checkpoint> checkpoints) {
        this.startSeq = start;
        this.startPrev = anchored ? prevOfStart : null;
        this.cps = checkpoints;
        for (Checkpoint c : checkpoints) {
            cpsBySeq.computeIfAbsent(c.seq(), k -> new ArrayList<>()).add(c);
        }
    }

    long firstSeq() {
        return firstSeq;
    }

    long lastSeq() {
        return lastSeq;
    }

    long count() {
        return count;
    }

    private String in() {
        return " (instance " + instance + ")";
    }

    private static String range(long from, long to) {
        return from == to ? "record " + from : "records " + from + ".." + to;
    }

    /** Checks one row; returns the problem, or null. */
    String next(ResultSet rs) throws SQLException {
        long seq = rs.getLong("seq");
        String where = "record " + seq + in();
        String prevWhat = "record " + (seq - 1);
        if (count == 0) {
            firstSeq = seq;
            if (startPrev != null) {
                if (seq != startSeq) {
                    return range(startSeq, seq - 1) + in() + ": missing — deleted";
                }
                prev = startPrev;
            } else if (seq == 1) {
                prev = AuditVerifier.genesis();
            } else {
                Checkpoint anchor = cpsBySeq.getOrDefault(seq - 1, List.of()).stream().findFirst().orElse(null);
                if (anchor == null) {
                    return range(1, seq - 1) + in() + ": missing — deleted (no checkpoint anchors a pruned start)";
                }
                prev = anchor.head();
                prevWhat = "the head of checkpoint #" + anchor.number();
                prunedStart = seq;
            }
        } else if (seq != expected) {
            return range(expected, seq - 1) + in() + ": missing — deleted";
        }
        byte[] body = rs.getBytes("body");
        byte[] prevHash = rs.getBytes("prev_hash");
        byte[] hash = rs.getBytes("hash");
        sha.update(prevHash);
        if (!Arrays.equals(sha.digest(body), hash)) {
            return where + ": hash mismatch — content modified";
        }
        Map<String, Object> doc;
        try {
            doc = Canonical.decodeObject(body);
        } catch (IllegalArgumentException e) {
            return where + ": content is not valid JSON — modified";
        }
        Object bodySeq = doc.get("seq");
        Object bodyInstance = doc.get("instance");
        if (!Long.valueOf(seq).equals(bodySeq) || !instance.equals(bodyInstance)) {
            return where + ": holds the content of record " + bodySeq
                    + (instance.equals(bodyInstance) ? "" : " of instance " + bodyInstance)
                    + " — records inserted, reordered or moved";
        }
        if (!Arrays.equals(prevHash, prev)) {
            return where + ": its previous-record hash does not match " + prevWhat
                    + " — a record was deleted, inserted or reordered before it";
        }
        if (!Arrays.equals(Canonical.encode(doc), body) || !TYPES.contains(doc.get("type"))
                || !Long.valueOf(1).equals(doc.get("v")) || !(doc.get("payload") instanceof Map)) {
            return where + ": content is not a canonical Warden audit record";
        }
        String type = (String) doc.get("type");
        Map<String, Object> payload = AuditVerifier.payloadOf(doc);
        Object folded = doc.get("outcome");
        if (folded != null && !(RecordCodec.STATEMENT.equals(type) && folded instanceof Map)) {
            return where + ": content is not a canonical Warden audit record";
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> foldedOutcome = (Map<String, Object>) folded;
        String column = projectionMismatch(rs, RecordCodec.project(type, payload, foldedOutcome));
        if (column != null) {
            return where + ": column " + column + " differs from the hashed content — modified";
        }
        if (RecordCodec.PRUNE.equals(type) && payload.get("firstKept") instanceof Long k) {
            pruneKept.add(k);
        }
        if (RecordCodec.LIFECYCLE.equals(type) && "recovered".equals(payload.get("event"))
                && payload.get("detail") instanceof Map<?, ?> d) {
            gaps.add("unclean stop: the run before record " + seq + " ended without a stop record after record "
                    + d.get("lastSeq") + " (" + d.get("lastRecordAt") + "); " + d.get("interruptedSessions")
                    + " sessions interrupted; records may be missing within " + d.get("durabilityWindow"));
        }
        for (Checkpoint c : cpsBySeq.getOrDefault(seq, List.of())) {
            if (!Arrays.equals(c.head(), hash)) {
                return "checkpoint #" + c.number() + in() + ": head hash does not match record " + seq
                        + " — records up to " + seq + " were rewritten after the checkpoint was signed";
            }
        }
        prev = hash;
        expected = seq + 1;
        lastSeq = seq;
        count++;
        return null;
    }

    private static String projectionMismatch(ResultSet rs, RecordCodec.Projection p) throws SQLException {
        List<Object> values = p.values();
        for (int i = 0; i < values.size(); i++) {
            String col = RecordCodec.Projection.COLUMNS.get(i);
            Object stored;
            if (col.equals("at")) {
                stored = StoreSql.instant(rs, col);
            } else if (col.equals("ref_seq")) {
                long v = rs.getLong(col);
                stored = rs.wasNull() ? null : v;
            } else {
                stored = rs.getString(col);
            }
            if (!Objects.equals(stored, values.get(i))) {
                return col;
            }
        }
        return null;
    }

    /** The checks that need the whole walk: a pruned start, a truncated tail. */
    String finish(boolean fromStart, boolean toEnd) {
        Checkpoint newest = null;
        for (Checkpoint c : cps) {
            if (newest == null || c.seq() > newest.seq()) {
                newest = c;
            }
        }
        if (count == 0) {
            if (toEnd && fromStart && newest != null && newest.seq() > 0) {
                return "records 1.." + in() + ": missing after checkpoint #" + newest.number() + " (head "
                        + newest.seq() + ", hash " + newest.headHex().substring(0, 16) + "…) — every record was deleted";
            }
            return null;
        }
        if (fromStart && prunedStart > 0 && !pruneKept.contains(prunedStart)) {
            return range(1, prunedStart - 1) + in() + ": missing — deleted (no prune record in the chain removed them)";
        }
        if (toEnd && newest != null && newest.seq() > lastSeq) {
            return "records " + (lastSeq + 1) + ".." + in() + ": missing after checkpoint #" + newest.number()
                    + " (head " + newest.seq() + ", hash " + newest.headHex().substring(0, 16)
                    + "…) — the tail was truncated";
        }
        return null;
    }

    AuditVerifier.ChainReport report(List<Checkpoint> checkpoints, long unsigned, String problem) {
        Checkpoint last = checkpoints.isEmpty() ? null : checkpoints.get(checkpoints.size() - 1);
        return new AuditVerifier.ChainReport(instance, firstSeq, lastSeq, count, checkpoints.size(), last, unsigned,
                problem, List.copyOf(gaps));
    }
}
