package dev.warden.proxy;

import dev.warden.policy.PolicyEngine;
import dev.warden.policy.TargetFact;
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
 * It also lists the round trip's statements for the audit ({@link StatementUnit}).
 */
public final class PolicyProcessor implements Processor {
    private final PolicyEngine engine;
    private final StatementAnalysis analysis;

    PolicyProcessor(PolicyEngine engine, StatementAnalysis analysis) {
        this.engine = engine;
        this.analysis = analysis;
    }

    /** A judged statement: its verdict and whether it is privileged (audited strictly). */
    record Judged(String text, String fingerprint, Verdict verdict, boolean privileged, Statement.Kind kind,
                  String preparedName) {
        Judged(String text, String fingerprint, Verdict verdict, boolean privileged) {
            this(text, fingerprint, verdict, privileged, null, null);
        }
    }

    @Override
    public void process(Exchange exchange) {
        RoundTrip rt = exchange.getIn().getBody(RoundTrip.class);
        judgeFrom(rt, 0, null);
    }

    /**
     * A person approved the held statement of this round trip: it counts as decided (with the
     * {@code approved} verdict), and the messages after it, which were not looked at while it was
     * held, are judged now. One of them may be refused in turn.
     */
    void resumeAfterApproval(RoundTrip rt, Verdict approved, String approvalId, String approver) {
        int held = rt.refusedIndex();
        rt.clearRefusal();
        ByteBuf f = rt.frames().get(held);
        if (f.getByte(f.readerIndex()) == Wire.PARSE) {
            // the statement is registered as approved; its Execute(s) get records of their own
            var parse = (FrontendMessage.Parse) FrontendCodec.decode(f);
            StatementUnit heldUnit = rt.removeUnitAt(held);
            if (heldUnit != null) {
                heldUnit.notRun(rt.session().clock().instant(), null, "held for approval " + approvalId + " and approved by " + approver
                        + "; it runs at its Execute (the following records)");
            }
            rt.session().prepared().parsed(parse.name(), new Judged(parse.sql(),
                    heldUnit == null ? "" : heldUnit.fingerprint, approved, true), approvalId, approver);
            if (!boundLater(rt.frames(), held, parse.name())) {
                // the reviewer saw no bind values, so the approval covers no run with values chosen later
                rt.session().prepared().approvalUsed(parse.name());
            }
        } else if (f.getByte(f.readerIndex()) == Wire.QUERY) {
            // what the approved statements do to the session (SET search_path …) now happens upstream too
            applySessionEffects(rt.session(), ((FrontendMessage.Query) FrontendCodec.decode(f)).sql());
        }
        judgeFrom(rt, held + 1, approved);
    }

    /** DEALLOCATE name / DEALLOCATE ALL / DISCARD ALL in SQL remove protocol-level prepared statements too. */
    private static void forgetDeallocated(PreparedStatements prepared, Judged j) {
        if (j.kind() == Statement.Kind.DEALLOCATE) {
            if (j.preparedName() == null) {
                prepared.forgetAll();
            } else {
                prepared.forget(j.preparedName());
            }
        } else if (j.text().strip().regionMatches(true, 0, "DISCARD", 0, 7)
                && j.text().toUpperCase(java.util.Locale.ROOT).matches("(?s)\\s*DISCARD\\s+ALL\\s*;?\\s*")) {
            prepared.forgetAll();
        }
    }

    /** Whether a Bind of statement {@code name} follows message {@code held} in the round trip. */
    private static boolean boundLater(List<ByteBuf> frames, int held, String name) {
        for (int i = held + 1; i < frames.size(); i++) {
            ByteBuf f = frames.get(i);
            if (f.getByte(f.readerIndex()) == Wire.BIND
                    && ((FrontendMessage.Bind) FrontendCodec.decode(f)).statement().equals(name)) {
                return true;
            }
        }
        return false;
    }

    /** Tracks search_path and prepared-statement changes of statements that run (the policy step skipped them while held). */
    private void applySessionEffects(ClientSession session, String sql) {
        for (String text : session.legacyStrings() ? analysis.splitLegacy(sql) : analysis.split(sql)) {
            List<String> path = SqlAnalyzer.searchPathFrom(text);
            if (path != null) {
                session.searchPath(List.copyOf(path));
            }
        }
    }

