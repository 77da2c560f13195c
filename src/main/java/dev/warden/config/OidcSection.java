package dev.warden.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.warden.identity.oidc.OidcSettings;
import dev.warden.identity.oidc.OidcSettings.GrantRule;
import dev.warden.identity.oidc.OidcSettings.Issuer;
import dev.warden.identity.oidc.OidcSettings.Preset;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses the {@code oidc:} section of warden.yaml into {@link OidcSettings}; every problem names the
 * key to fix, as in the rest of the config. A missing section means no token logins.
 */
public final class OidcSection {
    private static final Set<String> KEYS = Set.of("issuers", "grants", "revoked", "clockSkew", "maxTokenAge",
            "jwksMinRefreshInterval", "jwksCacheTtl", "jwksFetchTimeout", "sessionGrace", "allowPlaintextLoopback");
    private static final Set<String> ISSUER_KEYS = Set.of("issuerUrl", "audience", "audiences", "discovery", "jwksUri",
            "algorithms", "preset", "ciClaims");
    private static final Set<String> GRANT_KEYS = Set.of("name", "issuer", "match", "target", "upstreamRole", "grant");

    private OidcSection() {
    }

    /** Parses the section without cross-checks against targets and static users. */
    static OidcSettings parse(Node oidc) {
        return parse(oidc, null, Set.of());
    }

    /**
     * @param targetNames the configured targets (a grant's target must be one); null skips the check
     * @param userNames   the static users (a grant must not have the same user name as one)
     */
    static OidcSettings parse(Node oidc, Set<String> targetNames, Set<String> userNames) {
        if (oidc.isMissing()) {
            return OidcSettings.disabled();
        }
        oidc.allowOnly(KEYS);
        Duration skew = oidc.get("clockSkew").duration(OidcSettings.DEFAULT_CLOCK_SKEW);
        Duration maxAge = positive(oidc.get("maxTokenAge"), OidcSettings.DEFAULT_MAX_TOKEN_AGE);
        Duration minRefresh = positive(oidc.get("jwksMinRefreshInterval"), OidcSettings.DEFAULT_JWKS_MIN_REFRESH);
        Duration ttl = positive(oidc.get("jwksCacheTtl"), OidcSettings.DEFAULT_JWKS_CACHE_TTL);
        if (ttl.compareTo(minRefresh) < 0) {
            throw oidc.get("jwksCacheTtl").error("must be at least jwksMinRefreshInterval ("
                    + minRefresh.toSeconds() + "s), else the cached keys expire before they may be refreshed");
        }
        Duration fetchTimeout = positive(oidc.get("jwksFetchTimeout"), OidcSettings.DEFAULT_JWKS_FETCH_TIMEOUT);
        if (fetchTimeout.compareTo(Duration.ofMinutes(1)) > 0) {
            throw oidc.get("jwksFetchTimeout").error("must be at most 1m: logins wait for it");
        }
        Duration grace = oidc.get("sessionGrace").duration(Duration.ZERO);
        boolean plaintextLoopback = oidc.get("allowPlaintextLoopback").bool(false);

        Map<String, Issuer> issuers = new LinkedHashMap<>();
        for (Map.Entry<String, Node> e : oidc.get("issuers").entries().entrySet()) {
            Issuer i = issuer(e.getKey(), e.getValue());
            for (Issuer other : issuers.values()) {
                if (other.issuerUrl().equals(i.issuerUrl())) {
                    throw e.getValue().get("issuerUrl").error("issuer '" + other.name() + "' has the same issuerUrl; "
                            + "a token's iss must select exactly one issuer (list all its audiences there)");
                }
            }
            issuers.put(e.getKey(), i);
        }

        List<GrantRule> grants = new ArrayList<>();
        Set<String> ruleNames = new HashSet<>();
        for (Node g : oidc.get("grants").items()) {
            GrantRule r = grant(g, issuers, targetNames, userNames);
            if (!ruleNames.add(r.name())) {
                throw g.get("name").error("rule name '" + r.name() + "' is used twice; names must be unique "
                        + "(they are recorded as the identity's mapping rule)");
            }
            grants.add(r);
        }

        Node rv = oidc.get("revoked");
        rv.allowOnly(Set.of("subjects", "repositories", "jtis"));
        var revoked = new OidcSettings.Revoked(Set.copyOf(strings(rv.get("subjects"))),
                Set.copyOf(strings(rv.get("repositories"))), Set.copyOf(strings(rv.get("jtis"))));
        return new OidcSettings(issuers, grants, revoked, skew, maxAge, minRefresh, ttl, fetchTimeout, grace,
                plaintextLoopback);
    }

