package dev.warden.it;

import static dev.warden.it.RecordingIT.cli;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.awaitility.Awaitility.await;

import dev.warden.audit.RecordingEvent;
import dev.warden.audit.SigningKeys;
import dev.warden.recording.ChunkFiles;
import dev.warden.recording.RecordingIndex;
import dev.warden.recording.RecordingReader;
import dev.warden.recording.RecordingVerifier;
import dev.warden.recording.Step;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attacks on the recording directory and the recording index, through a real gateway, its real audit
 * chain and real PostgreSQL: chunk files planted without an audit record (a forged session, a forged
 * extra chunk of a real one, a stray file), a chunk swapped for another, an index row forged to make
 * replay show a planted file, a hole in a session's chunk numbering — and what an unclean stop
 * legitimately leaves behind (a chunk that was never sealed), which must be reported as unattested
 * without failing a system that merely crashed, and never replayed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RecordingTamperIT {
    @TempDir
    static Path dir;
    static TestGateway gw;
    static Path config;
    static Path recordings;
    static String session;
    static List<Path> chunks;
    /** A second genuine session, whose chunks are planted in the first one's place. */
    static String other;
    static List<Path> otherChunks;

    @BeforeAll
    static void start() throws Exception {
        gw = TestGateway.startRecorded(dir, "  checkpointInterval: 1s\n");
        recordings = dir.resolve("recordings");
        config = dir.resolve("warden.yaml");
        session = recordedSession(gw, "genuine-marker");
        chunks = chunkFiles(recordings, session);
        assertThat(chunks).as("a session of several chunks").hasSizeGreaterThanOrEqualTo(3);
        other = recordedSession(gw, "other-marker");
        otherChunks = chunkFiles(recordings, other);
        assertThat(other).isNotEqualTo(session);
        assertThat(otherChunks).hasSizeGreaterThanOrEqualTo(2);
        gw.gateway().audit().flushToStore().get(10, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    /**
     * A session of six ~100 KB results through the gateway (a 64 KB chunk ends where a page handed
     * over after a pause ends, so this makes several); returns its id once its recording is sealed.
     */
    static String recordedSession(TestGateway g, String marker) throws Exception {
        try (Connection c = g.connect(); Statement s = c.createStatement()) {
            for (int q = 0; q < 6; q++) {
                int n = 0;
                try (ResultSet rs = s.executeQuery("SELECT '" + marker + "-" + q + "', repeat('x', 1000) "
                        + "FROM generate_series(1, 100)")) {
                    while (rs.next()) {
                        n++;
                    }
                }
                assertThat(n).isEqualTo(100);
                // a page is handed over whole 200 ms after its first entry, and a chunk can end only where such a
                // page ends: wait until this result's page is on disk before the next query
                long before = wrcBytes(recordings);
                await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                        .until(() -> wrcBytes(recordings) > before);
            }
        }
        RecordingIndex index = g.gateway().recorder().index();
        return await().atMost(Duration.ofSeconds(20)).until(() -> {
            List<RecordingIndex.SessionRow> rows = index.sessions(new RecordingIndex.Filter(null, null, null, null, null, 1));
            return rows.isEmpty() || rows.get(0).ended() == null || rows.get(0).chunks() == 0 ? null : rows.get(0).session();
        }, v -> v != null);
    }

    /** The bytes of every chunk file under {@code recordings}. */
    static long wrcBytes(Path recordings) throws IOException {
        if (!Files.isDirectory(recordings)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(recordings)) {
            long sum = 0;
            for (Path p : s.filter(p -> p.toString().endsWith(".wrc")).toList()) {
                sum += Files.size(p);
            }
            return sum;
        }
    }

    static List<Path> chunkFiles(Path recordings, String session) throws IOException {
        try (Stream<Path> s = Files.walk(recordings)) {
            return s.filter(p -> p.getParent().getFileName().toString().equals(session) && p.toString().endsWith(".wrc"))
                    .sorted().toList();
        }
    }

    static String[] verify() {
        return cli("audit", "verify", "--config", config.toString());
    }

    @Test
    @Order(1)
    void chunkFilesWithoutAnAuditRecordFailVerification() throws Exception {
        String[] clean = verify();
        assertThat(clean[2]).as(clean[1]).isEqualTo("0");
        assertThat(clean[0]).contains("recordings: ", "chunk(s) match their audit records").doesNotContain("unsealed");

        // a whole forged session, made of a genuine chunk: it decodes and would replay
        Path instanceDir = chunks.get(0).getParent().getParent();
        Path forged = instanceDir.resolve("forged-session-0001").resolve("000001.wrc");
        Files.createDirectories(forged.getParent());
        Files.copy(chunks.get(0), forged);
        String[] bad = verify();
        assertThat(bad[2]).isEqualTo("1");
        assertThat(bad[1]).contains("FAILED: recordings: 1 problem(s)", forged.toString(), "not attested by the audit",
                "a session forged-session-0001");
        Files.delete(forged);
        Files.delete(forged.getParent());

        // a forged chunk appended to a real, ended session, beyond the one that might still be being written
        int next = chunks.size() + 2;
        Path extra = chunks.get(0).resolveSibling(ChunkName.of(next));
        Files.copy(chunks.get(1), extra);
        bad = verify();
        assertThat(bad[2]).isEqualTo("1");
        assertThat(bad[1]).contains("session " + session + " chunk " + next, extra.toString(),
                "not attested by the audit");
        Files.delete(extra);

        // anything else in the directory is not Warden's either
        Path stray = chunks.get(0).resolveSibling("000001.wrc.bak");
        Files.copy(chunks.get(0), stray);
        bad = verify();
        assertThat(bad[2]).isEqualTo("1");
        assertThat(bad[1]).contains(stray.toString(), "is not Warden's");
        Files.delete(stray);

        assertThat(verify()[2]).isEqualTo("0");
    }

    @Test
    @Order(2)
    void replayDoesNotShowAChunkThatIsNotTheOneTheAuditAttests() throws Exception {
        RecordingIndex index = gw.gateway().recorder().index();
        RecordingReader reader = new RecordingReader(index, recordings);
        RecordingIndex.SessionRow row = reader.session(session);
        long genuineRows = rows(reader.transcript(row, 5).steps());
        assertThat(genuineRows).isEqualTo(600);

        // chunk 2 swapped for chunk 1: a valid chunk, but not the one the audit attests as chunk 2
        byte[] original = Files.readAllBytes(chunks.get(1));
        Files.copy(chunks.get(0), chunks.get(1), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try {
            List<Step> steps = reader.transcript(row, 5).steps();
            assertThat(steps).anyMatch(s -> s.kind().equals("gap") && s.text().contains("chunk 2 (file " + chunks.get(1))
                    && s.text().contains("does not match the SHA-256 in its audit record") && s.text().contains("not shown"));
            assertThat(steps.stream().filter(s -> s.kind().equals("statement") && s.text().contains("genuine-marker-0")))
                    .as("chunk 1's statement, not shown a second time from the swapped file").hasSize(1);
            assertThat(rows(steps)).isLessThan(genuineRows);
            String[] out = cli("replay", session, "--config", config.toString());
            assertThat(out[0]).contains("[Warden] GAP: chunk 2", "modified after it was sealed; not shown");
            assertThat(out[2]).as("a withheld chunk fails the replay").isEqualTo("1");
            assertThat(out[1]).contains("1 chunk(s) of session " + session + " not shown", "warden audit verify");
            String[] raw = cli("replay", session, "--config", config.toString(), "--raw");
            assertThat(raw[0]).contains("GAP: chunk 2", "modified after it was sealed");
            assertThat(raw[2]).isEqualTo("1");
        } finally {
            Files.write(chunks.get(1), original);
        }
        String[] whole = cli("replay", session, "--config", config.toString());
        assertThat(whole[2]).as(whole[1]).isEqualTo("0");
        assertThat(whole[0]).contains("genuine-marker-5").doesNotContain("GAP");

        // a planted session made visible to replay by forged index rows (the index is not trusted)
        String forged = "forged-replay-0001";
        Path planted = ChunkFiles.path(recordings, row.instance(), forged, 1);
        Files.createDirectories(planted.getParent());
        Files.copy(chunks.get(0), planted);
        RecordingIndex.ChunkRow genuine1 = index.chunks(row.instance(), session).get(0);
        try (Connection c = index.connect()) {
            exec(c, "INSERT INTO recording_session (instance_id, session_id, target, user_name, started_at, ended_at, "
                    + "chunks) SELECT instance_id, ?, target, user_name, started_at, ended_at, 1 FROM recording_session "
                    + "WHERE session_id = ?", forged, session);
            exec(c, "INSERT INTO recording_chunk (instance_id, session_id, chunk, path, first_at, last_at, raw_from, "
                    + "raw_to, messages, bytes, sha256, audit_seq, gaps, dropped_messages) SELECT instance_id, ?, chunk, ?, "
                    + "first_at, last_at, raw_from, raw_to, messages, bytes, sha256, audit_seq, gaps, dropped_messages "
                    + "FROM recording_chunk WHERE session_id = ? AND chunk = 1", forged,
                    recordings.relativize(planted).toString(), session);
            // pointing at the genuine session's record of chunk 1: same hash, but another session's record
            List<Step> steps = reader.transcript(reader.session(forged), 5).steps();
            assertThat(steps).noneMatch(s -> s.kind().equals("statement") || s.kind().equals("result"));
            assertThat(steps).anyMatch(s -> s.kind().equals("gap") && s.text().contains("not attested by the audit")
                    && s.text().contains("#" + genuine1.auditSeq()) && s.text().contains("not shown"));
            String[] misattributed = cli("replay", forged, "--config", config.toString());
            assertThat(misattributed[2]).as("a misattributed chunk fails the replay").isEqualTo("1");
            assertThat(misattributed[0]).contains("the index was altered; not shown").doesNotContain("genuine-marker");

            // pointing at no record at all: shown only under a warning that it is not attested
            exec(c, "UPDATE recording_chunk SET audit_seq = 999999999 WHERE session_id = ?", forged);
            steps = reader.transcript(reader.session(forged), 5).steps();
            int warning = indexOf(steps, "unattested");
            int statement = indexOf(steps, "statement");
            assertThat(warning).as("an unattested step in %s", steps).isNotNegative();
            assertThat(statement).isGreaterThan(warning);
            assertThat(steps.get(warning).warden()).isTrue();
            assertThat(steps.get(warning).text()).contains("#999999999", "is not in the audit store");
            String[] out = cli("replay", forged, "--config", config.toString());
            assertThat(out[0]).contains("[Warden] UNATTESTED: chunk 1 (file " + planted);
            assertThat(out[2]).as("shown under a warning, not withheld").isEqualTo("0");
            String[] raw = cli("replay", forged, "--config", config.toString(), "--raw");
            assertThat(raw[0]).contains("UNATTESTED: chunk 1");
        } finally {
            try (Connection c = index.connect()) {
                exec(c, "DELETE FROM recording_chunk WHERE session_id = ?", forged);
                exec(c, "DELETE FROM recording_session WHERE session_id = ?", forged);
            }
            Files.delete(planted);
            Files.delete(planted.getParent());
        }
        assertThat(verify()[2]).isEqualTo("0");
    }

    @Test
    @Order(3)
    void aSymbolicLinkOrAPipeInAChunksPlaceFailsVerificationWithoutHangingAndIsNotReplayed() throws Exception {
        Path genuine = chunks.get(1);
        byte[] original = Files.readAllBytes(genuine);
        try {
            // a symbolic link to another session's genuine chunk: a valid chunk, not this one
            Files.delete(genuine);
            Files.createSymbolicLink(genuine, otherChunks.get(1));
            String[] bad = assertTimeoutPreemptively(Duration.ofSeconds(60), RecordingTamperIT::verify);
            assertThat(bad[2]).as(bad[0]).isEqualTo("1");
            assertThat(bad[1]).contains("session " + session + " chunk 2", genuine.toString(), "is a symbolic link to "
                    + otherChunks.get(1), "not a chunk file", "not read");
            String[] replay = cli("replay", session, "--config", config.toString());
            assertThat(replay[2]).isEqualTo("1");
            assertThat(replay[0]).contains("[Warden] GAP: chunk 2 (file " + genuine + ") is a symbolic link",
                    "not shown").doesNotContain("other-marker");

            // a symbolic link to an endless file must not hang either
            Files.delete(genuine);
            Files.createSymbolicLink(genuine, Path.of("/dev/zero"));
            bad = assertTimeoutPreemptively(Duration.ofSeconds(60), RecordingTamperIT::verify);
            assertThat(bad[2]).isEqualTo("1");
            assertThat(bad[1]).contains(genuine.toString(), "is a symbolic link to /dev/zero");
            replay = assertTimeoutPreemptively(Duration.ofSeconds(60),
                    () -> cli("replay", session, "--config", config.toString(), "--raw"));
            assertThat(replay[2]).isEqualTo("1");
            assertThat(replay[0]).contains("GAP: chunk 2", "is a symbolic link to /dev/zero");
            Files.delete(genuine);

            // a symbolic link where the session's next chunk would be written is not an unsealed chunk
            Path next = genuine.resolveSibling(ChunkName.of(chunks.size() + 1));
            Files.createSymbolicLink(next, otherChunks.get(0));
            Files.write(genuine, original);
            bad = verify();
            assertThat(bad[2]).isEqualTo("1");
            assertThat(bad[1]).contains("symbolic link " + next + " is not Warden's");
            assertThat(bad[0]).doesNotContain("unsealed");
            Files.delete(next);
            Files.delete(genuine);

            // a pipe: a second reader of it would get whatever its writer chose to serve
            Process mkfifo;
            try {
                mkfifo = new ProcessBuilder("mkfifo", genuine.toString()).redirectErrorStream(true).start();
            } catch (IOException e) {
                mkfifo = null;
            }
            Assumptions.assumeTrue(mkfifo != null && mkfifo.waitFor(10, TimeUnit.SECONDS) && mkfifo.exitValue() == 0,
                    "mkfifo is not available");
            bad = assertTimeoutPreemptively(Duration.ofSeconds(60), RecordingTamperIT::verify);
            assertThat(bad[2]).isEqualTo("1");
            assertThat(bad[1]).contains("session " + session + " chunk 2", genuine.toString(),
                    "is not a regular file (a pipe, socket or device)");
            replay = assertTimeoutPreemptively(Duration.ofSeconds(60),
                    () -> cli("replay", session, "--config", config.toString()));
            assertThat(replay[2]).isEqualTo("1");
            assertThat(replay[0]).contains("[Warden] GAP: chunk 2 (file " + genuine + ") is not a regular file",
                    "not shown");
            RecordingReader reader = new RecordingReader(gw.gateway().recorder().index(), recordings);
            List<Step> steps = assertTimeoutPreemptively(Duration.ofSeconds(60),
                    () -> reader.transcript(reader.session(session), 5).steps());
            assertThat(steps).anyMatch(st -> st.kind().equals("gap") && st.text().contains("is not a regular file"));
        } finally {
            Files.deleteIfExists(genuine);
            Files.write(genuine, original);
        }
        assertThat(verify()[2]).isEqualTo("0");
    }

    @Test
    @Order(4)
    void aRecordingDirectoryThatIsGoneFailsVerificationWhenTheAuditRecordsChunks() throws Exception {
        Path moved = recordings.resolveSibling("recordings-moved");
        Files.move(recordings, moved);
        try {
            String[] bad = verify();
            assertThat(bad[2]).as(bad[0]).isEqualTo("1");
            assertThat(bad[1]).contains("FAILED: recordings: 1 problem(s)", "recording directory " + recordings
                    + " does not exist, but the audit records", "restore it, or give its place with --recordings DIR");
            String[] given = cli("audit", "verify", "--config", config.toString(), "--recordings",
                    dir.resolve("nowhere").toString());
            assertThat(given[2]).isEqualTo("1");
            assertThat(given[1]).contains("recording directory " + dir.resolve("nowhere") + " does not exist");
            String[] there = cli("audit", "verify", "--config", config.toString(), "--recordings", moved.toString());
            assertThat(there[2]).as(there[1]).isEqualTo("0");

            Files.writeString(recordings, "not a directory");
            bad = verify();
            assertThat(bad[2]).isEqualTo("1");
            assertThat(bad[1]).contains("recording directory " + recordings + " is not a directory");
            Files.delete(recordings);
        } finally {
            Files.deleteIfExists(recordings);
            Files.move(moved, recordings);
        }
        assertThat(verify()[2]).isEqualTo("0");

        // nothing recorded and no directory: nothing to check
        Path home = Files.createDirectories(dir.resolve("unrecorded"));
        Path key = home.resolve("signing-key.pem");
        SigningKeys.generate(key);
        Path rec = home.resolve("recordings");
        TestGateway.Builder b = TestGateway.builder()
                .audit("  store: " + home.resolve("audit") + "\n  signingKey: " + key + "\n")
                .recording("  directory: " + rec + "\n");
        Path cfg = home.resolve("warden.yaml");
        try (TestGateway g = b.start()) {
            Files.writeString(cfg, b.yaml(g.port()));
            g.gateway().audit().flushToStore().get(10, TimeUnit.SECONDS);
        }
        if (Files.isDirectory(rec)) {
            try (Stream<Path> st = Files.list(rec)) {
                assertThat(st).as("nothing recorded").isEmpty();
            }
            Files.delete(rec);
        }
        String[] ok = cli("audit", "verify", "--config", cfg.toString());
        assertThat(ok[2]).as(ok[1]).isEqualTo("0");
        assertThat(ok[0]).contains("no recording directory at " + rec + " and no recorded chunk in the audit");
    }

    @Test
    @Order(5)
    void aFileAtAPrunedChunkNumberIsCheckedAgainstItsRecord() throws Exception {
        // the chain of its own gateway: records cannot be taken back out of a chain
        Path rec = dir.resolve("pruned-recordings");
        Path audit = dir.resolve("pruned-audit");
        try (TestGateway g = TestGateway.builder().audit("  store: " + audit + "\n")
                .recording("  directory: " + rec + "\n").start()) {
            String instance = g.gateway().audit().instanceId();
            String pruned = "pruned-session-0001";
            // chunks 1 and 2 recorded (files on disk matching their records), then a prune record names 1, 2 and 3
            // (3's chunk record is not in the chain: the audit's retention could have removed it)
            for (int n : new int[] {1, 2}) {
                Path f = ChunkFiles.path(rec, instance, pruned, n);
                Files.createDirectories(f.getParent());
                Files.copy(chunks.get(n - 1), f);
                Map<String, Object> d = new TreeMap<>();
                d.put("chunk", (long) n);
                d.put("sha256", ChunkFiles.sha256(f));
                d.put("bytes", Files.size(f));
                g.gateway().audit().recordingEvent(new RecordingEvent("chunk", Instant.now(), pruned, "app", d))
                        .get(10, TimeUnit.SECONDS);
            }
            Map<String, Object> d = new TreeMap<>();
            d.put("chunks", List.of(1L, 2L, 3L));
            d.put("retention", "P1D");
            d.put("cutoff", Instant.now());
            g.gateway().audit().recordingEvent(new RecordingEvent("prune", Instant.now(), pruned, "app", d))
                    .get(10, TimeUnit.SECONDS);
            g.gateway().audit().flushToStore().get(10, TimeUnit.SECONDS);
            Path one = ChunkFiles.path(rec, instance, pruned, 1);
            Path two = ChunkFiles.path(rec, instance, pruned, 2);
            Path three = ChunkFiles.path(rec, instance, pruned, 3);
            try (Connection c = DriverManager.getConnection("jdbc:h2:file:" + audit, "sa", "")) {
                // the files the prune did not delete, as they were sealed: listed, not a failure
                RecordingVerifier.Report r = RecordingVerifier.verify(c, rec);
                assertThat(r.ok()).as(r.summary()).isTrue();
                assertThat(r.pruned()).isEqualTo(2);
                assertThat(r.prunedOnDisk()).hasSize(2);
                assertThat(r.prunedOnDisk().get(0)).contains("session " + pruned + " chunk 1", one.toString(),
                        "matches its audit record", "a prune record names the chunk");
                assertThat(r.summary()).contains("pruned but still on disk — session " + pruned + " chunk 2");

                // a pruned chunk's file changed since
                Files.copy(chunks.get(2), two, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                r = RecordingVerifier.verify(c, rec);
                assertThat(r.ok()).isFalse();
                assertThat(r.problems()).hasSize(1);
                assertThat(r.problems().get(0)).contains("session " + pruned + " chunk 2", two.toString(),
                        "does not match the SHA-256 in the audit — modified", "a prune record names the chunk");
                Files.delete(two);

                // a file at a pruned number with no chunk record in the chain: nothing attests it
                Files.copy(chunks.get(2), three);
                r = RecordingVerifier.verify(c, rec);
                assertThat(r.ok()).isFalse();
                assertThat(r.problems()).hasSize(1);
                assertThat(r.problems().get(0)).contains("session " + pruned + " chunk 3", three.toString(),
                        "no chunk record of it is in the audit", "not attested");
                Files.delete(three);

                // what the prune did delete is fine
                Files.delete(one);
                r = RecordingVerifier.verify(c, rec);
                assertThat(r.ok()).as(r.summary()).isTrue();
                assertThat(r.prunedOnDisk()).isEmpty();
                assertThat(r.pruned()).isEqualTo(2);
            }
        }
    }

    @Test
    @Order(6)
    void namesWithControlCharactersArePrintedEscaped() throws Exception {
        // a stray file whose name would clear the terminal and forge a line of output
        Path stray = chunks.get(0).resolveSibling("evil\u001b[2J\nok: recordings: all fine.wrc");
        Files.copy(chunks.get(0), stray);
        try {
            String[] bad = verify();
            assertThat(bad[2]).isEqualTo("1");
            assertThat(bad[1]).contains("evil\\x1b[2J\\x0aok: recordings: all fine.wrc", "is not Warden's")
                    .doesNotContain("\u001b").doesNotContain("\nok: recordings: all fine");
        } finally {
            Files.delete(stray);
        }

        // the (untrusted) index's path of a chunk is not used at all: replay reads the file Warden names itself,
        // so a path with control characters (or one pointing elsewhere) neither reaches the terminal nor redirects
        RecordingIndex index = gw.gateway().recorder().index();
        RecordingIndex.ChunkRow first = index.chunks(index.session(session).instance(), session).get(0);
        try (Connection c = index.connect()) {
            exec(c, "UPDATE recording_chunk SET path = ? WHERE session_id = ? AND chunk = 1",
                    "x\u001b[31mred\r.wrc", session);
            String[] out = cli("replay", session, "--config", config.toString());
            assertThat(out[2]).as(out[1]).isEqualTo("0");
            assertThat(out[0]).contains("genuine-marker-0").doesNotContain("\u001b[31mred").doesNotContain("red\r")
                    .doesNotContain("GAP");
        } finally {
            try (Connection c = index.connect()) {
                exec(c, "UPDATE recording_chunk SET path = ? WHERE session_id = ? AND chunk = 1", first.path(), session);
            }
        }
        assertThat(verify()[2]).isEqualTo("0");
    }

    @Test
    @Order(8)
    void aHoleInASessionsChunkNumberingFailsUnlessAPruneRecordExplainsIt() throws Exception {
        // the chain of its own gateway: records cannot be taken back out of a chain
        Path rec = dir.resolve("hole-recordings");
        Path audit = dir.resolve("hole-audit");
        try (TestGateway g = TestGateway.builder().audit("  store: " + audit + "\n")
                .recording("  directory: " + rec + "\n").start()) {
            String instance = g.gateway().audit().instanceId();
            String hole = "hole-session-0001";
            // Warden attests chunks 1, 2 and 4 of a session (files on disk, each matching its record): 3 is absent
            for (int n : new int[] {1, 2, 4}) {
                Path f = ChunkFiles.path(rec, instance, hole, n);
                Files.createDirectories(f.getParent());
                Files.copy(chunks.get((n - 1) % chunks.size()), f); // any file: only its hash is recorded
                Map<String, Object> d = new TreeMap<>();
                d.put("chunk", (long) n);
                d.put("sha256", ChunkFiles.sha256(f));
                d.put("bytes", Files.size(f));
                g.gateway().audit().recordingEvent(new RecordingEvent("chunk", Instant.now(), hole, "app", d))
                        .get(10, TimeUnit.SECONDS);
            }
            g.gateway().audit().flushToStore().get(10, TimeUnit.SECONDS);
            try (Connection c = DriverManager.getConnection("jdbc:h2:file:" + audit, "sa", "")) {
                RecordingVerifier.Report r = RecordingVerifier.verify(c, rec);
                assertThat(r.ok()).as(r.summary()).isFalse();
                assertThat(r.problems()).hasSize(1);
                assertThat(r.problems().get(0)).contains("session " + hole, "chunk 3 has no audit record",
                        "hole in the numbering");
                assertThat(r.chunks()).isEqualTo(3);
            }
            Map<String, Object> d = new TreeMap<>();
            d.put("chunks", List.of(3L));
            d.put("retention", "P1D");
            d.put("cutoff", Instant.now());
            g.gateway().audit().recordingEvent(new RecordingEvent("prune", Instant.now(), hole, "app", d))
                    .get(10, TimeUnit.SECONDS);
            g.gateway().audit().flushToStore().get(10, TimeUnit.SECONDS);
            try (Connection c = DriverManager.getConnection("jdbc:h2:file:" + audit, "sa", "")) {
                RecordingVerifier.Report r = RecordingVerifier.verify(c, rec);
                assertThat(r.ok()).as(r.summary()).isTrue();
            }
        }
    }

    @Test
    @Order(9)
    void aCleanlyStoppedGatewayVerifiesAndAChunkAfterASessionsLastOneFails() throws Exception {
        gw.close();
        gw = null;
        String[] clean = verify();
        assertThat(clean[2]).as(clean[1]).isEqualTo("0");
        assertThat(clean[0]).contains("ok: recordings: ", "chunk(s) match their audit records");
        assertThat(clean[0] + clean[1]).doesNotContain("unsealed", "FAILED");

        // the very chunk that could be the one being written, had Warden not stopped cleanly since
        int next = chunks.size() + 1;
        Path extra = chunks.get(0).resolveSibling(ChunkName.of(next));
        Files.copy(chunks.get(0), extra);
        String[] bad = verify();
        assertThat(bad[2]).isEqualTo("1");
        assertThat(bad[1]).contains("session " + session + " chunk " + next, extra.toString(),
                "not attested by the audit — planted, or its record was lost");
        Files.delete(extra);
        assertThat(verify()[2]).isEqualTo("0");
    }

    @Test
    @Order(10)
    void aChunkAnUncleanStopLeftOpenIsReportedUnsealedAndNotReplayed() throws Exception {
        Path home = Files.createDirectories(dir.resolve("crash"));
        Path rec = home.resolve("recordings");
        Path key = home.resolve("signing-key.pem");
        SigningKeys.generate(key);
        int port = TestGateway.freePort();
        Path cfg = home.resolve("warden.yaml");
        Files.writeString(cfg, TestGateway.builder()
                .audit("  store: " + home.resolve("audit") + "\n  signingKey: " + key + "\n")
                .recording("  directory: " + rec + "\n  chunkInterval: 1h\n").yaml(port));
        Process warden = CrashConsistencyIT.startWarden(cfg, home.resolve("run1.out"), port);
        Path open;
        String crashed;
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/"
                + TestGateway.TARGET + "?sslmode=disable", TestGateway.USER, TestGateway.PASSWORD);
             Statement s = c.createStatement()) {
            s.execute("SELECT 'crash-marker-0001'");
            // the session stays open: its first chunk is on disk (written within 200 ms), not sealed
            open = await().atMost(Duration.ofSeconds(20)).until(() -> chunkWith(rec, "crash-marker-0001"), p -> p != null);
            crashed = open.getParent().getFileName().toString();
            warden.destroyForcibly(); // SIGKILL: the chunk is never sealed, the session never disconnects
            assertThat(warden.waitFor(20, TimeUnit.SECONDS)).isTrue();
        } catch (SQLException expected) {
            throw new AssertionError("the session should have been open until the kill", expected);
        }
        assertThat(open.getFileName().toString()).isEqualTo("000001.wrc");

        // restart (the audit marks the session interrupted) and stop cleanly
        Process again = CrashConsistencyIT.startWarden(cfg, home.resolve("run2.out"), port);
        again.destroy();
        assertThat(again.waitFor(60, TimeUnit.SECONDS)).isTrue();

        String[] v = cli("audit", "verify", "--config", cfg.toString());
        assertThat(v[2]).as(v[0] + v[1]).isEqualTo("0");
        // (a session the killed run started within its last durability window may add a second unsealed file)
        assertThat(v[0]).contains("unsealed chunk file(s) not attested", "unsealed — session " + crashed + " chunk 1",
                open.toString(), "interrupted by an unclean stop", "not attested");

        String[] replay = cli("replay", crashed, "--config", cfg.toString());
        assertThat(replay[2]).as(replay[1]).isEqualTo("0");
        assertThat(replay[0]).contains("chunk 1 (file " + open + ") is not sealed", "not shown")
                .doesNotContain("crash-marker-0001");

        // only the one chunk that was being written can be explained by the crash
        Path beyond = open.resolveSibling("000002.wrc");
        Files.copy(open, beyond);
        String[] bad = cli("audit", "verify", "--config", cfg.toString());
        assertThat(bad[2]).isEqualTo("1");
        assertThat(bad[1]).contains("session " + crashed + " chunk 2", "not attested by the audit");
        Files.delete(beyond);

        // a session of the killed run whose records fell in the lost window: its first chunk only is explained
        String run = crashed.substring(0, crashed.lastIndexOf('-') + 1);
        Path lost = open.getParent().resolveSibling(run + "999").resolve("000001.wrc");
        Files.createDirectories(lost.getParent());
        Files.copy(open, lost);
        String[] lostOne = cli("audit", "verify", "--config", cfg.toString());
        assertThat(lostOne[2]).as(lostOne[0] + lostOne[1]).isEqualTo("0");
        assertThat(lostOne[0]).contains("session " + run + "999 chunk 1", "holds no record of the session",
                "stopped uncleanly");
        Path lostTwo = lost.resolveSibling("000002.wrc");
        Files.copy(open, lostTwo);
        String[] lostBoth = cli("audit", "verify", "--config", cfg.toString());
        assertThat(lostBoth[2]).isEqualTo("1");
        assertThat(lostBoth[1]).contains(lostTwo.toString(), "not attested by the audit");
        Files.delete(lostTwo);
        Files.delete(lost);
        Files.delete(lost.getParent());
    }

    /** The chunk file under {@code rec} whose entries contain {@code marker}, or null. */
    static Path chunkWith(Path rec, String marker) throws IOException {
        if (!Files.isDirectory(rec)) {
            return null;
        }
        List<Path> files;
        try (Stream<Path> s = Files.walk(rec)) {
            files = s.filter(p -> p.toString().endsWith(".wrc")).toList();
        }
        for (Path f : files) {
            StringBuilder text = new StringBuilder();
            try {
                ChunkFiles.read(f, e -> text.append(new String(e.data(), StandardCharsets.ISO_8859_1)));
            } catch (IOException partial) {
                continue; // a page still being appended
            }
            if (text.indexOf(marker) >= 0) {
                return f;
            }
        }
        return null;
    }

    static long rows(List<Step> steps) {
        return steps.stream().filter(s -> s.kind().equals("result") && s.columns() != null).mapToLong(Step::rowCount).sum();
    }

    static int indexOf(List<Step> steps, String kind) {
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i).kind().equals(kind)) {
                return i;
            }
        }
        return -1;
    }

    static void exec(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            assertThat(ps.executeUpdate()).as(sql).isPositive();
        }
    }

    /** Chunk file names as the recorder writes them (six digits). */
    static final class ChunkName {
        static String of(int n) {
            return String.format("%06d.wrc", n);
        }
    }
}
