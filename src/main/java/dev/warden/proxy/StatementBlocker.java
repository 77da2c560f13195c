package dev.warden.proxy;

import dev.warden.wire.BackendCodec;
import dev.warden.wire.BackendMessage;
import dev.warden.wire.FrontendMessage;
import dev.warden.wire.Wire;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;

/**
 * Refuses a statement so that the client and PostgreSQL still agree on everything afterwards.
 *
 * <p>Instead of the refused message Warden sends PostgreSQL a statement that is certain to fail
 * when it is parsed: a call of a function whose name carries a fresh random nonce. PostgreSQL then
 * does exactly what it does for any failing statement — aborts an open transaction, discards
 * extended-protocol messages until Sync, sends ReadyForQuery with the right status — and Warden
 * only replaces that one ErrorResponse (recognised by the nonce) with its own. If the session was
 * already in an aborted transaction, PostgreSQL's own 25P02 passes through unchanged, which is what
 * the client would have seen anyway. Nothing of the refused statement reaches the server.
 */
final class StatementBlocker {
    private static final int MAX_PENDING = 32;

    private record Pending(String nonce, String sqlState, String message, String hint) {
    }

    private final SecureRandom random;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private boolean discardUntilSync;

    StatementBlocker(SecureRandom random) {
        this.random = random;
    }

    /**
     * Forwards the messages before {@code index}, the failing stand-in instead of message {@code index},
     * and of the rest only Flush and Sync (PostgreSQL would discard the others after the error anyway).
     * Takes ownership of every frame.
     */
    /** Returns whether a sync point (Query or Sync) went upstream, so one ReadyForQuery will answer it. */
    boolean block(List<ByteBuf> frames, int index, String sqlState, String message, String hint, Channel up) {
        byte[] nonceBytes = new byte[16];
        random.nextBytes(nonceBytes);
        String nonce = HexFormat.of().formatHex(nonceBytes);
        if (pending.size() >= MAX_PENDING) {
            pending.removeFirst();
        }
        pending.addLast(new Pending(nonce, sqlState, message, hint));
        String standIn = "SELECT warden_refused_" + nonce + "()";
        ByteBufAllocator alloc = up.alloc();
        boolean sawSync = false;
        for (int i = 0; i < frames.size(); i++) {
            ByteBuf f = frames.get(i);
            byte type = f.getByte(f.readerIndex());
            if (i < index) {
                up.write(f, up.voidPromise());
            } else if (i == index) {
                FrontendMessage m = type == Wire.QUERY || type == Wire.FUNCTION_CALL
                        ? new FrontendMessage.Query(standIn)
                        : new FrontendMessage.Parse("", standIn, new int[0]);
                up.write(PgOut.frontendMessage(alloc, m), up.voidPromise());
                if (type == Wire.SYNC || type == Wire.FLUSH) {
                    // the refused round trip had nothing before its sync point: keep it
                    up.write(f, up.voidPromise());
                } else {
                    f.release();
                }
                sawSync |= type == Wire.QUERY || type == Wire.FUNCTION_CALL || type == Wire.SYNC;
            } else if (type == Wire.SYNC || type == Wire.FLUSH) {
                sawSync |= type == Wire.SYNC;
                up.write(f, up.voidPromise());
            } else {
                f.release();
            }
        }
        frames.clear();
        discardUntilSync = !sawSync;
        up.flush();
        return sawSync;
    }

    /**
     * After a refusal in a round trip that had no Sync, PostgreSQL ignores everything up to the next
     * Sync; Warden drops those messages itself rather than forward them. Returns true when the frame
     * was dropped (and released).
     */
    boolean dropWhileDiscarding(ByteBuf frame) {
        if (!discardUntilSync) {
            return false;
        }
        byte type = frame.getByte(frame.readerIndex());
        if (type == Wire.SYNC) {
            discardUntilSync = false;
            return false;
        }
        if (type == Wire.FLUSH) {
            return false;
        }
        frame.release();
        return true;
    }

    boolean expectsError() {
        return !pending.isEmpty();
    }

    /** Returns Warden's own ErrorResponse when this server error answers a stand-in, else the frame itself. */
    ByteBuf rewrite(ByteBuf errorFrame, ByteBufAllocator alloc) {
        var err = (BackendMessage.ErrorResponse) BackendCodec.decode(errorFrame);
        String text = err.fields().getOrDefault('M', "");
        for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
            Pending p = it.next();
            if (text.contains(p.nonce)) {
                // responses come in order: earlier stand-ins can no longer be answered
                while (pending.peekFirst() != p) {
                    pending.removeFirst();
                }
                pending.removeFirst();
                errorFrame.release();
                return PgOut.error(alloc, "ERROR", p.sqlState, p.message, null, p.hint);
            }
        }
        return errorFrame;
    }
}
