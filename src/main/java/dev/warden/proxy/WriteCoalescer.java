package dev.warden.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelOutboundInvoker;

/**
 * Writes runs of messages that lie back to back in one receive buffer as a single buffer. The frame
 * decoders hand out each message as a retained slice of the buffer it arrived in; a result of
 * {@code pgbench -S} is four of them, and writing each on its own cost a channel write, an outbound
 * buffer entry and a release per message (about a tenth of the event loop's own CPU). Here a message
 * that starts where the previous one ended, in the same buffer, only extends the run; the run goes out
 * as one slice when something else comes (a rewritten or masked message, a message from another read)
 * or when the caller flushes. Messages are written in the order they were added. Event loop only.
 */
final class WriteCoalescer {
    /** First message of the current run (owned; its retain keeps the buffer alive), or null. */
    private ByteBuf first;
    /** The buffer the run lies in, the address just past the run, and the run's length and size. */
    private ByteBuf root;
    private long end;
    private int length;
    private int messages;
    private boolean discarded;

    /**
     * Takes ownership of {@code frame}, whose bytes must not be changed or read afterwards; it goes out
     * through {@code out} with this run or on its own, in order.
     */
    void add(ChannelOutboundInvoker out, ByteBuf frame) {
        if (discarded) {
            frame.release();
            return;
        }
        ByteBuf parent = frame.hasMemoryAddress() ? frame.unwrap() : null;
        if (parent == null || !parent.hasMemoryAddress()) {
            emit(out);
            if (discarded) { // writing the run failed and the session closed meanwhile
                frame.release();
                return;
            }
            out.write(frame, out.voidPromise());
            return;
        }
        long at = frame.memoryAddress() + frame.readerIndex();
        int n = frame.readableBytes();
        if (first != null && parent == root && at == end) {
            end += n;
            length += n;
            messages++;
            frame.release(); // the run's first message holds the buffer
            return;
        }
        emit(out);
        if (discarded) {
            frame.release();
            return;
        }
        first = frame;
        root = parent;
        end = at + n;
        length = n;
        messages = 1;
    }

    /**
     * Writes the pending run (does not flush). The run's buffer must still have a memory address: the
     * frame decoders' cumulation buffers are plain pooled buffers (a CompositeByteBuf that gained a
     * component could not be sliced this way).
     */
    void emit(ChannelOutboundInvoker out) {
        ByteBuf f = first;
        if (f == null) {
            return;
        }
        first = null;
        root = null;
        if (messages == 1) {
            out.write(f, out.voidPromise());
            return;
        }
        ByteBuf run;
        try {
            long start = f.memoryAddress() + f.readerIndex();
            ByteBuf parent = f.unwrap();
            run = parent.retainedSlice((int) (start - parent.memoryAddress()), length);
        } finally {
            f.release();
        }
        out.write(run, out.voidPromise());
    }

    /**
     * Drops the pending run without writing it, and every message added later (the connection is going
     * away; a failed write can close it from inside {@link #add}).
     */
    void discard() {
        discarded = true;
        if (first != null) {
            first.release();
            first = null;
            root = null;
        }
    }
}
