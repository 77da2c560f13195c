package dev.warden.proxy;

import dev.warden.config.WardenConfig.Target;
import dev.warden.wire.ClientFrameDecoder.StartupFrame;
import dev.warden.wire.FrontendValidator;
import dev.warden.wire.ProtocolViolation;
import dev.warden.wire.SqlState;
import dev.warden.wire.Wire;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import dev.warden.identity.Identity;
import dev.warden.policy.TargetFact;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One client connection, from the startup packet to Terminate. (Longer than our usual ~400 lines
 * because it is the one state machine that sees both channels; everything that is not ordering
 * and relaying lives in collaborators: ClientLogin, StatementBlocker, SessionAudit/OutcomeTracker,
 * PreparedStatements, UpstreamConnection, WriteCoalescer.)
 * The login itself is handled by
 * {@link ClientLogin}; this class groups the client's messages into {@link RoundTrip}s, hands each
 * to the statements route (one Camel Exchange per round trip) and relays the server's answers.
 *
 * <p>All methods run on the channel's event loop; the upstream connection shares that loop.
 *
 * <p>One file on purpose: it is the session's state machine (login, ready, closing) and both relay
 * directions share that state, the write coalescers, the clock and the flow control (a slow client
 * stops reads from PostgreSQL and the reverse). Login, blocking, auditing, recording and outcome
 * tracking already live in their own classes; what stays here is the state they all read.
 */
public final class ClientSession extends ChannelInboundHandlerAdapter implements UpstreamConnection.Listener {
    /** A round trip is sent for a decision early once it holds this much, so memory stays bounded. */
    private static final int ROUND_TRIP_MAX_MESSAGES = 1024;
    private static final int ROUND_TRIP_MAX_BYTES = 1 << 20;
    private static final int MAX_QUEUED_ROUND_TRIPS = 64;
    private static final List<String> DEFAULT_SEARCH_PATH = List.of("$user", "public");

    private enum State { LOGIN, CONNECTING, READY, CLOSED }

    private final Gateway gw;
    private final ClientLogin login;
    private ChannelHandlerContext ctx;
    private State state = State.LOGIN;
    private ScheduledFuture<?> startupTimer;
    private ScheduledFuture<?> tokenWatch;
    private UpstreamConnection upstream;
    private Target target;
    private Identity identity;
    private String upstreamRole;
    private boolean legacyStrings;
    private TargetFact targetFact;
    private List<String> searchPath = DEFAULT_SEARCH_PATH;
    private String userName;
    private int pid;
    private int secret;
    private RoundTrip building;
    private final ArrayDeque<RoundTrip> queue = new ArrayDeque<>();
    private boolean draining;
    /** A round trip is in the statements route; later ones wait so that order is kept. */
    private boolean awaitingDecision;
    private boolean terminateRequested;
    private final StatementBlocker blocker;
    private final PreparedStatements prepared = new PreparedStatements();
    /** Messages relayed as they arrived go out as one write per run (see WriteCoalescer). */
    private final WriteCoalescer toClient = new WriteCoalescer();
    private final WriteCoalescer toUpstream = new WriteCoalescer();
    private final SessionAudit audit;
    private final ReadClock clock = new ReadClock();
    /** Null unless the session is recorded: then every message in both directions is copied to it. */
    private dev.warden.recording.SessionTap rec;
    /** Null unless the target masks data: then every server message passes through it. */
    private dev.warden.masking.ResultMasker masker;

    ClientSession(Gateway gw, dev.warden.wire.ClientFrameDecoder decoder) {
        this.gw = gw;
        this.login = new ClientLogin(gw, this, decoder);
        this.blocker = new StatementBlocker(gw.random());
        this.audit = new SessionAudit(gw.audit(), gw.newSessionId(), clock);
    }

    /** The session's time, read once per network read (event loop only). */
    ReadClock clock() {
        return clock;
    }

    public String targetName() {
        return target == null ? null : target.name();
    }

    public String userName() {
        return userName;
    }

    /** Whether standard_conforming_strings may be off in this session (then queries are judged both ways). */
    boolean legacyStrings() {
        return legacyStrings;
    }

    void legacyStrings(boolean maybeOff) {
        legacyStrings |= maybeOff;
    }

    PreparedStatements prepared() {
        return prepared;
    }

