package dev.warden.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Runs of back-to-back slices go out as one write; bytes, order and reference counts stay right. */
class WriteCoalescerTest {
    private static final PooledByteBufAllocator ALLOC = new PooledByteBufAllocator(true);

    private static byte[] drain(EmbeddedChannel ch, List<Integer> writes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            writes.add(b.readableBytes());
            byte[] a = new byte[b.readableBytes()];
            b.readBytes(a);
            out.writeBytes(a);
            b.release();
        }
        return out.toByteArray();
    }

    private static ByteBuf received(byte[] content) {
        ByteBuf buf = ALLOC.directBuffer(content.length);
        buf.writeBytes(content);
        return buf;
    }

    @Test
    void adjacentSlicesOfOneReadGoOutAsOneWrite() {
        EmbeddedChannel ch = new EmbeddedChannel();
        WriteCoalescer c = new WriteCoalescer();
        byte[] content = "1aaaa2bbbbbb3c4ddd".getBytes();
        ByteBuf read = received(content);
        c.add(ch, read.readRetainedSlice(5));
        c.add(ch, read.readRetainedSlice(7));
        c.add(ch, read.readRetainedSlice(2));
        c.add(ch, read.readRetainedSlice(4));
        read.release(); // the decoder lets go of its buffer; the run keeps it alive
        c.emit(ch);
        ch.flushOutbound();
        List<Integer> writes = new ArrayList<>();
        assertThat(drain(ch, writes)).isEqualTo(content);
        assertThat(writes).containsExactly(content.length);
        assertThat(read.refCnt()).isZero();
    }

    @Test
    void aRewrittenMessageBreaksTheRunAndKeepsItsPlace() {
        EmbeddedChannel ch = new EmbeddedChannel();
        WriteCoalescer c = new WriteCoalescer();
        ByteBuf read = received("AAAABBBBCCCC".getBytes());
        c.add(ch, read.readRetainedSlice(4));
        c.add(ch, read.readRetainedSlice(4));
        read.skipBytes(4); // this one was masked: a new buffer goes instead
        c.add(ch, Unpooled.copiedBuffer("xxxx".getBytes()));
        ByteBuf other = received("DDEE".getBytes()); // the next read, another buffer
        c.add(ch, other.readRetainedSlice(2));
        c.add(ch, other.readRetainedSlice(2));
        read.release();
        other.release();
        c.emit(ch);
        ch.flushOutbound();
        List<Integer> writes = new ArrayList<>();
        assertThat(new String(drain(ch, writes))).isEqualTo("AAAABBBBxxxxDDEE");
        assertThat(writes).containsExactly(8, 4, 4);
        assertThat(read.refCnt()).isZero();
        assertThat(other.refCnt()).isZero();
    }

    @Test
    void heapBuffersAndGapsAreWrittenOneByOne() {
        EmbeddedChannel ch = new EmbeddedChannel();
        WriteCoalescer c = new WriteCoalescer();
        ByteBuf heap = Unpooled.buffer().writeBytes("hhhhkkkk".getBytes());
        c.add(ch, heap.readRetainedSlice(4));
        c.add(ch, heap.readRetainedSlice(4));
        ByteBuf read = received("112233".getBytes());
        c.add(ch, read.readRetainedSlice(2));
        read.skipBytes(2); // not relayed (Warden answered it itself): the bytes around it are not one run
        c.add(ch, read.readRetainedSlice(2));
        heap.release();
        read.release();
        c.emit(ch);
        ch.flushOutbound();
        List<Integer> writes = new ArrayList<>();
        assertThat(new String(drain(ch, writes))).isEqualTo("hhhhkkkk1133");
        assertThat(writes).containsExactly(4, 4, 2, 2);
        assertThat(read.refCnt()).isZero();
    }

    @Test
    void discardReleasesThePendingRun() {
        EmbeddedChannel ch = new EmbeddedChannel();
        WriteCoalescer c = new WriteCoalescer();
        ByteBuf read = received("abcdef".getBytes());
        c.add(ch, read.readRetainedSlice(3));
        c.add(ch, read.readRetainedSlice(3));
        read.release();
        c.discard();
        assertThat(read.refCnt()).isZero();
        ch.flushOutbound();
        assertThat((Object) ch.readOutbound()).isNull();
    }

    @Test
    void aSessionThatClosesWhileTheRunIsWrittenLeaksNothing() {
        WriteCoalescer c = new WriteCoalescer();
        // the client went away: writing fails, and the session closes (discards) from inside the write
        EmbeddedChannel ch = new EmbeddedChannel(new io.netty.channel.ChannelOutboundHandlerAdapter() {
            @Override
            public void write(io.netty.channel.ChannelHandlerContext ctx, Object msg, io.netty.channel.ChannelPromise promise) {
                c.discard();
                io.netty.util.ReferenceCountUtil.release(msg);
                promise.setFailure(new java.nio.channels.ClosedChannelException());
            }
        });
        ByteBuf a = received("aaaabbbb".getBytes());
        ByteBuf b = received("cccc".getBytes());
        c.add(ch, a.readRetainedSlice(4));
        c.add(ch, a.readRetainedSlice(4));
        c.add(ch, b.readRetainedSlice(4)); // not adjacent: the run is written, the session closes meanwhile
        ByteBuf late = Unpooled.directBuffer().writeBytes("late".getBytes());
        c.add(ch, late); // after the close: released, not written
        c.emit(ch);
        assertThat(late.refCnt()).isZero();
        a.release();
        b.release();
        assertThat(a.refCnt()).isZero();
        assertThat(b.refCnt()).isZero();
    }

    @Test
    void randomSplitsArriveIntactAndInOrder() {
        Random r = new Random(7);
        for (int round = 0; round < 500; round++) {
            EmbeddedChannel ch = new EmbeddedChannel();
            WriteCoalescer c = new WriteCoalescer();
            ByteArrayOutputStream expected = new ByteArrayOutputStream();
            List<ByteBuf> reads = new ArrayList<>();
            for (int read = 0; read < 1 + r.nextInt(4); read++) {
                byte[] content = new byte[1 + r.nextInt(200)];
                r.nextBytes(content);
                ByteBuf buf = received(content);
                reads.add(buf);
                while (buf.isReadable()) {
                    int n = 1 + r.nextInt(Math.min(40, buf.readableBytes()));
                    int kind = r.nextInt(6);
                    if (kind == 0) {
                        byte[] repl = new byte[1 + r.nextInt(10)];
                        r.nextBytes(repl);
                        buf.skipBytes(n);
                        c.add(ch, Unpooled.wrappedBuffer(repl));
                        expected.writeBytes(repl);
                    } else if (kind == 1) {
                        buf.skipBytes(n); // dropped
                    } else {
                        int at = buf.readerIndex();
                        c.add(ch, buf.readRetainedSlice(n));
                        expected.write(content, at, n);
                    }
                    if (r.nextInt(10) == 0) {
                        c.emit(ch);
                    }
                }
            }
            reads.forEach(ByteBuf::release);
            c.emit(ch);
            ch.flushOutbound();
            assertThat(drain(ch, new ArrayList<>())).as("round %d", round).isEqualTo(expected.toByteArray());
            for (ByteBuf b : reads) {
                assertThat(b.refCnt()).isZero();
            }
        }
    }
}
