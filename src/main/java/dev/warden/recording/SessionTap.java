package dev.warden.recording;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutor;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The recording side of one client session, called on the session's event loop only. Each call
 * copies the message into the session's current page (a plain byte array Warden owns — no Netty
 * buffer is kept or released here) and returns; full pages, and every page 200 ms after it got its
 * first entry, go to the {@link Recorder}'s writer thread, which compresses and writes them.
 *
 * <p>Memory is bounded by {@code recording.bufferBytes} for all sessions together: before an entry is
 * copied, the pages it needs are reserved from that budget. An entry that does not fit is dropped
 * whole and counted; the next entry that fits is preceded by a {@link Entry#GAP} entry saying how many
 * messages and bytes are missing, so replay and verification show the hole.
 */
public final class SessionTap {
    static final int PAGE = 64 << 10;
    private static final long FLUSH_DELAY_MS = 200;

    private final Recorder recorder;
    final Recorder.SessionState state;
    private final EventExecutor loop;
    private final Runnable resume;
    private byte[] page;
    private int pos;
    /** Pages reserved from the budget and not yet allocated (an entry spanning pages reserves them all first). */
    private int reservedPages;
    private int pageMessages;
    private long pageFirst;
    private long pageLast;
    private long pageGapMessages;
    private long pageGapBytes;
    private long clientFrames;
    private long pendingGapMessages;
    private long pendingGapBytes;
    private long droppedMessages;
    private long statements;
    private boolean flushScheduled;
    private boolean closed;
    private final Runnable flushTask = this::flushNow;
    /** {@link System#nanoTime()}, or the session's reading of it for the current network read. */
    private final java.util.function.LongSupplier nanoClock;
    /** Scratch for entry headers and statement notes (event loop only; copied into the page at once). */
    private final byte[] header = new byte[Entry.HEADER];
    private final JsonBytes note = new JsonBytes();

    SessionTap(Recorder recorder, Recorder.SessionState state, EventExecutor loop, Runnable resume,
               java.util.function.LongSupplier nanoClock) {
        this.recorder = recorder;
        this.nanoClock = nanoClock;
        this.state = state;
        this.loop = loop;
        this.resume = resume;
    }

    public String sessionId() {
        return state.session;
    }

    /** A message from the client (whole frame); returns its number among the session's client messages (from 0). */
    public long client(ByteBuf frame) {
        long n = clientFrames++;
        append(Entry.CLIENT, frame, null, 0);
        return n;
    }

    /** A message as the client receives it (after masking and Warden's rewrites). */
    public void server(ByteBuf frame) {
        append(Entry.SERVER, frame, null, 0);
    }

    /**
     * A statement as Warden decided it: its audit record, verdict and rules, tied to the client message
     * (by number) it came in.
     */
    public void statement(long clientFrame, String auditRecordId, String decision, java.util.List<String> rules,
                          String text) {
        statements++;
        JsonBytes j = note.reset().ascii("{\"e\":\"statement\",\"frame\":").number(clientFrame);
        field(j, "record", auditRecordId);
        field(j, "verdict", decision);
        j.ascii(",\"rules\":[");
        for (int i = 0; i < rules.size(); i++) {
            if (i > 0) {
                j.ascii(',');
            }
            j.string(rules.get(i));
        }
        j.ascii(']');
        field(j, "text", text != null && text.length() > 200 ? text.substring(0, 200) : text);
        j.ascii('}');
        append(Entry.WARDEN, null, j.array(), j.length());
    }

    /** A note from Warden (JSON object). */
    public void warden(String json) {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        append(Entry.WARDEN, null, b, b.length);
    }

    private static void field(JsonBytes j, String name, String value) {
        if (value != null) {
            j.ascii(",\"").ascii(name).ascii("\":").string(value);
        }
    }

    /**
     * Fail-closed only: true when the writer is behind (the session should stop reading results from
     * PostgreSQL until {@code resume} runs). Always false under drop-and-mark.
     */
    public boolean congested() {
        return recorder.congested(this);
    }

    /** Why new statements must be refused now (fail-closed), or null. */
    public String unavailable() {
        return recorder.unavailable();
    }

    void resume() {
        loop.execute(resume);
    }

    /** The session ended: the last page goes to the writer, which seals the last chunk. */
    public void closed() {
        if (closed) {
            return;
        }
        if (pendingGapMessages > 0) {
            writeGap();
        }
        closed = true;
        submitPage(true);
        recorder.ended(state, statements, droppedMessages + pendingGapMessages);
        recorder.releaseReserved((long) reservedPages * PAGE);
        reservedPages = 0;
    }

    /** One entry: {@code buf}'s readable bytes, or the first {@code arrLen} bytes of {@code arr}. */
    private void append(byte kind, ByteBuf buf, byte[] arr, int arrLen) {
        if (closed) {
            return;
        }
        int len = buf != null ? buf.readableBytes() : arrLen;
        if (pendingGapMessages > 0 && !writeGap()) {
            drop(len);
            return;
        }
        if (!reserve(Entry.HEADER + len)) {
            drop(len);
            return;
        }
        long now = recorder.micros(nanoClock.getAsLong());
        startEntry(now);
        byte[] h = header;
        h[0] = kind;
        for (int i = 0; i < 8; i++) {
            h[1 + i] = (byte) (now >>> (56 - 8 * i));
        }
        for (int i = 0; i < 4; i++) {
            h[9 + i] = (byte) (len >>> (24 - 8 * i));
        }
        copy(h, null, 0, Entry.HEADER);
        if (buf != null) {
            copy(null, buf, buf.readerIndex(), len);
        } else {
            copy(arr, null, 0, len);
        }
        if (pos == PAGE) {
            submitPage(true);
        }
        if (!flushScheduled && page != null) {
            flushScheduled = true;
            loop.schedule(flushTask, FLUSH_DELAY_MS, TimeUnit.MILLISECONDS);
        }
    }

    private void drop(int len) {
        pendingGapMessages++;
        pendingGapBytes += len;
        recorder.dropped();
    }

    /** Writes the pending gap marker; false when even that does not fit. */
    private boolean writeGap() {
        byte[] j = ("{\"e\":\"gap\",\"messages\":" + pendingGapMessages + ",\"bytes\":" + pendingGapBytes + "}")
                .getBytes(StandardCharsets.US_ASCII);
        if (!reserve(Entry.HEADER + j.length)) {
            return false;
        }
        long gm = pendingGapMessages;
        long gb = pendingGapBytes;
        droppedMessages += gm;
        pendingGapMessages = 0;
        pendingGapBytes = 0;
        long now = recorder.micros(nanoClock.getAsLong());
        startEntry(now);
        pageGapMessages += gm;
        pageGapBytes += gb;
        byte[] h = new byte[Entry.HEADER];
        h[0] = Entry.GAP;
        for (int i = 0; i < 8; i++) {
            h[1 + i] = (byte) (now >>> (56 - 8 * i));
        }
        for (int i = 0; i < 4; i++) {
            h[9 + i] = (byte) (j.length >>> (24 - 8 * i));
        }
        copy(h, null, 0, Entry.HEADER);
        copy(j, null, 0, j.length);
        if (pos == PAGE) {
            submitPage(true);
        }
        return true;
    }

    private void startEntry(long now) {
        if (page == null) {
            newPage();
        }
        if (pageMessages == 0) {
            pageFirst = now;
        }
        pageMessages++;
        pageLast = now;
    }

    private boolean reserve(int need) {
        int room = (page == null ? 0 : PAGE - pos) + reservedPages * PAGE;
        if (need <= room) {
            return true;
        }
        int pages = (need - room + PAGE - 1) / PAGE;
        if (!recorder.reserve((long) pages * PAGE)) {
            return false;
        }
        reservedPages += pages;
        return true;
    }

    private void newPage() {
        reservedPages--;
        page = new byte[PAGE];
        pos = 0;
        pageMessages = 0;
        pageGapMessages = 0;
        pageGapBytes = 0;
    }

    private void copy(byte[] src, ByteBuf buf, int from, int len) {
        while (len > 0) {
            if (page == null) {
                newPage();
            } else if (pos == PAGE) {
                submitPage(false);
                newPage();
            }
            int n = Math.min(len, PAGE - pos);
            if (src != null) {
                System.arraycopy(src, from, page, pos, n);
            } else {
                buf.getBytes(from, page, pos, n);
            }
            pos += n;
            from += n;
            len -= n;
        }
    }

    private void flushNow() {
        flushScheduled = false;
        if (!closed && page != null && pos > 0) {
            submitPage(true);
        }
    }

    /** Hands the current page to the writer; {@code boundary}: it ends where an entry ends. */
    private void submitPage(boolean boundary) {
        if (page == null) {
            return;
        }
        recorder.submit(new Recorder.Page(state, page, pos, pageMessages, pageFirst, pageLast, boundary,
                pageGapMessages, pageGapBytes, PAGE));
        page = null;
        pos = 0;
        pageMessages = 0;
    }
}
