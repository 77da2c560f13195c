package dev.warden.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded store's journal: batches are durable once journaled and reach the store in one
 * transaction per sync interval; a writer that stops without storing them (a killed process) leaves
 * them in the journal, and the next start (or a CLI tool) applies exactly what continues the chain.
 */
class AuditJournalTest {
    @TempDir
    Path dir;

    private AuditSettings settings(Duration syncInterval, AuditSettings.Durability durability) {
        return AuditSettings.defaults(dir).withInstanceId("i-journal").withSyncInterval(syncInterval)
                .withDurability(durability, durability == AuditSettings.Durability.STRICT ? Duration.ZERO
                        : Duration.ofMillis(2));
    }

    private Path journal() {
        return dir.resolve("audit.journal");
    }

    /** Queues {@code n} statements and waits until each is durable; returns their record ids. */
    private static List<String> statements(AuditLog log, int n, boolean strict) throws Exception {
        List<String> ids = new ArrayList<>();
        List<AuditTicket> tickets = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            AuditTicket t = log.statementReceived(TestStores.statement("s-" + (i % 3), Instant.now(),
                    "SELECT balance FROM accounts WHERE id = " + i), strict);
            tickets.add(t);
            ids.add(t.recordId());
            if (strict) {
                t.durable().get(10, TimeUnit.SECONDS);
            }
        }
        for (AuditTicket t : tickets) {
            t.durable().get(10, TimeUnit.SECONDS);
        }
        // batched tickets complete at once: wait until the writer has made every record durable
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> log.health().written() >= n + 1 && log.queued() == 0);
        return ids;
    }

    /**
     * Writes {@code n} batched statements, then stops the writer as a kill would once they are durable;
     * returns the last durable position (journaled, not yet in the store).
     */
    private static long haltedAfter(AuditSettings s, int n) throws Exception {
        AuditLog log = AuditLog.open(s, Clock.systemUTC());
        statements(log, n, false);
        long durable = log.health().headSeq();
        log.haltForTest();
        return durable;
    }

    /** The store verifies with every signature and link, and its chain holds {@code records} records. */
    private static void assertChainVerifies(AuditSettings s, long records) throws Exception {
        try (Connection c = DriverManager.getConnection(s.store().url(), "sa", "")) {
            AuditVerifier.Report r = AuditVerifier.verify(c, List.of(SigningKeys.readPublic(s.signingKeyFile())),
                    AuditVerifier.Options.all());
            assertThat(r.firstProblem()).isNull();
            assertThat(r.chains().get(0).recordsChecked()).isEqualTo(records);
        }
    }

    /** What {@code ./warden audit …} and a start do first: applies the journal; returns its summary. */
    private static String applyJournal(AuditSettings s) throws Exception {
        try (Connection c = DriverManager.getConnection(s.store().url(), "sa", "")) {
            return new AuditStore(s.store()).applyJournal(c);
        }
    }

    @Test
    void strictStatementsAreDurableOnceJournaledAndReachTheStoreInFewCommits() throws Exception {
        AuditSettings s = settings(Duration.ofSeconds(1), AuditSettings.Durability.STRICT);
        assertThat(s.journalled()).isTrue();
        long commits;
        long written;
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            statements(log, 500, true); // each waits for its record: 500 batches
            commits = log.health().commits();
            written = log.health().written();
            assertThat(Files.size(journal())).as("journal while running").isPositive();
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(journal())))
                    .as("the journal holds records: its owner's only").isEqualTo("rw-------");
        }
        // one store commit per sync interval (plus start), not one per batch
        assertThat(commits).as("store commits for %d strict records", written).isLessThan(50);
        assertThat(Files.size(journal())).as("a clean stop empties the journal").isZero();
        assertChainVerifies(s, 500 + 2L); // start, 500 statements, stop
    }

    @Test
    void aReaderInTheSameProcessSeesJournaledRecordsAtOnce() throws Exception {
        AuditSettings s = settings(Duration.ofSeconds(30), AuditSettings.Durability.BATCHED);
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            List<String> ids = statements(log, 20, false);
            AuditSearch.Page page = log.search(AuditSearch.Query.statements(100));
            assertThat(page.entries()).extracting(AuditSearch.Entry::recordId).containsAll(ids);
        }
    }

    @Test
    void aStopWithoutStoringLeavesTheRecordsInTheJournalAndTheNextStartAppliesThem() throws Exception {
        AuditSettings s = settings(Duration.ofSeconds(30), AuditSettings.Durability.BATCHED);
        long durable = haltedAfter(s, 300);
        assertThat(Files.size(journal())).as("journal after the halt").isPositive();
        try (Connection c = DriverManager.getConnection(s.store().url(), "sa", "")) {
            assertThat(RecordScan.at(c, "i-journal", durable)).as("the last durable record is only journaled").isNull();
        }

        try (AuditLog again = AuditLog.open(s, Clock.systemUTC())) {
            again.checkpoint().get(10, TimeUnit.SECONDS);
        }
        // start, 300 statements, then the second run's start, "recovered" and stop
        assertChainVerifies(s, durable + 3);
        try (Connection c = DriverManager.getConnection(s.store().url(), "sa", "")) {
            assertThat(RecordScan.at(c, "i-journal", durable)).isNotNull();
            StoredRecord recovered = RecordScan.at(c, "i-journal", durable + 2);
            assertThat(new String(recovered.body(), java.nio.charset.StandardCharsets.UTF_8)).contains("recovered");
        }
    }

    @Test
    void aTornEntryAtTheEndIsDroppedAndEverythingBeforeItApplied() throws Exception {
        AuditSettings s = settings(Duration.ofSeconds(30), AuditSettings.Durability.BATCHED);
        long durable = haltedAfter(s, 100);
        // a write the process died in: a header promising more bytes than follow
        byte[] torn = java.nio.ByteBuffer.allocate(40).putInt(AuditJournal.MAGIC).putInt(5000).putInt(1234).array();
        Files.write(journal(), torn, java.nio.file.StandardOpenOption.APPEND);

        try (Connection c = DriverManager.getConnection(s.store().url(), "sa", "")) {
            String summary = new AuditStore(s.store()).applyJournal(c);
            assertThat(summary).contains("applied").contains("dropped 40 bytes");
            assertThat(RecordScan.at(c, "i-journal", durable)).isNotNull();
        }
        assertThat(Files.size(journal())).isZero();
        assertChainVerifies(s, durable);
    }

    @Test
    void replayingTheSameJournalTwiceAddsNothing() throws Exception {
        AuditSettings s = settings(Duration.ofSeconds(30), AuditSettings.Durability.BATCHED);
        long durable = haltedAfter(s, 50);
        byte[] copy = Files.readAllBytes(journal());
        // the start record is in the store already (the prune at start stores what is journaled)
        assertThat(applyJournal(s)).contains("applied " + (durable - 1) + " records");
        Files.write(journal(), copy); // the same entries again: all of them are in the store now
        assertThat(applyJournal(s)).isNull();
        assertChainVerifies(s, durable);
    }

    @Test
    void anEntryThatDoesNotContinueTheChainIsNeverAppliedAndIsKeptAside() throws Exception {
        AuditSettings s = settings(Duration.ofSeconds(30), AuditSettings.Durability.BATCHED);
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            statements(log, 10, false);
        }
        long stored;
        try (Connection c = DriverManager.getConnection(s.store().url(), "sa", "")) {
            stored = new StoreSql(new AuditStore(s.store())).head(c, "i-journal").seq();
        }
        // a planted entry: a real block of this chain, relabelled to sit two positions past its head
        byte[] block;
        try (Connection c = DriverManager.getConnection(s.store().url(), "sa", "")) {
            List<StoredRecord> one = List.of(RecordScan.at(c, "i-journal", stored));
            block = RecordBlock.encodeStored(one, true);
        }
        try (AuditJournal j = AuditJournal.open(journal())) {
            j.append(List.of(new StoreSql.BlockRow("i-journal", stored + 2, stored + 2, Instant.now(), Instant.now(),
                    null, block)), List.of());
        }
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            assertThat(log.health().available()).isTrue();
        }
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).anyMatch(n -> n.startsWith("audit.journal.rejected-"));
        }
        assertChainVerifies(s, stored + 2); // the second run's start and stop
    }

    @Test
    void anEntryWithAMatchingChecksumButMalformedContentIsSetAsideAndWardenStarts() throws Exception {
        AuditSettings s = settings(Duration.ofSeconds(30), AuditSettings.Durability.BATCHED);
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            statements(log, 5, false);
        }
        // one block row announced, then a string length running past the end: written so on purpose
        byte[] body = java.nio.ByteBuffer.allocate(12).putInt(1).putShort((short) 5000).putInt(0x41424344)
                .putShort((short) 0).array();
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(body);
        byte[] entry = java.nio.ByteBuffer.allocate(12 + body.length).putInt(AuditJournal.MAGIC).putInt(body.length)
                .putInt((int) crc.getValue()).put(body).array();
        Files.write(journal(), entry);
        assertThat(applyJournal(s)).contains("REJECTED", "entry 1 is malformed");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).anyMatch(n -> n.startsWith("audit.journal.rejected-"));
        }
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            assertThat(log.health().available()).isTrue();
        }
        assertChainVerifies(s, 5 + 4L); // two runs' start and stop
    }

    @Test
    void aJournalThatCanNoLongerBeWrittenIsGivenUpAndBatchesGoToTheStoreDirectly() throws Exception {
        AuditSettings s = settings(Duration.ofSeconds(30), AuditSettings.Durability.STRICT);
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            statements(log, 20, true);
            long commitsBefore = log.health().commits();
            // the file is gone from under the writer (as on an I/O error): its next write fails and cannot
            // be cut back either
            log.journalForTest().close();
            statements(log, 30, true); // every one still durable: the writer commits them to the store
            assertThat(log.journalForTest()).as("journal given up").isNull();
            assertThat(log.health().available()).isTrue();
            assertThat(log.health().commits() - commitsBefore).as("store commits after giving up").isGreaterThanOrEqualTo(29);
        }
        assertChainVerifies(s, 20 + 30 + 2L);
    }

    @Test
    void withTheJournalOffEveryBatchIsAStoreCommit() throws Exception {
        AuditSettings s = settings(Duration.ofSeconds(1), AuditSettings.Durability.STRICT).withJournal(false);
        assertThat(s.journalled()).isFalse();
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            statements(log, 100, true);
            assertThat(log.health().commits()).isGreaterThanOrEqualTo(100);
        }
        assertThat(Files.exists(journal())).isFalse();
    }
}
