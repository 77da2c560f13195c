package dev.warden.wire;

import io.netty.buffer.ByteBuf;

/**
 * Structural check of every typed client message before it is forwarded upstream.
 *
 * <p>This runs on the hot path, so the accepting path reads the frame by absolute index in a
 * single pass and allocates nothing: no strings are decoded (UTF-8 well-formedness is checked
 * in place) and no arrays are built. Only once a frame has been found invalid is the reason
 * worked out, by decoding it with {@link FrontendCodec}; that keeps the two in agreement on the
 * wording, while the verdict itself is computed independently here (the tests check that both
 * always agree).
 */
public final class FrontendValidator {

    private FrontendValidator() {
    }

    /**
     * {@code null} if {@code frame} (type byte, length word, body and nothing more) is a
     * structurally valid frontend message, else a short reason. Never throws; leaves the
     * frame's indexes alone.
     */
    public static String check(ByteBuf frame) {
        return isValid(frame) ? null : explain(frame);
    }

    /** The verdict of {@link #check} without the reason. */
    public static boolean isValid(ByteBuf f) {
        int s = f.readerIndex();
        int n = f.readableBytes();
        // The length word counts itself but not the type byte; equality also implies it is >= 4.
        if (n < 5 || f.getInt(s + 1) != n - 1) {
            return false;
        }
        int p = s + 5;
        int end = s + n;
        switch (f.getByte(s)) {
            case 'Q':
            case 'f':
                return afterCString(f, p, end) == end;
            case 'P':
                return parse(f, p, end);
            case 'B':
                return bind(f, p, end);
            case 'D':
            case 'C':
                return end - p >= 1 && isKind(f.getByte(p)) && afterCString(f, p + 1, end) == end;
            case 'E':
                p = afterCString(f, p, end);
                return p >= 0 && end - p == 4;
            case 'S':
            case 'H':
            case 'c':
            case 'X':
                return p == end;
            case 'd':
                return true;
            case 'F':
                return functionCall(f, p, end);
            case 'p':
                // Password, GSS and SASL payloads are only interpretable by whoever runs the
                // authentication exchange; an empty one is never meaningful.
                return p < end;
            default:
                return false;
        }
    }

    private static boolean parse(ByteBuf f, int p, int end) {
        p = afterCString(f, p, end);
        if (p < 0) {
            return false;
        }
        p = afterCString(f, p, end);
        if (p < 0 || end - p < 2) {
            return false;
        }
        int types = f.getUnsignedShort(p);
        return end - (p + 2) == 4L * types;
    }

    private static boolean bind(ByteBuf f, int p, int end) {
        p = afterCString(f, p, end);
        if (p < 0) {
            return false;
        }
        p = afterCString(f, p, end);
        if (p < 0 || end - p < 2) {
            return false;
        }
        int formats = f.getUnsignedShort(p);
        p = afterInt16s(f, p, end);
        if (p < 0 || end - p < 2) {
            return false;
        }
        int values = f.getUnsignedShort(p);
        if (formats > 1 && formats != values) {
            return false;
        }
        p = afterValues(f, p + 2, end, values);
        return p >= 0 && afterInt16s(f, p, end) == end;
    }

    private static boolean functionCall(ByteBuf f, int p, int end) {
        if (end - p < 6) {
            return false;
        }
        p += 4; // function OID
        int formats = f.getUnsignedShort(p);
        p = afterInt16s(f, p, end);
        if (p < 0 || end - p < 2) {
            return false;
        }
        int args = f.getUnsignedShort(p);
        if (formats > 1 && formats != args) {
            return false;
        }
        p = afterValues(f, p + 2, end, args);
        return p >= 0 && end - p == 2; // result format code
    }

    private static boolean isKind(byte b) {
        return b == 'S' || b == 'P';
    }

    /** Position after a NUL-terminated UTF-8 string starting at {@code p}, or -1. */
    private static int afterCString(ByteBuf f, int p, int end) {
        int z = WirePrimitives.cstringEnd(f, p, end);
        return z < 0 ? -1 : z + 1;
    }

    /** Position after a uint16 count and that many int16s, or -1 if they overrun {@code end}. */
    private static int afterInt16s(ByteBuf f, int p, int end) {
        if (end - p < 2) {
            return -1;
        }
        int n = f.getUnsignedShort(p);
        p += 2;
        return end - p < 2L * n ? -1 : p + 2 * n;
    }

    /** Position after {@code n} length-prefixed values (-1 = NULL), or -1 if malformed. */
    private static int afterValues(ByteBuf f, int p, int end, int n) {
        for (int i = 0; i < n; i++) {
            if (end - p < 4) {
                return -1;
            }
            int len = f.getInt(p);
            p += 4;
            if (len < -1 || len > end - p) {
                return -1;
            }
            if (len > 0) {
                p += len;
            }
        }
        return p;
    }

    /** Failure path only: let the decoder word the fault. */
    private static String explain(ByteBuf frame) {
        try {
            FrontendCodec.decode(frame);
        } catch (ProtocolViolation e) {
            return e.getMessage();
        } catch (RuntimeException e) {
            // The validator must never throw; fall through to the generic reason.
        }
        // Only reachable if the decoder accepts what isValid rejected, which the tests rule out;
        // the frame still must not travel upstream.
        String name = frame.isReadable() ? FrontendCodec.messageName(frame.getByte(frame.readerIndex())) : null;
        return WirePrimitives.subject(name, frame) + " is malformed";
    }
}
