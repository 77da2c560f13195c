package dev.warden.recording;

import dev.warden.audit.RecordScan;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks the recording directory against the audit chain, both ways. Run after {@code AuditVerifier}
 * has shown that the records themselves are intact.
 *
 * <ul>
 *   <li>From the records to the files: every sealed chunk named by a "recording" record must exist and
 *       hash to the SHA-256 in that record, unless a prune record of its session names it.</li>
 *   <li>The numbering: the recorder seals a session's chunks 1, 2, 3, … in order and has each one's
 *       record durable before it writes the next, so a number missing below a recorded one is a lost
 *       record — unless a prune record names it, or the audit's own retention removed the oldest
 *       records of the chain (then only numbers below the session's first kept record).</li>
 *   <li>From the files to the records: every file under the directory must be a chunk the audit
 *       attests. A file without a record is a problem (planted, or its record was lost) unless it can
 *       only be a chunk that was never sealed: the chunk after the session's last recorded one, in a
 *       session that Warden is still running or has just ended ({@link #SEAL_GRACE}), or that the
 *       audit marks {@code interrupted} by an unclean stop. Those are listed as {@link Report#unsealed()
 *       unsealed} — not attested, not a failure: a crash leaves exactly that behind, and the chain
 *       itself says so.</li>
 * </ul>
 * Also lists the gaps the recorder marked (messages it had to drop).
 */
public final class RecordingVerifier {
    /** How long after its session's disconnect record a last chunk may still be being sealed. */
    public static final Duration SEAL_GRACE = Duration.ofMinutes(2);

    private static final Pattern CHUNK_NAME = Pattern.compile("(\\d{6,9})\\.wrc");

    /**
     * @param chunks   recorded chunks checked against their files
     * @param pruned   recorded chunks pruned by retention
     * @param problems modified, deleted or unreadable chunks, chunks without a record, holes in the numbering,
     *                 files Warden does not write: any of them fails verification
     * @param unsealed chunk files that were never sealed and so are not attested — the open chunk of a running
     *                 session, or what an unclean stop left; listed, not a failure
     * @param gaps     messages the recorder marked as dropped
     */
    public record Report(long chunks, long pruned, List<String> problems, List<String> unsealed, List<String> gaps) {
        public boolean ok() {
            return problems.isEmpty();
        }

        public String summary() {
            StringBuilder b = new StringBuilder(problems.isEmpty() ? "recordings: " + chunks + " chunk(s) match their "
                    + "audit records" + (pruned > 0 ? " (" + pruned + " pruned by retention)" : "")
                    + (unsealed.isEmpty() ? "" : "; " + unsealed.size() + " unsealed chunk file(s) not attested")
                    : "recordings: " + problems.size() + " problem(s)");
            for (String p : problems) {
                b.append("\n  ").append(p);
            }
            for (String u : unsealed) {
                b.append("\n  unsealed — ").append(u);
            }
            for (String g : gaps) {
                b.append("\n  gap — ").append(g);
            }
            return b.toString();
        }
    }

    /** What the chain says about one recorded (or merely connected) session. */
    private static final class Session {
        final String instance;
        final String id;
        /** Chain position of the session's first session or recording record. */
        long firstSeq = Long.MAX_VALUE;
        Instant disconnected;
        long interruptedSeq;
        final TreeMap<Integer, Map<String, Object>> chunks = new TreeMap<>();
        final TreeSet<Integer> pruned = new TreeSet<>();

        Session(String instance, String id) {
            this.instance = instance;
            this.id = id;
        }

        int lastNumber() {
            int a = chunks.isEmpty() ? 0 : chunks.lastKey();
            int p = pruned.isEmpty() ? 0 : pruned.last();
            return Math.max(a, p);
        }

        boolean attests(int n) {
            return chunks.containsKey(n) || pruned.contains(n);
        }
    }

    /** What the chain says about one instance: where it starts and its newest lifecycle record. */
    private static final class Chain {
        long firstSeq = Long.MAX_VALUE;
        String lifecycle;
        long lifecycleSeq;
    }

    private RecordingVerifier() {
    }

    public static Report verify(Connection audit, Path directory) throws SQLException {
        return verify(audit, directory, Instant.now());
    }

    /** {@code now} decides whether a just-ended session's last chunk may still be being sealed ({@link #SEAL_GRACE}). */
    public static Report verify(Connection audit, Path directory, Instant now) throws SQLException {
        Map<String, Session> sessions = new LinkedHashMap<>();
        Map<String, Chain> chains = new HashMap<>();
        List<String> problems = new ArrayList<>();
        RecordScan.byTime(audit, null, null, null, null, 0, r -> {
            Chain chain = chains.computeIfAbsent(r.instance(), k -> new Chain());
            chain.firstSeq = Math.min(chain.firstSeq, r.seq());
            String type = r.type();
            if (!"recording".equals(type) && !"session".equals(type) && !"lifecycle".equals(type)) {
                return true;
            }
            Map<String, Object> p;
            try {
                p = r.payload();
            } catch (RuntimeException e) {
                return true; // an unreadable record is AuditVerifier's finding
            }
            Object event = p.get("event");
            if ("lifecycle".equals(type)) {
                chain.lifecycle = String.valueOf(event);
                chain.lifecycleSeq = r.seq();
                return true;
            }
            if (p.get("session") == null) {
                return true;
            }
            String id = String.valueOf(p.get("session"));
            Session s = sessions.computeIfAbsent(key(r.instance(), id), k -> new Session(r.instance(), id));
            s.firstSeq = Math.min(s.firstSeq, r.seq());
            if ("session".equals(type)) {
                if ("disconnect".equals(event)) {
                    s.disconnected = r.at();
                } else if ("interrupted".equals(event)) {
                    s.interruptedSeq = r.seq();
                }
            } else if ("chunk".equals(event) && p.get("chunk") instanceof Number n) {
                p.put("_seq", r.seq());
                Map<String, Object> before = s.chunks.putIfAbsent(n.intValue(), p);
                if (before != null && !String.valueOf(before.get("sha256")).equals(String.valueOf(p.get("sha256")))) {
                    problems.add("session " + id + " chunk " + n + " (instance " + r.instance() + "): audit records "
                            + before.get("_seq") + " and " + r.seq() + " give it different SHA-256 — the recorder "
                            + "seals a chunk once; find out which file is the recording");
                }
            } else if ("prune".equals(event) && p.get("chunks") instanceof List<?> l) {
                for (Object n : l) {
                    if (n instanceof Number num) {
                        s.pruned.add(num.intValue());
                    }
                }
            }
            return true;
        });

        List<String> unsealed = new ArrayList<>();
        List<String> gaps = new ArrayList<>();
        long checked = 0;
        long prunedCount = 0;
        for (Session s : sessions.values()) {
            for (Map.Entry<Integer, Map<String, Object>> e : s.chunks.entrySet()) {
                Map<String, Object> p = e.getValue();
                int chunk = e.getKey();
                String where = "session " + s.id + " chunk " + chunk + " (audit record " + p.get("_seq") + ", instance "
                        + s.instance + ")";
                if (p.get("droppedMessages") instanceof Number dm && dm.longValue() > 0) {
                    gaps.add(where + ": " + dm + " message(s), " + p.get("droppedBytes") + " bytes not recorded — the "
                            + "recorder could not keep up");
                }
                if (s.pruned.contains(chunk)) {
                    prunedCount++;
                    continue;
                }
                Path f = ChunkFiles.path(directory, s.instance, s.id, chunk);
                checked++;
                if (!Files.exists(f)) {
                    problems.add(where + ": file " + f + " is missing — deleted");
                    continue;
                }
                try {
                    String h = ChunkFiles.sha256(f);
                    if (!h.equals(p.get("sha256"))) {
                        problems.add(where + ": file " + f + " does not match the SHA-256 in the audit — modified");
                    }
                } catch (IOException ex) {
                    problems.add(where + ": file " + f + " cannot be read: " + ex.getMessage());
                }
            }
            holes(s, chains.get(s.instance), directory, problems);
        }
        files(directory, sessions, chains, now, problems, unsealed);
        return new Report(checked, prunedCount, problems, unsealed, gaps);
    }

    /** Numbers below the session's last recorded chunk that neither a chunk record nor a prune record names. */
    private static void holes(Session s, Chain chain, Path directory, List<String> problems) {
        int last = s.lastNumber();
        // the audit's own retention removed the chain's oldest records: numbers below the session's first
        // kept chunk record may have had their records there (their files go by the recording's retention)
        boolean chainPruned = chain != null && chain.firstSeq > 1;
        int firstKept = s.chunks.isEmpty() ? Integer.MAX_VALUE : s.chunks.firstKey();
        int from = -1;
        for (int n = 1; n <= last + 1; n++) {
            boolean missing = n <= last && !s.attests(n) && !(chainPruned && n < firstKept);
            if (missing && from < 0) {
                from = n;
            } else if (!missing && from > 0) {
                int to = n - 1;
                StringBuilder files = new StringBuilder();
                for (int k = from; k <= to; k++) {
                    Path f = ChunkFiles.path(directory, s.instance, s.id, k);
                    if (Files.exists(f)) {
                        files.append(files.isEmpty() ? "" : ", ").append(f);
                    }
                }
                problems.add("session " + s.id + " (instance " + s.instance + "): " + (from == to ? "chunk " + from
                        + " has" : "chunks " + from + "–" + to + " have") + " no audit record although chunk " + n
                        + " has one — a hole in the numbering that no prune record explains (the recorder records "
                        + "each chunk before it writes the next): records lost or chunks taken out; "
                        + (files.isEmpty() ? "no file for " + (from == to ? "it" : "them") + " is on disk"
                        : "on disk, not attested: " + files));
                from = -1;
            }
        }
    }

    /** Every file under the directory must be a chunk the audit attests, or a session's unsealed last chunk. */
    private static void files(Path directory, Map<String, Session> sessions, Map<String, Chain> chains, Instant now,
                              List<String> problems, List<String> unsealed) {
        if (!Files.isDirectory(directory)) {
            return;
        }
        // directory names are ChunkFiles.safe(id): map them back to the sessions the chain knows
        Map<String, List<Session>> byDir = new HashMap<>();
        java.util.Set<String> instanceDirs = new java.util.HashSet<>();
        for (Session s : sessions.values()) {
            byDir.computeIfAbsent(ChunkFiles.safe(s.instance) + "/" + ChunkFiles.safe(s.id), k -> new ArrayList<>()).add(s);
        }
        for (String instance : chains.keySet()) {
            instanceDirs.add(ChunkFiles.safe(instance));
        }
        String layout = "Warden writes only <instance>/<session>/NNNNNN.wrc there";
        for (Path inst : list(directory, problems)) {
            if (!Files.isDirectory(inst)) {
                problems.add("file " + inst + " is not Warden's: " + layout + " — find out who put it there");
                continue;
            }
            for (Path sess : list(inst, problems)) {
                if (!Files.isDirectory(sess)) {
                    problems.add("file " + sess + " is not Warden's: " + layout + " — find out who put it there");
                    continue;
                }
                String dirKey = inst.getFileName() + "/" + sess.getFileName();
                List<Session> candidates = byDir.getOrDefault(dirKey, List.of());
                for (Path f : list(sess, problems)) {
                    Matcher m = CHUNK_NAME.matcher(f.getFileName().toString());
                    int n = m.matches() ? Integer.parseInt(m.group(1)) : -1;
                    if (n <= 0 || !Files.isRegularFile(f) || !ChunkFiles.chunkName(n).equals(f.getFileName().toString())) {
                        problems.add("file " + f + " is not Warden's: " + layout + " — find out who put it there");
                        continue;
                    }
                    Session s = null;
                    for (Session c : candidates) {
                        if (c.attests(n)) {
                            s = c;
                            break;
                        }
                    }
                    if (s != null) {
                        continue; // checked from its record above
                    }
                    if (candidates.isEmpty()) {
                        problems.add("file " + f + ": not attested by the audit — planted, or its session's records "
                                + "were lost: no record of " + (instanceDirs.contains(inst.getFileName().toString())
                                ? "a session " + sess.getFileName() + " of instance " + inst.getFileName()
                                : "an instance " + inst.getFileName()) + " is in the audit. Replay must not be "
                                + "trusted with it; keep it as evidence outside the recording directory");
                        continue;
                    }
                    unattested(candidates.get(0), chains.get(candidates.get(0).instance), n, f, now, problems, unsealed);
                }
            }
        }
    }

    private static void unattested(Session s, Chain chain, int n, Path f, Instant now, List<String> problems,
                                   List<String> unsealed) {
        String where = "session " + s.id + " chunk " + n + " (instance " + s.instance + "), file " + f;
        int last = s.lastNumber();
        String afterLast = last == 0 ? "the session has no recorded chunk" : "its last recorded chunk is " + last;
        if (n != last + 1) {
            problems.add(where + ": not attested by the audit — planted, or its record was lost (" + afterLast
                    + (n <= last ? "" : ", so chunk " + n + " cannot be the one being written") + ")");
            return;
        }
        if (s.interruptedSeq > 0) {
            unsealed.add(where + ": never sealed — the audit marks the session interrupted by an unclean stop of "
                    + "Warden (audit record " + s.interruptedSeq + "), which left this chunk open; its content is not "
                    + "attested and cannot be verified, and replay does not show it; keep it as unverified evidence of the "
                    + "session's last moments");
            return;
        }
        boolean running = chain != null && chain.lifecycle != null && !"stop".equals(chain.lifecycle)
                && s.firstSeq > chain.lifecycleSeq;
        if (running && s.disconnected == null) {
            unsealed.add(where + ": not sealed yet — the session has no disconnect record: it is still running and "
                    + "this is the chunk being written (or Warden stopped uncleanly and has not restarted yet; its "
                    + "restart marks the session interrupted)");
        } else if (running && !s.disconnected.isBefore(now.minus(SEAL_GRACE))) {
            unsealed.add(where + ": not sealed yet — the session ended at " + s.disconnected + " and its last chunk "
                    + "is sealed right after; verify again in a minute");
        } else {
            problems.add(where + ": not attested by the audit — planted, or its record was lost: " + (running
                    ? "the session ended at " + s.disconnected + ", more than " + SEAL_GRACE.toMinutes() + " minutes "
                    + "ago, and its last chunk was never recorded (if Warden logged 'recording writer failed', "
                    + "that is why)"
                    : s.disconnected != null ? "the session ended at " + s.disconnected + ", when its last chunk "
                    + "was sealed (" + afterLast + ")"
                    : "Warden has stopped cleanly since the session ran, sealing every chunk (" + afterLast + ")")
                    + ". Replay must not be trusted with it; keep it as evidence outside the recording directory");
        }
    }

    private static List<Path> list(Path dir, List<String> problems) {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            ds.forEach(out::add);
        } catch (IOException e) {
            problems.add("directory " + dir + " cannot be read: " + e.getMessage());
        }
        out.sort(null);
        return out;
    }

    private static String key(String instance, String session) {
        return instance + "\u0000" + session;
    }
}