    String sessionId() {
        return audit.sessionId();
    }

    String clientAddress() {
        return audit.clientAddress();
    }

    String upstreamRole() {
        return upstreamRole;
    }

    Identity identity() {
        return identity;
    }

    dev.warden.masking.ResultMasker masker() {
        return masker;
    }

    /** The session's recording tap, or null when the session is not recorded. */
    dev.warden.recording.SessionTap recording() {
        return rec;
    }

    TargetFact targetFact() {
        return targetFact;
    }

    List<String> searchPath() {
        return searchPath;
    }

    void searchPath(List<String> path) {
        this.searchPath = path;
    }

    int cancelSecret() {
        return secret;
    }

    Channel channel() {
        return ctx.channel();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        gw.sessionOpened(this);
        if (!audit.connected(String.valueOf(ctx.channel().remoteAddress()).replaceFirst("^/", ""))) {
            fatal("53400", "auditing is unavailable, so Warden accepts no connections right now; try again shortly", null);
            return;
        }
        long ms = gw.config().limits().startupTimeout().toMillis();
        startupTimer = ctx.executor().schedule(() -> {
            if (state == State.LOGIN || state == State.CONNECTING) {
                fatal(SqlState.PROTOCOL_VIOLATION, "the connection did not finish its startup within " + ms
                        + " ms (limits.startupTimeout)", null);
            }
        }, ms, TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        clock.readStarted();
        if (state == State.CLOSED) {
            ReferenceCountUtil.release(msg instanceof StartupFrame f ? f.bytes() : msg);
            return;
        }
        try {
            if (msg instanceof StartupFrame f) {
                try {
                    login.onStartupPacket(ctx, f.bytes());
                } finally {
                    f.bytes().release();
                }
            } else if (state == State.LOGIN) {
                try {
                    login.onMessage(ctx, (ByteBuf) msg);
                } finally {
                    ((ByteBuf) msg).release();
                }
            } else {
                onStatementMessage((ByteBuf) msg);
            }
        } catch (ProtocolViolation e) {
            fatal(SqlState.PROTOCOL_VIOLATION, "invalid message from client: " + e.getMessage(), null);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        clock.readFinished();
        ctx.fireChannelReadComplete();
    }

    /** Called by {@link ClientLogin} once the client has proved who it is and named a usable target. */
    void loggedIn(Identity who, Target t, String role, Map<String, String> params) {
        this.userName = who.grant();
        this.identity = who;
        this.target = t;
        this.targetFact = gw.targetFact(t);
        this.upstreamRole = role;
        state = State.CONNECTING;
        dev.warden.masking.TargetMasking tm = gw.masking(t.name());
        masker = tm == null ? null : new dev.warden.masking.ResultMasker(tm, who, targetFact);
        dev.warden.recording.Recorder recorder = gw.recorder();
        rec = recorder == null ? null : recorder.open(audit.sessionId(), ctx.executor(), who, t.name(),
                audit.clientAddress(), this::recordingCaughtUp, clock::nanos);
        upstream = UpstreamConnection.open(gw, t, role, params, ctx.channel(), this, masker);
    }

    /**
     * A token session may not outlive its token (plus the configured grace) nor a revocation: checked
     * at the deadline and every few seconds, so a config reload that revokes it ends it promptly.
     */
    void watchToken(java.util.function.Supplier<java.util.Optional<dev.warden.identity.oidc.IdentityException>> recheck,
                    long periodMillis) {
        tokenWatch = ctx.executor().scheduleAtFixedRate(() -> {
            if (state == State.CLOSED) {
                return;
            }
            recheck.get().ifPresent(e -> {
                gw.log().info("session {} ({}) ended: {}", pid, userName, e.getMessage());
                closeReason = (e.reason() == dev.warden.identity.oidc.IdentityException.Reason.REVOKED
                        ? "token revoked: " : "token expired: ") + e.getMessage();
                // 57P05: the session ended for a reason of time, as idle_session_timeout does
                fatal(e.reason() == dev.warden.identity.oidc.IdentityException.Reason.SESSION_EXPIRED ? "57P05" : e.sqlState(),
                        e.getMessage(), null);
            });
        }, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }

    private void onStatementMessage(ByteBuf frame) {
        String bad = FrontendValidator.check(frame);
        if (bad != null) {
            frame.release();
            throw new ProtocolViolation(bad);
        }
        long recorded = rec == null ? -1 : rec.client(frame);
        if (blocker.dropWhileDiscarding(frame)) {
            return;
        }
        byte type = frame.getByte(frame.readerIndex());
        switch (type) {
            case Wire.QUERY, Wire.FUNCTION_CALL, Wire.SYNC, Wire.FLUSH -> {
                building().add(frame, recorded);
                submitBuilding();
            }
            case Wire.PARSE, Wire.BIND, Wire.DESCRIBE, Wire.EXECUTE, Wire.CLOSE -> {
                RoundTrip rt = building();
                rt.add(frame, recorded);
                if (rt.frames().size() >= ROUND_TRIP_MAX_MESSAGES || rt.bytes() >= ROUND_TRIP_MAX_BYTES) {
                    submitBuilding();
                }
            }
            case Wire.COPY_DATA, Wire.COPY_DONE, Wire.COPY_FAIL -> {
                // COPY payload belongs to a statement that was already decided: it needs no decision of its own
                if (building != null) {
                    building.add(frame, recorded);
                } else {
                    RoundTrip rt = new RoundTrip(this, false);
                    rt.add(frame, recorded);
                    submit(rt);
                }
            }
            case Wire.TERMINATE -> {
                frame.release();
                submitBuilding();
                terminateRequested = true;
                drain();
            }
            default -> {
                frame.release();
                throw new ProtocolViolation("message type '" + (char) type + "' is not valid after startup");
            }
        }
    }

    private RoundTrip building() {
        if (building == null) {
            building = new RoundTrip(this, true);
        }
        return building;
    }

    private void submitBuilding() {
        if (building != null) {
            RoundTrip rt = building;
            building = null;
            submit(rt);
        }
    }

    private void submit(RoundTrip rt) {
        queue.add(rt);
        drain();
        if (queue.size() >= MAX_QUEUED_ROUND_TRIPS) {
            // a statement is waiting for its decision: stop reading until the client's backlog moves
            ctx.channel().config().setAutoRead(false);
        }
    }

    /** Sends queued round trips through the route in order; re-entrant calls just return. */
    private void drain() {
        if (draining || state != State.READY) {
            return;
        }
        draining = true;
        try {
            RoundTrip rt;
            while (state == State.READY && !awaitingDecision && (rt = queue.poll()) != null) {
                if (rt.needsDecision()) {
                    awaitingDecision = true;
                    ctx.fireChannelRead(rt);
                } else {
                    rt.forward();
                }
            }
            if (terminateRequested && queue.isEmpty() && state == State.READY) {
                close(true);
            }
        } finally {
            draining = false;
        }
    }

    /** The route has run for this round trip; anything but a decision means the statement must not run. */
    void decided(RoundTrip rt, Throwable failure) {
        awaitingDecision = false;
        if (state == State.CLOSED) {
            if (rt.outcome() == RoundTrip.Outcome.PENDING) {
                rt.release();
            }
            return;
        }
        if (rt.outcome() == RoundTrip.Outcome.PENDING) {
            String why = failure == null ? "the statements route ended without a decision"
                    : "the statements route failed: " + UpstreamConnection.rootMessage(failure);
            if (failure != null) {
                gw.log().error("fail-closed for session {} ({}): {}", pid, userName, why, failure);
            } else {
                gw.log().error("fail-closed for session {} ({}): {}", pid, userName, why);
            }
            rt.reject(SqlState.INTERNAL_ERROR, "Warden could not decide on this statement, so it was not run: " + why,
                    "This is a Warden fault, not a problem with the statement; tell your Warden administrator.");
        } else if (failure != null) {
            gw.log().warn("statements route failed after deciding for session {}: {}", pid, failure.toString());
        }
        if (!draining) {
            boolean wasFull = queue.size() >= MAX_QUEUED_ROUND_TRIPS;
            drain();
            if (wasFull && queue.size() < MAX_QUEUED_ROUND_TRIPS && upstream.channel().isWritable()) {
                ctx.channel().config().setAutoRead(true);
            }
        }
    }

    /**
     * Tells the outcome tracker which statements go upstream, and where each sync group ends, for the
     * first {@code limit} frames (all of them when forwarded; those before the refusal when refused).
     */
    void track(RoundTrip rt, int limit) {
        audit.forwarding(rt, limit);
    }

    /** The recording learns each statement's audit record and verdict, tied to the client message it came in. */
    private void recordStatements(RoundTrip rt) {
        if (rt.firstRecorded() < 0) {
            return;
        }
        for (StatementUnit u : rt.units()) {
            rec.statement(rt.firstRecorded() + u.frameIndex, u.ticket == null ? null : u.ticket.recordId(),
                    u.verdict == null ? null : u.verdict.decision().label(),
                    u.verdict == null ? List.of() : u.verdict.rules(), u.text);
        }
    }

    void forward(RoundTrip rt, int frameCount) {
        if (rec != null) {
            recordStatements(rt);
        }
        track(rt, frameCount);
        Channel up = upstream.channel();
        for (ByteBuf b : rt.frames()) {
            toUpstream.add(up, b);
        }
        toUpstream.emit(up);
        rt.frames().clear();
        up.flush();
        if (!up.isWritable()) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    void reject(RoundTrip rt, int index, String sqlState, String message, String hint) {
        if (rec != null) {
            recordStatements(rt);
        }
        track(rt, index);
        for (StatementUnit u : rt.units()) {
            if (u.frameIndex >= index) {
                u.notRun(clock.instant(), sqlState, message);
            }
        }
        if (blocker.block(rt.frames(), index, sqlState, message, hint, upstream.channel())) {
            audit.syncPointSent();
        }
    }

    @Override
    public void upstreamReady(Map<String, String> parameters, byte status) {
        if (state != State.CONNECTING) {
            return;
        }
        pid = gw.cancels().register(this);
        secret = gw.random().nextInt();
        ctx.write(recorded(PgOut.authenticationOk(ctx.alloc())));
        legacyStrings("off".equalsIgnoreCase(parameters.get("standard_conforming_strings")));
        for (Map.Entry<String, String> p : parameters.entrySet()) {
            ctx.write(recorded(PgOut.parameterStatus(ctx.alloc(), p.getKey(), p.getValue())));
        }
        ctx.write(recorded(PgOut.backendKeyData(ctx.alloc(), pid, secret)));
        ctx.writeAndFlush(recorded(PgOut.readyForQuery(ctx.alloc(), status)));
        audit.authenticated(identity, target.name());
        state = State.READY;
        startupTimer.cancel(false);
        gw.log().info("session {} open: user {} -> target {} (upstream pid {}, client {}, tls {})", pid, userName,
                target.name(), upstream.upstreamPid(), ctx.channel().remoteAddress(), login.isTls());
        drain();
    }

    @Override
    public void upstreamFailed(String sqlState, String message, Map<Character, String> serverError) {
        gw.log().warn("session for user {} could not reach target {}: {}", userName, target == null ? "?" : target.name(), message);
        fatal(sqlState, message, serverError == null ? null : serverError.get('H'));
    }

    @Override
    public void upstreamMessage(ByteBuf frame) {
        clock.readStarted();
        byte type = frame.getByte(frame.readerIndex());
        if (type == Wire.ERROR_RESPONSE && blocker.expectsError()) {
            frame = blocker.rewrite(frame, ctx.alloc());
        } else if (type == Wire.PARAMETER_STATUS) {
            var ps = (dev.warden.wire.BackendMessage.ParameterStatus) dev.warden.wire.BackendCodec.decode(frame);
            if (ps.name().equals("standard_conforming_strings")) {
                legacyStrings("off".equalsIgnoreCase(ps.value()));
            }
        }
        if (masker != null) {
            var masked = masker.takeCompleted();
            if (masked != null) {
                audit.masked(masked);
            }
        }
        audit.serverMessage(frame);
        if (rec != null) {
            rec.server(frame);
        }
        toClient.add(ctx, frame);
    }

    /** Warden's own message to the client, copied to the recording first (the buffer stays the caller's). */
    private ByteBuf recorded(ByteBuf msg) {
        if (rec != null) {
            rec.server(msg);
        }
        return msg;
    }

    /** The recording writer caught up (fail-closed backpressure): read results from PostgreSQL again. */
    private void recordingCaughtUp() {
        if (state == State.READY && ctx.channel().isWritable() && upstream != null && upstream.channel() != null) {
            upstream.channel().config().setAutoRead(true);
        }
    }

    @Override
    public void upstreamReadComplete() {
        clock.readFinished();
        toClient.emit(ctx);
        ctx.flush();
        if (!ctx.channel().isWritable() || (rec != null && rec.congested())) {
            // a slow client: stop reading from PostgreSQL until it catches up
            upstream.channel().config().setAutoRead(false);
        }
    }

    @Override
    public void upstreamWritabilityChanged(boolean writable) {
        if (writable && state == State.READY) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && upstream != null && upstream.channel() != null) {
            upstream.channel().config().setAutoRead(true);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void upstreamClosed() {
        if (terminateRequested || state == State.CLOSED) {
            close(true);
            return;
        }
        fatal(SqlState.CONNECTION_FAILURE, "the connection from Warden to target '" + target.name()
                + "' was lost; this session cannot continue, please reconnect", null);
    }

    /** Cancels whatever the upstream session is running, as the client's CancelRequest asked. */
    void cancelUpstream() {
        ctx.executor().execute(() -> {
            if (upstream != null && state == State.READY) {
                CancelForwarder.send(gw, upstream, ctx.channel());
            }
        });
    }

    /** Shutdown notice: the client learns why its session ends. */
    io.netty.util.concurrent.Future<?> shutdown() {
        return ctx.executor().submit(() -> {
            Channel ch = ctx.channel();
            fatal(SqlState.ADMIN_SHUTDOWN, "Warden is shutting down; reconnect in a moment", null);
            return ch.closeFuture().awaitUninterruptibly(0);
        });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        close(false);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (c instanceof ProtocolViolation) {
            fatal(SqlState.PROTOCOL_VIOLATION, "invalid message from client: " + c.getMessage(), null);
        } else {
            gw.log().debug("client connection {} failed: {}", ctx.channel().remoteAddress(), c.toString());
            close(true);
        }
    }

    /** Why Warden ended the session, for its disconnect record (null: the client closed it). */
    private String closeReason;

    /** Sends a FATAL ErrorResponse and closes both sides. */
    void fatal(String sqlState, String message, String hint) {
        if (state == State.CLOSED) {
            return;
        }
        if (closeReason == null) {
            closeReason = "ended by Warden (" + sqlState + "): " + message;
        }
        login.stopReading();
        toClient.emit(ctx); // what PostgreSQL already answered goes out before the FATAL
        Channel ch = ctx.channel();
        ByteBuf err = recorded(PgOut.error(ch.alloc(), "FATAL", sqlState, message, null, hint));
        close(false);
        if (ch.isActive()) {
            ch.writeAndFlush(err).addListener(ChannelFutureListener.CLOSE);
        } else {
            err.release();
        }
    }

    private Runnable onAbandon;

    /**
     * The session waits for a person (a held statement): {@code onAbandon} runs if the client goes
     * away meanwhile. Event loop only.
     */
    void parked(Runnable onAbandon) {
        this.onAbandon = onAbandon;
    }

    void unparked() {
        this.onAbandon = null;
    }

    boolean isClosed() {
        return state == State.CLOSED;
    }

    /** Sends the client a NoticeResponse now (psql prints it at once). Event loop only. */
    void notice(String sqlState, String message, String detail) {
        if (state != State.CLOSED && ctx.channel().isActive()) {
            toClient.emit(ctx);
            ctx.writeAndFlush(recorded(PgOut.notice(ctx.alloc(), sqlState, message, detail)));
        }
    }

    /** Releases everything the session holds; closes the client channel too when asked. */
    private void close(boolean closeChannel) {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        toClient.discard();
        if (onAbandon != null) {
            Runnable r = onAbandon;
            onAbandon = null;
            r.run();
        }
        if (startupTimer != null) {
            startupTimer.cancel(false);
        }
        if (tokenWatch != null) {
            tokenWatch.cancel(false);
        }
        if (pid != 0) {
            gw.cancels().unregister(pid, this);
        }
        gw.sessionClosed(this);
        if (rec != null) {
            rec.closed();
        }
        audit.closed(closeReason != null ? closeReason : terminateRequested ? "client terminated" : "closed");
        if (building != null) {
            building.release();
            building = null;
        }
        for (RoundTrip rt : queue) {
            rt.release();
        }
        queue.clear();
        if (upstream != null) {
            upstream.terminate();
        }
        if (closeChannel) {
            ctx.close();
        }
    }
}
