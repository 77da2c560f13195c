package dev.warden.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded store's file cannot be forced to disk (an fsync that fails, as on a disk error): the
 * writer must mark the store unavailable — records it reported durable may not be on the disk — and
 * resume by itself only once it has reopened the store and a sync has succeeded. No admitted statement
 * loses its record, and the chain verifies afterwards. (That statements are refused while the store
 * is unavailable is the same flag {@code StoreOutageTest} holds down; here the reopened file has no
 * fault, so the outage lasts milliseconds and a statement may or may not fall into it.)
 *
 * <p>The failure is injected below H2, in the file channel of the real store: writes go to the real
 * file, only {@code force} fails, exactly what a disk error looks like to the process.
 */
class SyncFailureTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "journal {0}")
    @ValueSource(booleans = {true, false})
    void aFailedSyncMarksTheStoreUnavailableUntilItIsReopenedAndSyncedAndLosesNothing(boolean journal) throws Exception {
        AuditSettings s = AuditSettings.defaults(dir).withInstanceId("i-sync").withSyncInterval(Duration.ofMillis(100))
                .withDurability(AuditSettings.Durability.BATCHED, Duration.ofMillis(2)).withJournal(journal);
        assertThat(s.journalled()).isEqualTo(journal);
        Set<String> executed = new HashSet<>();
        Set<String> refused = new HashSet<>();
        AtomicInteger failedForces = new AtomicInteger();
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            for (int i = 0; i < 30; i++) {
                executed.add(StoreOutageTest.run(log, i % 10 == 0, "SELECT " + i, refused));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> log.health().syncs() >= 1);
            long syncsBefore = log.health().syncs();

            // the disk fails every sync while this connection keeps the broken store open (the writer's
            // reconnects reach the same store); closing it is the repair: the next reconnect reopens the file
            try (Connection holder = failForce(s, failedForces)) {
                executed.add(StoreOutageTest.run(log, false, "SELECT to sync", refused)); // a write makes a sync due
                await().atMost(Duration.ofSeconds(10)).until(() -> !log.health().available());
                assertThat(log.health().problem()).contains("could not be forced to disk");
                assertThat(log.health().outages()).isEqualTo(1);
                for (int i = 0; i < 10; i++) {
                    AuditTicket t = log.statementReceived(TestStores.statement("s", Instant.now(), "SELECT during"),
                            i % 2 == 0);
                    Throwable why = t.durable().handle((v, e) -> e instanceof CompletionException ? e.getCause() : e)
                            .join();
                    assertThat(why).as("a statement while the store cannot sync").isInstanceOf(
                            AuditUnavailableException.class);
                    assertThat(why.getMessage()).startsWith("auditing is unavailable");
                }
                // the writer retries meanwhile: each reconnect finds the failing sync again, and stays down
                await().atMost(Duration.ofSeconds(10)).until(() -> failedForces.get() >= 3);
                assertThat(log.health().available()).isFalse();
                assertThat(log.health().outages()).as("one outage, however many retries").isEqualTo(1);
            }

            // the store is reopened (a new file channel, without the fault) and synced: service resumes by itself
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                AuditTicket t = log.statementReceived(TestStores.statement("s", Instant.now(), "SELECT after"), true);
                if (t.durable().handle((v, e) -> e == null).join()) {
                    executed.add(t.recordId());
                    return true;
                }
                return false;
            });
            assertThat(log.health().available()).isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> log.health().syncs() > syncsBefore);
            for (int i = 0; i < 10; i++) {
                executed.add(StoreOutageTest.run(log, false, "SELECT again " + i, refused));
            }
        }
        executed.remove(null);
        if (journal) {
            assertThat(Files.size(dir.resolve("audit.journal"))).as("a clean stop empties the journal").isZero();
        }
        try (Connection c = DriverManager.getConnection(s.store().url(), "sa", "")) {
            Set<String> stored = new HashSet<>();
            for (StoredRecord r : TestStores.records(c)) {
                if (r.type().equals("statement")) {
                    stored.add(r.projection().recordId());
                }
            }
            assertThat(stored).as("every admitted statement has its record").containsAll(executed);
            AuditVerifier.Report r = AuditVerifier.verify(c, List.of(SigningKeys.readPublic(s.signingKeyFile())),
                    AuditVerifier.Options.all());
            assertThat(r.firstProblem()).isNull();
        }
    }

    /**
     * Replaces the open store's file channel with one whose {@code force} fails; the same process's
     * second connection reaches the same H2 database, so this is the writer's store. While the returned
     * connection is open the database stays open with the failing channel; once it is closed (and the
     * writer has dropped its own), the writer's next reconnect reopens the file with a sound channel.
     */
    private static Connection failForce(AuditSettings s, AtomicInteger failures) throws Exception {
        Connection c = DriverManager.getConnection(s.store().url(), "sa", "");
        MVStore mv = EmbeddedCompaction.mvStore(c);
        Object store = mv.getFileStore();
        Field f = store.getClass().getDeclaredField("fileChannel");
        f.setAccessible(true);
        f.set(store, new FailingForce((FileChannel) f.get(store), failures));
        return c;
    }

    /** A file channel that does everything the real one does, except that {@code force} fails. */
    private static final class FailingForce extends FileChannel {
        private final FileChannel real;
        private final AtomicInteger failures;

        FailingForce(FileChannel real, AtomicInteger failures) {
            this.real = real;
            this.failures = failures;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            failures.incrementAndGet();
            throw new IOException("Input/output error (injected: fsync failed)");
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return real.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return real.read(dsts, offset, length);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return real.write(src);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            return real.write(srcs, offset, length);
        }

        @Override
        public long position() throws IOException {
            return real.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            real.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return real.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            real.truncate(size);
            return this;
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return real.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            return real.transferFrom(src, position, count);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return real.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            return real.write(src, position);
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            return real.map(mode, position, size);
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return real.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return real.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            real.close();
        }
    }
}