    private void judgeFrom(RoundTrip rt, int start, Verdict approved) {
        ClientSession session = rt.session();
        PreparedStatements prepared = session.prepared();
        List<ByteBuf> frames = rt.frames();
        List<Verdict> verdicts = null;
        if (approved != null) {
            verdicts = new ArrayList<>(2);
            verdicts.add(approved);
        }
        for (int i = start; i < frames.size(); i++) {
            ByteBuf f = frames.get(i);
            byte type = f.getByte(f.readerIndex());
            Verdict v;
            if (type == Wire.QUERY) {
                String sql = ((FrontendMessage.Query) FrontendCodec.decode(f)).sql();
                List<Judged> parts = judgeQuery(session, sql, false);
                v = combine(parts);
                boolean refused = v.decision().isAtLeast(Verdict.Decision.HOLD);
                for (Judged j : parts) {
                    // a refused Query runs none of its statements: one record, for the whole text
                    if (!refused) {
                        rt.addUnit(new StatementUnit(i, j.text(), j.fingerprint(), null, j.verdict(), j.privileged()));
                        forgetDeallocated(prepared, j);
                    }
                }
                if (refused) {
                    rt.addUnit(new StatementUnit(i, sql, parts.isEmpty() ? "" : parts.get(0).fingerprint(), null, v, false));
                }
            } else if (type == Wire.PARSE) {
                var parse = (FrontendMessage.Parse) FrontendCodec.decode(f);
                if (!parse.name().isEmpty() && prepared.known(parse.name())) {
                    // PostgreSQL would refuse it (42P05) and keep the old statement; Warden must not
                    // take the new text for what runs under that name
                    v = new Verdict(Verdict.Decision.BLOCK, "prepared statement \"" + parse.name() + "\" already exists",
                            List.of("A prepared statement name is defined once"), engine.rulesVersion(), null, null, List.of());
                    rt.addUnit(new StatementUnit(i, parse.sql(), "", null, v, false));
                    if (verdicts == null) {
                        verdicts = new ArrayList<>(2);
                    }
                    verdicts.add(v);
                    rt.refuse(i, v);
                    rt.refusalMessage("42P05", "prepared statement \"" + parse.name() + "\" already exists",
                            "Close it (or DEALLOCATE it) before preparing another statement under that name.");
                    break;
                }
                List<Judged> parts = judgeQuery(session, parse.sql(), true);
                v = combine(parts);
                Judged j = new Judged(parse.sql(), parts.isEmpty() ? "" : parts.get(0).fingerprint(), v,
                        parts.stream().anyMatch(Judged::privileged));
                if (v.decision().isAtLeast(Verdict.Decision.HOLD)) {
                    rt.addUnit(new StatementUnit(i, j.text(), j.fingerprint(), null, v, false));
                } else {
                    prepared.parsed(parse.name(), j);
                }
            } else if (type == Wire.BIND) {
                var bind = (FrontendMessage.Bind) FrontendCodec.decode(f);
                String reused = prepared.reusedApproval(bind);
                if (reused == null) {
                    prepared.bound(bind);
                    continue;
                }
                // an approval covers one run, with the bind values the reviewer saw
                v = new Verdict(Verdict.Decision.BLOCK, "this prepared statement was approved once (" + reused
                        + ") and has run; prepare it again to ask for a new approval",
                        List.of("An approval covers one run"), engine.rulesVersion(), null, null, List.of());
                rt.addUnit(new StatementUnit(i, "<second run of a statement approved under " + reused + ">", "",
                        null, v, false));
            } else if (type == Wire.EXECUTE) {
                String portal = ((FrontendMessage.Execute) FrontendCodec.decode(f)).portal();
                PreparedStatements.Portal p = prepared.portal(portal);
                Judged j = p == null ? null : p.statement();
                rt.addUnit(j == null
                        ? new StatementUnit(i, "<portal \"" + portal + "\" unknown to Warden>", "", null,
                                Verdict.allow(engine.rulesVersion()), true)
                        : new StatementUnit(i, j.text(), j.fingerprint(), p.parameters(), j.verdict(), j.privileged())
                                .approvedAs(p.approvalId(), p.approver()));
                continue;
            } else if (type == Wire.CLOSE) {
                prepared.closed((FrontendMessage.Close) FrontendCodec.decode(f));
                continue;
            } else if (type == Wire.FUNCTION_CALL) {
                String sql = FastPathFunctions.asSql(f);
                if (sql != null) {
                    List<Judged> parts = judgeQuery(session, sql, false);
                    v = combine(parts);
                    rt.addUnit(new StatementUnit(i, sql, parts.get(0).fingerprint(), null, v, parts.get(0).privileged()));
                } else {
                    v = new Verdict(Verdict.Decision.BLOCK, "a fast-path call of function OID " + FastPathFunctions.oid(f)
                            + " cannot be inspected; call it with SQL",
                            List.of("Fast-path calls of unknown functions are blocked"), engine.rulesVersion(), null, null, List.of());
                    rt.addUnit(new StatementUnit(i, "<fast-path call of function OID " + FastPathFunctions.oid(f) + ">", "",
                            null, v, false));
                }
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

    private Verdict combine(List<Judged> parts) {
        if (parts.isEmpty()) {
            // an empty query: PostgreSQL answers EmptyQueryResponse, nothing runs
            return Verdict.allow(engine.rulesVersion());
        }
        if (parts.size() == 1) {
            return parts.get(0).verdict();
        }
        List<Verdict> vs = new ArrayList<>(parts.size());
        for (Judged j : parts) {
            vs.add(j.verdict());
        }
        return Verdict.combine(vs);
    }

    /**
     * Judges each statement of a Query in order (a SET search_path affects the ones after it).
     * When the session may have standard_conforming_strings off, PostgreSQL reads backslashes in
     * '...' as escapes, which moves string boundaries: the text is then split and judged under both
     * readings, and the stricter verdict applies (so a statement hidden in a "string" by one reading
     * cannot slip past).
     */
    private List<Judged> judgeQuery(ClientSession session, String sql, boolean parsed) {
        boolean legacy = session.legacyStrings();
        List<String> texts = legacy ? analysis.splitLegacy(sql) : parsed ? analysis.splitParsed(sql) : analysis.split(sql);
        List<String> pathBefore = session.searchPath();
        List<Judged> out = new ArrayList<>(texts.size());
        boolean refused = false;
        for (String text : texts) {
            Judged j = judgeOne(session, text, legacy, parsed);
            refused |= j.verdict().decision().isAtLeast(Verdict.Decision.HOLD);
            out.add(j);
        }
        if (legacy) {
            List<String> pathLegacy = session.searchPath();
            session.searchPath(pathBefore);
            for (String text : analysis.split(sql)) {
                Judged other = judgeOne(session, text, false, false);
                if (other.verdict().decision().isAtLeast(Verdict.Decision.HOLD)) {
                    refused = true;
                    out.add(other);
                }
            }
            session.searchPath(pathLegacy);
        }
        if (refused) {
            session.searchPath(pathBefore);
        }
        return out;
    }

    private Judged judgeOne(ClientSession session, String statementSql, boolean legacy, boolean parsed) {
        Statement s = legacy ? analysis.analyzeLegacy(statementSql, session.searchPath())
                : parsed ? analysis.analyzeParsed(statementSql, session.searchPath())
                : analysis.analyze(statementSql, session.searchPath());
        if (s.fingerprint() != null && s.fingerprint().contains("standard_conforming_strings")) {
            // the statement may turn backslash escapes on for what follows, maybe pipelined before its answer
            session.legacyStrings(true);
        }
        TargetFact target = session.targetFact();
        Verdict v = engine.decide(session.identity(), target, s);
        if (s.kind() == Statement.Kind.SET && !v.decision().isAtLeast(Verdict.Decision.HOLD)) {
            List<String> path = SqlAnalyzer.searchPathFrom(s);
            if (path != null) {
                session.searchPath(List.copyOf(path));
            }
        }
        if ((s.kind() == Statement.Kind.PREPARE || s.kind() == Statement.Kind.DECLARE)
                && v.decision() == Verdict.Decision.HOLD) {
            // an approval covers one run; EXECUTE/FETCH would run it again without one
            List<String> rules = new ArrayList<>(v.rules());
            rules.add("Statements that need approval are not prepared or declared");
            v = new Verdict(Verdict.Decision.BLOCK, v.reason() + "; a statement that needs approval cannot be "
                    + s.kind().name() + "d (it could then run again without one): send it directly to ask for approval",
                    rules, v.rulesVersion(), null, null, v.masks());
        }
        boolean privileged = s.kind() == Statement.Kind.DDL || s.kind() == Statement.Kind.DCL
                || (s.writes() && target.classifiesAny(s.writtenTables()));
        return new Judged(statementSql, s.fingerprint(), v, privileged, s.kind(), s.preparedName());
    }
}
