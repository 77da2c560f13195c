package dev.warden.proxy;

import dev.warden.approval.ApprovalApi;
import dev.warden.approval.ApprovalMail;
import dev.warden.approval.ApprovalPages;
import dev.warden.approval.Approvals;
import dev.warden.config.ConfigException;
import dev.warden.config.WardenConfig;
import dev.warden.audit.AuditLog;
import dev.warden.audit.SigningKeys;
import dev.warden.report.ReportApiProcessor;
import dev.warden.report.ReportMailProcessor;
import dev.warden.report.ReportScheduleProcessor;
import dev.warden.report.ReportService;
import org.apache.camel.component.quartz.QuartzComponent;
import dev.warden.identity.oidc.DemoIssuer;
import dev.warden.identity.oidc.OidcSettings;
import dev.warden.identity.oidc.TokenVerifier;
import dev.warden.identity.scram.ScramVerifier;
import dev.warden.policy.PolicyEngine;
import dev.warden.policy.TargetFact;
import io.netty.channel.Channel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServerConfiguration;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PluginHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Warden gateway: the Camel context with the routes from {@code routes/}, the client
 * listener (a camel-netty consumer using {@link WardenPipelineFactory}) and the state every session
 * shares (config, TLS, cancel keys).
 *
 * <p>One file on purpose: it is the composition root that builds, wires and stops every part; the
 * parts themselves live in their packages.
 */
