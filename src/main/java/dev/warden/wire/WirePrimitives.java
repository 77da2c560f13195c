package dev.warden.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;

/**
 * Byte-level primitives shared by the codecs and {@link FrontendValidator}.
 *
 * <p>Everything here reads with absolute indexes so that callers never disturb the frame's
 * readerIndex, and the scanning methods allocate nothing so the validator can use them on the
 * hot path.
 */
final class WirePrimitives {

    /** {@link #cstringEnd} result: the range holds no NUL byte. */
    static final int NO_NUL = -1;
    /** {@link #cstringEnd} result: a byte sequence before the NUL is not well-formed UTF-8. */
    static final int BAD_UTF8 = -2;

    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;

    private WirePrimitives() {}

    /**
     * Header check common to every typed message; {@code null} when the length field matches the
     * frame exactly. Allocates only when it reports a problem.
     *
     * <p>Problems are phrased to follow "<i>Name</i> message ", as are all {@link Reader} problems,
     * so that decoders and the validator can word the same fault the same way.
     */
    static String typedFrameProblem(ByteBuf f) {
        int n = f.readableBytes();
        if (n < 5) {
            return "is " + n + " bytes long, shorter than the 5-byte type and length header";
        }
        int len = f.getInt(f.readerIndex() + 1);
        if (len < 4) {
            return "declares length " + len + ", less than the minimum of 4";
        }
        if (len > n - 1) {
            return "declares length " + len + " but only " + (n - 1) + " bytes follow the type byte";
        }
        if (len < n - 1) {
            return "declares length " + len + " but " + (n - 1 - len) + " extra bytes follow it";
        }
        return null;
    }

    /** "<i>Name</i> message" for a known type, else a description of the unknown byte. */
    static String subject(String name, ByteBuf f) {
        if (name != null) {
            return name + " message";
        }
        return f.isReadable() ? "message of type " + describeType(f.getByte(f.readerIndex())) : "message";
    }

    /**
     * Index of the NUL ending the C string that starts at {@code from}, checking on the way that
     * the string is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
     * Strict decoding matters for a gateway: a lenient decoder would let the SQL it inspects
     * differ from the bytes the server executes.
     *
     * @return the NUL's index, {@link #NO_NUL} or {@link #BAD_UTF8}
     */
    static int cstringEnd(ByteBuf b, int from, int end) {
        int p = from;
        while (p < end) {
            // Eight bytes at a time while they are all non-zero ASCII: the common case for SQL.
            while (end - p >= 8) {
                long w = b.getLong(p);
                if (((w | (w - ONES)) & HIGHS) != 0) {
                    break;
                }
                p += 8;
            }
            if (p >= end) {
                break;
            }
            int c = b.getByte(p) & 0xFF;
            if (c == 0) {
                return p;
            }
            if (c < 0x80) {
                p++;
            } else {
                int n = utf8SequenceLength(b, p, end, c);
                if (n < 0) {
                    return BAD_UTF8;
                }
                p += n;
            }
        }
        return NO_NUL;
    }

