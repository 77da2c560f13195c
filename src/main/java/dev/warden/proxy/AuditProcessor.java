package dev.warden.proxy;

import dev.warden.audit.AuditLog;
import dev.warden.audit.AuditTicket;
import dev.warden.audit.AuditUnavailableException;
import dev.warden.audit.StatementRecord;
import dev.warden.policy.Verdict;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;

/**
 * Route step {@code auditStatements}: writes each statement's record before anything is forwarded.
 * Privileged statements (DDL, DCL, writes to classified tables) and everything under
 * {@code audit.durability: strict} wait until their record is durable — the route then continues
 * later, on the session's event loop, without blocking it. If the audit cannot take a record, the
 * round trip is refused (53400): no statement runs without its record.
 */
public final class AuditProcessor extends RouteStep {
    private final AuditLog audit;

    AuditProcessor(AuditLog audit) {
        this.audit = audit;
    }

    @Override
    protected boolean step(Exchange exchange, AsyncCallback callback) {
        RoundTrip rt = exchange.getIn().getBody(RoundTrip.class);
        List<StatementUnit> units = rt.units();
        if (units.isEmpty()) {
            callback.done(true);
            return true;
        }
        if (audit.queued() >= audit.backpressureThreshold()) {
            // the writer is behind: this session waits (its later statements queue behind this one)
            // rather than have statements refused; only a writer stuck past strictTimeout refuses them
            waitForWriter(rt, callback, System.nanoTime() + audit.strictTimeout().toNanos());
            return false;
        }
        record(rt);
        return finish(rt, callback, true);
    }

    private void waitForWriter(RoundTrip rt, AsyncCallback callback, long deadline) {
        rt.session().channel().eventLoop().schedule(() -> {
            if (audit.queued() >= audit.backpressureThreshold() && System.nanoTime() < deadline) {
                waitForWriter(rt, callback, deadline);
            } else {
                record(rt);
                finish(rt, callback, false);
            }
        }, 1, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /**
     * Records the statements a round trip gained after it was held and approved (those judged only
     * then); returns what to wait for before forwarding (null: nothing). A failure marks the round trip.
     */
    CompletableFuture<Void> recordLate(RoundTrip rt) {
        record(rt);
        CompletableFuture<Void> wait = rt.strictWait();
        if (wait == null) {
            return null;
        }
        return wait.handle((ok, failure) -> {
            if (failure != null) {
                rt.auditFailed(failureMessage(wait));
            }
            return null;
        });
    }

    private void record(RoundTrip rt) {
        List<StatementUnit> units = rt.units();
        ClientSession s = rt.session();
        Instant received = rt.received();
        CompletableFuture<Void> strict = null;
        for (StatementUnit u : units) {
            if (u.ticket != null) {
                continue; // recorded before the round trip was held for approval
            }
            Verdict v = u.verdict;
            AuditTicket t = audit.statementReceived(new StatementRecord(s.sessionId(), received, s.identity(),
                    s.clientAddress(), s.targetName(), s.upstreamRole(), u.text, u.fingerprint, u.bindParameters,
                    new StatementRecord.Verdict(v.decision().label(), v.rules(), v.rulesVersion()),
                    u.approvalId == null ? null : new StatementRecord.Approval(u.approvalId, u.approver), List.of()),
                    u.privileged || u.approvalId != null);
            u.ticket = t;
            CompletableFuture<Void> durable = t.durable();
            if (durable.isDone()) {
                if (durable.isCompletedExceptionally()) {
                    rt.auditFailed(failureMessage(durable));
                    break;
                }
            } else {
                strict = strict == null ? durable : CompletableFuture.allOf(strict, durable);
            }
        }
        rt.strictWait(rt.auditFailure() != null ? null : strict);
    }

    /** Continues the route now, or once the strict records are durable (on the session's event loop). */
    private static boolean finish(RoundTrip rt, AsyncCallback callback, boolean sync) {
        CompletableFuture<Void> all = rt.strictWait();
        if (all == null) {
            callback.done(sync);
            return sync;
        }
        all.whenCompleteAsync((ok, failure) -> {
            if (failure != null) {
                rt.auditFailed(failureMessage(all));
            }
            callback.done(false);
        }, rt.session().channel().eventLoop());
        return false;
    }

    private static String failureMessage(CompletableFuture<?> f) {
        try {
            f.join();
            return AuditUnavailableException.STORE_DOWN;
        } catch (RuntimeException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            return c instanceof AuditUnavailableException ? c.getMessage() : "auditing is unavailable: " + c.getMessage();
        }
    }
}
