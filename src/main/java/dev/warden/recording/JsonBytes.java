package dev.warden.recording;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A reusable byte buffer that JSON notes are written into as UTF-8 directly, for the per-statement note
 * on the event loop: no StringBuilder, String or {@code getBytes} copy per statement. The bytes are
 * exactly those of {@link Json#string} followed by {@code getBytes(UTF_8)} (JsonBytesTest).
 */
final class JsonBytes {
    private byte[] buf = new byte[256];
    private int len;

    JsonBytes reset() {
        len = 0;
        return this;
    }

    byte[] array() {
        return buf;
    }

    int length() {
        return len;
    }

    /** ASCII text as is (callers pass constants: keys and punctuation). */
    JsonBytes ascii(String s) {
        int n = s.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[len++] = (byte) s.charAt(i);
        }
        return this;
    }

    JsonBytes ascii(char c) {
        ensure(1);
        buf[len++] = (byte) c;
        return this;
    }

    JsonBytes number(long v) {
        if (v == Long.MIN_VALUE) {
            return ascii(Long.toString(v));
        }
        ensure(20);
        if (v < 0) {
            buf[len++] = '-';
            v = -v;
        }
        int start = len;
        do {
            buf[len++] = (byte) ('0' + v % 10);
            v /= 10;
        } while (v != 0);
        for (int i = start, j = len - 1; i < j; i++, j--) {
            byte t = buf[i];
            buf[i] = buf[j];
            buf[j] = t;
        }
        return this;
    }

    /** A JSON string: quoted, escaped as {@link Json#string} does, UTF-8 encoded. */
    JsonBytes string(String s) {
        ensure(s.length() + 2);
        buf[len++] = '"';
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
                ensure(1);
                buf[len++] = (byte) c;
            } else if (c >= 0x80 && c != 0x2028 && c != 0x2029) {
                // non-ASCII: this character (or surrogate pair) as String.getBytes would encode it
                int end = Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))
                        ? i + 2 : i + 1;
                byte[] b = s.substring(i, end).getBytes(StandardCharsets.UTF_8);
                ensure(b.length);
                System.arraycopy(b, 0, buf, len, b.length);
                len += b.length;
                i = end - 1;
            } else {
                StringBuilder e = new StringBuilder(8);
                Json.string(e, String.valueOf(c));
                ascii(e.substring(1, e.length() - 1));
            }
        }
        ensure(1);
        buf[len++] = '"';
        return this;
    }

    private void ensure(int more) {
        if (len + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
        }
    }
}
