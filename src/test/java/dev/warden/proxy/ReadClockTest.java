package dev.warden.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The session clock: one reading per network read, a fresh one outside reads. */
class ReadClockTest {

    /** Returns once the monotonic clock has moved on by {@code millis} (a condition, not a sleep). */
    private static void timePasses(long millis) {
        long from = System.nanoTime();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(1))
                .until(() -> System.nanoTime() - from >= millis * 1_000_000L);
    }

    @Test
    void everythingWithinOneReadSharesOneReading() {
        ReadClock clock = new ReadClock();
        clock.readStarted();
        Instant first = clock.instant();
        long nanos = clock.nanos();
        timePasses(3);
        clock.readStarted(); // the read's next message: still the same read
        assertThat(clock.instant()).isSameAs(first);
        assertThat(clock.nanos()).isEqualTo(nanos);
    }

    @Test
    void theNextReadAndWorkOutsideReadsGetTheTimeAfresh() {
        ReadClock clock = new ReadClock();
        clock.readStarted();
        Instant inRead = clock.instant();
        long nanosInRead = clock.nanos();
        clock.readFinished();
        timePasses(3);
        // outside a read (a timer, a strict wait's callback): now, not the last read's time
        assertThat(clock.instant()).isAfter(inRead);
        assertThat(clock.nanos() - nanosInRead).isGreaterThanOrEqualTo(3_000_000L);
        timePasses(3);
        clock.readStarted();
        assertThat(clock.instant()).isAfterOrEqualTo(inRead.plusMillis(6));
        assertThat(clock.nanos() - nanosInRead).isGreaterThanOrEqualTo(6_000_000L);
    }

    @Test
    void aReadTakesItsReadingOnFirstUseNotWhenItStarts() {
        ReadClock clock = new ReadClock();
        clock.readStarted();
        long started = System.nanoTime();
        timePasses(2);
        assertThat(clock.nanos() - started).isGreaterThanOrEqualTo(2_000_000L);
    }
}
