package dev.warden.proxy;

import dev.warden.audit.AuditTicket;
import dev.warden.audit.StatementOutcome;
import dev.warden.policy.Verdict;
import dev.warden.masking.SealedOriginals;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.List;

/**
 * One statement of a round trip as the audit sees it: a statement of a simple Query, an Execute of
 * a prepared statement, or a fast-path call. Created by the policy step, recorded by the audit step
 * before anything is forwarded, and completed from the server's answers (CommandComplete, error,
 * or skipped after an earlier error) by {@link OutcomeTracker}.
 */
final class StatementUnit {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(StatementUnit.class);
    /** Seals originals in order on one thread (ended when idle); each queued task holds at most maxBytes of originals. */
    private static final Executor SEALING;

    static {
        ThreadPoolExecutor e = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "warden-seal-originals");
            t.setDaemon(true);
            return t;
        });
        e.allowCoreThreadTimeOut(true);
        SEALING = e;
    }
    final int frameIndex;
    final String text;
    final String fingerprint;
    final List<String> bindParameters;
    final Verdict verdict;
    /** DDL, DCL or a write to a classified table: its record must be durable before it runs. */
    final boolean privileged;
    AuditTicket ticket;
    /** The approval this statement runs under (an approved prepared statement's Execute), else null. */
    String approvalId;
    String approver;
    long group;
    Instant forwarded;
    long rows;
    long bytes;
    /** What Warden masked in the result (empty when nothing). */
    List<String> maskedColumns = List.of();
    long maskedCells;
    /** The original values of the masked cells, to be sealed for the auditors (sealOriginals); else null. */
    SealedOriginals.Originals originals;

    StatementUnit(int frameIndex, String text, String fingerprint, List<String> bindParameters, Verdict verdict,
                  boolean privileged) {
        this.frameIndex = frameIndex;
        this.text = text;
        this.fingerprint = fingerprint;
        this.bindParameters = bindParameters;
        this.verdict = verdict;
        this.privileged = privileged;
    }

    StatementUnit approvedAs(String id, String by) {
        this.approvalId = id;
        this.approver = by;
        return this;
    }

    /** The same statement under another verdict (a later route step refused it). */
    StatementUnit withVerdict(Verdict v) {
        return new StatementUnit(frameIndex, text, fingerprint, bindParameters, v, privileged)
                .approvedAs(approvalId, approver);
    }

    void succeeded(Instant at, String tag) {
        if (ticket != null) {
            complete(StatementOutcome.success(forwarded, at, tag, rows, bytes)
                    .withMasked(maskedColumns, maskedCells));
        }
    }

    void failed(Instant at, String sqlState, String message) {
        if (ticket != null) {
            complete(StatementOutcome.error(forwarded, at, sqlState, message, bytes)
                    .withMasked(maskedColumns, maskedCells));
        }
    }

    /**
     * Records the outcome; with originals to seal, the encryption runs off the event loop first
     * (a few milliseconds for the largest document) and the outcome is recorded from there.
     */
    private void complete(StatementOutcome o) {
        SealedOriginals.Originals orig = originals;
        originals = null;
        if (orig == null || ticket.recordId() == null) {
            ticket.completed(o);
            return;
        }
        AuditTicket t = ticket;
        SEALING.execute(() -> {
            StatementOutcome out = o;
            try {
                out = o.withSealedOriginals(orig.sealer().seal(orig, t.recordId()));
            } catch (GeneralSecurityException | RuntimeException e) {
                LOG.error("could not seal the originals of statement {}: {}", t.recordId(), e.toString());
            }
            t.completed(out);
        });
    }

    void notRun(Instant at, String sqlState, String message) {
        if (ticket != null) {
            ticket.completed(StatementOutcome.notRun(at, sqlState, message));
        }
    }
}
