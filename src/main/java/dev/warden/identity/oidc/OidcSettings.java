package dev.warden.identity.oidc;

import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@code oidc:} section of warden.yaml, validated and immutable (parsed by
 * {@code dev.warden.config.OidcSection}). CI jobs log in with their platform's OIDC ID token as the
 * password; a token is accepted only if its issuer is listed here, its audience is one of that
 * issuer's audiences, and a grant rule matches its claims (default deny).
 *
 * @param issuers                the trusted token issuers, by name
 * @param grants                 mapping rules in order; the first rule whose grant, issuer and claims match wins
 * @param revoked                subjects, repositories and token ids refused even when otherwise valid
 * @param clockSkew              tolerance for exp, nbf and iat against Warden's clock
 * @param maxTokenAge            a token issued ({@code iat}) longer ago than this is refused even if not expired
 * @param jwksMinRefreshInterval at most one key fetch per issuer within this interval (unknown kids, retries)
 * @param jwksCacheTtl           fetched keys are used at most this long without a successful refresh (then fail closed)
 * @param jwksFetchTimeout       limit for one discovery + key-set fetch
 * @param sessionGrace           how long a session may outlive its token's expiry
 * @param allowPlaintextLoopback accept tokens over plaintext connections from loopback addresses (tests, demo)
 */
