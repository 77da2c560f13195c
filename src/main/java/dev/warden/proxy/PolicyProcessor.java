package dev.warden.proxy;

import dev.warden.policy.PolicyEngine;
import dev.warden.policy.Verdict;
import dev.warden.sql.SqlAnalyzer;
import dev.warden.sql.Statement;
import dev.warden.wire.FrontendCodec;
import dev.warden.wire.FrontendMessage;
import dev.warden.wire.Wire;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Route step {@code decideStatements}: gives every statement of the round trip a verdict from the
 * Drools rules before anything is forwarded. Simple Queries are split into their statements (if one
 * is refused, none runs); extended-protocol statements are judged at Parse, and their Bind/Execute
 * inherit that verdict (a statement re-prepared under the same name is judged again at its Parse).
 * A FunctionCall (fast-path) is judged as the equivalent SQL call when its OID is a known built-in
 * (the large-object API); any other fast-path call is refused, as Warden cannot see what it does.
 */
public final class PolicyProcessor implements Processor {
    private final PolicyEngine engine;
    private final StatementAnalysis analysis;

    PolicyProcessor(PolicyEngine engine, StatementAnalysis analysis) {
        this.engine = engine;
        this.analysis = analysis;
    }

    @Override
    public void process(Exchange exchange) {
        RoundTrip rt = exchange.getIn().getBody(RoundTrip.class);
        ClientSession session = rt.session();
        List<ByteBuf> frames = rt.frames();
        List<Verdict> verdicts = null;
        for (int i = 0; i < frames.size(); i++) {
            ByteBuf f = frames.get(i);
            byte type = f.getByte(f.readerIndex());
            Verdict v;
            if (type == Wire.QUERY || type == Wire.PARSE) {
                FrontendMessage m = FrontendCodec.decode(f);
                String sql = m instanceof FrontendMessage.Query q ? q.sql() : ((FrontendMessage.Parse) m).sql();
                v = judge(session, sql);
            } else if (type == Wire.FUNCTION_CALL) {
                String sql = FastPathFunctions.asSql(f);
                v = sql != null ? judge(session, sql) : new Verdict(Verdict.Decision.BLOCK,
                        "a fast-path call of function OID " + FastPathFunctions.oid(f) + " cannot be inspected; call it with SQL",
                        List.of("Fast-path calls of unknown functions are blocked"), engine.rulesVersion(), null, null, List.of());
            } else {
                continue;
            }
            if (verdicts == null) {
                verdicts = new ArrayList<>(2);
            }
            verdicts.add(v);
            if (v.decision().isAtLeast(Verdict.Decision.HOLD)) {
                rt.refuse(i, v);
                break;
            }
        }
        rt.verdict(verdicts == null ? Verdict.allow(engine.rulesVersion()) : Verdict.combine(verdicts));
    }

    private Verdict judge(ClientSession session, String sql) {
        List<String> parts = analysis.split(sql);
        if (parts.isEmpty()) {
            // an empty query: PostgreSQL answers EmptyQueryResponse, nothing runs
            return Verdict.allow(engine.rulesVersion());
        }
        if (parts.size() == 1) {
            return judgeOne(session, parts.get(0));
        }
        // several statements in one Query: judged in order (a SET search_path affects the ones after it)
        List<String> pathBefore = session.searchPath();
        List<Verdict> vs = new ArrayList<>(parts.size());
        for (String p : parts) {
            vs.add(judgeOne(session, p));
        }
        Verdict v = Verdict.combine(vs);
        if (v.decision().isAtLeast(Verdict.Decision.HOLD)) {
            session.searchPath(pathBefore);
        }
        return v;
    }

    private Verdict judgeOne(ClientSession session, String statementSql) {
        Statement s = analysis.analyze(statementSql, session.searchPath());
        Verdict v = engine.decide(session.identity(), session.targetFact(), s);
        if (s.kind() == Statement.Kind.SET && !v.decision().isAtLeast(Verdict.Decision.HOLD)) {
            List<String> path = SqlAnalyzer.searchPathFrom(s);
            if (path != null) {
                session.searchPath(List.copyOf(path));
            }
        }
        return v;
    }
}
