package dev.warden.identity.oidc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.KeyUse;
import dev.warden.identity.oidc.IdentityException.Reason;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The signing keys of one issuer, fetched over HTTP (OpenID discovery, or an explicit key-set URL)
 * and cached. Callers never block: a lookup answers at once from the cache, or with a future that
 * completes when a fetch (on the HTTP client's executor, bounded by the fetch timeout) ends.
 *
 * <ul>
 *   <li>Unknown {@code kid}: one refetch, at most one per {@code jwksMinRefreshInterval} whatever the
 *       number of tokens; concurrent lookups share the fetch in flight. A fetch replaces the whole key
 *       set, so new keys appear and rotated-out keys disappear.</li>
 *   <li>Keys older than half of {@code jwksCacheTtl} are refreshed in the background on the next
 *       lookup (which still uses the cached keys).</li>
 *   <li>Endpoint down: the cached keys stay in use until {@code jwksCacheTtl} after the last successful
 *       fetch; after that every lookup fails with {@link Reason#KEYS_UNAVAILABLE} (fail closed).</li>
 * </ul>
 * All times are the {@code now} the caller passes, so that the behaviour is testable without sleeping.
 */
public final class JwksCache {
    private static final Logger LOG = LoggerFactory.getLogger(JwksCache.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Real key sets are a few KB; this bounds what a broken or hostile endpoint can make Warden buffer. */
    static final int MAX_DOCUMENT_BYTES = 512 * 1024;

    private record Snapshot(List<JWK> keys, Instant fetchedAt) {
    }

    private final OidcSettings.Issuer issuer;
    private final Duration minRefresh;
    private final Duration ttl;
    private final Duration timeout;
    private final HttpClient http;
    private final AtomicInteger fetches = new AtomicInteger();

    private volatile Snapshot snapshot;
    private volatile String lastError;
    // guarded by this
    private Instant lastAttempt;
    private CompletableFuture<Snapshot> inFlight;

    public JwksCache(OidcSettings.Issuer issuer, OidcSettings settings, HttpClient http) {
        this.issuer = issuer;
        this.minRefresh = settings.jwksMinRefreshInterval();
        this.ttl = settings.jwksCacheTtl();
        this.timeout = settings.jwksFetchTimeout();
        this.http = http;
    }

    public OidcSettings.Issuer issuer() {
        return issuer;
    }

    /** Fetches started so far (discovery + key set count as one). */
    public int fetchCount() {
        return fetches.get();
    }

    /** The last fetch error, for diagnostics; null after a success. */
    public String lastError() {
        return lastError;
    }

    /** Starts a fetch now unless one ran within the minimum interval; for warming the cache at startup. */
    public CompletableFuture<Void> prefetch(Instant now) {
        CompletableFuture<Snapshot> f = refetch(now);
        return f == null ? CompletableFuture.completedFuture(null) : f.handle((s, e) -> null);
    }

    /**
     * The keys with this {@code kid} (every key when {@code kid} is null). Completes with a non-empty
     * list, or fails with an {@link IdentityException} of reason UNKNOWN_KEY or KEYS_UNAVAILABLE.
     * Completes at once when the answer is in the cache, else on the HTTP client's executor.
     */
    public CompletableFuture<List<JWK>> keys(String kid, Instant now) {
        Snapshot s = snapshot;
        if (s != null && now.isBefore(s.fetchedAt().plus(ttl))) {
            List<JWK> found = select(s, kid);
            if (!found.isEmpty()) {
                if (!now.isBefore(s.fetchedAt().plus(ttl.dividedBy(2)))) {
                    refetch(now); // background refresh; this lookup does not wait for it
                }
                return CompletableFuture.completedFuture(found);
            }
            CompletableFuture<Snapshot> f = refetch(now);
            if (f == null) {
                return CompletableFuture.failedFuture(unknownKey(kid, false));
            }
            return f.handle((ns, err) -> {
                List<JWK> again = ns == null ? List.of() : select(ns, kid);
                if (again.isEmpty()) {
                    throw unknownKey(kid, true);
                }
                return again;
            });
        }
        CompletableFuture<Snapshot> f = refetch(now);
        if (f == null) {
            return CompletableFuture.failedFuture(unavailable(s));
        }
        return f.handle((ns, err) -> {
            if (ns == null) {
                throw unavailable(s);
            }
            List<JWK> found = select(ns, kid);
            if (found.isEmpty()) {
                throw unknownKey(kid, true);
            }
            return found;
        });
    }

    private IdentityException unknownKey(String kid, boolean refreshed) {
        return new IdentityException(Reason.UNKNOWN_KEY, "token refused: issuer '" + issuer.name()
                + "' has no signing key " + (kid == null ? "(the token names none)" : IdentityException.quote(kid))
                + (refreshed ? "" : " (keys were refreshed recently; a new key is looked up at most every "
                + IdentityException.human(minRefresh) + ")"));
    }

    private IdentityException unavailable(Snapshot s) {
        return new IdentityException(Reason.KEYS_UNAVAILABLE, "token refused: the signing keys of issuer '"
                + issuer.name() + "' are unavailable (" + (s == null ? "they could not be fetched"
                : "the key endpoint has been unreachable and the cached keys expired") + "); try again later");
    }

    private static List<JWK> select(Snapshot s, String kid) {
        return kid == null ? s.keys() : s.keys().stream().filter(k -> kid.equals(k.getKeyID())).toList();
    }

    /** The fetch in flight, or a new one; null when the last attempt is less than minRefresh ago. */
    private CompletableFuture<Snapshot> refetch(Instant now) {
        CompletableFuture<Snapshot> mine;
        synchronized (this) {
            if (inFlight != null) {
                return inFlight;
            }
            if (lastAttempt != null && now.isBefore(lastAttempt.plus(minRefresh))) {
                return null;
            }
            lastAttempt = now;
            mine = new CompletableFuture<>();
            inFlight = mine;
        }
        fetches.incrementAndGet();
        CompletableFuture<List<JWK>> fetch;
        try {
            fetch = fetch();
        } catch (RuntimeException e) {
            fetch = CompletableFuture.failedFuture(e);
        }
        fetch.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((keys, err) -> {
            Snapshot ns = keys == null ? null : new Snapshot(keys, now);
            synchronized (this) {
                if (ns != null) {
                    snapshot = ns;
                }
                inFlight = null;
            }
            if (ns != null) {
                lastError = null;
                LOG.debug("issuer {}: fetched {} signing keys", issuer.name(), keys.size());
                mine.complete(ns);
            } else {
                Throwable cause = IdentityException.unwrap(err);
                boolean timedOut = cause instanceof TimeoutException || cause instanceof HttpTimeoutException;
                lastError = timedOut ? "timed out after " + IdentityException.human(timeout)
                        : cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
                LOG.warn("issuer {}: cannot fetch signing keys: {}", issuer.name(), lastError);
                mine.completeExceptionally(cause);
            }
        });
        return mine;
    }

    private CompletableFuture<List<JWK>> fetch() {
        CompletableFuture<URI> jwksUri;
        if (issuer.discovery()) {
            URI discovery = URI.create(issuer.issuerUrl().replaceAll("/+$", "") + "/.well-known/openid-configuration");
            jwksUri = get(discovery).thenApply(this::jwksUriFromDiscovery);
        } else {
            jwksUri = CompletableFuture.completedFuture(issuer.jwksUri());
        }
        return jwksUri.thenCompose(this::get).thenApply(this::parseKeys);
    }

    private URI jwksUriFromDiscovery(String body) {
        JsonNode doc;
        try {
            doc = JSON.readTree(body);
        } catch (IOException e) {
            throw new CompletionException(new IOException("discovery document is not JSON"));
        }
        String iss = doc.path("issuer").asText(null);
        if (!issuer.issuerUrl().equals(iss)) {
            throw new CompletionException(new IOException("discovery document names issuer " + iss
                    + ", expected " + issuer.issuerUrl()));
        }
        String u = doc.path("jwks_uri").asText(null);
        URI uri;
        try {
            uri = u == null ? null : URI.create(u);
        } catch (IllegalArgumentException e) {
            uri = null;
        }
        if (uri == null || !uri.isAbsolute() || !OidcSettings.secureOrLoopback(uri)) {
            throw new CompletionException(new IOException("discovery document has no usable jwks_uri (" + u
                    + "; it must be https, or http on a loopback address)"));
        }
        return uri;
    }

    private List<JWK> parseKeys(String body) {
        JWKSet set;
        try {
            set = JWKSet.parse(body);
        } catch (java.text.ParseException e) {
            throw new CompletionException(new IOException("key set is not a valid JWKS: " + e.getMessage()));
        }
        List<JWK> keys = set.getKeys().stream()
                .filter(k -> k.getKeyUse() == null || KeyUse.SIGNATURE.equals(k.getKeyUse()))
                .filter(k -> KeyType.RSA.equals(k.getKeyType()) || KeyType.EC.equals(k.getKeyType())
                        || KeyType.OKP.equals(k.getKeyType()))
                .map(JWK::toPublicJWK)
                .toList();
        if (keys.isEmpty()) {
            LOG.warn("issuer {}: the key set has no RSA or EC signing keys", issuer.name());
        }
        return keys;
    }

    private CompletableFuture<String> get(URI uri) {
        HttpRequest req = HttpRequest.newBuilder(uri).timeout(timeout).header("Accept", "application/json").GET().build();
        return http.sendAsync(req, info -> new LimitedBody(MAX_DOCUMENT_BYTES)).thenApply(r -> {
            if (r.statusCode() != 200) {
                throw new CompletionException(new IOException("GET " + uri + " answered HTTP " + r.statusCode()));
            }
            return r.body();
        });
    }

    /** Collects a response body as UTF-8, failing once it exceeds a limit. */
    private static final class LimitedBody implements HttpResponse.BodySubscriber<String> {
        private final int max;
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        private final CompletableFuture<String> result = new CompletableFuture<>();
        private Flow.Subscription subscription;

        LimitedBody(int max) {
            this.max = max;
        }

        @Override
        public CompletionStage<String> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer b : items) {
                if (buf.size() + b.remaining() > max) {
                    subscription.cancel();
                    result.completeExceptionally(new IOException("response is larger than " + max + " bytes"));
                    return;
                }
                byte[] a = new byte[b.remaining()];
                b.get(a);
                buf.write(a, 0, a.length);
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(buf.toString(StandardCharsets.UTF_8));
        }
    }
}
