package dev.warden.recording;

import dev.warden.audit.Canonical;
import dev.warden.audit.RecordScan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks the recording files against the audit chain: every sealed chunk named by a "recording"
 * record must exist and hash to the SHA-256 in that record, unless a later prune record of its
 * session names it. Run after {@code AuditVerifier} has shown that the records themselves are intact.
 * Also lists the gaps the recorder marked (messages it had to drop).
 */
public final class RecordingVerifier {
    /** @param problems modified, deleted or unreadable chunks; {@code gaps} marked drops; {@code chunks} checked */
    public record Report(long chunks, long pruned, List<String> problems, List<String> gaps) {
        public boolean ok() {
            return problems.isEmpty();
        }

        public String summary() {
            StringBuilder b = new StringBuilder(problems.isEmpty() ? "recordings: " + chunks + " chunk(s) match their "
                    + "audit records" + (pruned > 0 ? " (" + pruned + " pruned by retention)" : "")
                    : "recordings: " + problems.size() + " problem(s)");
            for (String p : problems) {
                b.append("\n  ").append(p);
            }
            for (String g : gaps) {
                b.append("\n  gap — ").append(g);
            }
            return b.toString();
        }
    }

    private RecordingVerifier() {
    }

    public static Report verify(Connection audit, Path directory) throws SQLException {
        Map<String, Map<String, Object>> chunks = new LinkedHashMap<>();
        Set<String> pruned = new HashSet<>();
        RecordScan.byTime(audit, null, null, null, null, 0, r -> {
            if (!"recording".equals(r.type())) {
                return true;
            }
            String instance = r.instance();
            Map<String, Object> p = r.payload();
            String session = String.valueOf(p.get("session"));
            if ("chunk".equals(p.get("event"))) {
                p.put("_instance", instance);
                p.put("_seq", r.seq());
                chunks.put(key(instance, session, ((Number) p.get("chunk")).longValue()), p);
            } else if ("prune".equals(p.get("event")) && p.get("chunks") instanceof List<?> l) {
                for (Object n : l) {
                    pruned.add(key(instance, session, ((Number) n).longValue()));
                }
            }
            return true;
        });
        List<String> problems = new ArrayList<>();
        List<String> gaps = new ArrayList<>();
        long checked = 0;
        long prunedCount = 0;
        for (Map.Entry<String, Map<String, Object>> e : chunks.entrySet()) {
            Map<String, Object> p = e.getValue();
            String instance = (String) p.get("_instance");
            String session = String.valueOf(p.get("session"));
            int chunk = ((Number) p.get("chunk")).intValue();
            String where = "session " + session + " chunk " + chunk + " (audit record " + p.get("_seq") + ", instance "
                    + instance + ")";
            if (p.get("droppedMessages") instanceof Number dm && dm.longValue() > 0) {
                gaps.add(where + ": " + dm + " message(s), " + p.get("droppedBytes") + " bytes not recorded — the "
                        + "recorder could not keep up");
            }
            if (pruned.contains(e.getKey())) {
                prunedCount++;
                continue;
            }
            Path f = ChunkFiles.path(directory, instance, session, chunk);
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
        return new Report(checked, prunedCount, problems, gaps);
    }

    private static String key(String instance, String session, long chunk) {
        return instance + "\u0000" + session + "\u0000" + chunk;
    }
}
