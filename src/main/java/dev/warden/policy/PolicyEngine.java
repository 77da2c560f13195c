package dev.warden.policy;

import dev.warden.identity.Identity;
import dev.warden.sql.Statement;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.kie.api.runtime.KieSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides, with the Drools rules of a directory, whether statements may run.
 *
 * <p>Thread-safe and non-blocking on the decision path: {@link #decide} reads one volatile reference
 * to the current compiled rulepack and a lock-free cache, so Netty event loops never wait for a
 * rebuild. Rebuilds happen on the watcher thread and are swapped in atomically; a rulepack that
 * does not compile never replaces a working one.
 *
 * <p>Verdicts are cached by (rules version, identity, target, statement fingerprint). The
 * fingerprint is the statement's shape with literals replaced, so rules must decide on shape only,
 * never on literal values — otherwise a cached verdict for one literal would be reused for another.
 *
 * <p>Fails closed: any exception while evaluating yields BLOCK with the rule name
 * {@value Verdict#FAIL_CLOSED}, and such verdicts are not cached.
 */
public final class PolicyEngine implements AutoCloseable {
    static final Logger LOG = LoggerFactory.getLogger("dev.warden.policy");
    static final int DEFAULT_CACHE_CAPACITY = 10_000;
    /** More firings than this in one evaluation means a rule loops (e.g. re-inserts facts): fail closed. */
    static final int MAX_FIRINGS = 1_000;
    /** EXPLAIN / PREPARE / DECLARE nest one level in PostgreSQL; anything deeper is not trusted. */
    static final int MAX_NESTING = 4;

    private record Key(String rulesVersion, Identity who, TargetFact target, String fingerprint) {
    }

    private final Path rulesDir;
    private final VerdictCache<Key, Verdict> cache;
    private final ScheduledExecutorService watcher;
    private volatile Rulepack current;
    /** The version of sources that failed to compile, so the watcher does not log the same errors every poll. */
    private volatile String failedVersion;
    private volatile String lastReloadError;

    private PolicyEngine(Path rulesDir, Rulepack initial, int cacheCapacity, Duration poll) {
        this.rulesDir = rulesDir;
        this.current = initial;
        this.cache = new VerdictCache<>(cacheCapacity);
        if (poll == null) {
            watcher = null;
        } else {
            watcher = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "warden-policy-watch");
                t.setDaemon(true);
                return t;
            });
            // polling rather than WatchService: it also sees editors' rename-over writes, bind mounts
            // and ConfigMap symlink swaps, and reading a few small files a second costs nothing
            watcher.scheduleWithFixedDelay(this::pollQuietly, poll.toMillis(), poll.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Compiles every {@code *.drl} in {@code rulesDir} into one rulepack.
     *
     * @param watch whether to check the directory every second and hot-reload changed rules
     * @throws RulepackException if the rules do not compile (the message names file and line), or
     *                           the directory holds no rules or cannot be read
     */
    public static PolicyEngine start(Path rulesDir, boolean watch) {
        return start(rulesDir, watch ? Duration.ofSeconds(1) : null, DEFAULT_CACHE_CAPACITY);
    }

    /** For tests: a faster poll (null = no watching) and a chosen cache size. */
    static PolicyEngine start(Path rulesDir, Duration poll, int cacheCapacity) {
        Objects.requireNonNull(rulesDir, "rulesDir");
        Rulepack rp;
        try {
            rp = Rulepack.compile(Rulepack.read(rulesDir));
        } catch (IOException e) {
            throw new RulepackException("cannot read rules in " + rulesDir, e);
        }
        warmUp(rp);
        LOG.info("policy rules version {} loaded from {} ({})", rp.version(), rulesDir, String.join(", ", rp.files()));
        return new PolicyEngine(rulesDir, rp, cacheCapacity, poll);
    }

    /** The verdict for one statement (and its inner statement, if any). Never throws, never blocks. */
    public Verdict decide(Identity who, TargetFact target, Statement stmt) {
        Rulepack rp = current; // one read: version and rules used below always belong together
        try {
            String fp = stmt.fingerprint();
            Key key = fp == null || fp.isEmpty() ? null : new Key(rp.version(), who, target, fp);
            if (key != null) {
                Verdict hit = cache.get(key);
                if (hit != null) {
                    return hit;
                }
            }
            Verdict v = evaluate(rp, who, target, stmt, 0);
            if (key != null && !v.failedClosed()) {
                cache.put(key, v);
            }
            return v;
        } catch (RuntimeException | StackOverflowError | LinkageError e) {
            return failClosed(rp, e);
        }
    }

    /** The combined verdict for the statements of one Query: if any is blocked, none may run. */
    public Verdict decideAll(Identity who, TargetFact target, List<Statement> stmts) {
        if (stmts == null || stmts.isEmpty()) {
            return Verdict.allow(current.version()); // an empty query string runs nothing
        }
        List<Verdict> verdicts = new ArrayList<>(stmts.size());
        for (Statement s : stmts) {
            verdicts.add(decide(who, target, s));
        }
        return Verdict.combine(verdicts);
    }

    private record MaskKey(String rulesVersion, Identity who, TargetFact target, Set<String> classes) {
    }

    private final java.util.concurrent.ConcurrentHashMap<MaskKey, MaskingVerdict> maskCache = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * How each data class is shown to this identity on this target, from the rules that match a
     * {@link MaskClass} fact (rules/masking.drl). A class no rule decides is absent from the map (its
     * default method applies). Cached per rules version, identity and target. Never throws: if the
     * rules fail, every class is masked with "null" and the failure is named as the rule.
     */
    public MaskingVerdict maskingDecision(Identity who, TargetFact target, Set<String> classes) {
        Rulepack rp = current;
        MaskKey key = new MaskKey(rp.version(), who, target, Set.copyOf(classes));
        MaskingVerdict hit = maskCache.get(key);
        if (hit != null) {
            return hit;
        }
        MaskingVerdict v;
        try {
            Decision d = new Decision();
            KieSession session = rp.kieBase().newKieSession();
            try {
                session.setGlobal(Rulepack.GLOBAL, d);
                session.addEventListener(d.recorder());
                session.insert(who);
                session.insert(target);
                for (String c : classes) {
                    session.insert(new MaskClass(c));
                }
                if (session.fireAllRules(MAX_FIRINGS) >= MAX_FIRINGS) {
                    throw new IllegalStateException("more than " + MAX_FIRINGS + " rule firings; a masking rule loops");
                }
            } finally {
                session.dispose();
            }
            v = d.toMaskingVerdict(rp.version());
        } catch (RuntimeException | StackOverflowError | LinkageError e) {
            LOG.warn("masking rules failed, every protected value is shown as NULL: {}", e.toString());
            java.util.Map<String, String> all = new java.util.HashMap<>();
            classes.forEach(c -> all.put(c, "null"));
            return new MaskingVerdict(all, Set.of(), List.of(Verdict.FAIL_CLOSED), rp.version());
        }
        if (maskCache.size() > DEFAULT_CACHE_CAPACITY) {
            maskCache.clear();
        }
        maskCache.put(key, v);
        return v;
    }

    /** The method per data class for this identity (absent: the class default). */
    public java.util.Map<String, String> maskingMethods(Identity who, TargetFact target, Set<String> classes) {
        return maskingDecision(who, target, classes).methods();
    }

    private static Verdict evaluate(Rulepack rp, Identity who, TargetFact target, Statement stmt, int depth) {
        if (depth > MAX_NESTING) {
            throw new IllegalStateException("statements nested more than " + MAX_NESTING + " deep");
        }
        Objects.requireNonNull(who, "identity");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(stmt, "statement");
        Decision d = new Decision();
        // a fresh session per evaluation, as a stateless session would use, but stateful so the
        // number of firings can be capped: a looping rule must not hold an event loop forever
        KieSession session = rp.kieBase().newKieSession();
        try {
            session.setGlobal(Rulepack.GLOBAL, d);
            session.addEventListener(d.recorder());
            session.insert(who);
            session.insert(target);
            session.insert(stmt);
            if (session.fireAllRules(MAX_FIRINGS) >= MAX_FIRINGS) {
                throw new IllegalStateException("more than " + MAX_FIRINGS + " rule firings (rules "
                        + String.join(", ", d.fired()) + "); a rule loops");
            }
        } finally {
            session.dispose();
        }
        Verdict v = d.toVerdict(rp.version());
        // EXPLAIN ANALYZE runs its statement, PREPARE's body runs at EXECUTE (which carries only a
        // name), DECLARE's query runs at FETCH: judge the inner statement now, as if it ran alone
        return stmt.inner() == null ? v : Verdict.combine(v, evaluate(rp, who, target, stmt.inner(), depth + 1));
    }

    /**
     * Runs every kind of statement through new rules a few dozen times before they take traffic, so
     * class loading and Drools' constraint JIT (after 20 evaluations) happen here, on the compiling
     * thread, rather than in an event loop's first requests.
     */
    private static void warmUp(Rulepack rp) {
        List<Identity> who = List.of(Identity.staticUser("warden-warm-up"),
                new Identity(Identity.Kind.OIDC, "warden-warm-up", null, "warden-warm-up", null, Map.of(), Map.of()));
        TargetFact target = new TargetFact("warden-warm-up");
        for (int round = 0; round < 25; round++) {
            for (Statement.Kind kind : Statement.Kind.values()) {
                Statement s = new Statement(kind, kind.name(), kind.name(), kind.name(), true, List.of(), List.of(),
                        List.of(), Set.of(), false, false, false, Statement.CopyDirection.NONE, false, false, null, null);
                for (Identity id : who) {
                    try {
                        evaluate(rp, id, target, s, 0);
                    } catch (RuntimeException e) {
                        // a rule that throws fails closed at run time too; nothing to do here
                    }
                }
            }
        }
    }

    private static Verdict failClosed(Rulepack rp, Throwable e) {
        LOG.warn("policy evaluation failed, statement blocked: {}", e.toString());
        return Verdict.failClosed(rp.version(), e);
    }

    /**
     * Re-reads the rules directory now and swaps in the new rules if they changed and compile.
     * The watcher calls this; it is public for an operator's "reload now".
     *
     * @return true if new rules are in force
     */
    public synchronized boolean reload() {
        Rulepack.Sources src;
        try {
            src = Rulepack.read(rulesDir);
        } catch (IOException e) {
            LOG.warn("cannot read rules in {} ({}); keeping version {}", rulesDir, e.toString(), current.version());
            return false;
        }
        if (src.version().equals(current.version()) || src.version().equals(failedVersion)) {
            return false;
        }
        try {
            Rulepack rp = Rulepack.compile(src);
            warmUp(rp);
            current = rp;
            cache.clear(); // old entries could never hit again (the version is in the key); free them now
            failedVersion = null;
            lastReloadError = null;
            LOG.info("policy rules version {} loaded from {} ({})", rp.version(), rulesDir, String.join(", ", rp.files()));
            return true;
        } catch (RuntimeException e) {
            failedVersion = src.version();
            LOG.error("policy rules NOT reloaded, version {} stays in force: {}", current.version(), e.getMessage());
            lastReloadError = e.getMessage(); // after the log line: whoever sees the error finds it logged
            return false;
        }
    }

    private void pollQuietly() {
        try {
            reload();
        } catch (Throwable t) { // a dying watcher thread would silently stop all future reloads
            LOG.error("policy rules watcher failed; will retry", t);
        }
    }

    /** Short SHA-256 of the rules in force (file names and contents); recorded with every verdict. */
    public String rulesVersion() {
        return current.version();
    }

    /** The rule files in force, by name. */
    public List<String> ruleFiles() {
        return current.files();
    }

    /** Why the last reload was refused (compiler messages with file and line), or null if it was not. */
    public String lastReloadError() {
        return lastReloadError;
    }

    public long cacheHits() {
        return cache.hits();
    }

    public long cacheMisses() {
        return cache.misses();
    }

    public int cacheSize() {
        return cache.size();
    }

    @Override
    public void close() {
        if (watcher != null) {
            watcher.shutdownNow();
        }
    }
}