    /** Length of the multi-byte sequence led by {@code c} at {@code p}, or -1 if ill-formed. */
    private static int utf8SequenceLength(ByteBuf b, int p, int end, int c) {
        int n;
        int lo = 0x80;
        int hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            if (c == 0xE0) {
                lo = 0xA0; // shorter encodings are overlong
            } else if (c == 0xED) {
                hi = 0x9F; // ED A0..BF would encode UTF-16 surrogates
            }
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            if (c == 0xF0) {
                lo = 0x90; // overlong
            } else if (c == 0xF4) {
                hi = 0x8F; // beyond U+10FFFF
            }
        } else {
            return -1;
        }
        if (end - p < n) {
            return -1;
        }
        int c1 = b.getByte(p + 1) & 0xFF;
        if (c1 < lo || c1 > hi) {
            return -1;
        }
        for (int i = 2; i < n; i++) {
            int ci = b.getByte(p + i) & 0xFF;
            if (ci < 0x80 || ci > 0xBF) {
                return -1;
            }
        }
        return n;
    }

    /** A type byte as a human would want to read it in an error message. */
    static String describeType(byte t) {
        return t >= 0x21 && t <= 0x7E ? "'" + (char) t + "'" : String.format("0x%02X", t & 0xFF);
    }

    // ---------------------------------------------------------------- writing

    /** Writes the type byte and a length placeholder; returns where the length goes. */
    static int beginTyped(ByteBuf out, char type) {
        out.writeByte(type);
        int at = out.writerIndex();
        out.writeInt(0);
        return at;
    }

    static void endTyped(ByteBuf out, int lengthAt) {
        out.setInt(lengthAt, out.writerIndex() - lengthAt);
    }

    /**
     * Refuses strings the wire cannot carry faithfully: an embedded NUL would end the C string
     * early, and a lone surrogate has no UTF-8 form (the JDK would silently write '?').
     */
    static void writeCString(ByteBuf out, String s, String what) {
        if (s == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c == 0) {
                throw new IllegalArgumentException(what + " contains a NUL character at index " + i);
            }
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException(what + " contains an unpaired surrogate at index " + i);
            }
        }
        ByteBufUtil.writeUtf8(out, s);
        out.writeByte(0);
    }

    /** Counts are unsigned 16-bit on the wire, as the server reads them. */
    static void writeCount16(ByteBuf out, int count, String what) {
        if (count > 0xFFFF) {
            throw new IllegalArgumentException(what + " has " + count + " entries; the protocol allows at most 65535");
        }
        out.writeShort(count);
    }

    static void writeInt16s(ByteBuf out, short[] values, String what) {
        writeCount16(out, values.length, what);
        for (short v : values) {
            out.writeShort(v);
        }
    }

    /** A length-prefixed value where {@code null} is SQL NULL (length -1). */
    static void writeValue(ByteBuf out, byte[] v) {
        if (v == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(v.length);
            out.writeBytes(v);
        }
    }

    static void writeValues(ByteBuf out, byte[][] values, String what) {
        writeCount16(out, values.length, what);
        for (byte[] v : values) {
            writeValue(out, v);
        }
    }

    // ---------------------------------------------------------------- reading

    /** Bounds-checked cursor over one message body; every failure is a {@link ProtocolViolation}. */
    static final class Reader {
        private final ByteBuf buf;
        private final String message;
        private final int end;
        private int pos;

        Reader(ByteBuf buf, int pos, int end, String message) {
            this.buf = buf;
            this.pos = pos;
            this.end = end;
            this.message = message;
        }

        int remaining() {
            return end - pos;
        }

        ProtocolViolation violation(String what) {
            return new ProtocolViolation(message + " message " + what);
        }

        private void need(long n, String field) {
            if (end - pos < n) {
                throw violation("ends inside its " + field + " (" + n + (n == 1 ? " byte" : " bytes") + " needed, "
                        + (end - pos) + " left)");
            }
        }

        byte int8(String field) {
            need(1, field);
            return buf.getByte(pos++);
        }

        short int16(String field) {
            need(2, field);
            short v = buf.getShort(pos);
            pos += 2;
            return v;
        }

        int uint16(String field) {
            return int16(field) & 0xFFFF;
        }

        int int32(String field) {
            need(4, field);
            int v = buf.getInt(pos);
            pos += 4;
            return v;
        }

        byte[] bytes(int n, String field) {
            need(n, field);
            byte[] a = new byte[n];
            buf.getBytes(pos, a);
            pos += n;
            return a;
        }

        byte[] rest() {
            return bytes(remaining(), "data");
        }

        String cstring(String field) {
            int z = cstringEnd(buf, pos, end);
            if (z == NO_NUL) {
                throw violation("has an unterminated " + field);
            }
            if (z == BAD_UTF8) {
                throw violation("has invalid UTF-8 in its " + field);
            }
            String s = buf.toString(pos, z - pos, StandardCharsets.UTF_8);
            pos = z + 1;
            return s;
        }

        /** Reads a length-prefixed value; -1 is SQL NULL, other negatives are malformed. */
        byte[] value(String field) {
            int len = int32(field + " length");
            if (len == -1) {
                return null;
            }
            if (len < 0) {
                throw violation("has invalid length " + len + " for " + field);
            }
            return bytes(len, field);
        }

        /**
         * A uint16 count followed by that many int16s. The count is checked against what is left
         * before allocating, so a tiny frame cannot make us allocate a large array.
         */
        short[] int16s(String plural) {
            int n = uint16(plural + " count");
            if (2L * n > remaining()) {
                throw violation("declares " + n + " " + plural + " but the message ends after " + remaining() / 2);
            }
            short[] a = new short[n];
            for (int i = 0; i < n; i++) {
                a[i] = buf.getShort(pos);
                pos += 2;
            }
            return a;
        }

        int[] int32s(int n, String plural) {
            if (4L * n > remaining()) {
                throw violation("declares " + n + " " + plural + " but the message ends after " + remaining() / 4);
            }
            int[] a = new int[n];
            for (int i = 0; i < n; i++) {
                a[i] = buf.getInt(pos);
                pos += 4;
            }
            return a;
        }

        /** {@code n} length-prefixed values ({@code null} = SQL NULL). */
        byte[][] values(int n, String singular, String plural) {
            // Every value takes at least 4 bytes, so when n of them cannot fit the loop is bound to
            // throw before returning: skip allocating (and copying) for a hostile count.
            byte[][] a = 4L * n <= remaining() ? new byte[n][] : null;
            for (int i = 0; i < n; i++) {
                if (remaining() < 4) {
                    throw violation("declares " + n + " " + plural + " but the message ends after " + i);
                }
                int len = buf.getInt(pos);
                pos += 4;
                if (len < -1) {
                    throw violation("has invalid length " + len + " for " + singular + " " + (i + 1));
                }
                if (len > remaining()) {
                    throw violation("has " + singular + " " + (i + 1) + " declaring " + len + " bytes but only "
                            + remaining() + " remain");
                }
                if (len >= 0) {
                    if (a != null) {
                        a[i] = new byte[len];
                        buf.getBytes(pos, a[i]);
                    }
                    pos += len;
                }
            }
            return a;
        }

        void expectEnd() {
            if (pos != end) {
                int extra = end - pos;
                throw violation("has " + extra + " unexpected trailing " + (extra == 1 ? "byte" : "bytes"));
            }
        }
    }
}
