package dev.warden.proxy;

import dev.warden.approval.Approvals;
import dev.warden.identity.Identity;
import dev.warden.policy.Verdict;
import dev.warden.wire.FrontendCodec;
import dev.warden.wire.FrontendMessage;
import dev.warden.wire.SqlState;
import dev.warden.wire.Wire;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Route step {@code holdForApproval}: a statement the rules HOLD waits for a person. The session is
 * parked without blocking any thread (the route continues when the decision arrives; the client's
 * later messages queue behind it), the client gets a NoticeResponse at once naming the request, the
 * reviewers and the link, and then:
 * <ul>
 * <li>approved — the statement runs exactly as it was sent (the same frames; the approval is bound
 *     to the hash of its text and bind values), and what follows it in the round trip is judged now;</li>
 * <li>denied or expired — it is refused with 42501 naming the reviewer (or the timeout) and the reason,
 *     like any blocked statement;</li>
 * <li>fail-fast rules — the client is refused at once with the link; once approved, the same identity
 *     sending the same statement (same hash) runs it once.</li>
 * </ul>
 * If the client goes away while waiting, the request is marked abandoned. If no approval service is
 * configured, or the request cannot be stored, the statement stays refused (fail closed).
 */
public final class HoldProcessor extends RouteStep {
    private static final Logger LOG = LoggerFactory.getLogger("dev.warden.approval");

    private final Approvals approvals;
    private final PolicyProcessor policy;
    private final AuditProcessor audit;
    private final MaskingProcessor masking;

    HoldProcessor(Approvals approvals, PolicyProcessor policy, AuditProcessor audit, MaskingProcessor masking) {
        this.approvals = approvals;
        this.policy = policy;
        this.audit = audit;
        this.masking = masking;
    }

    @Override
    protected boolean step(Exchange exchange, AsyncCallback callback) {
        RoundTrip rt = exchange.getIn().getBody(RoundTrip.class);
        if (!heldForApproval(rt)) {
            callback.done(true);
            return true;
        }
        hold(rt, callback);
        return false;
    }

    private boolean heldForApproval(RoundTrip rt) {
        Verdict refusal = rt.refusal();
        return approvals != null && refusal != null && refusal.decision() == Verdict.Decision.HOLD
                && rt.auditFailure() == null && rt.refusedIndex() >= 0;
    }

    private void hold(RoundTrip rt, AsyncCallback callback) {
        ClientSession s = rt.session();
        EventLoop loop = s.channel().eventLoop();
        Verdict refusal = rt.refusal();
        int index = rt.refusedIndex();
        StatementUnit unit = unitAt(rt, index);
        String sent = unit != null ? unit.text : textOf(rt.frames().get(index));
        List<byte[]> binds = bindValuesAfter(rt, index);
        Identity who = s.identity();
        String subject = who == null ? s.userName() : who.subject();
        // bound to who asks (kind, issuer, subject, CI run), the text and the values: a fail-fast approval
        // cannot be spent by another identity or run that happens to share a subject
        String hash = statementHash(identityKey(who, s.userName()), sent, binds);
        // reviewers decide on the values too
        String text = binds.isEmpty() ? sent : sent + "\n-- bind values: " + describe(binds);
        if (refusal.failFast()) {
            approvals.consumeFailFast(subject, s.targetName(), hash, s.sessionId()).whenCompleteAsync((found, err) -> {
                if (err == null && found.isPresent()) {
                    // consumeFailFast recorded the run ("executed") itself
                    approved(rt, found.get(), "an earlier approval", false, callback);
                } else {
                    request(rt, unit, text, hash, Approvals.Mode.FAIL_FAST, callback);
                }
            }, loop);
            return;
        }
        request(rt, unit, text, hash, Approvals.Mode.WAIT, callback);
    }

    private static String identityKey(Identity who, String user) {
        if (who == null) {
            return "user|" + user;
        }
        return who.kind() + "|" + who.issuer() + "|" + who.subject() + "|" + who.ci().getOrDefault("runId", "");
    }

