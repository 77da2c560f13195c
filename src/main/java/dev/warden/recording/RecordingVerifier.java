package dev.warden.recording;

import dev.warden.audit.RecordScan;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
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
 *   <li>The directory: when the chain records chunks, a missing recording directory (removed, renamed,
 *       or the configuration points elsewhere) or something else in its place is a problem.</li>
 *   <li>From the records to the files: every sealed chunk named by a "recording" record must exist and
 *       hash to the SHA-256 in that record, unless a prune record of its session names it. The file is
 *       read as replay reads it ({@link ChunkFiles#readOnce}): a regular file, not through a symbolic
 *       link, at most the size its record states — a pipe or a link to an endless file is a problem, not
 *       a hang. A file still at a pruned number is hashed too: matching its record it is listed
 *       ({@link Report#prunedOnDisk()}), otherwise (or without a chunk record) it is a problem.</li>
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
 *
 * <p>One file on purpose: the three checks read one scan of the chain and one listing of the
 * directory, and each decides what the others leave to it (a file at a recorded number is checked
 * from its record, a file at the next number only by the unsealed rules, a hole only by the
 * numbering); split apart, a file could fall between two of them unchecked.
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
     * @param prunedOnDisk chunks a prune record names whose file is still on disk and matches its chunk record
     *                 (the prune record is written before the files are deleted); listed, not a failure
     */
    public record Report(long chunks, long pruned, List<String> problems, List<String> unsealed, List<String> gaps,
                         List<String> prunedOnDisk) {
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
            for (String d : prunedOnDisk) {
                b.append("\n  pruned but still on disk — ").append(d);
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
        List<String> prunedOnDisk = new ArrayList<>();
        long checked = 0;
        long prunedCount = 0;
        boolean present = directory(directory, sessions, problems);
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
                boolean pruned = s.pruned.contains(chunk);
                if (pruned) {
                    prunedCount++;
                }
                if (!present) {
                    continue;
                }
                if (!pruned) {
                    checked++;
                }
                Path f = ChunkFiles.path(directory, s.instance, s.id, chunk);
                long max = p.get("bytes") instanceof Number b ? b.longValue() : -1;
                byte[] bytes;
                try {
                    bytes = ChunkFiles.readOnce(f, max);
                } catch (ChunkFiles.NotAChunkFile ex) {
                    problems.add(where + ": file " + f + (ex.tooLarge() ? " does not match the SHA-256 in the audit — "
                            + "modified (" + ex.getMessage() + ")" : " " + ex.getMessage())
                            + (pruned ? " (and a prune record names the chunk: its file should be gone)" : ""));
                    continue;
                } catch (IOException ex) {
                    problems.add(where + ": file " + f + " cannot be read: " + ex.getMessage());
                    continue;
                }
                if (bytes == null) {
                    if (!pruned) {
                        problems.add(where + ": file " + f + " is missing — deleted");
                    }
                    continue;
                }
                boolean matches = ChunkFiles.sha256(bytes).equals(p.get("sha256"));
                if (pruned && matches) {
                    prunedOnDisk.add(where + ": file " + f + " matches its audit record, but a prune record names the "
                            + "chunk: its deletion did not happen or failed — delete it, or keep it knowing the audit "
                            + "says it was pruned");
                } else if (!matches) {
                    problems.add(where + ": file " + f + " does not match the SHA-256 in the audit — modified"
                            + (pruned ? " (and a prune record names the chunk: its file should be gone)" : ""));
                }
            }
            if (present) {
                // a pruned number whose chunk record is not in the chain (the audit's retention removed it):
                // nothing to check a file there against
                for (int n : s.pruned) {
                    if (s.chunks.containsKey(n)) {
                        continue;
                    }
                    Path f = ChunkFiles.path(directory, s.instance, s.id, n);
                    if (Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
                        problems.add("session " + s.id + " chunk " + n + " (instance " + s.instance + "), file " + f
                                + ": a prune record names the chunk and no chunk record of it is in the audit, so the "
                                + "file cannot be checked — not attested. Replay must not be trusted with it; keep it "
                                + "as evidence outside the recording directory");
                    }
                }
            }
            holes(s, chains.get(s.instance), directory, problems);
        }
        if (present) {
            files(directory, sessions, chains, now, problems, unsealed);
        }
        return new Report(checked, prunedCount, printable(problems), printable(unsealed), printable(gaps),
                printable(prunedOnDisk));
    }

    /**
     * Whether {@code directory} is there to check. A missing directory, or something else at its path, is a
     * problem when the chain records chunks (it was removed or renamed, or the configuration points elsewhere);
     * a missing directory is fine when nothing was ever recorded.
     */
    private static boolean directory(Path directory, Map<String, Session> sessions, List<String> problems) {
        if (Files.isDirectory(directory)) {
            return true;
        }
        long chunks = 0;
        long pruned = 0;
        long recorded = 0;
        for (Session s : sessions.values()) {
            chunks += s.chunks.size();
            pruned += s.pruned.size();
            recorded += s.chunks.isEmpty() && s.pruned.isEmpty() ? 0 : 1;
        }
        boolean exists = Files.exists(directory, LinkOption.NOFOLLOW_LINKS);
        if (exists) {
            problems.add("recording directory " + directory + " is not a directory" + (chunks + pruned > 0 ? ", but the "
                    + "audit records " + chunks + " chunk(s) of " + recorded + " session(s), which cannot be checked"
                    : "") + " — find out what replaced it; put the recording directory back there, or give its place "
                    + "with --recordings DIR");
        } else if (chunks + pruned > 0) {
            problems.add("recording directory " + directory + " does not exist, but the audit records " + chunks
                    + " chunk(s) of " + recorded + " session(s) (" + pruned + " pruned by retention) — it was removed "
                    + "or renamed, or recording.directory points elsewhere: restore it, or give its place with "
                    + "--recordings DIR");
        }
        return false;
    }

    private static List<String> printable(List<String> lines) {
        return lines.stream().map(ChunkFiles::printable).toList();
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
                    if (Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
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
            if (!Files.isDirectory(inst, LinkOption.NOFOLLOW_LINKS)) {
                problems.add(kind(inst) + " " + inst + " is not Warden's: " + layout + " — find out who put it there");
                continue;
            }
            for (Path sess : list(inst, problems)) {
                if (!Files.isDirectory(sess, LinkOption.NOFOLLOW_LINKS)) {
                    problems.add(kind(sess) + " " + sess + " is not Warden's: " + layout + " — find out who put it "
                            + "there");
                    continue;
                }
                String dirKey = inst.getFileName() + "/" + sess.getFileName();
                List<Session> candidates = byDir.getOrDefault(dirKey, List.of());
                for (Path f : list(sess, problems)) {
                    Matcher m = CHUNK_NAME.matcher(f.getFileName().toString());
                    int n = m.matches() ? Integer.parseInt(m.group(1)) : -1;
                    if (n <= 0 || !ChunkFiles.chunkName(n).equals(f.getFileName().toString())) {
                        problems.add(kind(f) + " " + f + " is not Warden's: " + layout + " — find out who put it there");
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
                        continue; // checked from its record above (a symbolic link or a pipe there too)
                    }
                    if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                        problems.add(kind(f) + " " + f + " is not Warden's: " + layout + " (regular files) — find out "
                                + "who put it there");
                        continue;
                    }
                    Session sameRun = candidates.isEmpty() && n == 1 ? interruptedRun(sessions, inst.getFileName().toString(),
                            sess.getFileName().toString()) : null;
                    if (sameRun != null) {
                        // the run stopped uncleanly: a session it started within the last durability window can
                        // have its first chunk on disk while its session records were lost with that window
                        unsealed.add("session " + sess.getFileName() + " chunk 1, file " + f + ": never sealed, and "
                                + "the audit holds no record of the session — it started in the run that stopped "
                                + "uncleanly (its sessions are marked interrupted, e.g. session " + sameRun.id + " at "
                                + "audit record " + sameRun.interruptedSeq + "), inside the window whose records were "
                                + "lost; its content is not attested and cannot be verified, and replay does not show it");
                        continue;
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

    /**
     * A session of the same run (its id up to the last '-', Warden's per-start prefix) and instance
     * directory that the audit marks interrupted by an unclean stop, or null.
     */
    private static Session interruptedRun(Map<String, Session> sessions, String instanceDir, String sessionDir) {
        int dash = sessionDir.lastIndexOf('-');
        if (dash <= 0) {
            return null;
        }
        String run = sessionDir.substring(0, dash + 1);
        for (Session s : sessions.values()) {
            if (s.interruptedSeq > 0 && ChunkFiles.safe(s.instance).equals(instanceDir)
                    && ChunkFiles.safe(s.id).startsWith(run) && ChunkFiles.safe(s.id).lastIndexOf('-') == dash) {
                return s;
            }
        }
        return null;
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

    /** "file", "symbolic link", "directory" or "special file (pipe, socket or device)": what is at {@code p}. */
    private static String kind(Path p) {
        if (Files.isSymbolicLink(p)) {
            return "symbolic link";
        }
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            return "directory";
        }
        return Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || !Files.exists(p, LinkOption.NOFOLLOW_LINKS)
                ? "file" : "special file (pipe, socket or device)";
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