    /**
     * Parses the {@code oidc:} key of a whole YAML document (other top-level keys are ignored), with
     * the same error paths as in warden.yaml. For tools and tests.
     */
    public static OidcSettings parseYaml(String yaml) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(yaml);
        } catch (IOException e) {
            throw new ConfigException("config is not valid YAML: " + e.getMessage(), e);
        }
        return parse(new Node(root, "").get("oidc"));
    }

    private static Issuer issuer(String name, Node n) {
        n.allowOnly(ISSUER_KEYS);
        if (n.isMissing()) {
            throw n.error("is empty; an issuer needs at least issuerUrl and audience");
        }
        Node urlNode = n.get("issuerUrl");
        String url = urlNode.requiredText();
        URI uri = uri(urlNode, url);
        if (uri.getQuery() != null || uri.getFragment() != null) {
            throw urlNode.error("must not have a query or fragment");
        }

        List<String> audiences;
        Node aud = n.get("audience");
        Node auds = n.get("audiences");
        if (aud.isMissing() == auds.isMissing()) {
            throw n.error("give exactly one of 'audience' (one value) or 'audiences' (a list): the aud a token "
                    + "must carry; without it, tokens a job requested for other services would log in here");
        }
        audiences = aud.isMissing() ? strings(auds) : List.of(aud.requiredText());
        if (audiences.isEmpty()) {
            throw auds.error("must list at least one audience");
        }

        Node jwksNode = n.get("jwksUri");
        URI jwksUri = jwksNode.isMissing() ? null : uri(jwksNode, jwksNode.requiredText());
        boolean discovery = n.get("discovery").bool(jwksUri == null);
        if (discovery && jwksUri != null) {
            throw n.get("discovery").error("discovery: true and jwksUri exclude each other; give one");
        }
        if (!discovery && jwksUri == null) {
            throw n.get("discovery").error("with discovery: false, give the key set URL as jwksUri");
        }

        List<String> algorithms = new ArrayList<>(OidcSettings.DEFAULT_ALGORITHMS);
        if (!n.get("algorithms").isMissing()) {
            algorithms.clear();
            for (Node a : n.get("algorithms").items()) {
                algorithms.add(algorithm(a));
            }
            if (algorithms.isEmpty()) {
                throw n.get("algorithms").error("must list at least one algorithm");
            }
        }

        Preset preset = n.get("preset").choice(Preset.class, Preset.GENERIC);
        Map<String, List<String>> ci = new LinkedHashMap<>(preset.ciClaims());
        Node cc = n.get("ciClaims");
        cc.allowOnly(new LinkedHashSet<>(OidcSettings.CI_FIELDS));
        cc.entries().forEach((field, claim) -> ci.put(field, List.of(claim.requiredText())));
        return new Issuer(name, url, audiences, jwksUri, List.copyOf(new LinkedHashSet<>(algorithms)), preset, ci);
    }

    private static String algorithm(Node a) {
        String alg = a.requiredText().trim();
        if (alg.equalsIgnoreCase("none")) {
            throw a.error("'none' (unsigned tokens) can never be allowed");
        }
        if (alg.toUpperCase().startsWith("HS")) {
            throw a.error("HMAC algorithms (" + alg + ") can never be allowed: they verify with a shared "
                    + "secret, and ID tokens are signed with the issuer's private key");
        }
        if (!OidcSettings.SUPPORTED_ALGORITHMS.contains(alg)) {
            throw a.error("unknown algorithm '" + alg + "'; supported are "
                    + String.join(", ", OidcSettings.SUPPORTED_ALGORITHMS.stream().sorted().toList()));
        }
        return alg;
    }

    private static GrantRule grant(Node g, Map<String, Issuer> issuers, Set<String> targetNames, Set<String> userNames) {
        g.allowOnly(GRANT_KEYS);
        String name = g.get("name").requiredText();
        String issuer = g.get("issuer").requiredText();
        if (!issuers.containsKey(issuer)) {
            throw g.get("issuer").error("'" + issuer + "' is not a configured issuer"
                    + (issuers.isEmpty() ? " (oidc.issuers is empty)" : "; known issuers are "
                    + String.join(", ", issuers.keySet())));
        }
        Node m = g.get("match");
        Map<String, String> match = new LinkedHashMap<>();
        m.entries().forEach((claim, v) -> {
            String expected = v.requiredText();
            if (expected.equals("*")) {
                throw v.error("a lone '*' matches any value; name the expected value (globs such as refs/heads/* are fine)");
            }
            match.put(claim, expected);
        });
        if (match.isEmpty()) {
            throw m.error("a grant rule needs at least one claim condition (e.g. repository: acme/app): a rule "
                    + "without conditions would admit every token of issuer '" + issuer + "', i.e. every "
                    + "repository and branch on that CI platform, which is almost always a mistake");
        }
        Node t = g.get("target");
        String target = t.requiredText();
        if (targetNames != null && !targetNames.contains(target)) {
            throw t.error("'" + target + "' is not a configured target");
        }
        String role = g.get("upstreamRole").text(null);
        if (role != null && role.isBlank()) {
            throw g.get("upstreamRole").error("must not be empty; leave it out to use the target's user");
        }
        Node gr = g.get("grant");
        String grant = gr.requiredText();
        if (userNames.contains(grant)) {
            throw gr.error("'" + grant + "' is also a static user; a user name must select either a password "
                    + "login or a token login");
        }
        return new GrantRule(name, issuer, match, target, role, grant);
    }

    private static URI uri(Node n, String text) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw n.error("not a valid URL: " + e.getReason());
        }
        if (!uri.isAbsolute() || uri.getHost() == null) {
            throw n.error("expected an absolute URL such as https://token.actions.githubusercontent.com");
        }
        if (!OidcSettings.secureOrLoopback(uri)) {
            throw n.error("must be https (http only for loopback addresses): keys fetched over plain http "
                    + "could be replaced by anyone on the network path");
        }
        return uri;
    }

    private static Duration positive(Node n, Duration dflt) {
        Duration d = n.duration(dflt);
        if (d.isZero()) {
            throw n.error("must be greater than 0");
        }
        return d;
    }

    private static List<String> strings(Node list) {
        List<String> out = new ArrayList<>();
        for (Node i : list.items()) {
            out.add(i.requiredText());
        }
        return out;
    }
}
