package dev.warden.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The session clock: one reading per network read, a fresh one outside reads. */
class ReadClockTest {

    @Test
    void everythingWithinOneReadSharesOneReading() throws Exception {
        ReadClock clock = new ReadClock();
        clock.readStarted();
        Instant first = clock.instant();
        long nanos = clock.nanos();
        Thread.sleep(3);
        clock.readStarted(); // the read's next message: still the same read
        assertThat(clock.instant()).isSameAs(first);
        assertThat(clock.nanos()).isEqualTo(nanos);
    }

    @Test
    void theNextReadAndWorkOutsideReadsGetTheTimeAfresh() throws Exception {
        ReadClock clock = new ReadClock();
        clock.readStarted();
        Instant inRead = clock.instant();
        long nanosInRead = clock.nanos();
        clock.readFinished();
        Thread.sleep(3);
        // outside a read (a timer, a strict wait's callback): now, not the last read's time
        assertThat(clock.instant()).isAfter(inRead);
        assertThat(clock.nanos() - nanosInRead).isGreaterThanOrEqualTo(3_000_000L);
        Thread.sleep(3);
        clock.readStarted();
        assertThat(clock.instant()).isAfterOrEqualTo(inRead.plusMillis(6));
        assertThat(clock.nanos() - nanosInRead).isGreaterThanOrEqualTo(6_000_000L);
    }

    @Test
    void aReadThatAsksNothingReadsNoClock() throws Exception {
        ReadClock clock = new ReadClock();
        clock.readStarted();
        clock.readFinished();
        Instant before = Instant.now();
        clock.readStarted();
        // the reading is taken on first use within the read, not when the read started
        Thread.sleep(2);
        assertThat(clock.instant()).isAfter(before);
    }
}
