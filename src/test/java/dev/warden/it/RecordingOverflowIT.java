package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When recording cannot keep up or cannot write: fail-closed refuses new statements (and resumes by
 * itself), drop-and-mark keeps serving and marks the hole; a large result is recorded whole through
 * a small buffer (backpressure), never holding more than the configured budget.
 */
class RecordingOverflowIT {
    @TempDir
    Path dir;

    /** Makes the recording directory unusable even for root: it becomes a plain file. */
    private Path breakStorage(Path recordings) throws Exception {
        Path away = recordings.resolveSibling("recordings-away");
        Files.move(recordings, away);
        Files.writeString(recordings, "not a directory");
        return away;
    }

    private void repairStorage(Path recordings, Path away) throws Exception {
        Files.delete(recordings);
        Files.move(away, recordings);
    }

    private static List<Step> steps(TestGateway gw, Path recordings, String session) throws Exception {
        RecordingIndex index = gw.gateway().recorder().index();
        RecordingReader r = new RecordingReader(index, recordings);
        return r.transcript(r.session(session), 5).steps();
    }

    private static String lastSession(TestGateway gw) throws Exception {
        RecordingIndex index = gw.gateway().recorder().index();
        return await().atMost(Duration.ofSeconds(20)).until(() -> {
            List<RecordingIndex.SessionRow> rows = index.sessions(new RecordingIndex.Filter(null, null, null, null, null, 1));
            return rows.isEmpty() || rows.get(0).ended() == null ? null : rows.get(0).session();
        }, v -> v != null);
    }

    private static RecordingVerifier.Report verify(TestGateway gw, Path auditStore, Path recordings) throws Exception {
        // the running gateway's records reach the store once per audit.syncInterval (docs/audit.md, "The journal")
        gw.gateway().audit().flushToStore().get(10, java.util.concurrent.TimeUnit.SECONDS);
        try (Connection c = DriverManager.getConnection("jdbc:h2:file:" + auditStore, "sa", "")) {
            return RecordingVerifier.verify(c, recordings);
        }
    }

