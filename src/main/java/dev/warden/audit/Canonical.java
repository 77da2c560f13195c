package dev.warden.audit;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The canonical JSON encoding that audit records are hashed and checkpoints signed over (see
 * docs/audit.md, "Canonical encoding"). It is RFC 8785 (JCS) restricted to what audit records hold:
 * <ul>
 *   <li>UTF-8, no whitespace, object keys sorted by UTF-16 code units (as Java's {@code String.compareTo});</li>
 *   <li>object members whose value is null are left out; null inside an array is written {@code null};</li>
 *   <li>numbers are whole numbers only (Java long), written in plain decimal;</li>
 *   <li>strings escape {@code "} and {@code \} and control characters (U+0000..U+001F) — {@code \b \t \n \f \r}
 *       in their short form, others as {@code \}{@code u00xx} with lower-case hex; everything else is written as
 *       itself; an unpaired surrogate becomes U+FFFD;</li>
 *   <li>timestamps are strings, UTC, microsecond precision, always six fraction digits:
 *       {@code 2025-03-01T12:00:00.000000Z}.</li>
 * </ul>
 * Trees are built from {@link Map} (any order), {@link Collection}, {@link String}, {@link Number}
 * (integral), {@link Boolean}, {@link Instant} and null.
 *
 * <p>One file on purpose: the tree encoder, the byte writer the direct statement encoder uses
 * ({@link StatementEncoder}) and the decoder must apply exactly the same escaping and time rules —
 * a record hashed one way and re-encoded another would fail verification — so they live together.
 */
public final class Canonical {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_LONG_FOR_INTS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
            .withZone(ZoneOffset.UTC);
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private Canonical() {
    }

    public static byte[] encode(Object tree) {
        StringBuilder sb = new StringBuilder(256);
        write(sb, tree);
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    public static String encodeToString(Object tree) {
        StringBuilder sb = new StringBuilder(256);
        write(sb, tree);
        return sb.toString();
    }

    /** Parses JSON into maps (keys sorted), lists, strings, longs, booleans and nulls. */
    public static Object decode(byte[] json) {
        try {
            return sortMaps(JSON.readValue(json, Object.class));
        } catch (IOException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> decodeObject(byte[] json) {
        Object o = decode(json);
        if (!(o instanceof Map)) {
            throw new IllegalArgumentException("not a JSON object");
        }
        return (Map<String, Object>) o;
    }

    /** The canonical text of an instant: UTC, microseconds, six fraction digits. */
    public static String time(Instant t) {
        long sec = t.getEpochSecond();
        long day = Math.floorDiv(sec, 86_400L);
        java.time.LocalDate d = java.time.LocalDate.ofEpochDay(day);
        if (d.getYear() < 1000 || d.getYear() > 9999) {
            return TIME.format(t.truncatedTo(ChronoUnit.MICROS));
        }
        // hand-written: this runs for every record on the event loop, DateTimeFormatter is several times slower
        int sod = (int) Math.floorMod(sec, 86_400L);
        char[] c = new char[27];
        digits(c, 0, d.getYear(), 4);
        c[4] = '-';
        digits(c, 5, d.getMonthValue(), 2);
        c[7] = '-';
        digits(c, 8, d.getDayOfMonth(), 2);
        c[10] = 'T';
        digits(c, 11, sod / 3600, 2);
        c[13] = ':';
        digits(c, 14, sod / 60 % 60, 2);
        c[16] = ':';
        digits(c, 17, sod % 60, 2);
        c[19] = '.';
        digits(c, 20, t.getNano() / 1000, 6);
        c[26] = 'Z';
        return new String(c);
    }

    private static void digits(char[] c, int at, int value, int width) {
        for (int i = at + width - 1; i >= at; i--) {
            c[i] = (char) ('0' + value % 10);
            value /= 10;
        }
    }

    public static Instant parseTime(String s) {
        return Instant.parse(s);
    }

    /** Writes {@code s} as a canonical JSON string (with quotes) to {@code out}. */
    static void writeString(StringBuilder out, String s) {
        out.append('"');
        if (plain(s)) { // the usual case: nothing to escape, copied at once
            out.append(s).append('"');
            return;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\t' -> out.append("\\t");
                case '\n' -> out.append("\\n");
                case '\f' -> out.append("\\f");
                case '\r' -> out.append("\\r");
                default -> {
                    if (c < 0x20) {
                        out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
                    } else if (Character.isHighSurrogate(c)) {
                        if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                            out.append(c).append(s.charAt(++i));
                        } else {
                            out.append('\uFFFD');
                        }
                    } else if (Character.isLowSurrogate(c)) {
                        out.append('\uFFFD');
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** True when every char is written as itself (no escape, no surrogate). */
    private static boolean plain(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == '"' || c == '\\' || Character.isSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    private static void write(StringBuilder out, Object v) {
        if (v == null) {
            out.append("null");
        } else if (v instanceof String s) {
            writeString(out, s);
        } else if (v instanceof Boolean b) {
            out.append(b ? "true" : "false");
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            out.append(((Number) v).longValue());
        } else if (v instanceof Instant t) {
            writeString(out, time(t));
        } else if (v instanceof TreeMap<?, ?> t && t.comparator() == null) {
            // already in key order (the record builders use TreeMaps): no copy
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : t.entrySet()) {
                if (e.getValue() == null) {
                    continue;
                }
                if (!(e.getKey() instanceof String k)) {
                    throw new IllegalArgumentException("object keys must be strings, got " + e.getKey());
                }
                if (!first) {
                    out.append(',');
                }
                first = false;
                writeString(out, k);
                out.append(':');
                write(out, e.getValue());
            }
            out.append('}');
        } else if (v instanceof Map<?, ?> m) {
            TreeMap<String, Object> sorted = new TreeMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String k)) {
                    throw new IllegalArgumentException("object keys must be strings, got " + e.getKey());
                }
                if (e.getValue() != null) {
                    sorted.put(k, e.getValue());
                }
            }
            out.append('{');
            boolean first = true;
            for (Map.Entry<String, Object> e : sorted.entrySet()) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                writeString(out, e.getKey());
                out.append(':');
                write(out, e.getValue());
            }
            out.append('}');
        } else if (v instanceof Collection<?> c) {
            out.append('[');
            boolean first = true;
            for (Object o : c) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                write(out, o);
            }
            out.append(']');
        } else {
            throw new IllegalArgumentException("cannot encode " + v.getClass().getSimpleName() + " canonically");
        }
    }

    @SuppressWarnings("unchecked")
    private static Object sortMaps(Object o) {
        if (o instanceof Map<?, ?> m) {
            TreeMap<String, Object> t = new TreeMap<>();
            ((Map<String, Object>) m).forEach((k, v) -> t.put(k, sortMaps(v)));
            return t;
        }
        if (o instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            for (Object x : l) {
                out.add(sortMaps(x));
            }
            return out;
        }
        if (o instanceof Number n && !(o instanceof Long)) {
            if (n instanceof Integer || n instanceof Short) {
                return n.longValue();
            }
            throw new IllegalArgumentException("only whole numbers are allowed, got " + n);
        }
        return o;
    }

    /** {@code s} with every unpaired surrogate replaced by U+FFFD, as the encoding writes it. */
    static String wellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isSurrogate(c)) {
                StringBuilder sb = new StringBuilder(s.length());
                writeChars(sb, s);
                return sb.toString();
            }
        }
        return s;
    }

    private static void writeChars(StringBuilder out, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                out.append(c).append(s.charAt(++i));
            } else {
                out.append(Character.isSurrogate(c) ? '\uFFFD' : c);
            }
        }
    }

    /**
     * A growable UTF-8 byte buffer that writes canonical JSON pieces directly as bytes, with exactly the
     * rules of {@link #writeString} and {@link #time} (for {@link StatementEncoder}, on the hot path).
     * Not thread-safe: one per thread.
     */
    static final class Bytes {
        byte[] buf;
        int len;

        Bytes(int capacity) {
            buf = new byte[capacity];
        }

        /** These bytes as they are (not copied). */
        static Bytes wrap(byte[] bytes) {
            Bytes b = new Bytes(0);
            b.buf = bytes;
            b.len = bytes.length;
            return b;
        }

        void reset() {
            len = 0;
        }

        byte[] toByteArray() {
            return java.util.Arrays.copyOf(buf, len);
        }

        void ensure(int more) {
            if (len + more > buf.length) {
                buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
            }
        }

        void put(char asciiChar) {
            ensure(1);
            buf[len++] = (byte) asciiChar;
        }

        void put(byte[] raw) {
            ensure(raw.length);
            System.arraycopy(raw, 0, buf, len, raw.length);
            len += raw.length;
        }

        /** A comma unless this is the first member of the object just opened (nothing but its brace yet). */
        void comma() {
            if (buf[len - 1] != '{') {
                put(',');
            }
        }

        /** The next member's key and colon, given as its canonical bytes ({@code "name":}), after a comma if needed. */
        void key(byte[] quotedKeyAndColon) {
            comma();
            put(quotedKeyAndColon);
        }

        void bool(boolean b) {
            if (b) {
                put(TRUE);
            } else {
                put(FALSE);
            }
        }

        void number(long v) {
            if (v == Long.MIN_VALUE) {
                put(MIN_LONG);
                return;
            }
            ensure(20);
            if (v < 0) {
                buf[len++] = '-';
                v = -v;
            }
            int end = len + digitCount(v);
            int i = end;
            do {
                buf[--i] = (byte) ('0' + (int) (v % 10));
                v /= 10;
            } while (v != 0);
            len = end;
        }

        private static int digitCount(long v) {
            int n = 1;
            while (v >= 10) {
                v /= 10;
                n++;
            }
            return n;
        }

        /** {@code s} as a canonical JSON string, with quotes, in UTF-8 (the bytes {@code writeString} gives). */
        void string(String s) {
            int n = s.length();
            ensure(n + 2);
            byte[] b = buf;
            int at = len;
            b[at++] = '"';
            int i = 0;
            for (; i < n; i++) { // the usual case: ASCII that needs no escape
                char c = s.charAt(i);
                if (c >= 0x80 || c < 0x20 || c == '"' || c == '\\') {
                    break;
                }
                b[at++] = (byte) c;
            }
            len = at;
            if (i < n) {
                rest(s, i);
            }
            put('"');
        }

        private void rest(String s, int from) {
            int n = s.length();
            for (int i = from; i < n; i++) {
                char c = s.charAt(i);
                ensure(6);
                byte[] b = buf;
                if (c < 0x80) {
                    switch (c) {
                        case '"' -> { b[len++] = '\\'; b[len++] = '"'; }
                        case '\\' -> { b[len++] = '\\'; b[len++] = '\\'; }
                        case '\b' -> { b[len++] = '\\'; b[len++] = 'b'; }
                        case '\t' -> { b[len++] = '\\'; b[len++] = 't'; }
                        case '\n' -> { b[len++] = '\\'; b[len++] = 'n'; }
                        case '\f' -> { b[len++] = '\\'; b[len++] = 'f'; }
                        case '\r' -> { b[len++] = '\\'; b[len++] = 'r'; }
                        default -> {
                            if (c < 0x20) {
                                b[len++] = '\\';
                                b[len++] = 'u';
                                b[len++] = '0';
                                b[len++] = '0';
                                b[len++] = (byte) HEX[c >> 4];
                                b[len++] = (byte) HEX[c & 0xF];
                            } else {
                                b[len++] = (byte) c;
                            }
                        }
                    }
                } else if (c < 0x800) {
                    b[len++] = (byte) (0xC0 | c >> 6);
                    b[len++] = (byte) (0x80 | c & 0x3F);
                } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    int cp = Character.toCodePoint(c, s.charAt(++i));
                    b[len++] = (byte) (0xF0 | cp >> 18);
                    b[len++] = (byte) (0x80 | cp >> 12 & 0x3F);
                    b[len++] = (byte) (0x80 | cp >> 6 & 0x3F);
                    b[len++] = (byte) (0x80 | cp & 0x3F);
                } else {
                    char w = Character.isSurrogate(c) ? '\uFFFD' : c; // unpaired: U+FFFD, as writeString
                    b[len++] = (byte) (0xE0 | w >> 12);
                    b[len++] = (byte) (0x80 | w >> 6 & 0x3F);
                    b[len++] = (byte) (0x80 | w & 0x3F);
                }
            }
        }

        /** A JSON string of the ASCII {@code prefix} and the lower-case hex of {@code raw}: the bytes of {@code string(prefix + hex(raw))}. */
        void hexString(byte[] asciiPrefix, byte[] raw) {
            ensure(asciiPrefix.length + 2 * raw.length + 2);
            byte[] b = buf;
            int at = len;
            b[at++] = '"';
            System.arraycopy(asciiPrefix, 0, b, at, asciiPrefix.length);
            at = hexInto(raw, b, at + asciiPrefix.length);
            b[at++] = '"';
            len = at;
        }

        /** The day {@link #dayDigits} spell ({@code YYYY-MM-DD}); records of one buffer mostly share it. */
        private long cachedDay = Long.MIN_VALUE;
        private final byte[] dayDigits = new byte[10];

        /** An instant as a canonical JSON string: the bytes of {@code writeString(time(t))}. */
        void time(Instant t) {
            long sec = t.getEpochSecond();
            long day = Math.floorDiv(sec, 86_400L);
            if (day != cachedDay) {
                java.time.LocalDate d = java.time.LocalDate.ofEpochDay(day);
                int year = d.getYear();
                if (year < 1000 || year > 9999) {
                    string(Canonical.time(t));
                    return;
                }
                digits(dayDigits, 0, year, 4);
                dayDigits[4] = '-';
                digits(dayDigits, 5, d.getMonthValue(), 2);
                dayDigits[7] = '-';
                digits(dayDigits, 8, d.getDayOfMonth(), 2);
                cachedDay = day;
            }
            int sod = (int) Math.floorMod(sec, 86_400L);
            ensure(29);
            byte[] c = buf;
            int at = len;
            c[at] = '"';
            System.arraycopy(dayDigits, 0, c, at + 1, 10);
            c[at + 11] = 'T';
            digits(c, at + 12, sod / 3600, 2);
            c[at + 14] = ':';
            digits(c, at + 15, sod / 60 % 60, 2);
            c[at + 17] = ':';
            digits(c, at + 18, sod % 60, 2);
            c[at + 20] = '.';
            digits(c, at + 21, t.getNano() / 1000, 6);
            c[at + 27] = 'Z';
            c[at + 28] = '"';
            len = at + 29;
        }

        private static void digits(byte[] c, int at, int value, int width) {
            for (int i = at + width - 1; i >= at; i--) {
                c[i] = (byte) ('0' + value % 10);
                value /= 10;
            }
        }

        private static final byte[] TRUE = {'t', 'r', 'u', 'e'};
        private static final byte[] FALSE = {'f', 'a', 'l', 's', 'e'};
        private static final byte[] MIN_LONG = Long.toString(Long.MIN_VALUE).getBytes(StandardCharsets.US_ASCII);
    }

    /** Lower-case hex, as hashes are shown everywhere. */
    public static String hex(byte[] b) {
        byte[] out = new byte[b.length * 2];
        hexInto(b, out, 0);
        return new String(out, StandardCharsets.US_ASCII);
    }

    /** Writes the lower-case hex of {@code raw} into {@code dst} at {@code at}; returns the index after it. */
    private static int hexInto(byte[] raw, byte[] dst, int at) {
        for (byte x : raw) {
            dst[at++] = (byte) HEX[(x >> 4) & 0xF];
            dst[at++] = (byte) HEX[x & 0xF];
        }
        return at;
    }
}
