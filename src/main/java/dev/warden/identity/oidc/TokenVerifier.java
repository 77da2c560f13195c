package dev.warden.identity.oidc;

import com.nimbusds.jose.Algorithm;
import com.nimbusds.jose.Header;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.warden.identity.Identity;
import dev.warden.identity.oidc.IdentityException.Reason;
import java.net.InetAddress;
import java.net.http.HttpClient;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Verifies a CI job's OIDC ID token (sent as the PostgreSQL password) and maps it to a grant.
 * Checks, in order: well-formed signed JWT; {@code alg} neither none nor HMAC; issuer configured;
 * {@code alg} allowed for the issuer; signing key known; signature; required claims; exp, nbf, iat
 * (with clockSkew) and maxTokenAge; audience; revocations; grant rules (default deny).
 *
 * <p>Thread-safe and non-blocking: {@link #verify} returns at once. When the issuer's keys are
 * cached the future is already complete; otherwise it completes on a {@code warden-jwks} thread when
 * the key fetch ends (within {@code jwksFetchTimeout}). It fails with an {@link IdentityException}
 * (directly, not wrapped) whose message may be sent to the client.
 *
 * <p>One file on purpose: every check a token passes (format, algorithm, issuer, signature, lifetime,
 * audience, revocation) is here in the order it runs, so a reviewer sees the whole gate at once;
 * JWKS, grants and revocations are separate classes.
 */
public final class TokenVerifier implements AutoCloseable {
    static final int MAX_TOKEN_CHARS = 16 * 1024;

    private record State(OidcSettings settings, Map<String, JwksCache> caches, GrantMapper mapper,
                         Revocations revocations) {
    }

    private final ExecutorService executor;
    private final HttpClient http;
    private volatile State state;

    public TokenVerifier(OidcSettings settings) {
        AtomicInteger n = new AtomicInteger();
        this.executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "warden-jwks-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.http = HttpClient.newBuilder().executor(executor).connectTimeout(settings.jwksFetchTimeout())
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        update(settings);
    }

    /**
     * Swaps in reloaded settings (issuers, grant rules, revocations). Key caches of unchanged issuers
     * are kept. Verifications already running finish with the settings they started with, except that
     * the revocations are always the newest.
     */
    public synchronized void update(OidcSettings settings) {
        State old = state;
        Map<String, JwksCache> caches = new HashMap<>();
        for (OidcSettings.Issuer i : settings.issuers().values()) {
            JwksCache c = old == null ? null : old.caches().get(i.name());
            boolean reuse = c != null && c.issuer().equals(i) && sameTiming(old.settings(), settings);
            caches.put(i.name(), reuse ? c : new JwksCache(i, settings, http));
        }
        state = new State(settings, Map.copyOf(caches), new GrantMapper(settings), new Revocations(settings.revoked()));
    }

    private static boolean sameTiming(OidcSettings a, OidcSettings b) {
        return a.jwksMinRefreshInterval().equals(b.jwksMinRefreshInterval()) && a.jwksCacheTtl().equals(b.jwksCacheTtl())
                && a.jwksFetchTimeout().equals(b.jwksFetchTimeout());
    }

    public OidcSettings settings() {
        return state.settings();
    }

    public Revocations revocations() {
        return state.revocations();
    }

    /** The key cache of a configured issuer (for diagnostics and tests). */
    public Optional<JwksCache> jwksCache(String issuerName) {
        return Optional.ofNullable(state.caches().get(issuerName));
    }

    /** Starts fetching every issuer's keys; call once at startup so that the first logins do not wait. */
    public CompletableFuture<Void> prefetchKeys(Instant now) {
        return CompletableFuture.allOf(state.caches().values().stream().map(c -> c.prefetch(now))
                .toArray(CompletableFuture[]::new));
    }

    /** Whether some grant rule has this user name: the login code then asks for the token as a cleartext password. */
    public boolean isGrant(String userName) {
        return state.settings().grants().stream().anyMatch(g -> g.grant().equals(userName));
    }

    /**
     * Whether a connection may carry a token: TLS, or a loopback peer when allowPlaintextLoopback is on.
     * Check this BEFORE asking for the password, else the client has already sent the token in clear.
     */
    public Optional<IdentityException> checkTransport(boolean tls, InetAddress peer) {
        if (tls || (state.settings().allowPlaintextLoopback() && peer != null && peer.isLoopbackAddress())) {
            return Optional.empty();
        }
        return Optional.of(new IdentityException(Reason.INSECURE_TRANSPORT, "token logins need a TLS connection "
                + "(connect with sslmode=verify-full): a token sent in plaintext could be read and replayed"));
    }

    /**
     * Verifies {@code jwt} and maps it to the grant the client asked for (its user name).
     *
     * @return a future that completes with the verified token, or fails with an {@link IdentityException}
     */
    public CompletableFuture<VerifiedToken> verify(String jwt, String requestedGrant, Instant now) {
        State st = state;
        SignedJWT jws;
        JWTClaimsSet claims;
        OidcSettings.Issuer issuer;
        try {
            jws = parse(jwt);
            claims = claims(jws);
            issuer = issuer(st.settings(), jws, claims);
        } catch (IdentityException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<VerifiedToken> out = new CompletableFuture<>();
        st.caches().get(issuer.name()).keys(jws.getHeader().getKeyID(), now).whenComplete((keys, err) -> {
            try {
                if (err != null) {
                    throw err;
                }
                out.complete(finish(st, jws, claims, issuer, keys, requestedGrant, now));
            } catch (Throwable t) {
                out.completeExceptionally(IdentityException.unwrap(t));
            }
        });
        return out;
    }

    private static SignedJWT parse(String jwt) {
        String s = jwt == null ? "" : jwt.strip();
        if (s.isEmpty()) {
            throw new IdentityException(Reason.MALFORMED, "token refused: the password is empty, expected an OIDC ID token");
        }
        if (s.length() > MAX_TOKEN_CHARS) {
            throw new IdentityException(Reason.MALFORMED, "token refused: the password is longer than "
                    + MAX_TOKEN_CHARS + " characters");
        }
        JWT parsed;
        try {
            parsed = JWTParser.parse(s);
        } catch (ParseException | RuntimeException e) {
            if (declaresNone(s)) {
                throw new IdentityException(Reason.ALGORITHM_NOT_ALLOWED,
                        "token refused: unsigned tokens (alg 'none') are never accepted");
            }
            throw new IdentityException(Reason.MALFORMED, "token refused: the password is not a well-formed JWT");
        }
        if (parsed instanceof PlainJWT) {
            throw new IdentityException(Reason.ALGORITHM_NOT_ALLOWED,
                    "token refused: unsigned tokens (alg 'none') are never accepted");
        }
        if (parsed instanceof EncryptedJWT || !(parsed instanceof SignedJWT jws)) {
            throw new IdentityException(Reason.MALFORMED, "token refused: encrypted tokens (JWE) are not supported");
        }
        JWSAlgorithm alg = jws.getHeader().getAlgorithm();
        if (JWSAlgorithm.Family.HMAC_SHA.contains(alg)) {
            throw new IdentityException(Reason.ALGORITHM_NOT_ALLOWED, "token refused: algorithm " + alg.getName()
                    + " (HMAC, a shared secret) is never accepted; ID tokens are signed with the issuer's private key");
        }
        if (!OidcSettings.SUPPORTED_ALGORITHMS.contains(alg.getName())) {
            throw new IdentityException(Reason.ALGORITHM_NOT_ALLOWED, "token refused: algorithm "
                    + IdentityException.quote(alg.getName()) + " is not supported");
        }
        return jws;
    }

    /** Whether an unparseable token's header says alg none (e.g. with a signature part appended). */
    private static boolean declaresNone(String s) {
        int dot = s.indexOf('.');
        try {
            return dot > 0 && Header.parse(new Base64URL(s.substring(0, dot))).getAlgorithm().equals(Algorithm.NONE);
        } catch (ParseException | RuntimeException e) {
            return false;
        }
    }

    private static JWTClaimsSet claims(SignedJWT jws) {
        try {
            return jws.getJWTClaimsSet();
        } catch (ParseException | RuntimeException e) {
            throw new IdentityException(Reason.MALFORMED, "token refused: the token's payload is not a JSON claims set");
        }
    }

    private static OidcSettings.Issuer issuer(OidcSettings settings, SignedJWT jws, JWTClaimsSet claims) {
        String iss = claims.getIssuer();
        if (iss == null || iss.isEmpty()) {
            throw new IdentityException(Reason.MISSING_CLAIMS, "token refused: missing required claims: iss");
        }
        OidcSettings.Issuer issuer = settings.issuerByUrl(iss).orElseThrow(() -> new IdentityException(
                Reason.UNKNOWN_ISSUER, "token refused: issuer " + IdentityException.quote(iss) + " is not trusted by Warden"));
        String alg = jws.getHeader().getAlgorithm().getName();
        if (!issuer.algorithms().contains(alg)) {
            throw new IdentityException(Reason.ALGORITHM_NOT_ALLOWED, "token refused: issuer '" + issuer.name()
                    + "' is allowed algorithms " + String.join(", ", issuer.algorithms()) + ", the token uses " + alg);
        }
        return issuer;
    }

    /** A person (an approval reviewer) as a verified token names them. */
    public record Person(String issuer, String subject, String email) {
        /** The reviewer name: the verified email when the token has one, else the subject. */
        public String reviewer() {
            return email != null ? email : subject;
        }
    }

    /**
     * Verifies a person's ID token (signature, issuer, audience, lifetime, revocation) without mapping
     * it to a login grant: for reviewers deciding approvals over REST. The email claim counts only
     * when the token says {@code email_verified: true}.
     */
    public CompletableFuture<Person> verifyPerson(String jwt, Instant now) {
        State st = state;
        SignedJWT jws;
        JWTClaimsSet claims;
        OidcSettings.Issuer issuer;
        try {
            jws = parse(jwt);
            claims = claims(jws);
            issuer = issuer(st.settings(), jws, claims);
        } catch (IdentityException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<Person> out = new CompletableFuture<>();
        st.caches().get(issuer.name()).keys(jws.getHeader().getKeyID(), now).whenComplete((keys, err) -> {
            try {
                if (err != null) {
                    throw err;
                }
                validate(st, jws, claims, issuer, keys, now);
                Object verified = claims.getClaim("email_verified");
                Object email = claims.getClaim("email");
                boolean ok = Boolean.TRUE.equals(verified) || "true".equals(verified);
                out.complete(new Person(issuer.name(), claims.getSubject(),
                        ok && email instanceof String e && !e.isBlank() ? e.strip() : null));
            } catch (Throwable t) {
                out.completeExceptionally(IdentityException.unwrap(t));
            }
        });
        return out;
    }

    private VerifiedToken finish(State st, SignedJWT jws, JWTClaimsSet claims, OidcSettings.Issuer issuer,
                                 List<JWK> keys, String requestedGrant, Instant now) {
        Instant exp = validate(st, jws, claims, issuer, keys, now);
        OidcSettings s = st.settings();
        String jti = claims.getJWTID();
        Grant grant = st.mapper().map(claims, issuer.name(), requestedGrant).orElseThrow(() -> new IdentityException(
                Reason.NO_GRANT, "token refused: no grant rule gives tokens of issuer '" + issuer.name() + "' the grant "
                + IdentityException.quote(requestedGrant) + " (token subject " + IdentityException.quote(claims.getSubject()) + ")"));
        Identity identity = GrantMapper.identity(claims, issuer, grant);
        return new VerifiedToken(identity, grant, issuer.name(), jti, exp, exp.plus(s.sessionGrace()));
    }

    /** Everything but the grant: signature, required claims, lifetime, audience, revocation. Returns exp. */
    private Instant validate(State st, SignedJWT jws, JWTClaimsSet claims, OidcSettings.Issuer issuer,
                             List<JWK> keys, Instant now) {
        checkSignature(jws, issuer, keys);
        OidcSettings s = st.settings();
        checkRequired(claims, issuer);
        Instant exp = claims.getExpirationTime().toInstant();
        Instant iat = claims.getIssueTime().toInstant();
        Duration skew = s.clockSkew();
        if (now.isAfter(exp.plus(skew))) {
            throw new IdentityException(Reason.EXPIRED, "token refused: the token expired "
                    + IdentityException.human(Duration.between(exp, now)) + " ago (at " + exp + ")");
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && now.isBefore(nbf.toInstant().minus(skew))) {
            throw new IdentityException(Reason.NOT_YET_VALID, "token refused: the token is not valid before "
                    + nbf.toInstant() + " (in " + IdentityException.human(Duration.between(now, nbf.toInstant())) + ")");
        }
        if (now.isBefore(iat.minus(skew))) {
            throw new IdentityException(Reason.NOT_YET_VALID, "token refused: the token was issued in the future (iat "
                    + iat + " is " + IdentityException.human(Duration.between(now, iat)) + " ahead of Warden's clock)");
        }
        if (now.isAfter(iat.plus(s.maxTokenAge()).plus(skew))) {
            throw new IdentityException(Reason.TOO_OLD, "token refused: the token was issued "
                    + IdentityException.human(Duration.between(iat, now)) + " ago; Warden accepts tokens at most "
                    + IdentityException.human(s.maxTokenAge()) + " old (oidc.maxTokenAge); fetch a fresh one");
        }
        List<String> aud = claims.getAudience();
        if (aud.stream().noneMatch(issuer.audiences()::contains)) {
            throw new IdentityException(Reason.WRONG_AUDIENCE, "token refused: the token's audience "
                    + IdentityException.quote(String.join(", ", aud)) + " is not "
                    + String.join(" or ", issuer.audiences().stream().map(IdentityException::quote).toList())
                    + "; request the token with that audience");
        }
        String jti = claims.getJWTID();
        Map<String, String> ci = GrantMapper.ciFields(GrantMapper.flatten(claims), issuer);
        Optional<String> revoked = state.revocations().check(claims.getSubject(), ci.get("repository"), jti);
        if (revoked.isPresent()) {
            throw new IdentityException(Reason.REVOKED, "token refused: " + revoked.get());
        }
        return exp;
    }

    private static void checkSignature(SignedJWT jws, OidcSettings.Issuer issuer, List<JWK> keys) {
        JWSAlgorithm alg = jws.getHeader().getAlgorithm();
        String kid = jws.getHeader().getKeyID();
        boolean usable = false;
        for (JWK k : keys) {
            if (k.getAlgorithm() != null && !k.getAlgorithm().getName().equals(alg.getName())) {
                continue;
            }
            try {
                JWSVerifier v;
                if (k instanceof RSAKey rsa && JWSAlgorithm.Family.RSA.contains(alg)) {
                    v = new RSASSAVerifier(rsa);
                } else if (k instanceof ECKey ec && JWSAlgorithm.Family.EC.contains(alg)
                        && ECDSAVerifier.SUPPORTED_ALGORITHMS.contains(alg)
                        && com.nimbusds.jose.jwk.Curve.forJWSAlgorithm(alg).contains(ec.getCurve())) {
                    v = new ECDSAVerifier(ec);
                } else if (k instanceof com.nimbusds.jose.jwk.OctetKeyPair okp && JWSAlgorithm.Family.ED.contains(alg)
                        && com.nimbusds.jose.jwk.Curve.Ed25519.equals(okp.getCurve())) {
                    v = new com.nimbusds.jose.crypto.Ed25519Verifier(okp.toPublicJWK());
                } else {
                    continue;
                }
                usable = true;
                if (jws.verify(v)) {
                    return;
                }
            } catch (JOSEException | IllegalStateException e) {
                usable = true; // a key we could not use counts as a failed check, not as a missing key
            }
        }
        String which = kid == null ? "any key" : "key " + IdentityException.quote(kid);
        throw new IdentityException(Reason.BAD_SIGNATURE, usable
                ? "token refused: the signature does not verify with " + which + " of issuer '" + issuer.name() + "'"
                : "token refused: the signature cannot be checked: " + which + " of issuer '" + issuer.name()
                + "' is not a key for algorithm " + alg.getName());
    }

    private static void checkRequired(JWTClaimsSet claims, OidcSettings.Issuer issuer) {
        List<String> missing = new ArrayList<>();
        if (claims.getSubject() == null || claims.getSubject().isEmpty()) {
            missing.add("sub");
        }
        if (claims.getAudience().isEmpty()) {
            missing.add("aud");
        }
        if (dateOrNull(claims, "exp") == null) {
            missing.add("exp");
        }
        if (dateOrNull(claims, "iat") == null) {
            missing.add("iat");
        }
        for (String c : issuer.preset().requiredClaims()) {
            Object v = claims.getClaim(c);
            if (v == null || v.toString().isEmpty()) {
                missing.add(c);
            }
        }
        if (!missing.isEmpty()) {
            throw new IdentityException(Reason.MISSING_CLAIMS, "token refused: missing required claims: "
                    + String.join(", ", missing));
        }
    }

    private static Date dateOrNull(JWTClaimsSet claims, String name) {
        try {
            return claims.getDateClaim(name);
        } catch (ParseException e) {
            return null;
        }
    }

    /**
     * For the periodic check of a live session: the refusal that now applies, if any: the token (plus
     * sessionGrace) expired, its subject, repository or jti was revoked, or a reload removed its rule.
     */
    public Optional<IdentityException> recheck(VerifiedToken t, Instant now) {
        if (now.isAfter(t.sessionDeadline())) {
            return Optional.of(new IdentityException(Reason.SESSION_EXPIRED, "session ended: the login token expired at "
                    + t.expiresAt() + " (oidc.sessionGrace " + IdentityException.human(state.settings().sessionGrace()) + ")"));
        }
        State st = state;
        Optional<IdentityException> revoked = st.revocations().refusal(t.identity(), t.jti());
        if (revoked.isPresent()) {
            return revoked;
        }
        boolean ruleKept = st.settings().grants().stream().anyMatch(g -> g.name().equals(t.grant().ruleName())
                && g.issuer().equals(t.issuerName()) && g.grant().equals(t.grant().grant())
                && g.target().equals(t.grant().target())
                && java.util.Objects.equals(g.upstreamRole(), t.grant().upstreamRole()));
        if (!ruleKept || !st.settings().issuers().containsKey(t.issuerName())) {
            return Optional.of(new IdentityException(Reason.NO_GRANT, "session ended: the grant rule '"
                    + t.grant().ruleName() + "' was removed, or its target or role changed, in Warden's configuration"));
        }
        return Optional.empty();
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
