package dev.warden.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Frames what a client sends: first untyped startup packets (StartupMessage, SSLRequest,
 * GSSENCRequest, CancelRequest), then typed messages. Emits each whole message as a retained slice
 * of the receive buffer (no copy) wrapped as {@link StartupFrame} or as a plain {@link ByteBuf}.
 *
 * <p>Only lengths are checked here; content is checked by {@link FrontendValidator} before a message
 * may travel upstream. A violation throws {@link ProtocolViolation}; afterwards every byte is dropped,
 * so nothing that follows a bad frame can reach anyone.
 */
public final class ClientFrameDecoder extends ByteToMessageDecoder {
    /** A whole untyped startup-phase packet, length prefix included. */
    public record StartupFrame(ByteBuf bytes) {
    }

    private final int maxMessageBytes;
    private boolean typed;
    private boolean broken;

    public ClientFrameDecoder(int maxMessageBytes) {
        this.maxMessageBytes = maxMessageBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (broken) {
            in.skipBytes(in.readableBytes());
            return;
        }
        while (true) {
            int start = in.readerIndex();
            int readable = in.readableBytes();
            if (!typed) {
                if (readable < 4) {
                    return;
                }
                int len = in.getInt(start);
                if (len < 8 || len > Wire.MAX_STARTUP_PACKET) {
                    throw fail("invalid startup packet length " + len);
                }
                if (readable < len) {
                    return;
                }
                int code = in.getInt(start + 4);
                if (code == Wire.PROTOCOL_3_0 || (code >>> 16) == 3) {
                    typed = true;
                }
                out.add(new StartupFrame(in.readRetainedSlice(len)));
                // A startup packet is always answered before the client may send more; anything
                // already waiting is handled by the session (which refuses bytes sent ahead of a TLS handshake).
                return;
            }
            if (readable == 0) {
                return;
            }
            byte type = in.getByte(start);
            if (FrontendCodec.messageName(type) == null) {
                // Refuse at once, as PostgreSQL does: waiting for the length such a frame claims would
                // leave the client hanging (e.g. a second StartupMessage reads as type 0x00 with a
                // length far beyond its size) and would buffer up to maxMessageBytes for nothing.
                throw fail("unknown frontend message type " + WirePrimitives.describeType(type));
            }
            if (readable < 5) {
                return;
            }
            int len = in.getInt(start + 1);
            if (len < 4) {
                throw fail("invalid message length " + len + " for message type '" + (char) in.getByte(start) + "'");
            }
            if (len > maxMessageBytes - 1) {
                throw fail("message of " + (len + 1L) + " bytes exceeds Warden's limit of " + maxMessageBytes
                        + " bytes (limits.maxMessageBytes)");
            }
            if (readable < len + 1) {
                return;
            }
            out.add(in.readRetainedSlice(len + 1));
        }
    }

    /** Bytes received but not yet framed: must be zero when a TLS handshake starts. */
    public int pendingBytes() {
        return actualReadableBytes();
    }

    /** Stops framing for good: used when the session has refused the connection. */
    public void poison() {
        broken = true;
    }

    private ProtocolViolation fail(String why) {
        broken = true;
        return new ProtocolViolation(why);
    }
}
