package dev.warden.proxy;

import dev.warden.wire.BackendCodec;
import dev.warden.wire.BackendMessage;
import dev.warden.wire.Wire;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;

/**
 * Attributes the server's answers to the statements that were forwarded, in order: rows and bytes
 * to the statement in progress, CommandComplete / EmptyQueryResponse / PortalSuspended /
 * FunctionCallResponse / ErrorResponse end it, and ReadyForQuery ends its sync group — statements
 * of the group that never got an answer were skipped by the server after an earlier error.
 *
 * <p>Each Query, FunctionCall or Sync sent upstream is answered by exactly one ReadyForQuery; the
 * tracker numbers those sync groups to know which statements a ReadyForQuery closes. Per server
 * message it does a type switch and a deque peek; nothing is decoded except errors and tags.
 */
final class OutcomeTracker {
    private static final byte COMMAND_COMPLETE = 'C';
    private static final byte DATA_ROW = 'D';
    private static final byte EMPTY_QUERY = 'I';
    private static final byte PORTAL_SUSPENDED = 's';
    private static final byte FUNCTION_CALL_RESPONSE = 'V';

    private final ArrayDeque<StatementUnit> inFlight = new ArrayDeque<>();
    private final ReadClock clock;
    /** Sync groups sent upstream so far, and answered (ReadyForQuery) so far. */
    private long sent;
    private long answered;
    private long statements;

    OutcomeTracker(ReadClock clock) {
        this.clock = clock;
    }

    /** A statement goes upstream now, in the current sync group. */
    void forwarded(StatementUnit u) {
        u.group = sent;
        u.forwarded = clock.instant();
        statements++;
        inFlight.addLast(u);
    }

    /** A Query, FunctionCall or Sync went upstream: the current sync group is complete. */
    void syncPointSent() {
        sent++;
    }

    long statements() {
        return statements;
    }

    /** Warden masked cells in the result of the statement whose completion comes next. */
    void masked(List<String> columns, long cells, dev.warden.masking.SealedOriginals.Originals originals) {
        StatementUnit head = inFlight.peekFirst();
        if (head != null && head.group == answered) {
            head.maskedColumns = columns;
            head.maskedCells = cells;
            head.originals = originals;
        }
    }

    /** Looks at one server message (which is then forwarded unchanged). */
    void serverMessage(ByteBuf frame) {
        byte type = frame.getByte(frame.readerIndex());
        StatementUnit head = inFlight.peekFirst();
        if (head != null && head.group != answered) {
            head = null;
        }
        switch (type) {
            case DATA_ROW -> {
                if (head != null) {
                    head.rows++;
                    head.bytes += frame.readableBytes();
                }
            }
            case COMMAND_COMPLETE -> {
                if (head != null) {
                    head.bytes += frame.readableBytes();
                    inFlight.removeFirst().succeeded(clock.instant(), tag(frame));
                }
            }
            case EMPTY_QUERY, PORTAL_SUSPENDED, FUNCTION_CALL_RESPONSE -> {
                if (head != null) {
                    head.bytes += frame.readableBytes();
                    inFlight.removeFirst().succeeded(clock.instant(), type == EMPTY_QUERY ? "EMPTY" : type == PORTAL_SUSPENDED
                            ? "SUSPENDED" : "FUNCTION CALL");
                }
            }
            case Wire.ERROR_RESPONSE -> {
                if (head != null) {
                    var e = (BackendMessage.ErrorResponse) BackendCodec.decode(frame);
                    inFlight.removeFirst().failed(clock.instant(), e.fields().get('C'), e.fields().get('M'));
                }
            }
            case Wire.READY_FOR_QUERY -> {
                StatementUnit u;
                while ((u = inFlight.peekFirst()) != null && u.group == answered) {
                    inFlight.removeFirst().notRun(clock.instant(), null, "not executed: PostgreSQL skipped it after an earlier error");
                }
                answered++;
            }
            default -> {
                if (head != null) {
                    head.bytes += frame.readableBytes();
                }
            }
        }
    }

    /** The session ends: statements still waiting for an answer are recorded as such. */
    void sessionEnded() {
        StatementUnit u;
        while ((u = inFlight.pollFirst()) != null) {
            u.failed(clock.instant(), "08006", "the session ended before the statement completed");
        }
    }

    private static String tag(ByteBuf frame) {
        int start = frame.readerIndex() + 5;
        int end = frame.readerIndex() + frame.readableBytes() - 1;
        return frame.toString(start, Math.max(0, end - start), StandardCharsets.UTF_8);
    }
}
