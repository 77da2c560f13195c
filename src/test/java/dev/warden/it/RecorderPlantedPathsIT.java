package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.warden.recording.RecordingIndex;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Someone who can write the recordings directory (but not Warden's data) plants paths where the
 * recorder is about to write: session ids are predictable, so the next session's directory or first
 * chunk can be a symbolic link to the audit store, or a file made beforehand. The recorder must
 * never write through them (a link to {@code audit.mv.db} would have it truncated and overwritten):
 * it moves what it did not create aside, logs it, and records into a file it created itself; the
 * moved-aside entries stay for {@code audit verify} to flag.
 */
class RecorderPlantedPathsIT {
    @TempDir
    static Path dir;
    static TestGateway gw;
    static Path recordings;
    static Path config;

    @BeforeAll
    static void start() throws Exception {
        gw = TestGateway.startRecorded(dir, "");
        recordings = dir.resolve("recordings");
        config = dir.resolve("warden.yaml");
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    @Test
    void plantedLinksAndFilesAtTheNextSessionsPathsAreNeverWrittenThrough() throws Exception {
        String first = session("first");
        Path instanceDir = sessionDir(first).getParent();
        int dash = first.lastIndexOf('-');
        String prefix = first.substring(0, dash + 1);
        long n = Long.parseLong(first.substring(dash + 1));

        // what the attacker wants destroyed: stands in for data/audit.mv.db
        byte[] precious = "audit store pages: must survive".getBytes(StandardCharsets.UTF_8);
        Path victim = dir.resolve("victim.mv.db");
        Files.write(victim, precious);
        Path victimDir = Files.createDirectories(dir.resolve("victim-dir"));
        Path victimInDir = victimDir.resolve("000001.wrc");
        Files.write(victimInDir, precious);
        byte[] plantedBytes = "planted chunk".getBytes(StandardCharsets.UTF_8);
        // the next few session ids (a login attempt also takes one): each gets a different plant
        List<Path> plantedChunks = new ArrayList<>();
        for (long i = n + 1; i <= n + 6; i++) {
            Path sd = instanceDir.resolve(prefix + i);
            switch ((int) ((i - n - 1) % 3)) {
                case 0 -> { // the first chunk is a link to the store
                    Files.createDirectories(sd);
                    Files.createSymbolicLink(sd.resolve("000001.wrc"), victim);
                    plantedChunks.add(sd.resolve("000001.wrc"));
                }
                case 1 -> // the session's directory is a link to a directory holding a file of the same name
                        Files.createSymbolicLink(sd, victimDir);
                default -> { // a file made before the session started
                    Files.createDirectories(sd);
                    Files.write(sd.resolve("000001.wrc"), plantedBytes);
                    plantedChunks.add(sd.resolve("000001.wrc"));
                }
            }
        }

        List<String> sessions = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            sessions.add(session("after-" + i));
        }

        assertThat(Files.readAllBytes(victim)).as("the linked store file is untouched").isEqualTo(precious);
        assertThat(Files.readAllBytes(victimInDir)).as("the file behind the linked directory is untouched")
                .isEqualTo(precious);
        assertThat(victimDir.toFile().list()).as("nothing was written into the linked directory")
                .containsExactly("000001.wrc");
        for (String s : sessions) {
            Path sd = instanceDir.resolve(s);
            assertThat(Files.isDirectory(sd, LinkOption.NOFOLLOW_LINKS)).as("session %s has a real directory", s)
                    .isTrue();
            Path chunk = sd.resolve("000001.wrc");
            assertThat(Files.isRegularFile(chunk, LinkOption.NOFOLLOW_LINKS)).as("%s is a file Warden made", chunk)
                    .isTrue();
            assertThat(new String(Files.readAllBytes(chunk), StandardCharsets.ISO_8859_1))
                    .as("the planted bytes were not kept in the chunk").doesNotStartWith("planted chunk");
        }
        // what was planted is kept aside, for verification to flag
        try (Stream<Path> all = Files.walk(instanceDir)) {
            List<String> aside = all.map(p -> p.getFileName().toString()).filter(f -> f.contains(".foreign-")).toList();
            assertThat(aside).as("planted paths set aside").isNotEmpty();
        }
        String[] verify = RecordingIT.cli("audit", "verify", "--config", config.toString());
        assertThat(verify[2]).as(verify[0] + verify[1]).isEqualTo("1");
        assertThat(verify[1]).contains(".foreign-");
        for (Path p : plantedChunks) {
            if (Files.isSymbolicLink(p)) {
                assertThat(sessions).as("a link still in place belongs to a session that never started")
                        .doesNotContain(p.getParent().getFileName().toString());
            }
        }
    }

    /** Runs a short session and returns its id once its recording has a sealed chunk. */
    private static String session(String marker) throws Exception {
        RecordingIndex index = gw.gateway().recorder().index();
        java.util.Set<String> before = new java.util.HashSet<>();
        for (RecordingIndex.SessionRow r : index.sessions(new RecordingIndex.Filter(null, null, null, null, null, 1000))) {
            before.add(r.session());
        }
        try (Connection c = gw.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT '" + marker + "', repeat('x', 200) FROM generate_series(1, 20)")) {
            int rows = 0;
            while (rs.next()) {
                rows++;
            }
            assertThat(rows).isEqualTo(20);
        }
        return await().atMost(Duration.ofSeconds(20)).until(() -> {
            for (RecordingIndex.SessionRow r : index.sessions(new RecordingIndex.Filter(null, null, null, null, null, 50))) {
                if (r.ended() != null && r.chunks() > 0 && !before.contains(r.session())) {
                    return r.session();
                }
            }
            return null;
        }, v -> v != null);
    }

    private static Path sessionDir(String session) throws Exception {
        try (Stream<Path> s = Files.walk(recordings)) {
            return s.filter(p -> Files.isDirectory(p) && p.getFileName().toString().equals(session)).findFirst()
                    .orElseThrow();
        }
    }
}