public final class Gateway implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("dev.warden.gateway");

    private final WardenConfig config;
    private final Path routesDir;
    private final Path rulesDir;
    private PolicyEngine policy;
    private MaskingSetup masking;
    private final TokenVerifier tokens;
    private DemoIssuer demoIssuer;
    private final Map<String, Object> demoBeans = new java.util.LinkedHashMap<>();
    private AuditLog audit;
    private Approvals approvals;
    private ReportService reports;
    private dev.warden.recording.Recorder recorder;
    private final java.util.concurrent.atomic.AtomicLong sessionIds = new java.util.concurrent.atomic.AtomicLong();
    private final String sessionPrefix = Long.toHexString(System.currentTimeMillis()) + "-";
    private final java.util.concurrent.atomic.AtomicLong loginFailures = new java.util.concurrent.atomic.AtomicLong();
    private final SecureRandom random = new SecureRandom();
    private final CancelRegistry cancels = new CancelRegistry(random);
    private final TlsContexts tls;
    private final Set<ClientSession> sessions = ConcurrentHashMap.newKeySet();
    private final Set<ClientSession> admitted = ConcurrentHashMap.newKeySet();
    private final byte[] mockSecret = new byte[32];
    private final Map<String, TargetFact> targetFacts = new ConcurrentHashMap<>();
    private CamelContext camel;
    private io.netty.channel.EventLoopGroup loops;

    /** Routes from {@code routesDir}, rules from the {@code rules} directory next to it. */
    public Gateway(WardenConfig config, Path routesDir) {
        this(config, routesDir, routesDir.toAbsolutePath().getParent().resolve("rules"));
    }

    public Gateway(WardenConfig config, Path routesDir, Path rulesDir) {
        this.config = config;
        this.routesDir = routesDir;
        this.rulesDir = rulesDir;
        this.tls = new TlsContexts(config);
        this.tokens = new TokenVerifier(config.oidc());
        random.nextBytes(mockSecret);
    }

    public Gateway start() throws Exception {
        List<Path> routeFiles;
        if (!Files.isDirectory(routesDir)) {
            throw new ConfigException("routes directory " + routesDir.toAbsolutePath() + " does not exist (set --routes)");
        }
        routeFiles = new ArrayList<>(routeFiles(routesDir));
        if (config.http().enabled()) {
            routeFiles.addAll(routeFiles(routesDir.resolve("http")));
            if (!demoBeans.isEmpty()) {
                routeFiles.addAll(routeFiles(routesDir.resolve("http").resolve("demo")));
            }
        }
        if (routeFiles.isEmpty()) {
            throw new ConfigException("no *.camel.yaml routes in " + routesDir.toAbsolutePath());
        }
        policy = PolicyEngine.start(rulesDir, true);
        audit = AuditLog.open(config.audit(), java.time.Clock.systemUTC());
        masking = new MaskingSetup(config, policy, random);
        if (config.recording().enabled()) {
            // in the audit's control store; each sealed chunk's hash goes into the audit chain
            recorder = dev.warden.recording.Recorder.start(config.recording(), config.audit().store(), audit,
                    java.time.Clock.systemUTC());
        }
        StatementAnalysis analysis = new StatementAnalysis();
        if (config.approvals().enabled()) {
            // in the audit's control store; the audit's instance id owns this gateway's holds
            approvals = Approvals.start(config.approvals(), config.audit().store(), audit, java.time.Clock.systemUTC(),
                    audit.instanceId());
        }
        DefaultCamelContext ctx = new DefaultCamelContext();
        ctx.getCamelContextExtension().setName("warden");
        ctx.setMessageHistory(false);
        ctx.setStreamCaching(false);
        ctx.setLoadHealthChecks(false);
        ctx.getShutdownStrategy().setTimeout(10);
        ctx.getRegistry().bind("wardenPipeline", new WardenPipelineFactory(this));
        loops = eventLoops(workerThreads(), config.listen().nativeTransport() && Epoll.isAvailable());
        ctx.getRegistry().bind("wardenEventLoops", loops);
        PolicyProcessor decide = new PolicyProcessor(policy, analysis);
        MaskingProcessor protect = new MaskingProcessor(analysis, policy);
        AuditProcessor record = new AuditProcessor(audit);
        ctx.getRegistry().bind("decideStatements", decide);
        ctx.getRegistry().bind("enforceVerdict", new ForwardProcessor());
        ctx.getRegistry().bind("refusedRoundTrip", RoundTrip.REFUSED);
        ctx.getRegistry().bind("protectData", protect);
        ctx.getRegistry().bind("auditStatements", record);
        ctx.getRegistry().bind("holdForApproval", new HoldProcessor(approvals, decide, record, protect));
        ctx.getRegistry().bind("auditApi", new AuditApiProcessor(audit, config.http().apiKeys()));
        ctx.getRegistry().bind("gatewayHealth", new HealthProcessor(this));
        ctx.getRegistry().bind("recordingApi", new dev.warden.recording.RecordingApi(recorder == null ? null
                : recorder.index(), config.recording(), config.http().apiKeys()));
        ctx.getRegistry().bind("approvalPages", new ApprovalPages(approvals, config.http().apiKeys()));
        ctx.getRegistry().bind("approvalApi", new ApprovalApi(approvals, config.http().apiKeys(), tokens));
        ctx.getRegistry().bind("approvalMailProperties", ApprovalMail.javaMailProperties(config.approvals().mail()));
        reports = new ReportService(config.reports(), config.audit().store(), audit,
                SigningKeys.loadOrGenerate(config.audit().signingKeyFile(), false));
        reports.start();
        ctx.getRegistry().bind("reportSchedule", new ReportScheduleProcessor(reports));
        ctx.getRegistry().bind("reportMail", new ReportMailProcessor(reports));
        ctx.getRegistry().bind("reportApi", new ReportApiProcessor(reports, config.http().apiKeys()));
        ctx.getRegistry().bind("reportMailProperties", reports.mailProperties());
        ctx.getRegistry().bind("quartz", quartz(audit.instanceId()));
        demoBeans.forEach(ctx.getRegistry()::bind);
        if (config.http().enabled()) {
            VertxPlatformHttpServerConfiguration http = new VertxPlatformHttpServerConfiguration();
            http.setBindHost(config.http().host());
            http.setBindPort(config.http().port());
            ctx.addService(new VertxPlatformHttpServer(http));
        }
        Properties p = new Properties();
        p.setProperty("warden.listen.host", config.listen().host());
        p.setProperty("warden.listen.port", Integer.toString(config.listen().port()));
        p.setProperty("warden.netty.nativeTransport", Boolean.toString(config.listen().nativeTransport() && Epoll.isAvailable()));
        // for route files written before the loops were Warden's own (workerCount instead of workerGroup)
        p.setProperty("warden.netty.workerCount", Integer.toString(workerThreads()));
        p.putAll(ApprovalMail.properties(config.approvals().mail()));
        p.putAll(reports.properties());
        ctx.getPropertiesComponent().setInitialProperties(p);
        List<Resource> resources = new ArrayList<>();
        for (Path f : routeFiles) {
            resources.add(PluginHelper.getResourceLoader(ctx).resolveResource("file:" + f.toAbsolutePath()));
        }
        PluginHelper.getRoutesLoader(ctx).loadRoutes(resources);
        if (demoIssuer != null && config.http().enabled()) {
            ctx.addRoutes(demoIssuerRoutes(demoIssuer));
        }
        try {
            ctx.start();
        } catch (Exception | Error e) {
            // the loops' threads start with the first channel, i.e. in ctx.start(): a failure before it left none
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        camel = ctx;
        if (approvals != null) {
            approvals.notifyWith(ApprovalMail.notifier(ctx.createProducerTemplate()));
        }
        // after the HTTP port is up: the demo issuer is served by this very gateway
        tokens.prefetchKeys(java.time.Instant.now());
        LOG.info("Warden listening on {}:{} ({} event-loop thread(s), {} transport), HTTP {}, targets {}, rules {} ({}), routes {}",
                config.listen().host(), config.listen().port(), workerThreads(),
                Epoll.isAvailable() && config.listen().nativeTransport() ? "epoll" : "nio",
                config.http().enabled() ? config.http().host() + ":" + config.http().port() : "off",
                config.targets().keySet(), policy.ruleFiles(), policy.rulesVersion(), routeFiles.stream().map(f -> routesDir.relativize(f).toString()).toList()); // http/approvals.camel.yaml, not a second approvals.camel.yaml
        return this;
    }

    /**
     * Quartz for the report schedules, in memory (the claim in the control store, not Quartz clustering,
     * keeps instances from producing a report twice), with a scheduler name of its own so that several
     * gateways in one JVM (tests) do not share one scheduler.
     */
    private static QuartzComponent quartz(String instanceId) {
        QuartzComponent q = new QuartzComponent();
        Map<String, Object> props = new java.util.HashMap<>();
        props.put("org.quartz.scheduler.instanceName", "warden-reports-" + instanceId + "-" + Long.toHexString(System.nanoTime()));
        props.put("org.quartz.scheduler.skipUpdateCheck", "true");
        props.put("org.quartz.threadPool.class", "org.quartz.simpl.SimpleThreadPool");
        props.put("org.quartz.threadPool.threadCount", "1");
        props.put("org.quartz.jobStore.class", "org.quartz.simpl.RAMJobStore");
        q.setProperties(props);
        return q;
    }

    /** Session recording; null when recording.enabled is false. */
    public dev.warden.recording.Recorder recorder() {
        return recorder;
    }

    public ReportService reports() {
        return reports;
    }

    private static List<Path> routeFiles(Path dir) throws java.io.IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".camel.yaml")).sorted().toList();
        }
    }

    /**
     * Default: one event loop per two cores, at least 2 and at most 4. On 2 cores two loops measured
     * 8-12 % more TPS at 8 clients than one (a single loop left the box 13 % idle: when a backend it had
     * just woken took its core, every session waited), and four loops 10 % less than one
     * (docs/performance.md, run 9).
     */
    int workerThreads() {
        int n = config.listen().workerThreads();
        return n > 0 ? n : Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors() / 2));
    }

    public WardenConfig config() {
        return config;
    }

    public int sessionCount() {
        return sessions.size();
    }

    Logger log() {
        return LOG;
    }

    SecureRandom random() {
        return random;
    }

    CancelRegistry cancels() {
        return cancels;
    }

    /** Serves a demo OIDC issuer's discovery document and key set on the HTTP port (the demo uses it). */
    public Gateway withDemoIssuer(DemoIssuer issuer) {
        this.demoIssuer = issuer;
        return this;
    }

    /**
     * Demo only ({@code ./warden demo}): binds these beans and, when the HTTP port is on, loads the routes
     * in {@code routes/http/demo/} that use them (e.g. the mail catcher's page at /demo/mail). Without
     * this call — {@code ./warden run} — those routes are never loaded.
     */
    public Gateway withDemoRoutes(Map<String, Object> beans) {
        demoBeans.putAll(beans);
        return this;
    }

    private static org.apache.camel.builder.RouteBuilder demoIssuerRoutes(DemoIssuer issuer) {
        String base = java.net.URI.create(issuer.issuerUrl()).getPath();
        return new org.apache.camel.builder.RouteBuilder() {
            @Override
            public void configure() {
                from("platform-http:" + base + DemoIssuer.DISCOVERY_PATH + "?httpMethodRestrict=GET").routeId("demo-issuer-discovery")
                        .setHeader(Exchange.CONTENT_TYPE, constant("application/json"))
                        .setBody(constant(issuer.discoveryJson()));
                from("platform-http:" + base + issuer.jwksPath() + "?httpMethodRestrict=GET").routeId("demo-issuer-jwks")
                        .setHeader(Exchange.CONTENT_TYPE, constant("application/json"))
                        .setBody(exchange -> issuer.jwksJson());
            }
        };
    }

    public AuditLog audit() {
        return audit;
    }

    /** The approval service for held statements; null when approvals.enabled is false. */
    public Approvals approvals() {
        return approvals;
    }

    String newSessionId() {
        return sessionPrefix + sessionIds.incrementAndGet();
    }

    TokenVerifier tokens() {
        return tokens;
    }

    /** Applies a reloaded oidc section (issuers, grants, revocations); live sessions are rechecked within seconds. */
    public void reloadIdentity(OidcSettings settings) {
        tokens.update(settings);
        LOG.info("identity settings reloaded: {} issuer(s), {} grant rule(s)", settings.issuers().size(), settings.grants().size());
    }

    void loginFailed() {
        loginFailures.incrementAndGet();
    }

    public long loginFailures() {
        return loginFailures.get();
    }

    TlsContexts tls() {
        return tls;
    }

    void sessionOpened(ClientSession s) {
        sessions.add(s);
    }

    /**
     * A StartupMessage arrived: from now on the connection counts against limits.maxConnections.
     * A CancelRequest never does, so that a client can still cancel its query when Warden is full
     * (as with PostgreSQL); idle pre-startup connections are bounded by limits.startupTimeout.
     */
    boolean admit(ClientSession s) {
        admitted.add(s);
        return admitted.size() <= config.limits().maxConnections();
    }

    void sessionClosed(ClientSession s) {
        sessions.remove(s);
        admitted.remove(s);
    }

    /**
     * The verifier an unknown user is checked against: stable per name, so that repeated attempts
     * look like those for a real user (same salt each time), and no password can match it.
     */
    ScramVerifier mockVerifier(String user) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(mockSecret);
            byte[] h = md.digest(user.getBytes(StandardCharsets.UTF_8));
            byte[] keys = new byte[32];
            random.nextBytes(keys);
            return new ScramVerifier(4096, Arrays.copyOf(h, 16), keys, keys.clone());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The rules' view of a target. */
    TargetFact targetFact(WardenConfig.Target t) {
        return targetFacts.computeIfAbsent(t.name(),
                n -> new TargetFact(n, t.environment(), t.allClassifiedTables()));
    }

    /** The masking of a target, or null when the target has no masking section. */
    dev.warden.masking.TargetMasking masking(String target) {
        return masking == null ? null : masking.target(target);
    }

    static Class<? extends SocketChannel> socketChannelClass(Channel client) {
        return client instanceof EpollSocketChannel ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    /**
     * The sessions' event loops, owned by Warden rather than built by camel-netty: Camel's thread factory
     * makes plain threads, on which Netty's per-thread state (its object recycler, the buffer pool's
     * thread cache lookups, FastThreadLocal) takes its slow path on every message. Netty's own factory
     * makes FastThreadLocalThreads (docs/performance.md, run 11). Shut down in {@link #close()}.
     *
     * <p>I/O ratio 100: after each pass over the ready sockets the loop runs its queued tasks without a
     * time budget. With Netty's default (50) it reads the clock around every pass to budget them, two
     * to three clock reads a transaction for nothing: Warden's tasks are short (a recording flush, an
     * audit writer's callback), and none of them loops.
     */
    private static io.netty.channel.EventLoopGroup eventLoops(int threads, boolean epoll) {
        var factory = new io.netty.util.concurrent.DefaultThreadFactory("warden-loop", true);
        if (epoll) {
            var group = new io.netty.channel.epoll.EpollEventLoopGroup(threads, factory);
            group.setIoRatio(100);
            return group;
        }
        var group = new io.netty.channel.nio.NioEventLoopGroup(threads, factory);
        group.setIoRatio(100);
        return group;
    }

    /** Tells every client why its session ends (57P01), then stops the listener and the routes. */
    @Override
    public void close() {
        if (camel == null) {
            return;
        }
        List<io.netty.util.concurrent.Future<?>> notices = new ArrayList<>();
        for (ClientSession s : sessions) {
            notices.add(s.shutdown());
        }
        for (var f : notices) {
            f.awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        try {
            camel.stop();
        } finally {
            if (loops != null) {
                loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
            if (approvals != null) {
                approvals.close(); // before the audit: its last steps are audit records
            }
            if (recorder != null) {
                recorder.close(); // before the audit: sealed chunks' hashes are audit records
            }
            policy.close();
            masking.close();
            tokens.close();
            // last: flushes the queue and signs the final checkpoint
            audit.close();
            camel = null;
            LOG.info("Warden stopped");
        }
    }
}
