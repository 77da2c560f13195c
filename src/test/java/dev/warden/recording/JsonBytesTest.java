package dev.warden.recording;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The event loop's byte-direct JSON strings are the bytes the StringBuilder path produced. */
class JsonBytesTest {
    private static byte[] reference(String s) {
        StringBuilder b = new StringBuilder();
        Json.string(b, s);
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] direct(JsonBytes j, String s) {
        j.reset().string(s);
        return Arrays.copyOf(j.array(), j.length());
    }

    @Test
    void awkwardStringsEncodeAsBefore() {
        JsonBytes j = new JsonBytes();
        for (String s : new String[] {"", "SELECT 1", "a\"b\\c", "line\nbreak\r\ttab", "\u0000\u001f\u007f",
                "naïve café ✓", "emoji 😀 pair", "lone \ud800 high", "lone \udc00 low", "\u2028\u2029",
                "end with high \ud83d", "x".repeat(1000)}) {
            assertThat(direct(j, s)).as(s).isEqualTo(reference(s));
        }
    }

    @Test
    void randomStringsEncodeAsBefore() {
        Random r = new Random(42);
        JsonBytes j = new JsonBytes();
        char[] pool = {'a', 'Z', '0', ' ', '"', '\\', '\n', '\u0001', '\u007f', '\u00e9', '\u20ac', '\u2028',
                '\ud83d', '\ude00', '\udc00', '\uffff'};
        for (int n = 0; n < 20_000; n++) {
            char[] c = new char[r.nextInt(40)];
            for (int i = 0; i < c.length; i++) {
                c[i] = r.nextInt(4) == 0 ? (char) r.nextInt(0x10000) : pool[r.nextInt(pool.length)];
            }
            String s = new String(c);
            assertThat(direct(j, s)).as("case %d", n).isEqualTo(reference(s));
        }
    }

    @Test
    void numbersAndConstants() {
        JsonBytes j = new JsonBytes();
        for (long v : new long[] {0, 7, -1, 1234567890123L, Long.MAX_VALUE, Long.MIN_VALUE}) {
            j.reset().ascii("{\"n\":").number(v).ascii('}');
            assertThat(new String(j.array(), 0, j.length(), StandardCharsets.US_ASCII)).isEqualTo("{\"n\":" + v + "}");
        }
    }
}