    @Test
    void failClosedRefusesNewStatementsWhileRecordingsCannotBeWrittenAndResumes() throws Exception {
        Path recordings = dir.resolve("recordings");
        Path audit = dir.resolve("audit");
        try (TestGateway gw = TestGateway.builder().audit("  store: " + audit + "\n")
                .recording("  directory: " + recordings + "\n  overflow: fail-closed\n").start()) {
            try (Connection c = gw.connect("socketTimeout=60"); Statement s = c.createStatement()) {
                s.execute("SELECT 1");
                assertThat(gw.gateway().recorder().drain(Duration.ofSeconds(10))).isTrue();
                Path away = breakStorage(recordings);
                SQLException refused = await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100))
                        .until(() -> {
                            try {
                                s.execute("SELECT 2");
                                return null;
                            } catch (SQLException e) {
                                return e;
                            }
                        }, e -> e != null);
                assertThat(refused.getSQLState()).isEqualTo("53400");
                assertThat(refused.getMessage()).contains("recording is unavailable", "the statement was not run");
                assertThat(gw.gateway().recorder().health().available()).isFalse();
                repairStorage(recordings, away);
                await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).until(() -> {
                    try {
                        s.execute("SELECT 3");
                        return true;
                    } catch (SQLException e) {
                        return false;
                    }
                });
                try (ResultSet rs = s.executeQuery("SELECT 'after recovery'")) {
                    assertThat(rs.next()).isTrue();
                }
            }
            String session = lastSession(gw);
            List<Step> steps = steps(gw, recordings, session);
            assertThat(steps).anyMatch(st -> st.kind().equals("error") && st.warden() && "53400".equals(st.sqlState())
                    && st.text().contains("recording is unavailable"));
            assertThat(steps).anyMatch(st -> st.kind().equals("statement") && st.text().contains("after recovery"));
            assertThat(steps).noneMatch(st -> st.kind().equals("gap"));
            assertThat(gw.gateway().recorder().drain(Duration.ofSeconds(10))).isTrue();
            RecordingVerifier.Report r = verify(gw, audit, recordings);
            assertThat(r.ok()).as(r.summary()).isTrue();
            assertThat(r.gaps()).isEmpty();
        }
    }

    @Test
    void dropAndMarkKeepsServingAndTheGapShowsInReplayAndVerification() throws Exception {
        Path recordings = dir.resolve("recordings");
        Path audit = dir.resolve("audit");
        try (TestGateway gw = TestGateway.builder().audit("  store: " + audit + "\n")
                .recording("  directory: " + recordings + "\n  overflow: drop-and-mark\n  bufferBytes: 1MB\n").start()) {
            try (Connection c = gw.connect("socketTimeout=60"); Statement s = c.createStatement()) {
                s.execute("SELECT 1");
                assertThat(gw.gateway().recorder().drain(Duration.ofSeconds(10))).isTrue();
                Path away = breakStorage(recordings);
                long rows = 0;
                // ~4 MB of results while nothing can be written: more than the 1 MB buffer holds
                try (ResultSet rs = s.executeQuery("SELECT g, repeat('y', 200) FROM generate_series(1, 20000) g")) {
                    while (rs.next()) {
                        rows++;
                    }
                }
                assertThat(rows).isEqualTo(20000);
                assertThat(gw.gateway().recorder().health().droppedMessages()).isGreaterThan(0);
                assertThat(gw.gateway().recorder().unavailable()).isNull(); // drop-and-mark refuses nothing
                repairStorage(recordings, away);
                assertThat(gw.gateway().recorder().drain(Duration.ofSeconds(15))).isTrue();
                try (ResultSet rs = s.executeQuery("SELECT 'after the gap'")) {
                    assertThat(rs.next()).isTrue();
                }
            }
            String session = lastSession(gw);
            List<Step> steps = steps(gw, recordings, session);
            Step gap = steps.stream().filter(st -> st.kind().equals("gap")).findFirst().orElseThrow();
            assertThat(gap.warden()).isTrue();
            assertThat(gap.rowCount()).isGreaterThan(0);
            assertThat(gap.text()).contains("not recorded");
            assertThat(steps).anyMatch(st -> st.kind().equals("statement") && st.text().contains("after the gap"));
            assertThat(gw.gateway().recorder().drain(Duration.ofSeconds(10))).isTrue();
            RecordingVerifier.Report r = verify(gw, audit, recordings);
            assertThat(r.ok()).as(r.summary()).isTrue();
            assertThat(r.gaps()).isNotEmpty();
            assertThat(r.gaps().get(0)).contains(session, "not recorded");
        }
    }

    @Test
    void aLargeResultIsRecordedWholeThroughASmallBuffer() throws Exception {
        largeResult(300_000);
    }

    /** About 30 s on a 2-core machine (under the 60 s that would make it "slow"). */
    @Test
    void twoMillionRowsAreRecordedWholeThroughASmallBuffer() throws Exception {
        largeResult(2_000_000);
    }

    private void largeResult(int n) throws Exception {
        Path recordings = dir.resolve("recordings");
        Path audit = dir.resolve("audit");
        long budget = 2L << 20;
        try (TestGateway gw = TestGateway.builder().audit("  store: " + audit + "\n")
                .recording("  directory: " + recordings + "\n  bufferBytes: 2MB\n  chunkBytes: 4MB\n").start()) {
            Recorder rec = gw.gateway().recorder();
            AtomicLong peak = new AtomicLong();
            AtomicBoolean running = new AtomicBoolean(true);
            Thread sampler = new Thread(() -> {
                while (running.get()) {
                    peak.accumulateAndGet(rec.health().bufferedBytes(), Math::max);
                    Thread.onSpinWait();
                }
            });
            sampler.setDaemon(true);
            sampler.start();
            long rows = 0;
            try (Connection c = gw.connect("socketTimeout=60"); Statement s = c.createStatement()) {
                c.setAutoCommit(false);
                s.setFetchSize(1000);
                try (ResultSet rs = s.executeQuery("SELECT g, repeat('x', 100) FROM generate_series(1, " + n + ") g")) {
                    while (rs.next()) {
                        rows++;
                    }
                }
                c.commit();
            } finally {
                running.set(false);
                sampler.join();
            }
            assertThat(rows).isEqualTo(n);
            assertThat(peak.get()).isPositive().isLessThanOrEqualTo(budget);
            assertThat(rec.health().droppedMessages()).isZero();
            String session = lastSession(gw);
            List<Step> steps = steps(gw, recordings, session);
            long recordedRows = steps.stream().filter(st -> st.kind().equals("result") && st.columns() != null)
                    .mapToLong(Step::rowCount).sum();
            assertThat(recordedRows).isEqualTo(n);
            assertThat(steps).noneMatch(st -> st.kind().equals("gap"));
            RecordingIndex.SessionRow row = rec.index().session(session);
            assertThat(row.chunks()).isGreaterThan(1);
            assertThat(verify(gw, audit, recordings).ok()).isTrue();
        }
    }
}
