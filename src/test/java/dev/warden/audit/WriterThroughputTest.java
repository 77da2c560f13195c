package dev.warden.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The writer under sustained pressure on the default embedded H2 file store in batched mode: two
 * producer threads (like two event loops) offer statement records as fast as they are admitted, and
 * every admitted record ends up in one chain that verifies. The rate it prints is for information
 * only; the writer's rate is measured by bench/pgbench.sh (records/s during each Warden run).
 */
class WriterThroughputTest {
    static final int RECORDS = Integer.getInteger("audit.bench.records", 100_000);

    @TempDir
    Path dir;

    @Test
    void aHundredThousandRecordsFromTwoProducersFormOneIntactChain() throws Exception {
        AuditSettings s = AuditSettings.defaults(dir).withQueue(10_000, Duration.ofSeconds(2));
        AtomicLong refusedByProducers = new AtomicLong();
        long elapsed;
        try (AuditLog log = AuditLog.open(s, Clock.systemUTC())) {
            long base = log.health().written();
            long start = System.nanoTime();
            List<Thread> producers = new ArrayList<>();
            for (int p = 0; p < 2; p++) {
                int id = p;
                Thread t = new Thread(() -> {
                    int done = 0;
                    while (done < RECORDS / 2) {
                        AuditTicket tk = log.statementReceived(TestStores.statement("bench-" + id, Instant.now(),
                                "SELECT * FROM accounts WHERE id = " + done), false);
                        if (tk.durable().isCompletedExceptionally()) {
                            refusedByProducers.incrementAndGet();
                            java.util.concurrent.locks.LockSupport.parkNanos(200_000); // a refused client waits
                        } else {
                            done++;
                        }
                    }
                });
                producers.add(t);
                t.start();
            }
            for (Thread t : producers) {
                t.join();
            }
            await().atMost(Duration.ofMinutes(2)).until(() -> log.health().written() - base >= RECORDS);
            elapsed = System.nanoTime() - start;
        }
        double rate = RECORDS / (elapsed / 1e9);
        System.out.printf("audit writer: %d records in %.2f s = %.0f records/s on H2 (batched); "
                + "%d offers refused while the queue was full%n", RECORDS, elapsed / 1e9, rate, refusedByProducers.get());
        try (Connection c = java.sql.DriverManager.getConnection(s.store().url(), "sa", "")) {
            AuditVerifier.Report r = AuditVerifier.verify(c, List.of(SigningKeys.readPublic(s.signingKeyFile())),
                    AuditVerifier.Options.all());
            assertThat(r.firstProblem()).isNull();
            assertThat(r.chains().get(0).recordsChecked()).isEqualTo(RECORDS + 2L);
        }
    }
}
