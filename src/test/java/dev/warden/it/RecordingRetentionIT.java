package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.warden.recording.Recorder;
import dev.warden.recording.RecordingIndex;
import dev.warden.recording.RecordingReader;
import dev.warden.recording.RecordingVerifier;
import dev.warden.recording.Step;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Retention per target: expired chunks are deleted after an audit record of the pruning; others stay. */
class RecordingRetentionIT {
    @TempDir
    Path dir;

    @Test
    void expiredChunksArePrunedPerTargetWithAnAuditRecord() throws Exception {
        Path recordings = dir.resolve("recordings");
        Path audit = dir.resolve("audit");
        String app = SharedPostgres.APP_DB;
        try (TestGateway gw = TestGateway.builder().audit("  store: " + audit + "\n")
                .target("keep", String.join("\n", "    host: 127.0.0.1", "    port: " + SharedPostgres.get().port(),
                        "    database: " + app, "    user: " + SharedPostgres.APP_ROLE,
                        "    password: " + SharedPostgres.APP_PASSWORD, "    sslmode: disable", ""))
                .recording("  directory: " + recordings + "\n  retention: 90d\n  targets:\n    app:\n      retention: 1s\n")
                .start()) {
            Recorder rec = gw.gateway().recorder();
            String shortLived = session(gw, "app");
            String kept = session(gw, "keep");
            Path shortDir = chunkDir(recordings, shortLived);
            assertThat(Files.list(shortDir).count()).isPositive();
            // the short-lived target keeps chunks for 1 s: the first prune after that removes them
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(250)).until(() -> rec.prune() > 0);
            assertThat(Files.list(shortDir).count()).isZero();
            assertThat(Files.list(chunkDir(recordings, kept)).count()).isPositive();
            assertThat(rec.prune()).isZero(); // nothing left to prune, nothing pruned twice

            RecordingIndex.SessionRow row = rec.index().session(shortLived);
            assertThat(rec.index().chunks(row.instance(), shortLived)).allMatch(c -> c.pruned() != null);
            List<Step> steps = new RecordingReader(rec.index(), recordings).transcript(row, 5).steps();
            assertThat(steps).anyMatch(s -> s.kind().equals("gap") && s.text().contains("pruned by retention"));

            // the running gateway's records reach the store once per audit.syncInterval (docs/audit.md, "The journal")
            gw.gateway().audit().flushToStore().get(10, java.util.concurrent.TimeUnit.SECONDS);
            try (Connection c = DriverManager.getConnection("jdbc:h2:file:" + audit, "sa", "")) {
                RecordingVerifier.Report r = RecordingVerifier.verify(c, recordings);
                assertThat(r.ok()).as(r.summary()).isTrue();
                assertThat(r.pruned()).isPositive();
                assertThat(AuditBlocks.count(c, x -> x.type().equals("recording")
                        && "prune".equals(x.frame().payload().get("event"))
                        && shortLived.equals(x.frame().payload().get("session")))).isEqualTo(1);
            }
            // a pruned chunk whose prune record exists verifies; the kept one still must match
            Path keptChunk = Files.list(chunkDir(recordings, kept)).findFirst().orElseThrow();
            Files.delete(keptChunk);
            try (Connection c = DriverManager.getConnection("jdbc:h2:file:" + audit, "sa", "")) {
                RecordingVerifier.Report r = RecordingVerifier.verify(c, recordings);
                assertThat(r.ok()).isFalse();
                assertThat(r.problems().get(0)).contains(kept, "deleted");
            }
        }
    }

    static String session(TestGateway gw, String target) throws Exception {
        try (Connection c = gw.connectAs(TestGateway.USER, TestGateway.PASSWORD, target); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
        }
        RecordingIndex index = gw.gateway().recorder().index();
        return await().atMost(Duration.ofSeconds(20)).until(() -> {
            List<RecordingIndex.SessionRow> rows = index.sessions(new RecordingIndex.Filter(null, null, target, null, null, 1));
            return rows.isEmpty() || rows.get(0).ended() == null || rows.get(0).chunks() == 0 ? null : rows.get(0).session();
        }, v -> v != null);
    }

    static Path chunkDir(Path recordings, String session) throws Exception {
        try (var s = Files.walk(recordings)) {
            return s.filter(p -> Files.isDirectory(p) && p.getFileName().toString().equals(session)).findFirst().orElseThrow();
        }
    }
}
