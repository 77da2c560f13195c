package dev.warden.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded H2 store under many small commits (strict durability, one commit per statement, the
 * journal off):
 * H2 writes each commit as a chunk that stays live, so without compaction the number of chunks (and
 * the chunk descriptors H2 keeps in memory) grows with every commit. The writer's compaction keeps
 * it bounded, and the chain still verifies after its pages have been moved.
 *
 * <p>The first test sets H2's retention time to 0 so that chunks can be moved at once; with the default
 * (45 s) the same happens to chunks older than that. {@code -Dwarden.test.statements=27000} runs it
 * longer (47 chunks after 27,000 commits, against ~1,000 with H2's public {@code compact}).
 */
class EmbeddedCompactionTest {
    static final int STATEMENTS = Integer.getInteger("warden.test.statements", 3000);

    @TempDir
    Path dir;

    @Test
    void manySmallCommitsLeaveFewChunksAndAnIntactChain() throws Exception {
        long[] r = run(300, STATEMENTS, ";RETENTION_TIME=0", Duration.ofSeconds(1));
        // one live chunk per commit without compaction (measured: 3,012 here); 122 with H2's
        // public compact, which does nothing until the sparse chunks are a quarter of the file;
        // 37 with the direct rewrite and its merge steps
        assertThat(r[0]).as("H2 chunks after %d commits", r[1]).isLessThan(r[1] / 40);
    }

    /**
     * Commits of 4 KB blocks, so that every step takes the larger steps' path (at least
     * {@link EmbeddedCompaction#SMALL_STEP_BYTES} since the last one), with H2's retention time left
     * to Warden: syncing every 10 ms ({@code audit.syncInterval}, its least) brings it down to 50 ms,
     * so chunks can be moved 50 ms after they were written; what is left is mostly the chunks of the
     * last 50 ms (~1,900 commits a second here). Measured: 283 chunks after 3,001 commits (session 12,
     * a slower machine: 181, and 204 with H2's compact for these steps); with a 20 ms interval 478;
     * with syncing off (H2's 45 s, so nothing could be moved during the test) 3,019.
     */
    @Test
    void largerCommitsLeaveFewChunksOnceSyncingShortensTheRetentionTime() throws Exception {
        long[] r = run(4000, STATEMENTS, "", Duration.ofMillis(10));
        assertThat(r[0]).as("H2 chunks after %d commits", r[1]).isLessThan(r[1] / 5);
    }

    /**
     * Writes {@code statements} strict statements of {@code chars} random letters to the default store
     * with {@code urlSuffix}; returns the chunks and commits.
     */
    private long[] run(int chars, int statements, String urlSuffix, Duration syncInterval) throws Exception {
        AuditSettings defaults = AuditSettings.defaults(dir).withSyncInterval(syncInterval);
        AuditSettings.Store store = new AuditSettings.Store(defaults.store().url() + urlSuffix + ";MAX_COMPACT_TIME=0", "sa",
                "", null, null);
        // what is measured is the chunk count, not latency: a generous strict timeout keeps a loaded CI
        // machine (a merge step took 78 ms at load average 12) from failing a statement
        // without the journal (AuditJournalTest): one store commit per statement is what is measured here
        AuditSettings s = defaults.withStore(store).withDurability(AuditSettings.Durability.STRICT, Duration.ZERO)
                .withQueue(defaults.queueCapacity(), Duration.ofSeconds(10)).withJournal(false);
        Random random = new Random(7);
        long commits;
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            for (int i = 0; i < statements; i++) {
                // text that compresses poorly, so that each block is a sizeable leaf of its own
                StringBuilder text = new StringBuilder("SELECT * FROM accounts WHERE note = '");
                for (int k = 0; k < chars; k++) {
                    text.append((char) ('a' + random.nextInt(26)));
                }
                AuditTicket t = log.statementReceived(TestStores.statement("s-1", Instant.now(), text + "'"), true);
                t.durable().get(10, TimeUnit.SECONDS);
            }
            commits = log.health().commits();
        }
        assertThat(commits).isGreaterThanOrEqualTo(statements);
        try (Connection c = DriverManager.getConnection(defaults.store().url(), "sa", "")) {
            long chunks = chunkCount(c);
            System.out.printf("embedded store: %d chunks after %d commits of %d-character statements, file %d KB%n",
                    chunks, commits, chars, java.nio.file.Files.size(dir.resolve("audit.mv.db")) / 1024);
            assertThat(EmbeddedCompaction.direct()).as("this H2 has the chunk rewrite the writer calls").isTrue();
            AuditVerifier.Report r = AuditVerifier.verify(c, List.of(SigningKeys.readPublic(s.signingKeyFile())),
                    AuditVerifier.Options.all());
            assertThat(r.firstProblem()).isNull();
            assertThat(r.chains().get(0).recordsChecked()).isEqualTo(statements + 2L);
            return new long[] {chunks, commits};
        }
    }

    private static long chunkCount(Connection c) throws Exception {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS "
                     + "WHERE SETTING_NAME = 'info.CHUNK_COUNT'")) {
            assertThat(rs.next()).as("H2 reports info.CHUNK_COUNT").isTrue();
            return Long.parseLong(rs.getString(1));
        }
    }
}
