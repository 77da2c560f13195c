package dev.warden.audit;

import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
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

    /**
     * Checks a block's columns against its records: they are not hashed, so a block whose columns
     * were changed (to hide it from a time-bounded search, or to let retention remove it) is
     * reported here. Returns the problem, or null.
     */
    String block(RecordScan.Block b) {
        String where = "audit block " + b.firstSeq() + ".." + b.lastSeq() + in();
        if (b.problem() != null) {
            return where + ": cannot be read (" + b.problem() + ") — modified";
        }
        List<StoredRecord> records = b.records();
        Instant min = null;
        Instant max = null;
        Long pruneTo = null;
        for (StoredRecord r : records) {
            min = min == null || r.at().isBefore(min) ? r.at() : min;
            max = max == null || r.at().isAfter(max) ? r.at() : max;
            if (RecordCodec.PRUNE.equals(r.type())) {
                try {
                    pruneTo = r.projection().refSeq();
                } catch (RuntimeException e) {
                    pruneTo = null; // the record itself is reported by next()
                }
            }
        }
        if (!java.util.Objects.equals(pruneTo, b.pruneTo())) {
            return where + ": the block's prune position differs from the prune record it holds — modified";
        }
        if (records.get(0).seq() != b.firstSeq() || records.get(records.size() - 1).seq() != b.lastSeq()
                || !b.minAt().equals(min) || !b.maxAt().equals(max)) {
            return where + ": the block's columns differ from the records it holds — modified";
        }
        return null;
    }

    /** Checks one record; returns the problem, or null. */
    String next(StoredRecord r) {
        long seq = r.seq();
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
        byte[] body = r.body();
        byte[] prevHash = r.prevHash();
        byte[] hash = r.hash();
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
        RecordCodec.Projection projection = RecordCodec.project(type, payload, foldedOutcome);
        if (!type.equals(r.type()) || !projection.at().equals(r.at())) {
            return where + ": the record's header (type, time) differs from the hashed content — modified";
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
