package dev.warden.proxy;

import dev.warden.policy.Verdict;
import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;

/**
 * One client round trip: a simple Query (or FunctionCall), or the extended-protocol messages up to
 * and including a Sync or Flush. This is the body of the Camel Exchange that travels through
 * routes/statements.camel.yaml; the route must settle it (forward it upstream, or reject it),
 * otherwise Warden fails closed and the statement does not run.
 */
public final class RoundTrip {
    enum Outcome { PENDING, FORWARDED, REJECTED }

    private final ClientSession session;
    private final List<ByteBuf> frames = new ArrayList<>(4);
    private int bytes;
    private final boolean needsDecision;
    private final java.time.Instant received;
    private Outcome outcome = Outcome.PENDING;
    private Verdict verdict;
    private Verdict refusal;
    private int refusedIndex = -1;
    private List<StatementUnit> units = List.of();
    private String auditFailure;

    RoundTrip(ClientSession session, boolean needsDecision) {
        this.session = session;
        this.needsDecision = needsDecision;
        this.received = session.clock().instant();
    }

    void add(ByteBuf frame) {
        frames.add(frame);
        bytes += frame.readableBytes();
    }

    /** Adds a client message; {@code recorded} is its number in the session's recording (-1: not recorded). */
    void add(ByteBuf frame, long recorded) {
        if (frames.isEmpty()) {
            firstRecorded = recorded;
        }
        add(frame);
    }

    private long firstRecorded = -1;

    /** The recording's number of this round trip's first message (-1 when the session is not recorded). */
    long firstRecorded() {
        return firstRecorded;
    }

    /** The client's messages, whole (type byte and length included), in the order sent. Read-only. */
    public List<ByteBuf> frames() {
        return frames;
    }

    /** When Warden received the round trip's first message. */
    public java.time.Instant received() {
        return received;
    }

    public int bytes() {
        return bytes;
    }

    public String target() {
        return session.targetName();
    }

    public String user() {
        return session.userName();
    }

    /** The combined verdict of the round trip's statements (null before the policy step ran). */
    public Verdict getVerdict() {
        return verdict;
    }

    void verdict(Verdict v) {
        this.verdict = v;
    }

    /** The route's predicate for {@link #isRefused()} (bound as {@code refusedRoundTrip}). */
    static final org.apache.camel.Predicate REFUSED = exchange -> exchange.getIn().getBody(RoundTrip.class).isRefused();

    /** True when a statement of this round trip was blocked or needs approval: it will not run. */
    public boolean isRefused() {
        return refusal != null;
    }

    /** The verdict of the first refused statement, or null. */
    public Verdict refusal() {
        return refusal;
    }

    int refusedIndex() {
        return refusedIndex;
    }

    void addUnit(StatementUnit u) {
        if (units.isEmpty()) {
            units = new ArrayList<>(2);
        }
        units.add(u);
    }

    /** The statements of this round trip as the audit records them. */
    List<StatementUnit> units() {
        return units;
    }

    /** The audit could not record the round trip: nothing of it may run (the message is client-safe). */
    void auditFailed(String message) {
        if (auditFailure == null) {
            auditFailure = message;
        }
    }

    String auditFailure() {
        return auditFailure;
    }

    private java.util.concurrent.CompletableFuture<Void> strictWait;

    /** Strict audit records the round trip waits for before it may be forwarded (null: none). */
    java.util.concurrent.CompletableFuture<Void> strictWait() {
        return strictWait;
    }

    void strictWait(java.util.concurrent.CompletableFuture<Void> f) {
        strictWait = f;
    }

    private String[] refusalMessage;
    private Runnable onForwarded;

    /** The refused statement's ErrorResponse, when it is not the rule's own (a denied or expired approval). */
    void refusalMessage(String sqlState, String message, String hint) {
        refusalMessage = new String[] {sqlState, message, hint};
    }

    String[] refusalMessage() {
        return refusalMessage;
    }

    /** Runs once the round trip has been sent upstream (an approved statement is then "executed"). */
    void onForwarded(Runnable r) {
        onForwarded = r;
    }

    /** The held statement was approved: nothing is refused (until the rest is judged). */
    void clearRefusal() {
        refusal = null;
        refusedIndex = -1;
    }

    /** Takes the statement unit of message {@code frameIndex} out of the round trip (null if none). */
    StatementUnit removeUnitAt(int frameIndex) {
        for (int i = 0; i < units.size(); i++) {
            if (units.get(i).frameIndex == frameIndex) {
                return units.remove(i);
            }
        }
        return null;
    }

    void refuse(int index, Verdict v) {
        refusedIndex = index;
        refusal = v;
    }

    /** For route logs: who, which target, what was decided and by which rules. */
    public String getSummary() {
        Verdict v = refusal != null ? refusal : verdict;
        return "user=" + user() + " target=" + target() + (v == null ? " undecided"
                : " decision=" + v.decision() + " rules=" + v.rules() + " reason=" + v.reason());
    }

    boolean needsDecision() {
        return needsDecision;
    }

    ClientSession session() {
        return session;
    }

    Outcome outcome() {
        return outcome;
    }

    /** Sends the messages upstream unchanged. */
    public void forward() {
        settle(Outcome.FORWARDED);
        session.forward(this, frames.size());
        if (onForwarded != null) {
            onForwarded.run();
        }
    }

    /** Refuses the whole round trip: the client gets an ErrorResponse with this SQLSTATE; nothing reaches PostgreSQL. */
    public void reject(String sqlState, String message, String hint) {
        rejectFrom(0, sqlState, message, hint);
    }

    /**
     * Forwards the messages before {@code index} and refuses message {@code index} (a Query, Parse or
     * FunctionCall) as PostgreSQL would refuse a failing statement: the client gets the ErrorResponse
     * where the statement's own answer would be, the rest up to Sync is discarded, and an open
     * transaction is aborted on both sides.
     */
    public void rejectFrom(int index, String sqlState, String message, String hint) {
        settle(Outcome.REJECTED);
        if (onForwarded != null && index > 0) {
            onForwarded.run(); // an approved statement before the refused one still runs
        }
        session.reject(this, index, sqlState, message, hint);
    }

    void release() {
        for (ByteBuf b : frames) {
            ReferenceCountUtil.safeRelease(b);
        }
        frames.clear();
    }

    private void settle(Outcome o) {
        if (outcome != Outcome.PENDING) {
            throw new IllegalStateException("round trip already " + outcome);
        }
        outcome = o;
    }
}