    private static String describe(List<byte[]> binds) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < binds.size(); i++) {
            byte[] v = binds.get(i);
            b.append(i == 0 ? "" : ", ").append('$').append(i + 1).append(" = ");
            if (v == null) {
                b.append("NULL");
            } else {
                String t = new String(v, StandardCharsets.UTF_8);
                boolean text = t.chars().allMatch(c -> c >= 0x20 && c != 0x7f) && java.util.Arrays.equals(
                        t.getBytes(StandardCharsets.UTF_8), v);
                b.append(text ? "'" + t.replace("'", "''") + "'" : "\\x" + HexFormat.of().formatHex(v));
            }
        }
        return b.toString();
    }

    private void request(RoundTrip rt, StatementUnit unit, String text, String hash, Approvals.Mode mode,
                         AsyncCallback callback) {
        ClientSession s = rt.session();
        EventLoop loop = s.channel().eventLoop();
        Verdict refusal = rt.refusal();
        Approvals.HoldRequest req = new Approvals.HoldRequest(s.sessionId(),
                unit == null || unit.ticket == null ? null : unit.ticket.recordId(), s.identity(), s.clientAddress(),
                s.targetName(), text, unit == null ? "" : unit.fingerprint, hash, refusal.reviewerGroup(), refusal.risk(),
                refusal.reason(), refusal.rules(), refusal.rulesVersion(), mode);
        approvals.request(req).whenCompleteAsync((hold, err) -> {
            if (err != null) {
                LOG.error("could not create an approval request for session {}: {}", s.sessionId(), err.toString());
                refuse(rt, "this statement requires approval by " + refusal.reviewerGroup() + ", and Warden could not "
                        + "create the approval request: " + rootMessage(err), "It was not run. Try again later or ask "
                        + "your Warden administrator.", callback);
                return;
            }
            String wait = humanDuration(Duration.between(Instant.now(), hold.expiresAt()));
            if (mode == Approvals.Mode.FAIL_FAST) {
                refuse(rt, "this statement requires approval by " + refusal.reviewerGroup() + ": " + refusal.reason()
                        + " — requested as " + hold.id() + "; decide at " + hold.url(), "It was not run. Once "
                        + hold.id() + " is approved, send exactly the same statement again within the validity window "
                        + "and it runs once.", callback);
                return;
            }
            if (s.isClosed()) {
                approvals.abandoned(hold.id());
                callback.done(false);
                return;
            }
            s.notice("00000", "waiting for approval " + hold.id() + " by group " + refusal.reviewerGroup()
                    + "; decide at " + hold.url() + "; expires in " + wait, "Reason: " + refusal.reason());
            s.parked(() -> approvals.abandoned(hold.id()));
            hold.decision().whenCompleteAsync((d, failure) -> {
                s.unparked();
                if (s.isClosed()) {
                    callback.done(false);
                    return;
                }
                if (failure != null) {
                    refuse(rt, "approval " + hold.id() + " could not be completed: " + rootMessage(failure),
                            "The statement was not run.", callback);
                } else if (d.outcome() == Approvals.Outcome.APPROVED) {
                    approved(rt, hold.id(), String.join(", ", d.reviewers()), true, callback);
                } else if (d.outcome() == Approvals.Outcome.EXPIRED) {
                    refuse(rt, "approval " + hold.id() + " expired after " + wait + " without a decision by group "
                            + refusal.reviewerGroup(), "The statement was not run. Send it again to ask again.", callback);
                } else {
                    refuse(rt, "approval " + hold.id() + " was denied by " + String.join(", ", d.reviewers())
                            + (d.reason() == null || d.reason().isBlank() ? "" : ": " + d.reason()),
                            "The statement was not run.", callback);
                }
            }, loop);
        }, loop);
    }

    /** Releases the held statement; the rest of the round trip is judged and recorded, and may be held in turn. */
    private void approved(RoundTrip rt, String approvalId, String approver, boolean recordRun, AsyncCallback callback) {
        Verdict held = rt.refusal();
        Verdict ok = new Verdict(Verdict.Decision.ALLOW, "approved under " + approvalId + " by " + approver,
                held.rules(), held.rulesVersion(), null, null, held.masks());
        policy.resumeAfterApproval(rt, ok, approvalId, approver);
        if (recordRun) {
            rt.onForwarded(() -> approvals.executed(approvalId, rt.session().sessionId()));
        }
        EventLoop loop = rt.session().channel().eventLoop();
        // what followed the held statement is checked like any statement: masking exits, then its records
        masking.recheck(rt).whenCompleteAsync((ignored, failure) -> {
            CompletableFuture<Void> recorded = audit.recordLate(rt);
            Runnable next = () -> {
                if (heldForApproval(rt)) {
                    hold(rt, callback);
                } else {
                    callback.done(false);
                }
            };
            if (recorded == null) {
                next.run();
            } else {
                recorded.whenCompleteAsync((v, e) -> next.run(), loop);
            }
        }, loop);
    }

    private static void refuse(RoundTrip rt, String message, String hint, AsyncCallback callback) {
        rt.refusalMessage(SqlState.INSUFFICIENT_PRIVILEGE, message, hint);
        callback.done(false);
    }

    private static StatementUnit unitAt(RoundTrip rt, int frameIndex) {
        for (StatementUnit u : rt.units()) {
            if (u.frameIndex == frameIndex) {
                return u;
            }
        }
        return null;
    }

    private static String textOf(ByteBuf f) {
        FrontendMessage m = FrontendCodec.decode(f);
        if (m instanceof FrontendMessage.Query q) {
            return q.sql();
        }
        if (m instanceof FrontendMessage.Parse p) {
            return p.sql();
        }
        return String.valueOf(m);
    }

    /** The parameter values of the Bind messages after the held Parse in the same round trip. */
    private static List<byte[]> bindValuesAfter(RoundTrip rt, int index) {
        List<byte[]> out = new ArrayList<>();
        List<ByteBuf> frames = rt.frames();
        for (int i = index + 1; i < frames.size(); i++) {
            ByteBuf f = frames.get(i);
            if (f.getByte(f.readerIndex()) == Wire.BIND) {
                for (byte[] v : ((FrontendMessage.Bind) FrontendCodec.decode(f)).paramValues()) {
                    out.add(v);
                }
            }
        }
        return out;
    }

    /** SHA-256 over the requester, the text and every bind value (length-prefixed, NULL distinct from empty), hex. */
    static String statementHash(String who, String text, List<byte[]> binds) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] w = who.getBytes(StandardCharsets.UTF_8);
            sha.update(intBytes(w.length));
            sha.update(w);
            byte[] t = text.getBytes(StandardCharsets.UTF_8);
            sha.update(intBytes(t.length));
            sha.update(t);
            for (byte[] b : binds) {
                sha.update(intBytes(b == null ? -1 : b.length));
                if (b != null) {
                    sha.update(b);
                }
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] intBytes(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    private static String humanDuration(Duration d) {
        long s = Math.max(0, d.getSeconds());
        if (s >= 3600) {
            return (s / 3600) + "h" + (s % 3600 / 60 == 0 ? "" : (s % 3600 / 60) + "m");
        }
        if (s >= 60) {
            return ((s + 59) / 60) + "m";
        }
        return s + "s";
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c != c.getCause()) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }
}