public record OidcSettings(Map<String, Issuer> issuers, List<GrantRule> grants, Revoked revoked,
                           Duration clockSkew, Duration maxTokenAge, Duration jwksMinRefreshInterval,
                           Duration jwksCacheTtl, Duration jwksFetchTimeout, Duration sessionGrace,
                           boolean allowPlaintextLoopback) {

    public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(60);
    public static final Duration DEFAULT_MAX_TOKEN_AGE = Duration.ofHours(1);
    public static final Duration DEFAULT_JWKS_MIN_REFRESH = Duration.ofSeconds(30);
    public static final Duration DEFAULT_JWKS_CACHE_TTL = Duration.ofHours(1);
    public static final Duration DEFAULT_JWKS_FETCH_TIMEOUT = Duration.ofSeconds(5);

    /**
     * Signature algorithms Warden can verify (EdDSA means Ed25519, verified through Tink). HMAC and
     * {@code none} are never accepted.
     */
    public static final Set<String> SUPPORTED_ALGORITHMS =
            Set.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA");
    public static final List<String> DEFAULT_ALGORITHMS = List.of("RS256", "ES256", "EdDSA");

    public OidcSettings {
        issuers = Map.copyOf(issuers);
        grants = List.copyOf(grants);
    }

    /** No issuers, no grants: every token is refused. */
    public static OidcSettings disabled() {
        return new OidcSettings(Map.of(), List.of(), Revoked.none(), DEFAULT_CLOCK_SKEW, DEFAULT_MAX_TOKEN_AGE,
                DEFAULT_JWKS_MIN_REFRESH, DEFAULT_JWKS_CACHE_TTL, DEFAULT_JWKS_FETCH_TIMEOUT, Duration.ZERO, false);
    }

    public boolean enabled() {
        return !issuers.isEmpty() && !grants.isEmpty();
    }

    /** The issuer whose URL equals a token's {@code iss}, exactly. */
    public Optional<Issuer> issuerByUrl(String iss) {
        return issuers.values().stream().filter(i -> i.issuerUrl().equals(iss)).findFirst();
    }

    /**
     * Keys are fetched over https only, so that nobody on the path can substitute them; plain http is
     * accepted for loopback addresses (tests, the demo issuer on the same host).
     */
    public static boolean secureOrLoopback(URI uri) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (scheme.equals("https")) {
            return uri.getHost() != null;
        }
        String host = uri.getHost();
        return scheme.equals("http") && host != null
                && (host.equals("localhost") || host.matches("127(\\.\\d{1,3}){3}") || host.equals("[::1]"));
    }

    /** The user names that log in with a token (the login code asks such clients for a cleartext password). */
    public Set<String> grantNames() {
        Set<String> names = new TreeSet<>();
        grants.forEach(g -> names.add(g.grant()));
        return names;
    }

    /**
     * A trusted issuer.
     *
     * @param name       the name grant rules refer to
     * @param issuerUrl  must equal the token's {@code iss} and the discovery document's {@code issuer}
     * @param audiences  a token must name at least one of them in {@code aud}
     * @param jwksUri    explicit key-set URL; null = OpenID discovery at {@code issuerUrl/.well-known/openid-configuration}
     * @param algorithms accepted {@code alg} header values, a subset of {@link #SUPPORTED_ALGORITHMS}
     * @param preset     which claims fill the CI fields of the identity
     * @param ciClaims   the effective CI field → claim names (preset, with per-issuer overrides applied)
     */
    public record Issuer(String name, String issuerUrl, List<String> audiences, URI jwksUri, List<String> algorithms,
                         Preset preset, Map<String, List<String>> ciClaims) {
        public Issuer {
            audiences = List.copyOf(audiences);
            algorithms = List.copyOf(algorithms);
            ciClaims = Map.copyOf(ciClaims);
        }

        public Issuer(String name, String issuerUrl, List<String> audiences, URI jwksUri, List<String> algorithms,
                      Preset preset) {
            this(name, issuerUrl, audiences, jwksUri, algorithms, preset, preset.ciClaims());
        }

        public boolean discovery() {
            return jwksUri == null;
        }
    }

    /**
     * Which claims of a platform's ID token fill the CI fields ({@link #CI_FIELDS}) of the identity;
     * for each field the first claim present wins. {@code required} claims must be in every token.
     */
    public enum Preset {
        GITHUB(ordered("repository", List.of("repository"), "workflow", List.of("workflow_ref", "workflow"),
                "runId", List.of("run_id"), "job", List.of("job_workflow_ref", "job"), "actor", List.of("actor"),
                "ref", List.of("ref"), "sha", List.of("sha")), List.of("repository", "run_id")),
        GITLAB(ordered("repository", List.of("project_path"), "workflow", List.of("ci_config_ref_uri"),
                "runId", List.of("pipeline_id"), "job", List.of("job_id"), "actor", List.of("user_login"),
                "ref", List.of("ref"), "sha", List.of("sha")), List.of("project_path", "pipeline_id")),
        GENERIC(ordered("repository", List.of("repository"), "workflow", List.of("workflow"),
                "runId", List.of("run_id"), "job", List.of("job"), "actor", List.of("actor"),
                "ref", List.of("ref"), "sha", List.of("sha")), List.of());

        private final Map<String, List<String>> ciClaims;
        private final List<String> required;

        Preset(Map<String, List<String>> ciClaims, List<String> required) {
            this.ciClaims = ciClaims;
            this.required = required;
        }

        public Map<String, List<String>> ciClaims() {
            return ciClaims;
        }

        /** Claims a token of this platform always carries; a token without them is refused. */
        public List<String> requiredClaims() {
            return required;
        }

        private static Map<String, List<String>> ordered(Object... kv) {
            Map<String, List<String>> m = new LinkedHashMap<>();
            for (int i = 0; i < kv.length; i += 2) {
                @SuppressWarnings("unchecked")
                List<String> v = (List<String>) kv[i + 1];
                m.put((String) kv[i], v);
            }
            return java.util.Collections.unmodifiableMap(m);
        }
    }

    /** The keys of {@code Identity.ci()}. */
    public static final List<String> CI_FIELDS = List.of("repository", "workflow", "runId", "job", "actor", "ref", "sha");

    /**
     * A mapping rule: a token of {@code issuer} whose claims satisfy every {@code match} condition may
     * log in as {@code grant} and is connected to {@code target} as {@code upstreamRole}.
     *
     * @param match        claim name → expected value; exact, or a glob where {@code *} matches any run of characters
     * @param upstreamRole the upstream role; null = the target's configured user
     */
    public record GrantRule(String name, String issuer, Map<String, String> match, String target,
                            String upstreamRole, String grant) {
        public GrantRule {
            match = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(match));
        }
    }

    /** Refused even when the token is valid and a rule matches; repositories compare case-insensitively. */
    public record Revoked(Set<String> subjects, Set<String> repositories, Set<String> jtis) {
        public Revoked {
            subjects = Set.copyOf(subjects);
            repositories = Set.copyOf(repositories);
            jtis = Set.copyOf(jtis);
        }

        public static Revoked none() {
            return new Revoked(Set.of(), Set.of(), Set.of());
        }
    }
}
