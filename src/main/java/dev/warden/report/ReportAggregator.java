package dev.warden.report;

import dev.warden.report.EvidenceReport.Approval;
import dev.warden.report.EvidenceReport.Bucket;
import dev.warden.report.EvidenceReport.Day;
import dev.warden.report.EvidenceReport.IdentityRow;
import dev.warden.report.EvidenceReport.Latency;
import dev.warden.report.EvidenceReport.MaskedColumn;
import dev.warden.report.EvidenceReport.Operation;
import dev.warden.report.EvidenceReport.ReaderRow;
import dev.warden.report.EvidenceReport.RulesChange;
import dev.warden.report.EvidenceReport.RulesVersion;
import dev.warden.report.EvidenceReport.TableRow;
import dev.warden.sql.SqlAnalyzer;
import dev.warden.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Folds audit records, one at a time in chain order, into the numbers of a report.
 *
 * <p>Why it looks like this: a month of a busy gateway is tens of millions of records, so nothing
 * here may grow with the number of records. State is kept per identity, day, verdict, rule, rules
 * version, table, column, failure reason and approval — things that grow with the organisation, not
 * with traffic. What would grow with traffic is bounded explicitly: statements waiting for a separate
 * outcome record (evicted oldest first, then looked up by id at the end), the SQL analysis cache, the
 * open-session → target map, and the listed examples (counts stay exact; lists say how many are not
 * listed). {@link #stateSize()} exposes the total so tests can hold it to that promise.
 *
 * <p>One file on purpose: every section is filled from the same single pass over the records, and
 * splitting the per-section state into classes would only pass the same record through several
 * hops.
 */
final class ReportAggregator {
    static final int MAX_OPERATIONS = 500;
    static final int MAX_BLOCKED_EXAMPLES = 25;
    static final int MAX_PENDING = 50_000;
    static final int MAX_OPEN_SESSIONS = 100_000;
    static final int MAX_RUN_IDS = 10_000;
    static final int MAX_LISTED_RUN_IDS = 20;
    static final int MAX_IDENTITIES = 100_000;
    static final int MAX_REASONS = 200;
    static final int MAX_TEXT = 500;
    private static final int ANALYSIS_CACHE = 5_000;

    private final String target;
    private final ZoneId zone;
    private final Map<String, List<String>> classified;
    private final SqlAnalyzer analyzer = new SqlAnalyzer();

    // activity
    long statements;
    final Map<String, Long> byVerdict = new TreeMap<>();
    final Map<LocalDate, Map<String, Long>> perDay = new TreeMap<>();
    long logins;

    // identities
    final Map<String, Ident> identities = new HashMap<>();
    boolean identitiesTruncated;

    // classified access
    long classifiedStatements;
    long classifiedRows;
    long maskedStatements;
    long unmaskedStatements;
    final Map<String, long[]> tables = new TreeMap<>(); // statements, rows, masked, unmasked
    final Map<String, long[]> readers = new TreeMap<>(); // statements, rows, unmasked
    final Map<String, long[]> maskedColumns = new TreeMap<>(); // statements, cells (-1: never recorded)

    // privileged
    long privilegedTotal;
    final List<Op> operations = new ArrayList<>();
    final Map<String, Long> privilegedStatusWithoutList = new TreeMap<>();
    final Map<String, Approval> approvalResults = new HashMap<>();

    // exceptions
    long blocked;
    final Map<String, Long> blockedByRule = new TreeMap<>();
    final List<Op> blockedExamples = new ArrayList<>();
    long failedLogins;
    final Map<String, Long> failedByReason = new TreeMap<>();
    final Map<String, Long> failedByUser = new TreeMap<>();
    long endedByExpiry;
    long endedByRevocation;
    long interrupted;
    long notRunAuditDown;

    // approvals: id → state (human-scale)
    final Map<String, ApprovalState> approvals = new LinkedHashMap<>();

    // integrity notes from the records themselves
    final List<EvidenceReport.Gap> gaps = new ArrayList<>();

    // effectiveness
    final Map<String, VersionState> versions = new HashMap<>();

    // bounded helpers
    private final LinkedHashMap<String, Pending> pending = new LinkedHashMap<>();
    private final LinkedHashMap<String, String> openSessions = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> e) {
            return size() > MAX_OPEN_SESSIONS;
        }
    };
    private final LinkedHashMap<String, Analysis> analyses = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Analysis> e) {
            return size() > ANALYSIS_CACHE;
        }
    };
    long outcomesNotFound;

    ReportAggregator(String target, ZoneId zone, Map<String, List<String>> classified) {
        this.target = target;
        this.zone = zone;
        this.classified = classified;
    }

    /** Per identity (kind, issuer, subject). */
    static final class Ident {
        String kind;
        String issuer;
        String subject;
        String repository;
        final Set<String> workflows = new TreeSet<>();
        final Set<String> runIds = new LinkedHashSet<>();
        boolean runsCapped;
        final Set<String> grants = new TreeSet<>();
        final Set<String> targets = new TreeSet<>();
        long sessions;
        long statements;
        long blocked;
        Instant first;
        Instant last;
    }

    /** A privileged or blocked statement kept for listing. */
    static final class Op {
        String record;
        String statementId;
        Instant at;
        String subject;
        String target;
        String command;
        String text;
        String decision;
        List<String> rules;
        String outcome;
        String approvalId;
    }

    static final class ApprovalState {
        String statement;
        String target;
        Instant requested;
        String decision;
        String reviewer;
        Instant decided;
    }

    static final class VersionState {
        Instant first;
        Instant last;
        long statements;
    }

    /** What is needed once the separate outcome record of a statement arrives. */
    private static final class Pending {
        List<String> classifiedTables;
        String reader;
        boolean masked;
        Op op;
    }

    /** The analyser's view of a statement shape: its command and the tables it reads or writes. */
    private record Analysis(String command, boolean privileged, Set<String> tables) {
    }

    /** The number of entries held across all state: O(identities + days + versions + ...), never O(records). */
    long stateSize() {
        long n = byVerdict.size() + identities.size() + tables.size() + readers.size() + maskedColumns.size()
                + operations.size() + blockedExamples.size() + failedByReason.size() + failedByUser.size()
                + approvals.size() + gaps.size() + versions.size() + pending.size() + openSessions.size()
                + analyses.size() + blockedByRule.size() + approvalResults.size();
        for (Map<String, Long> d : perDay.values()) {
            n += 1 + d.size();
        }
        for (Ident i : identities.values()) {
            n += i.runIds.size() + i.workflows.size() + i.grants.size() + i.targets.size();
        }
        return n;
    }

    private boolean forTarget(Object t) {
        return target == null || target.equals(t);
    }

    /** One record; returns whether it belongs to the report's target. */
    @SuppressWarnings("unchecked")
    boolean accept(String instance, long seq, String kind, Instant at, Map<String, Object> envelope) {
        Map<String, Object> p = (Map<String, Object>) envelope.get("payload");
        if (p == null) {
            return false;
        }
        return switch (kind) {
            case "statement" -> statement(instance, seq, at, p, (Map<String, Object>) envelope.get("outcome"));
            case "outcome" -> {
                outcome(p);
                yield target == null;
            }
            case "session" -> session(at, p);
            case "approval" -> approval(at, p);
            case "lifecycle", "prune" -> {
                lifecycle(instance, seq, at, kind, p);
                yield true;
            }
            default -> false;
        };
    }

    @SuppressWarnings("unchecked")
    private boolean statement(String instance, long seq, Instant at, Map<String, Object> p, Map<String, Object> folded) {
        String t = str(p.get("target"));
        if (!forTarget(t)) {
            return false;
        }
        statements++;
        Map<String, Object> verdict = (Map<String, Object>) p.get("verdict");
        String decision = verdict == null ? "none" : str(verdict.get("decision"));
        List<String> rules = verdict == null || verdict.get("rules") == null ? List.of()
                : ((List<Object>) verdict.get("rules")).stream().map(String::valueOf).toList();
        byVerdict.merge(decision, 1L, Long::sum);
        perDay.computeIfAbsent(at.atZone(zone).toLocalDate(), d -> new TreeMap<>()).merge(decision, 1L, Long::sum);

        Ident id = ident((Map<String, Object>) p.get("identity"), at);
        String subject = id == null || id.subject == null ? "(unknown)" : id.subject;
        if (id != null) {
            id.statements++;
            if (t != null) {
                id.targets.add(t);
            }
            if ("block".equals(decision)) {
                id.blocked++;
            }
        }
        if (verdict != null && verdict.get("rulesVersion") != null) {
            VersionState v = versions.computeIfAbsent(str(verdict.get("rulesVersion")), k -> new VersionState());
            v.first = v.first == null || at.isBefore(v.first) ? at : v.first;
            v.last = v.last == null || at.isAfter(v.last) ? at : v.last;
            v.statements++;
        }

        String text = str(p.get("text"));
        Analysis a = analysis(str(p.get("fingerprint")), text);
        List<String> touched = new ArrayList<>();
        for (String table : classified.getOrDefault(t, List.of())) {
            if (a.tables().contains(table)) {
                touched.add(table);
            }
        }
        boolean masked = masked(p.get("masked"));
        Pending pend = null;
        if (!touched.isEmpty()) {
            pend = new Pending();
            pend.classifiedTables = touched;
            pend.reader = subject;
            pend.masked = masked;
            classifiedStatements++;
            if (masked) {
                maskedStatements++;
            } else {
                unmaskedStatements++;
            }
            for (String table : touched) {
                long[] c = tables.computeIfAbsent(table, k -> new long[4]);
                c[0]++;
                c[masked ? 2 : 3]++;
            }
            long[] r = readers.computeIfAbsent(subject, k -> new long[3]);
            r[0]++;
            if (!masked) {
                r[2]++;
            }
        }
        Map<String, Object> approval = (Map<String, Object>) p.get("approval");
        boolean privileged = a.privileged() || "hold".equals(decision) || approval != null;
        Op op = null;
        if (privileged || "block".equals(decision)) {
            op = new Op();
            op.record = instance + "#" + seq;
            op.statementId = str(p.get("id"));
            op.at = at;
            op.subject = subject;
            op.target = t;
            op.command = a.command();
            op.text = cut(text);
            op.decision = decision;
            op.rules = rules;
            op.approvalId = approval == null ? null : str(approval.get("id"));
        }
        if ("block".equals(decision)) {
            blocked++;
            for (String rule : rules.isEmpty() ? List.of("(no rule named)") : rules) {
                blockedByRule.merge(rule, 1L, Long::sum);
            }
            if (blockedExamples.size() < MAX_BLOCKED_EXAMPLES) {
                blockedExamples.add(op);
            }
        }
        if (privileged) {
            privilegedTotal++;
            if (operations.size() < MAX_OPERATIONS) {
                operations.add(op);
            } else {
                // not listed: its status is counted now (approvals are joined by statement only for listed ones)
                privilegedStatusWithoutList.merge(statusWithoutApproval(op), 1L, Long::sum);
                op = null;
            }
        }
        if (pend != null || op != null) {
            if (pend == null) {
                pend = new Pending();
            }
            pend.op = op;
            if (folded != null) {
                applyOutcome(pend, folded);
            } else {
                pending.put(str(p.get("id")), pend);
                if (pending.size() > MAX_PENDING) {
                    var eldest = pending.entrySet().iterator();
                    eldest.next();
                    eldest.remove();
                    outcomesNotFound++;
                }
            }
        }
        if (folded != null && "53400".equals(str(folded.get("sqlState")))) {
            notRunAuditDown++;
        }
        return true;
    }

    private void outcome(Map<String, Object> p) {
        Pending pend = pending.remove(str(p.get("statement")));
        if (pend != null) {
            applyOutcome(pend, p);
            if ("53400".equals(str(p.get("sqlState")))) {
                notRunAuditDown++;
            }
        } else if (target == null && "53400".equals(str(p.get("sqlState")))) {
            notRunAuditDown++;
        }
    }

    /** Outcomes that were not in the period (the statement ran at its very end): looked up by the generator. */
    List<String> pendingStatementIds() {
        return new ArrayList<>(pending.keySet());
    }

    void lateOutcome(String statementId, Map<String, Object> outcome) {
        Pending pend = pending.remove(statementId);
        if (pend != null) {
            applyOutcome(pend, outcome);
        }
    }

    private void applyOutcome(Pending pend, Map<String, Object> o) {
        long rows = o.get("rows") instanceof Number n ? n.longValue() : 0;
        if (pend.classifiedTables != null && "ok".equals(str(o.get("event")))) {
            classifiedRows += rows;
            for (String table : pend.classifiedTables) {
                tables.get(table)[1] += rows;
            }
            readers.get(pend.reader)[1] += rows;
        }
        if (pend.op != null) {
            String ev = str(o.get("event"));
            String state = str(o.get("sqlState"));
            pend.op.outcome = ev + (state == null ? "" : " " + state) + (o.get("tag") == null ? "" : " (" + o.get("tag") + ")");
        }
    }

    @SuppressWarnings("unchecked")
    private boolean masked(Object m) {
        if (m instanceof List<?> cols && !cols.isEmpty()) {
            for (Object c : cols) {
                long[] v = maskedColumns.computeIfAbsent(String.valueOf(c), k -> new long[] {0, -1});
                v[0]++;
            }
            return true;
        }
        if (m instanceof Map<?, ?> cols && !cols.isEmpty()) {
            for (Map.Entry<String, Object> e : ((Map<String, Object>) cols).entrySet()) {
                long[] v = maskedColumns.computeIfAbsent(e.getKey(), k -> new long[] {0, -1});
                v[0]++;
                if (e.getValue() instanceof Number n) {
                    v[1] = Math.max(0, v[1]) + n.longValue();
                }
            }
            return true;
        }
        return false;
    }

    @SuppressWarnings("unchecked")
    private boolean session(Instant at, Map<String, Object> p) {
        String event = str(p.get("event"));
        String session = str(p.get("session"));
        switch (event == null ? "" : event) {
            case "auth_success" -> {
                String t = str(p.get("target"));
                openSessions.put(session, t == null ? "" : t);
                if (!forTarget(t)) {
                    return false;
                }
                logins++;
                Ident id = ident((Map<String, Object>) p.get("identity"), at);
                if (id != null) {
                    id.sessions++;
                    if (p.get("user") != null) {
                        id.grants.add(str(p.get("user")));
                    }
                    if (t != null) {
                        id.targets.add(t);
                    }
                }
                return true;
            }
            case "auth_failure" -> {
                if (!forTarget(p.get("target"))) {
                    return false;
                }
                failedLogins++;
                bounded(failedByReason, reason(str(p.get("detail"))));
                bounded(failedByUser, p.get("user") == null ? "(none)" : str(p.get("user")));
                return true;
            }
            case "disconnect", "interrupted" -> {
                String t = openSessions.remove(session);
                if (target != null && !target.equals(t)) {
                    return false;
                }
                if (event.equals("interrupted")) {
                    interrupted++;
                } else {
                    String detail = str(p.get("detail"));
                    String d = detail == null ? "" : detail.toLowerCase(Locale.ROOT);
                    if (d.contains("revoked")) {
                        endedByRevocation++;
                    } else if (d.contains("expired")) {
                        endedByExpiry++;
                    }
                }
                return true;
            }
            default -> {
                return target == null;
            }
        }
    }

    /** A failure's reason without the parts that differ per attempt (user names, token ids). */
    static String reason(String detail) {
        if (detail == null || detail.isBlank()) {
            return "(no reason recorded)";
        }
        String r = detail.strip();
        int colon = r.indexOf(": ");
        if (colon > 0 && r.substring(0, colon).matches("[A-Z_]+")) {
            return r.substring(0, colon); // "TOKEN_EXPIRED: the token expired at ..." → TOKEN_EXPIRED
        }
        r = r.replaceAll("'[^']*'", "'…'").replaceAll("\"[^\"]*\"", "\"…\"");
        return r.length() > 120 ? r.substring(0, 120) + "…" : r;
    }

    private void bounded(Map<String, Long> m, String key) {
        if (m.containsKey(key) || m.size() < MAX_REASONS) {
            m.merge(key, 1L, Long::sum);
        } else {
            m.merge("(other)", 1L, Long::sum);
        }
    }

    @SuppressWarnings("unchecked")
    private boolean approval(Instant at, Map<String, Object> p) {
        if (!forTarget(p.get("target"))) {
            return false;
        }
        String id = str(p.get("approval"));
        ApprovalState a = approvals.computeIfAbsent(id, k -> new ApprovalState());
        if (p.get("statement") != null) {
            a.statement = str(p.get("statement"));
        }
        if (p.get("target") != null) {
            a.target = str(p.get("target"));
        }
        String event = str(p.get("event"));
        switch (event) {
            case "requested" -> a.requested = at;
            case "approved", "denied", "expired", "abandoned" -> {
                if (a.decision == null || !a.decision.equals("approved") || !event.equals("expired")) {
                    a.decision = event;
                    a.decided = at;
                    a.reviewer = p.get("reviewer") == null ? a.reviewer : str(p.get("reviewer"));
                }
            }
            default -> {
                // notified, viewed, executed: steps without a decision
            }
        }
        return true;
    }

    @SuppressWarnings("unchecked")
    private void lifecycle(String instance, long seq, Instant at, String kind, Map<String, Object> p) {
        String event = str(p.get("event"));
        if ("recovered".equals(event)) {
            Map<String, Object> d = (Map<String, Object>) p.get("detail");
            gaps.add(new EvidenceReport.Gap(instance, seq, at.toString(), "Warden stopped without shutting down"
                    + (d == null ? "" : ": last record #" + d.get("lastSeq") + " at " + d.get("lastRecordAt")
                    + "; records within the durability window (" + d.get("durabilityWindow")
                    + ") may be missing; " + d.get("interruptedSessions") + " session(s) interrupted")));
        } else if ("prune".equals(kind)) {
            gaps.add(new EvidenceReport.Gap(instance, seq, at.toString(), "retention pruning removed "
                    + p.get("deleted") + " record(s) before #" + p.get("firstKept") + " (older than "
                    + p.get("cutoff") + "), anchored at checkpoint #" + p.get("anchorCheckpoint")));
        }
    }

    @SuppressWarnings("unchecked")
    private Ident ident(Map<String, Object> m, Instant at) {
        if (m == null) {
            return null;
        }
        String kind = str(m.get("kind"));
        String issuer = str(m.get("issuer"));
        String subject = str(m.get("subject"));
        String key = kind + "\u0000" + issuer + "\u0000" + subject;
        Ident id = identities.get(key);
        if (id == null) {
            if (identities.size() >= MAX_IDENTITIES) {
                identitiesTruncated = true;
                return null;
            }
            id = new Ident();
            id.kind = kind;
            id.issuer = issuer;
            id.subject = subject;
            identities.put(key, id);
        }
        id.first = id.first == null || at.isBefore(id.first) ? at : id.first;
        id.last = id.last == null || at.isAfter(id.last) ? at : id.last;
        Map<String, Object> ci = (Map<String, Object>) m.get("ci");
        if (ci != null) {
            if (ci.get("repository") != null) {
                id.repository = str(ci.get("repository"));
            }
            if (ci.get("workflow") != null && id.workflows.size() < 50) {
                id.workflows.add(str(ci.get("workflow")));
            }
            if (ci.get("runId") != null) {
                String run = str(ci.get("runId"));
                if (id.runIds.size() < MAX_RUN_IDS) {
                    id.runIds.add(run);
                } else if (!id.runIds.contains(run)) {
                    id.runsCapped = true;
                }
            }
        }
        if (m.get("grant") != null) {
            id.grants.add(str(m.get("grant")));
        }
        return id;
    }

    private Analysis analysis(String fingerprint, String text) {
        String key = fingerprint != null ? fingerprint : text;
        Analysis a = analyses.get(key);
        if (a == null) {
            String command = "UNKNOWN";
            boolean privileged = false;
            Set<String> touched = new TreeSet<>();
            try {
                List<Statement> parsed = analyzer.analyze(text == null ? "" : text, List.of("$user", "public"));
                List<String> commands = new ArrayList<>();
                for (Statement s : parsed) {
                    collect(s, touched);
                    commands.add(s.command());
                    privileged |= s.kind() == Statement.Kind.DDL || s.kind() == Statement.Kind.DCL
                            || (s.inner() != null && (s.inner().kind() == Statement.Kind.DDL
                            || s.inner().kind() == Statement.Kind.DCL));
                }
                command = commands.isEmpty() ? "EMPTY" : String.join("; ", commands);
            } catch (RuntimeException e) {
                command = "UNPARSED";
            }
            a = new Analysis(command, privileged, touched);
            analyses.put(key, a);
        }
        return a;
    }

    private static void collect(Statement s, Set<String> into) {
        into.addAll(s.tables());
        into.addAll(s.writtenTables());
        if (s.inner() != null) {
            collect(s.inner(), into);
        }
    }

    private static String statusWithoutApproval(Op op) {
        if ("block".equals(op.decision)) {
            return "blocked";
        }
        if (op.approvalId != null) {
            return "approved";
        }
        if ("hold".equals(op.decision)) {
            return "held, no approval recorded";
        }
        return "allowed by policy";
    }

    // ---- results ---------------------------------------------------------------------------------------

    EvidenceReport.Activity activity(long sessionsSeen) {
        List<Day> days = new ArrayList<>();
        perDay.forEach((d, m) -> days.add(new Day(d.toString(), new TreeMap<>(m))));
        return new EvidenceReport.Activity(Guidance.ACTIVITY, statements, new TreeMap<>(byVerdict), days, sessionsSeen,
                logins);
    }

    EvidenceReport.Identities identities() {
        List<IdentityRow> rows = new ArrayList<>();
        long nonHuman = 0;
        long stat = 0;
        for (Ident i : identities.values()) {
            if ("oidc".equals(i.kind)) {
                nonHuman++;
            } else {
                stat++;
            }
            List<String> runs = new ArrayList<>(i.runIds);
            rows.add(new IdentityRow(i.kind, i.issuer, i.subject, i.repository, List.copyOf(i.workflows),
                    i.runIds.size(), runs.subList(Math.max(0, runs.size() - MAX_LISTED_RUN_IDS), runs.size()),
                    List.copyOf(i.grants), List.copyOf(i.targets), i.sessions, i.statements, i.blocked,
                    i.first == null ? null : i.first.toString(), i.last == null ? null : i.last.toString()));
        }
        rows.sort(Comparator.comparing((IdentityRow r) -> !"oidc".equals(r.kind()))
                .thenComparing(IdentityRow::statements, Comparator.reverseOrder())
                .thenComparing(r -> String.valueOf(r.subject())));
        return new EvidenceReport.Identities(Guidance.IDENTITIES, nonHuman, stat, rows, identitiesTruncated);
    }

    EvidenceReport.ClassifiedAccess classifiedAccess() {
        List<TableRow> t = new ArrayList<>();
        tables.forEach((k, v) -> t.add(new TableRow(k, v[0], v[1], v[2], v[3])));
        List<ReaderRow> r = new ArrayList<>();
        readers.forEach((k, v) -> r.add(new ReaderRow(k, v[0], v[1], v[2])));
        r.sort(Comparator.comparing(ReaderRow::statements, Comparator.reverseOrder()).thenComparing(ReaderRow::subject));
        List<MaskedColumn> m = new ArrayList<>();
        maskedColumns.forEach((k, v) -> m.add(new MaskedColumn(k, v[0], v[1] < 0 ? null : v[1])));
        Map<String, List<String>> cls = new TreeMap<>();
        classified.forEach((k, v) -> {
            if (forTarget(k) && !v.isEmpty()) {
                cls.put(k, v);
            }
        });
        return new EvidenceReport.ClassifiedAccess(Guidance.CLASSIFIED, cls, classifiedStatements, classifiedRows,
                maskedStatements, unmaskedStatements, t, r, m);
    }

    /** Joins listed operations with their approvals. */
    EvidenceReport.Privileged privileged() {
        Map<String, ApprovalState> byStatement = new HashMap<>();
        for (Map.Entry<String, ApprovalState> e : approvals.entrySet()) {
            if (e.getValue().statement != null) {
                byStatement.put(e.getValue().statement, e.getValue());
            }
        }
        Map<String, Long> status = new TreeMap<>(privilegedStatusWithoutList);
        List<Operation> ops = new ArrayList<>();
        for (Op op : operations) {
            String approvalId = op.approvalId;
            ApprovalState a = approvalId != null ? approvals.get(approvalId) : byStatement.get(op.statementId);
            if (a != null && approvalId == null) {
                for (Map.Entry<String, ApprovalState> e : approvals.entrySet()) {
                    if (e.getValue() == a) {
                        approvalId = e.getKey();
                    }
                }
            }
            String s;
            if ("block".equals(op.decision)) {
                s = "blocked";
            } else if (a != null && a.decision != null) {
                s = a.decision;
            } else if (op.approvalId != null) {
                s = "approved";
            } else if ("hold".equals(op.decision)) {
                s = a != null ? "awaiting decision" : "held, no approval recorded";
            } else {
                s = "allowed by policy";
            }
            status.merge(s, 1L, Long::sum);
            ops.add(operation(op, s, approvalId, a));
        }
        return new EvidenceReport.Privileged(Guidance.PRIVILEGED, privilegedTotal, status, ops,
                privilegedTotal - ops.size());
    }

    private static Operation operation(Op op, String status, String approvalId, ApprovalState a) {
        Approval ap = null;
        if (approvalId != null) {
            Long secs = a == null || a.requested == null || a.decided == null ? null
                    : Duration.between(a.requested, a.decided).toSeconds();
            ap = new Approval(approvalId, a == null || a.requested == null ? null : a.requested.toString(),
                    a == null ? null : a.decision, a == null ? null : a.reviewer,
                    a == null || a.decided == null ? null : a.decided.toString(), secs);
        }
        return new Operation(op.record, op.at.toString(), op.subject, op.target, op.command, op.text, op.decision,
                op.rules, op.outcome, status, ap);
    }

    EvidenceReport.Exceptions exceptions() {
        long denied = 0;
        long expired = 0;
        for (ApprovalState a : approvals.values()) {
            if ("denied".equals(a.decision)) {
                denied++;
            } else if ("expired".equals(a.decision)) {
                expired++;
            }
        }
        List<Operation> ex = new ArrayList<>();
        for (Op op : blockedExamples) {
            ex.add(operation(op, "blocked", null, null));
        }
        return new EvidenceReport.Exceptions(Guidance.EXCEPTIONS, blocked, new TreeMap<>(blockedByRule), ex, denied,
                expired, failedLogins, new TreeMap<>(failedByReason), new TreeMap<>(failedByUser), endedByExpiry,
                endedByRevocation, interrupted, notRunAuditDown);
    }

    EvidenceReport.Effectiveness effectiveness() {
        List<Map.Entry<String, VersionState>> vs = new ArrayList<>(versions.entrySet());
        vs.sort(Comparator.comparing(e -> e.getValue().first));
        List<RulesVersion> rv = new ArrayList<>();
        List<RulesChange> changes = new ArrayList<>();
        String prev = null;
        for (Map.Entry<String, VersionState> e : vs) {
            rv.add(new RulesVersion(e.getKey(), e.getValue().first.toString(), e.getValue().last.toString(),
                    e.getValue().statements));
            if (prev != null) {
                changes.add(new RulesChange(e.getValue().first.toString(), prev, e.getKey()));
            }
            prev = e.getKey();
        }
        List<Long> secs = new ArrayList<>();
        for (ApprovalState a : approvals.values()) {
            if (a.requested != null && a.decided != null && ("approved".equals(a.decision) || "denied".equals(a.decision))) {
                secs.add(Duration.between(a.requested, a.decided).toSeconds());
            }
        }
        secs.sort(null);
        long[] limits = {60, 300, 900, 3600, 14400};
        String[] labels = {"< 1 min", "1–5 min", "5–15 min", "15–60 min", "1–4 h", "> 4 h"};
        long[] counts = new long[labels.length];
        for (long s : secs) {
            int b = 0;
            while (b < limits.length && s >= limits[b]) {
                b++;
            }
            counts[b]++;
        }
        List<Bucket> buckets = new ArrayList<>();
        for (int i = 0; i < labels.length; i++) {
            buckets.add(new Bucket(labels[i], counts[i]));
        }
        Latency latency = new Latency(secs.size(), secs.isEmpty() ? null : secs.get((secs.size() - 1) / 2),
                secs.isEmpty() ? null : secs.get((int) Math.ceil(secs.size() * 0.9) - 1),
                secs.isEmpty() ? null : secs.get(secs.size() - 1), buckets);
        String coverage = classifiedStatements == 0 ? "no statements on classified tables"
                : String.format(Locale.ROOT, "%.1f%% of statements on classified tables had results masked",
                100.0 * maskedStatements / classifiedStatements);
        return new EvidenceReport.Effectiveness(Guidance.EFFECTIVENESS, rv, changes, latency,
                new EvidenceReport.Masking(classifiedStatements, maskedStatements, coverage));
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }

    private static String cut(String s) {
        if (s == null) {
            return null;
        }
        return s.length() > MAX_TEXT ? s.substring(0, MAX_TEXT) + "…" : s;
    }
}
