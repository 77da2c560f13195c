package dev.warden.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Frames what a PostgreSQL server sends into whole typed messages (retained slices, no copy). Before
 * that it can read the single-byte answer to an SSLRequest ('S' or 'N'), emitted as a {@link Byte}.
 */
public final class BackendFrameDecoder extends ByteToMessageDecoder {
    private final int maxMessageBytes;
    private boolean expectSslAnswer;

    public BackendFrameDecoder(int maxMessageBytes) {
        this.maxMessageBytes = maxMessageBytes;
    }

    public void expectSslAnswer() {
        expectSslAnswer = true;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (expectSslAnswer) {
            if (!in.isReadable()) {
                return;
            }
            expectSslAnswer = false;
            out.add(in.readByte());
            // the server must not send anything else before the handshake (CVE-2021-23222)
            if (in.isReadable()) {
                throw new ProtocolViolation("server sent unencrypted data after its answer to SSLRequest");
            }
            return;
        }
        while (true) {
            int readable = in.readableBytes();
            if (readable < 5) {
                return;
            }
            int start = in.readerIndex();
            int len = in.getInt(start + 1);
            if (len < 4 || len > maxMessageBytes - 1) {
                throw new ProtocolViolation("server sent a message of invalid length " + len);
            }
            if (readable < len + 1) {
                return;
            }
            out.add(in.readRetainedSlice(len + 1));
        }
    }
}
