package dev.warden.approval;

import dev.warden.approval.ApprovalRequest.State;
import dev.warden.approval.ApprovalRequest.Vote;
import dev.warden.audit.ApprovalEvent;
import dev.warden.audit.AuditLog;
import dev.warden.audit.AuditSettings;
import dev.warden.identity.Identity;
import java.io.IOException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Just-in-time approval of held statements. The proxy calls {@link #request} when the rules HOLD a
 * statement; reviewers of the request's group are notified (the {@link Notifier}, i.e. the
 * {@code direct:approval-notify} route) and decide through a signed mail link or the REST API; the
 * proxy gets the outcome from {@link Hold#decision()}.
 *
 * <p>Threads: every store access is blocking JDBC and runs on this service's own pool, never on the
 * caller's thread, so the proxy may call any method from a Netty event loop. Futures complete on
 * those pool threads.
 *
 * <p>Fail closed: a step is only taken once its audit record is durable. A decision whose record
 * cannot be written is rolled back and refused to the reviewer; a request whose "requested" record
 * cannot be written fails (the proxy then refuses the statement).
 *
 * <p>Several instances may share one control store. Each instance keeps the holds it created in
 * memory and polls the store (every {@code pollInterval}) for their state, so a decision taken on
 * another instance completes the hold here within about one interval. Every instance also expires
 * due requests of any instance; row locks make each transition happen once.
 *
 * <p>One file on purpose: it is the approval state machine (request, decide, expire, abandon, execute,
 * fail-fast) and each transition must write its audit record and its store row in the same order;
 * the store, pages, API and mail are separate classes.
 */
public final class Approvals implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Approvals.class);
    private static final char[] ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();
    private static final long AUDIT_WAIT_SECONDS = 15;

    /** WAIT: the session waits for the decision. FAIL_FAST: the statement is refused now; once approved, a retry passes once. */
    public enum Mode { WAIT, FAIL_FAST }

    public enum Outcome { APPROVED, DENIED, EXPIRED }

    /**
     * What the proxy knows about a held statement.
     *
     * @param statementHash hex SHA-256 over the statement text and its bind values (the proxy computes it)
     * @param reviewerGroup a group of {@code approvals.groups}
     */
    public record HoldRequest(String sessionId, String statementRecordId, Identity identity, String clientAddress,
                              String target, String text, String fingerprint, String statementHash, String reviewerGroup,
                              String risk, String reason, List<String> rules, String rulesVersion, Mode mode) {
        public HoldRequest {
            Objects.requireNonNull(identity, "identity");
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(text, "text");
            Objects.requireNonNull(statementHash, "statementHash");
            Objects.requireNonNull(reviewerGroup, "reviewerGroup");
            rules = rules == null ? List.of() : List.copyOf(rules);
            mode = mode == null ? Mode.WAIT : mode;
        }
    }

    /** A persisted request. {@link #decision()} completes once it is approved, denied or expired. */
    public interface Hold {
        String id();

        /** The request's page (reviewers open it with the token of their mail link). */
        String url();

        java.time.Instant expiresAt();

        CompletableFuture<Decision> decision();
    }

    /** The final outcome; {@code reviewers} are those who approved, or the one who denied. */
    public record Decision(Outcome outcome, List<String> reviewers, String reason, Instant at) {
        public Decision {
            reviewers = List.copyOf(reviewers);
        }
    }

    /** One reviewer's notification, with links bound to that reviewer. */
    public record Notification(ApprovalRequest request, String reviewer, String pageUrl, String approveUrl,
                               String denyUrl) {
    }

    /** Delivers one notification (blocking; called on the notification thread); throws when it was not delivered. */
    @FunctionalInterface
    public interface Notifier {
        void deliver(Notification n) throws Exception;
    }

    private record HoldImpl(String id, String url, Instant expiresAt, CompletableFuture<Decision> decision) implements Hold {
    }

    private final ApprovalSettings settings;
    private final ApprovalStore store;
    private final AuditLog audit;
    private final Clock clock;
    private final String instanceId;
    private final LinkTokens tokens;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, HoldImpl> holds = new ConcurrentHashMap<>();
    private final ThreadPoolExecutor workers;
    private final ThreadPoolExecutor notifications;
    private final ScheduledThreadPoolExecutor poller;
    private volatile Notifier notifier;
    private volatile boolean closed;
    private boolean pollFailing; // poller thread only

    private Approvals(ApprovalSettings settings, ApprovalStore store, AuditLog audit, Clock clock, String instanceId,
                      LinkTokens tokens) {
        this.settings = settings;
        this.store = store;
        this.audit = audit;
        this.clock = clock;
        this.instanceId = instanceId;
        this.tokens = tokens;
        this.workers = new ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(10_000),
                threads("warden-approvals"));
        this.notifications = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(1000),
                threads("warden-approvals-notify"));
        this.poller = new ScheduledThreadPoolExecutor(1, threads("warden-approvals-poll"));
        poller.setRemoveOnCancelPolicy(true);
    }

    private static java.util.concurrent.ThreadFactory threads(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * Opens the approval tables in {@code store} (migrating them), loads or generates the link key and
     * starts polling. Blocks; call at gateway start. {@code instanceId} names this instance as the
     * owner of the holds it creates (the audit's instance id).
     */
    public static Approvals start(ApprovalSettings settings, AuditSettings.Store storeSettings, AuditLog audit,
                                  Clock clock, String instanceId) throws IOException, SQLException {
        LinkTokens tokens = new LinkTokens(LinkTokens.loadOrGenerateKey(settings.linkKeyFile()));
        ApprovalStore store = new ApprovalStore(storeSettings, "warden-approvals-" + instanceId);
        try {
            store.migrate();
        } catch (SQLException | RuntimeException e) {
            store.close();
            throw e;
        }
        Approvals a = new Approvals(settings, store, audit, clock, instanceId, tokens);
        long every = settings.pollInterval().toMillis();
        a.poller.scheduleWithFixedDelay(a::tick, every, every, TimeUnit.MILLISECONDS);
        LOG.info("approvals: instance {}, groups {}, timeout {}, mail {}, links under {}", instanceId,
                settings.groups().keySet(), settings.timeout(), settings.mail(), settings.publicUrl());
        return a;
    }

    /** Sets where notifications go (the gateway's {@code direct:approval-notify} route); none: nobody is notified. */
    public Approvals notifyWith(Notifier n) {
        this.notifier = n;
        return this;
    }

    public ApprovalSettings settings() {
        return settings;
    }

    public String instanceId() {
        return instanceId;
    }

    LinkTokens tokens() {
        return tokens;
    }

    // ------------------------------------------------------------------ the proxy's API

    /**
     * Persists a request and records "requested" (durably), then notifies the group's reviewers in
     * the background. Completes with the hold once persisted and recorded; fails (the statement must
     * then be refused) for an unknown group or when the store or the audit is unavailable.
     */
    public CompletableFuture<Hold> request(HoldRequest hr) {
        ApprovalSettings.Group group = settings.groups().get(hr.reviewerGroup());
        if (group == null) {
            return CompletableFuture.failedFuture(new ApprovalException(400, "no reviewer group '" + hr.reviewerGroup()
                    + "' is configured (approvals.groups); the statement cannot be approved"));
        }
        Instant now = clock.instant();
        String id = newId();
        Instant expires = now.plus(settings.timeout());
        HoldImpl hold = new HoldImpl(id, pageUrl(id), expires, new CompletableFuture<>());
        ApprovalRequest r = new ApprovalRequest(id, State.PENDING, now, expires, null, hr.sessionId(),
                hr.statementRecordId(), hr.identity(), hr.clientAddress(), hr.target(), hr.text(), hr.fingerprint(),
                hr.statementHash(), group.name(), group.required(), hr.risk(), hr.reason(), hr.rules(),
                hr.rulesVersion(), hr.mode(), instanceId, List.of());
        holds.put(id, hold);
        CompletableFuture<Hold> out = supply(() -> {
            try (Connection c = store.connect()) {
                try {
                    store.insert(c, r);
                    Map<String, Object> d = new LinkedHashMap<>();
                    d.put("group", group.name());
                    d.put("required", (long) group.required());
                    d.put("reviewers", group.reviewers());
                    d.put("risk", hr.risk());
                    d.put("reason", hr.reason());
                    d.put("rules", hr.rules());
                    d.put("rulesVersion", hr.rulesVersion());
                    d.put("statementHash", hr.statementHash());
                    d.put("fingerprint", hr.fingerprint());
                    d.put("mode", hr.mode() == Mode.FAIL_FAST ? "fail-fast" : "wait");
                    d.put("expires", expires);
                    d.put("instance", instanceId);
                    record(r, "requested", now, hr.sessionId(), null, hr.clientAddress(), d);
                    c.commit();
                } catch (SQLException | RuntimeException e) {
                    c.rollback();
                    throw e;
                }
            }
            return (Hold) hold;
        });
        out.whenComplete((h, err) -> {
            if (err != null) {
                holds.remove(id);
                hold.decision().completeExceptionally(err);
            } else {
                notifyReviewers(r, group);
            }
        });
        return out;
    }

    /** The client went away while waiting: the request is abandoned (recorded); a later decision is refused. */
    public CompletableFuture<Void> abandoned(String approvalId) {
        HoldImpl h = holds.remove(approvalId);
        if (h != null) {
            h.decision().cancel(false);
        }
        return transition(approvalId, Set.of(State.PENDING, State.APPROVED), State.ABANDONED, "abandoned", null,
                Map.of()).thenApply(ok -> null);
    }

    /** The approved statement was forwarded upstream: recorded as "executed"; the request cannot be used again. */
    public CompletableFuture<Void> executed(String approvalId, String sessionId) {
        return transition(approvalId, Set.of(State.APPROVED), State.EXECUTED, "executed", sessionId,
                Map.of()).thenApply(ok -> {
                    if (!ok) {
                        LOG.warn("approval {}: executed by session {} but it was not in state approved", approvalId, sessionId);
                    }
                    return null;
                });
    }

    /** {@link #consumeFailFast(String, String, String, String)} without a session id. */
    public CompletableFuture<Optional<String>> consumeFailFast(String identitySubject, String target, String statementHash) {
        return consumeFailFast(identitySubject, target, statementHash, null);
    }

    /**
     * FAIL_FAST mode: the id of an approved, unused request of this identity for exactly this
     * statement hash on this target, approved within {@code failFastValidity}; it is marked executed
     * (and audited) in the same transaction, so it can be used once. Empty when there is none. The
     * proxy need not call {@link #executed} for it.
     */
    public CompletableFuture<Optional<String>> consumeFailFast(String identitySubject, String target,
                                                               String statementHash, String sessionId) {
        return supply(() -> {
            Instant now = clock.instant();
            try (Connection c = store.connect()) {
                try {
                    Optional<String> id = store.failFastCandidate(c, identitySubject, target, statementHash,
                            now.minus(settings.failFastValidity()));
                    if (id.isEmpty()) {
                        c.rollback();
                        return Optional.<String>empty();
                    }
                    ApprovalRequest r = store.load(c, id.get(), true).orElseThrow();
                    if (!store.transition(c, r.id(), Set.of(State.APPROVED), State.EXECUTED, null, now)) {
                        c.rollback();
                        return Optional.<String>empty();
                    }
                    record(r, "executed", now, sessionId, null, null, Map.of("mode", "fail-fast"));
                    c.commit();
                    return id;
                } catch (SQLException | RuntimeException e) {
                    c.rollback();
                    throw e;
                }
            }
        });
    }

    // ------------------------------------------------------------------ reviewers' side (pages, REST)

    /**
     * A reviewer's decision. {@code nonce} is the link token's nonce (null for the REST API); it is
     * recorded so that the link cannot be used twice. Completes with the request as it is after the
     * decision, or fails with an {@link ApprovalException}.
     *
     * @param reviewer the deciding reviewer: a member of the request's group, not the requester
     * @param from     where the reviewer acted from (client address)
     * @param via      how the reviewer authenticated (link, api-key:N, oidc:issuer)
     */
    public CompletableFuture<ApprovalRequest> decide(String approvalId, String reviewer, boolean approve, String reason,
                                                     String from, String via, String nonce) {
        String why = reason == null || reason.isBlank() ? null : reason.strip();
        if (why != null && why.length() > 2000) {
            return CompletableFuture.failedFuture(new ApprovalException(400, "the reason is longer than 2000 characters"));
        }
        CompletableFuture<ApprovalRequest> out = supply(() -> {
            Instant now = clock.instant();
            try (Connection c = store.connect()) {
                try {
                    ApprovalRequest r = store.load(c, approvalId, true).orElseThrow(() ->
                            new ApprovalException(404, "no approval request " + approvalId));
                    if (nonce != null && store.nonceUsed(c, nonce)) {
                        throw new ApprovalException(403, "this link was used already; each link decides once");
                    }
                    if (r.state() != State.PENDING) {
                        throw new ApprovalException(409, approvalId + " is already " + r.state().db()
                                + "; decisions are only taken on pending requests");
                    }
                    if (!now.isBefore(r.expires())) {
                        throw new ApprovalException(409, approvalId + " expired at " + r.expires());
                    }
                    ApprovalSettings.Group g = settings.groups().get(r.reviewerGroup());
                    if (g == null || !g.hasMember(reviewer)) {
                        throw new ApprovalException(403, reviewer + " is not a reviewer of group '" + r.reviewerGroup() + "'");
                    }
                    if (isRequester(r.identity(), reviewer)) {
                        throw new ApprovalException(403, reviewer + " made this request and may not decide it "
                                + "(another reviewer of group '" + r.reviewerGroup() + "' must)");
                    }
                    if (via != null && via.startsWith("api-key:")
                            && r.votes().stream().anyMatch(v -> via.equals(v.via()))) {
                        // one key, one vote: a key naming reviewer after reviewer must not fill N-of-group alone
                        throw new ApprovalException(409, "this API key has already decided " + approvalId
                                + "; approvals must come from distinct reviewers, and each key counts once");
                    }
                    if (r.votes().stream().anyMatch(v -> v.reviewer().equalsIgnoreCase(reviewer))) {
                        throw new ApprovalException(409, reviewer + " has already decided " + approvalId
                                + "; approvals must come from distinct reviewers");
                    }
                    if (nonce != null) {
                        store.useNonce(c, nonce, approvalId, now);
                    }
                    Vote vote = new Vote(reviewer, approve, why, now, from, via);
                    store.insertVote(c, approvalId, vote);
                    long approvals = r.approvals() + (approve ? 1 : 0);
                    State next = !approve ? State.DENIED : approvals >= r.requiredApprovals() ? State.APPROVED : State.PENDING;
                    if (next != State.PENDING) {
                        store.transition(c, approvalId, Set.of(State.PENDING), next, now, null);
                    }
                    Map<String, Object> d = new LinkedHashMap<>();
                    d.put("reason", why);
                    d.put("via", via);
                    d.put("approvals", approvals);
                    d.put("required", (long) r.requiredApprovals());
                    d.put("state", next.db());
                    record(r, approve ? "approved" : "denied", now, r.sessionId(), reviewer, from, d);
                    c.commit();
                    return store.load(c, approvalId, false).orElseThrow();
                } catch (SQLException | RuntimeException e) {
                    c.rollback();
                    throw e;
                }
            }
        });
        return out.thenApply(r -> {
            if (r.state() != State.PENDING) {
                completeLocal(r);
            }
            return r;
        });
    }

    /** Records that a reviewer opened the request's page (GET never decides). */
    public CompletableFuture<Void> viewed(ApprovalRequest r, String reviewer, String from, String via) {
        return supply(() -> {
            record(r, "viewed", clock.instant(), r.sessionId(), reviewer, from, Map.of("via", via));
            return null;
        });
    }

    public CompletableFuture<Optional<ApprovalRequest>> find(String approvalId) {
        return supply(() -> {
            try (Connection c = store.connect()) {
                try {
                    return store.load(c, approvalId, false);
                } finally {
                    c.rollback();
                }
            }
        });
    }

    /** Requests in {@code state} (null: every state), newest first, at most {@code limit}. */
    public CompletableFuture<List<ApprovalRequest>> list(State state, int limit) {
        return supply(() -> {
            try (Connection c = store.connect()) {
                try {
                    return store.list(c, state, limit);
                } finally {
                    c.rollback();
                }
            }
        });
    }

    /** Whether {@code reviewer} is the requester: the identity's subject or its email claim. */
    static boolean isRequester(Identity requester, String reviewer) {
        if (requester == null || reviewer == null) {
            return false;
        }
        String email = requester.claims().get("email");
        return reviewer.equalsIgnoreCase(requester.subject()) || (email != null && reviewer.equalsIgnoreCase(email));
    }

    String pageUrl(String id) {
        return settings.publicUrl() + "/approvals/" + id;
    }

    // ------------------------------------------------------------------ internals

    private String newId() {
        char[] c = new char[10];
        for (int i = 0; i < c.length; i++) {
            c[i] = ID_ALPHABET[random.nextInt(ID_ALPHABET.length)];
        }
        return "AR-" + new String(c);
    }

    /** Writes an audit record and waits until it is durable; throws (so the transaction rolls back) if it is not. */
    private void record(ApprovalRequest r, String event, Instant at, String sessionId, String reviewer, String from,
                        Map<String, Object> detail) {
        ApprovalEvent e = new ApprovalEvent(r.id(), event, at, sessionId, r.statementRecordId(), r.identity(), r.target(),
                reviewer, from, detail);
        try {
            audit.approvalEvent(e).get(AUDIT_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new ApprovalException(503, "interrupted while recording '" + event + "' in the audit trail", ie);
        } catch (Exception ex) {
            Throwable cause = ex instanceof java.util.concurrent.ExecutionException && ex.getCause() != null ? ex.getCause() : ex;
            throw new ApprovalException(503, "the audit trail could not record '" + event + "' for " + r.id()
                    + ", so it was not done (" + cause.getMessage() + ")", cause);
        }
    }

    private CompletableFuture<Boolean> transition(String approvalId, Set<State> from, State to, String event,
                                                  String sessionId, Map<String, Object> detail) {
        return supply(() -> {
            Instant now = clock.instant();
            try (Connection c = store.connect()) {
                try {
                    Optional<ApprovalRequest> r = store.load(c, approvalId, true);
                    if (r.isEmpty() || !from.contains(r.get().state())) {
                        c.rollback();
                        return false;
                    }
                    store.transition(c, approvalId, from, to, null, to == State.EXECUTED ? now : null);
                    Map<String, Object> d = new LinkedHashMap<>(detail);
                    d.put("previousState", r.get().state().db());
                    record(r.get(), event, now, sessionId != null ? sessionId : r.get().sessionId(), null, null, d);
                    c.commit();
                    return true;
                } catch (SQLException | RuntimeException e) {
                    c.rollback();
                    throw e;
                }
            }
        });
    }

    @FunctionalInterface
    private interface Work<T> {
        T run() throws Exception;
    }

    private <T> CompletableFuture<T> supply(Work<T> work) {
        if (closed) {
            return CompletableFuture.failedFuture(new ApprovalException(503, "the approval service is shut down"));
        }
        CompletableFuture<T> f = new CompletableFuture<>();
        try {
            workers.execute(() -> {
                try {
                    f.complete(work.run());
                } catch (Throwable t) {
                    f.completeExceptionally(t instanceof ApprovalException ? t : ApprovalException.of(t));
                }
            });
        } catch (RejectedExecutionException e) {
            f.completeExceptionally(new ApprovalException(503, "the approval service is overloaded or shut down"));
        }
        return f;
    }

    private void notifyReviewers(ApprovalRequest r, ApprovalSettings.Group group) {
        try {
            notifications.execute(() -> sendNotifications(r, group));
        } catch (RejectedExecutionException e) {
            LOG.error("approval {}: notification queue full, reviewers were not notified (they can use the list page)", r.id());
        }
    }

    private void sendNotifications(ApprovalRequest r, ApprovalSettings.Group group) {
        Notifier n = notifier;
        List<String> delivered = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        String error = null;
        for (String reviewer : group.reviewers()) {
            if (reviewer.startsWith("api-key:") || isRequester(r.identity(), reviewer)) {
                continue; // an API key reads the REST API; the requester may not decide
            }
            if (n == null) {
                failed.add(reviewer);
                error = "no notification channel";
                continue;
            }
            String page = pageUrl(r.id());
            String approve = page + "?t=" + tokens.issue(r.id(), reviewer, LinkTokens.Action.APPROVE, r.expires());
            String deny = page + "?t=" + tokens.issue(r.id(), reviewer, LinkTokens.Action.DENY, r.expires());
            try {
                n.deliver(new Notification(r, reviewer, page, approve, deny));
                delivered.add(reviewer);
            } catch (Exception e) {
                failed.add(reviewer);
                error = String.valueOf(e.getMessage());
                LOG.error("approval {}: notification to {} failed: {}", r.id(), reviewer, e.toString());
            }
        }
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("recipients", delivered);
        d.put("failed", failed);
        d.put("error", error);
        try {
            record(r, "notified", clock.instant(), r.sessionId(), null, "notify", d);
        } catch (ApprovalException e) {
            LOG.error("approval {}: {}", r.id(), e.getMessage());
        }
    }

    /** One poll: expire due requests, then complete local holds decided elsewhere. */
    private void tick() {
        try {
            expireDue();
            pollHolds();
            if (pollFailing) {
                pollFailing = false;
                LOG.info("approvals: the control store answers again");
            }
        } catch (Throwable t) {
            if (!pollFailing) { // once per outage, not every interval
                pollFailing = true;
                LOG.warn("approvals: cannot poll the control store (decisions and expiry wait until it answers): {}", t.toString());
            }
        }
    }

    /** Expires every pending request whose time is up (any instance's). Package-private for tests. */
    void expireDue() throws SQLException {
        Instant now = clock.instant();
        List<String> due;
        try (Connection c = store.connect()) {
            try {
                due = store.dueForExpiry(c, now);
            } finally {
                c.rollback();
            }
        }
        for (String id : due) {
            ApprovalRequest expired = null;
            try (Connection c = store.connect()) {
                try {
                    Optional<ApprovalRequest> r = store.load(c, id, true);
                    if (r.isPresent() && r.get().state() == State.PENDING && !now.isBefore(r.get().expires())) {
                        store.transition(c, id, Set.of(State.PENDING), State.EXPIRED, now, null);
                        Map<String, Object> d = new LinkedHashMap<>();
                        d.put("approvals", r.get().approvals());
                        d.put("required", (long) r.get().requiredApprovals());
                        d.put("expired", r.get().expires());
                        record(r.get(), "expired", now, r.get().sessionId(), null, null, d);
                        c.commit();
                        expired = store.load(c, id, false).orElseThrow();
                    }
                } catch (SQLException | RuntimeException e) {
                    c.rollback();
                    LOG.warn("approval {}: could not expire it now, will retry: {}", id, e.toString());
                }
            }
            if (expired != null) {
                completeLocal(expired);
            }
        }
    }

    /** Completes local holds whose requests were decided (on any instance). Package-private for tests. */
    void pollHolds() throws SQLException {
        if (holds.isEmpty()) {
            return;
        }
        try (Connection c = store.connect()) {
            try {
                Map<String, State> states = store.states(c, holds.keySet());
                for (Map.Entry<String, State> e : states.entrySet()) {
                    if (e.getValue() != State.PENDING) {
                        Optional<ApprovalRequest> r = store.load(c, e.getKey(), false);
                        r.ifPresent(this::completeLocal);
                    }
                }
            } finally {
                c.rollback();
            }
        }
    }

    private void completeLocal(ApprovalRequest r) {
        HoldImpl h = holds.remove(r.id());
        if (h == null) {
            return;
        }
        Decision d = switch (r.state()) {
            case APPROVED, EXECUTED -> new Decision(Outcome.APPROVED,
                    r.votes().stream().filter(Vote::approve).map(Vote::reviewer).toList(),
                    String.join("; ", r.votes().stream().filter(Vote::approve).map(Vote::reason)
                            .filter(Objects::nonNull).toList()), r.decidedAt());
            case DENIED -> {
                Vote no = r.votes().stream().filter(v -> !v.approve()).findFirst().orElse(null);
                yield new Decision(Outcome.DENIED, no == null ? List.of() : List.of(no.reviewer()),
                        no == null ? null : no.reason(), r.decidedAt());
            }
            case EXPIRED -> new Decision(Outcome.EXPIRED, List.of(), "no decision within " + settings.timeout().toMinutes()
                    + " minute(s)", r.decidedAt());
            default -> null; // abandoned: nobody waits any more
        };
        if (d == null) {
            h.decision().cancel(false);
        } else {
            h.decision().complete(d);
        }
    }

    /** Holds of this instance still waiting (for diagnostics and tests). */
    public int waiting() {
        return holds.size();
    }

    /** Stops polling and the pools; holds still waiting fail (their sessions are being closed anyway). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        poller.shutdownNow();
        notifications.shutdown();
        workers.shutdown();
        try {
            if (!notifications.awaitTermination(5, TimeUnit.SECONDS)) {
                notifications.shutdownNow();
            }
            if (!workers.awaitTermination(10, TimeUnit.SECONDS)) {
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (HoldImpl h : holds.values()) {
            h.decision().completeExceptionally(new ApprovalException(503, "Warden is shutting down"));
        }
        holds.clear();
        store.close();
    }
}
