package dev.warden.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriterPriorityTest {
    @TempDir
    Path dir;

    @Test
    void readsTheNiceFieldEvenWhenTheCommandNameHasSpacesAndParentheses() {
        String stat = "4242 (warden) (x y) S 1 4242 4242 0 -1 4194368 100 0 0 0 5 3 0 0 30 10 40 0 12345 0 0";
        assertThat(WriterPriority.niceOf(stat)).isEqualTo(10);
        assertThatThrownBy(() -> WriterPriority.niceOf("garbage")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> WriterPriority.lower(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> WriterPriority.lower(20)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void lowersOnlyTheCallingThread() throws Exception {
        assumeLinuxWithRenice();
        int mine = WriterPriority.nice();
        assumeThat(mine).as("this JVM already runs niced").isLessThan(7);
        AtomicReference<WriterPriority.Result> result = new AtomicReference<>();
        AtomicReference<Integer> seen = new AtomicReference<>();
        Thread t = new Thread(() -> {
            result.set(WriterPriority.lower(7));
            try {
                seen.set(WriterPriority.nice());
                // a second call is a no-op that says so
                result.set(new WriterPriority.Result(WriterPriority.lower(3).nice(), result.get().message()));
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        t.start();
        t.join(10_000);
        assertThat(result.get().message()).contains("runs at nice 7");
        assertThat(seen.get()).isEqualTo(7);
        assertThat(result.get().nice()).as("not lowered back").isEqualTo(7);
        assertThat(WriterPriority.nice()).as("the calling thread is untouched").isEqualTo(mine);
    }

    @Test
    void theWriterThreadRunsNicedWithBatchedDurabilityAndAtNormalPriorityWithStrict() throws Exception {
        assumeLinuxWithRenice();
        int mine = WriterPriority.nice();
        assumeThat(mine).as("this JVM already runs niced").isZero();
        AuditSettings batched = TestStores.settings(dir.resolve("b"), TestStores.fresh(TestStores.Kind.H2));
        assertThat(batched.durability()).isEqualTo(AuditSettings.Durability.BATCHED);
        assertThat(newWriterNices(batched)).containsExactly(AuditSettings.BACKGROUND_NICE);
        AuditSettings strict = batched.withDurability(AuditSettings.Durability.STRICT, batched.batchWindow());
        assertThat(newWriterNices(strict.withStore(TestStores.fresh(TestStores.Kind.H2)))).containsExactly(0);
        assertThat(newWriterNices(strict.withWriterNice(4).withStore(TestStores.fresh(TestStores.Kind.H2))))
                .containsExactly(4);
    }

    /** Opens an audit log and returns the nice values of the writer threads that appeared with it. */
    private static List<Integer> newWriterNices(AuditSettings settings) throws Exception {
        Map<String, Integer> before = writers();
        try (AuditLog log = AuditLog.open(settings, Clock.systemUTC())) {
            Map<String, Integer> after = writers();
            after.keySet().removeAll(before.keySet());
            return new ArrayList<>(after.values());
        }
    }

    /** This JVM's audit writer threads: thread id to nice value. */
    private static Map<String, Integer> writers() throws Exception {
        Map<String, Integer> out = new HashMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                try {
                    if (Files.readString(t.resolve("comm")).trim().equals("warden-audit-wr")) {
                        out.put(t.getFileName().toString(), WriterPriority.niceOf(Files.readString(t.resolve("stat"))));
                    }
                } catch (java.io.IOException gone) {
                    // the thread ended while listing
                }
            }
        }
        return out;
    }

    private static void assumeLinuxWithRenice() {
        assumeThat(Files.isSymbolicLink(Path.of("/proc/thread-self"))).as("Linux /proc").isTrue();
        assumeThat(Files.isExecutable(Path.of("/usr/bin/renice")) || Files.isExecutable(Path.of("/bin/renice")))
                .as("renice installed").isTrue();
    }
}
