package dev.warden.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;

/**
 * Test helpers: a hand-rolled byte builder (independent of the codecs, so layout tests do not
 * just check the encoder against itself), frame placement and frame corruption.
 */
final class WireTestSupport {

    private WireTestSupport() {
    }

    /** Builds message bytes field by field, exactly as the protocol documentation lays them out. */
    static final class Bytes {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        static Bytes of() {
            return new Bytes();
        }

        Bytes i8(int v) {
            out.write(v);
            return this;
        }

        Bytes i16(int v) {
            return i8(v >>> 8).i8(v);
        }

        Bytes i32(int v) {
            return i16(v >>> 16).i16(v);
        }

        Bytes raw(byte... b) {
            out.write(b, 0, b.length);
            return this;
        }

        Bytes raw(int... b) {
            for (int x : b) {
                out.write(x);
            }
            return this;
        }

        Bytes str(String s) {
            return raw(s.getBytes(StandardCharsets.UTF_8));
        }

        Bytes cstr(String s) {
            return str(s).i8(0);
        }

        byte[] body() {
            return out.toByteArray();
        }

        /** A typed frame: type byte, then a length word counting itself and this body. */
        byte[] typed(char type) {
            byte[] body = body();
            return of().i8(type).i32(body.length + 4).raw(body).body();
        }

        /** An untyped startup-phase packet: length word, then this body. */
        byte[] untyped() {
            byte[] body = body();
            return of().i32(body.length + 4).raw(body).body();
        }
    }

    static ByteBuf buf(byte[] frame) {
        return Unpooled.wrappedBuffer(frame);
    }

    static byte[] bytes(ByteBuf b) {
        byte[] a = new byte[b.readableBytes()];
        b.getBytes(b.readerIndex(), a);
        return a;
    }

    static byte[] encode(FrontendMessage m) {
        ByteBuf b = Unpooled.buffer();
        FrontendCodec.encode(m, b);
        return bytes(b);
    }

    static byte[] encode(BackendMessage m) {
        ByteBuf b = Unpooled.buffer();
        BackendCodec.encode(m, b);
        return bytes(b);
    }

    static boolean isStartupPhase(FrontendMessage m) {
        return m instanceof FrontendMessage.StartupMessage || m instanceof FrontendMessage.SSLRequest
                || m instanceof FrontendMessage.GSSENCRequest || m instanceof FrontendMessage.CancelRequest;
    }

    /**
     * Places {@code frame} in a larger buffer: junk before the readerIndex, and after the
     * writerIndex junk rich in NUL bytes, so a decoder that reads outside the frame is likely to
     * accept what it should reject. Sometimes the buffer is a composite split at a random point.
     */
    static ByteBuf embed(byte[] frame, Random rnd) {
        int pre = rnd.nextInt(6);
        int post = 1 + rnd.nextInt(12);
        byte[] all = new byte[pre + frame.length + post];
        for (int i = 0; i < pre; i++) {
            all[i] = (byte) rnd.nextInt(256);
        }
        System.arraycopy(frame, 0, all, pre, frame.length);
        for (int i = pre + frame.length; i < all.length; i++) {
            all[i] = rnd.nextBoolean() ? 0 : (byte) rnd.nextInt(256);
        }
        ByteBuf b;
        if (rnd.nextBoolean()) {
            b = Unpooled.wrappedBuffer(all);
        } else {
            int cut = rnd.nextInt(all.length + 1);
            b = Unpooled.wrappedBuffer(Unpooled.wrappedBuffer(all, 0, cut), Unpooled.wrappedBuffer(all, cut, all.length - cut));
        }
        b.setIndex(pre, pre + frame.length);
        return b;
    }

    /**
     * One random corruption of a valid frame. The "consistent" variants rewrite the length word
     * to match, so the damage reaches the body parsers instead of stopping at the header check.
     */
    static byte[] corrupt(byte[] frame, Random rnd, boolean typed) {
        int lengthAt = typed ? 1 : 0;
        int header = lengthAt + 4;
        byte[] f;
        boolean fixLength;
        switch (rnd.nextInt(6)) {
            case 0 -> { // truncate anywhere
                f = java.util.Arrays.copyOf(frame, rnd.nextInt(frame.length));
                fixLength = f.length >= header && rnd.nextInt(4) != 0;
            }
            case 1 -> { // append junk
                f = java.util.Arrays.copyOf(frame, frame.length + 1 + rnd.nextInt(6));
                for (int i = frame.length; i < f.length; i++) {
                    f[i] = rnd.nextBoolean() ? 0 : (byte) rnd.nextInt(256);
                }
                fixLength = rnd.nextInt(4) != 0;
            }
            case 2 -> { // flip a few bytes, header included
                f = frame.clone();
                for (int k = 1 + rnd.nextInt(3); k > 0; k--) {
                    f[rnd.nextInt(f.length)] = (byte) rnd.nextInt(256);
                }
                fixLength = false;
            }
            case 3 -> { // plant an interesting int16/int32 in the body
                f = frame.clone();
                int[] interesting = {-1, -2, 0, 1, 2, 3, 0x7FFF, 0xFFFF, 0x10000, Integer.MAX_VALUE, Integer.MIN_VALUE, 100};
                int v = interesting[rnd.nextInt(interesting.length)];
                int width = rnd.nextBoolean() ? 2 : 4;
                if (f.length > header) {
                    int at = header + rnd.nextInt(f.length - header);
                    for (int i = 0; i < width && at + i < f.length; i++) {
                        f[at + i] = (byte) (v >>> (8 * (width - 1 - i)));
                    }
                }
                fixLength = true;
            }
            case 4 -> { // remove a byte from the body (often a NUL or a count byte)
                if (frame.length <= header) {
                    f = frame.clone();
                } else {
                    int at = header + rnd.nextInt(frame.length - header);
                    f = new byte[frame.length - 1];
                    System.arraycopy(frame, 0, f, 0, at);
                    System.arraycopy(frame, at + 1, f, at, frame.length - at - 1);
                }
                fixLength = true;
            }
            default -> { // insert a byte into the body
                int at = Math.min(frame.length, header + rnd.nextInt(Math.max(1, frame.length - header + 1)));
                f = new byte[frame.length + 1];
                System.arraycopy(frame, 0, f, 0, at);
                f[at] = rnd.nextBoolean() ? 0 : (byte) rnd.nextInt(256);
                System.arraycopy(frame, at, f, at + 1, frame.length - at);
                fixLength = true;
            }
        }
        if (fixLength && f.length >= header) {
            int len = f.length - lengthAt;
            f[lengthAt] = (byte) (len >>> 24);
            f[lengthAt + 1] = (byte) (len >>> 16);
            f[lengthAt + 2] = (byte) (len >>> 8);
            f[lengthAt + 3] = (byte) len;
        }
        return f;
    }
}
