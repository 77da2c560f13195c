package dev.warden.proxy;

import dev.warden.masking.Exits;
import dev.warden.masking.ProtectedCatalog;
import dev.warden.masking.ResultMasker;
import dev.warden.masking.TargetMasking;
import dev.warden.policy.PolicyEngine;
import dev.warden.policy.Verdict;
import dev.warden.sql.Statement;
import dev.warden.wire.FrontendCodec;
import dev.warden.wire.FrontendMessage;
import dev.warden.wire.Wire;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;

/**
 * Route step {@code protectData}, after {@code decideStatements}: on a target with masking it makes
 * sure the protected-column catalog is fresh before anything runs (reading it on Warden's catalog
 * thread, then continuing on the session's event loop), so that the relay only looks columns up;
 * and it refuses statements that would move protected values past the masking — copies into
 * other tables, COPY ... TO, predicates on masked columns (42501, rule "Protected data stays masked").
 * On a target without masking it does nothing.
 */
public final class MaskingProcessor extends RouteStep {
    static final String RULE = "Protected data stays masked";

    private final StatementAnalysis analysis;
    private final PolicyEngine policy;

    MaskingProcessor(StatementAnalysis analysis, PolicyEngine policy) {
        this.analysis = analysis;
        this.policy = policy;
    }

    @Override
    protected boolean step(Exchange exchange, AsyncCallback callback) {
        RoundTrip rt = exchange.getIn().getBody(RoundTrip.class);
        ResultMasker masker = rt.session().masker();
        if (masker == null) {
            callback.done(true);
            return true;
        }
        TargetMasking tm = masker.target();
        java.util.concurrent.CompletableFuture<ProtectedCatalog.Snapshot> fresh;
        try {
            fresh = tm.catalog().fresh();
        } catch (RuntimeException e) {
            // never leave the round trip without an answer: the statement is refused instead
            refuse(rt, firstStatement(rt), "Warden could not check the protected-column catalog (" + e
                    + "); statements are refused until it can, so that no protected value leaves unmasked");
            callback.done(true);
            return true;
        }
        if (fresh.isDone()) {
            check(rt, tm, fresh);
            callback.done(true);
            return true;
        }
        fresh.whenCompleteAsync((ok, err) -> {
            try {
                check(rt, tm, fresh);
            } finally {
                callback.done(false);
            }
        }, rt.session().channel().eventLoop());
        return false;
    }

    /**
     * Checks the round trip again (after a held statement was approved and the rest of it judged);
     * completes on the session's event loop. Nothing to do on a target without masking.
     */
    java.util.concurrent.CompletableFuture<Void> recheck(RoundTrip rt) {
        ResultMasker masker = rt.session().masker();
        if (masker == null) {
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        }
        TargetMasking tm = masker.target();
        var fresh = tm.catalog().fresh();
        return fresh.handleAsync((ok, err) -> {
            check(rt, tm, fresh);
            return null;
        }, rt.session().channel().eventLoop());
    }

    private void check(RoundTrip rt, TargetMasking tm, java.util.concurrent.CompletableFuture<ProtectedCatalog.Snapshot> fresh) {
        ProtectedCatalog.Snapshot cat;
        try {
            cat = fresh.join();
        } catch (RuntimeException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            refuse(rt, firstStatement(rt), c.getMessage() + "; statements are refused until it can, so that no protected "
                    + "value leaves unmasked");
            return;
        }
        ClientSession s = rt.session();
        TargetMasking.Methods methods = tm.methods(s.identity(), s.targetFact());
        List<ByteBuf> frames = rt.frames();
        int limit = rt.refusedIndex() < 0 ? frames.size() : rt.refusedIndex();
        for (int i = 0; i < limit; i++) {
            ByteBuf f = frames.get(i);
            byte type = f.getByte(f.readerIndex());
            String sql;
            if (type == Wire.QUERY) {
                sql = ((FrontendMessage.Query) FrontendCodec.decode(f)).sql();
            } else if (type == Wire.PARSE) {
                sql = ((FrontendMessage.Parse) FrontendCodec.decode(f)).sql();
            } else {
                continue;
            }
            String why;
            try {
                why = exit(sql, s, cat, methods);
            } catch (RuntimeException e) {
                // fail closed: a statement Warden could not check is not forwarded
                org.slf4j.LoggerFactory.getLogger("dev.warden.masking").error("masking check of session {} failed; statement refused", s.sessionId(), e);
                why = "Warden could not check it for protected data (" + e + ")";
            }
            if (why != null) {
                refuse(rt, i, why);
                return;
            }
        }
    }

    /**
     * Why one message's statements would carry protected data out, or null. A session that may have
     * standard_conforming_strings off is checked under both readings of its backslashes (as the policy
     * judges it), so that a statement one reading hides inside a "string" is still seen.
     */
    private String exit(String sql, ClientSession s, ProtectedCatalog.Snapshot cat, TargetMasking.Methods methods) {
        for (String text : analysis.split(sql)) {
            String why = Exits.check(analysis.analyze(text, s.searchPath()), text, cat, methods, true);
            if (why != null) {
                return why;
            }
        }
        if (s.legacyStrings()) {
            for (String text : analysis.splitLegacy(sql)) {
                String why = Exits.check(analysis.analyzeLegacy(text, s.searchPath()), text, cat, methods, false);
                if (why != null) {
                    return why;
                }
            }
        }
        return null;
    }

    private static int firstStatement(RoundTrip rt) {
        List<ByteBuf> frames = rt.frames();
        for (int i = 0; i < frames.size(); i++) {
            byte t = frames.get(i).getByte(frames.get(i).readerIndex());
            if (t == Wire.QUERY || t == Wire.PARSE || t == Wire.FUNCTION_CALL || t == Wire.EXECUTE) {
                return i;
            }
        }
        return -1;
    }

    private void refuse(RoundTrip rt, int index, String why) {
        if (index < 0) {
            return;
        }
        Verdict block = new Verdict(Verdict.Decision.BLOCK, why, List.of(RULE), policy.rulesVersion(), null, null, List.of());
        List<StatementUnit> units = rt.units();
        List<StatementUnit> replaced = new ArrayList<>(units.size());
        for (StatementUnit u : units) {
            replaced.add(u.frameIndex == index ? u.withVerdict(Verdict.combine(u.verdict, block)) : u);
        }
        if (!units.isEmpty()) {
            units.clear();
            units.addAll(replaced);
        }
        rt.refuse(index, block);
        rt.verdict(rt.getVerdict() == null ? block : Verdict.combine(rt.getVerdict(), block));
    }
}
