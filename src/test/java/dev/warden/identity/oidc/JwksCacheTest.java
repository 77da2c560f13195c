package dev.warden.identity.oidc;

import static dev.warden.identity.oidc.OidcTestSupport.GITHUB_SUB;
import static dev.warden.identity.oidc.OidcTestSupport.T0;
import static dev.warden.identity.oidc.OidcTestSupport.accepted;
import static dev.warden.identity.oidc.OidcTestSupport.config;
import static dev.warden.identity.oidc.OidcTestSupport.github;
import static dev.warden.identity.oidc.OidcTestSupport.refused;
import static dev.warden.identity.oidc.OidcTestSupport.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.SignedJWT;
import dev.warden.identity.oidc.IdentityException.Reason;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Key fetching, caching, rotation, rate limiting and failing closed, against a real HTTP endpoint. */
class JwksCacheTest {
    private JwksServer server;
    private DemoIssuer gh;
    private TokenVerifier verifier;

    @BeforeEach
    void start() throws Exception {
        server = new JwksServer();
        gh = server.issuer("/gh", "warden");
        verifier = new TokenVerifier(settings(config(gh.issuerUrl(), server.baseUrl() + "/gl", "")));
    }

    @AfterEach
    void stop() {
        verifier.close();
        server.close();
    }

    private String token() {
        return gh.issueAt(GITHUB_SUB, github(), T0, Duration.ofMinutes(50));
    }

    private String tokenWithKid(String kid) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(kid).build(),
                SignedJWT.parse(token()).getJWTClaimsSet());
        jwt.sign(new RSASSASigner(new RSAKeyGenerator(2048).generate()));
        return jwt.serialize();
    }

    private CompletableFuture<VerifiedToken> verify(String token, Instant now) {
        return verifier.verify(token, "ci_deploy", now);
    }

    @Test
    void keysAreFetchedOnceByDiscoveryAndThenServedFromTheCache() {
        accepted(verify(token(), T0));
        CompletableFuture<VerifiedToken> cached = verify(token(), T0.plusSeconds(60));
        assertThat(cached).as("a cached key answers at once, on the caller's thread").isDone();
        accepted(cached);
        assertThat(server.discoveryRequests("/gh")).isEqualTo(1);
        assertThat(server.jwksRequests("/gh")).isEqualTo(1);
    }

    @Test
    void rotationNewKidTriggersOneRefetchAndRotatedOutKeysDisappear() throws Exception {
        String oldToken = token();
        accepted(verify(oldToken, T0));
        gh.rotate(false);
        String newToken = token();

        IdentityException early = refused(verify(newToken, T0.plusSeconds(10)));
        assertThat(early.reason()).as("within the minimum refresh interval no refetch").isEqualTo(Reason.UNKNOWN_KEY);
        assertThat(early.getMessage()).isEqualTo("token refused: issuer 'github' has no signing key '" + gh.keyId()
                + "' (keys were refreshed recently; a new key is looked up at most every 30s)");
        assertThat(server.jwksRequests("/gh")).isEqualTo(1);

        VerifiedToken v = accepted(verify(newToken, T0.plusSeconds(31)));
        assertThat(v.identity().subject()).isEqualTo(GITHUB_SUB);
        assertThat(server.jwksRequests("/gh")).as("exactly one refetch").isEqualTo(2);

        IdentityException old = refused(verify(oldToken, T0.plusSeconds(32)));
        assertThat(old.reason()).as("the rotated-out key is gone").isEqualTo(Reason.UNKNOWN_KEY);
        assertThat(server.jwksRequests("/gh")).isEqualTo(2);
    }

    @Test
    void fiveHundredBogusKidsCauseAtMostOneFetchPerInterval() throws Exception {
        accepted(verify(token(), T0));
        List<String> bogus = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            bogus.add(tokenWithKid("bogus-" + i));
        }
        // 500 logins, one every 100 ms of (passed-in) time: 0 .. 49.9 s after the first fetch
        for (int i = 0; i < 500; i++) {
            IdentityException e = refused(verify(bogus.get(i % 5), T0.plusMillis(100L * i)));
            assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_KEY);
        }
        assertThat(server.jwksRequests("/gh")).as("fetches at 0 s and 30 s only").isEqualTo(2);

        // and 8 threads × 100 logins at the same moment share one fetch
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            Instant later = T0.plusSeconds(120);
            List<CompletableFuture<VerifiedToken>> all = new ArrayList<>();
            List<CompletableFuture<Void>> submitted = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                submitted.add(CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < 100; i++) {
                        synchronized (all) {
                            all.add(verify(bogus.get(i % 5), later));
                        }
                    }
                }, pool));
            }
            CompletableFuture.allOf(submitted.toArray(CompletableFuture[]::new)).join();
            for (CompletableFuture<VerifiedToken> f : all) {
                assertThat(refused(f).reason()).isEqualTo(Reason.UNKNOWN_KEY);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(server.jwksRequests("/gh")).isEqualTo(3);
        assertThat(verifier.jwksCache("github").orElseThrow().fetchCount()).isEqualTo(3);
    }

    @Test
    void endpointDownCachedKeysServeUntilTtlThenFailClosedAndRecover() {
        accepted(verify(token(), T0));
        server.mode(JwksServer.Mode.DOWN);
        JwksCache cache = verifier.jwksCache("github").orElseThrow();

        // past half the ttl: a background refresh is tried (and fails) while the cached key still works
        accepted(verify(token(), T0.plus(Duration.ofMinutes(40))));
        await().atMost(Duration.ofSeconds(10)).until(() -> cache.lastError() != null);
        assertThat(cache.lastError()).endsWith("answered HTTP 503");
        accepted(verify(token(), T0.plus(Duration.ofMinutes(45))));

        String fresh = gh.issueAt(GITHUB_SUB, github(), T0.plus(Duration.ofMinutes(60)), Duration.ofMinutes(10));
        IdentityException e = refused(verify(fresh, T0.plus(Duration.ofMinutes(61))));
        assertThat(e.reason()).isEqualTo(Reason.KEYS_UNAVAILABLE);
        assertThat(e.getMessage()).isEqualTo("token refused: the signing keys of issuer 'github' are unavailable "
                + "(the key endpoint has been unreachable and the cached keys expired); try again later");
        assertThat(e.sqlState()).isEqualTo("08006");
        e = refused(verify(fresh, T0.plus(Duration.ofMinutes(61)).plusSeconds(5)));
        assertThat(e.reason()).as("rate-limited retry still fails closed").isEqualTo(Reason.KEYS_UNAVAILABLE);

        server.mode(JwksServer.Mode.UP);
        accepted(verify(fresh, T0.plus(Duration.ofMinutes(62))));
        assertThat(cache.lastError()).isNull();
    }

    @Test
    void unreachableIssuerWithoutCachedKeysFailsClosed() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        DemoIssuer nowhere = new DemoIssuer("http://127.0.0.1:" + closedPort + "/gh", "warden");
        verifier.update(settings(config(nowhere.issuerUrl(), server.baseUrl() + "/gl", "")));
        IdentityException e = refused(verifier.verify(nowhere.issueAt(GITHUB_SUB, github(), T0, Duration.ofMinutes(5)),
                "ci_deploy", T0));
        assertThat(e.reason()).isEqualTo(Reason.KEYS_UNAVAILABLE);
        assertThat(e.getMessage()).isEqualTo("token refused: the signing keys of issuer 'github' are unavailable "
                + "(they could not be fetched); try again later");
    }

    @Test
    void hangingEndpointTimesOutWithoutBlockingTheCaller() {
        verifier.update(settings(config(gh.issuerUrl(), server.baseUrl() + "/gl", "jwksFetchTimeout: 1s")));
        server.mode(JwksServer.Mode.HANG);
        CompletableFuture<VerifiedToken> f = verify(token(), T0);
        assertThat(f).as("verify returns while the fetch is still waiting").isNotDone();
        await().atMost(Duration.ofSeconds(5)).until(f::isDone);
        IdentityException e = refused(f);
        assertThat(e.reason()).isEqualTo(Reason.KEYS_UNAVAILABLE);
        assertThat(e.getMessage()).isEqualTo("token refused: the signing keys of issuer 'github' are unavailable "
                + "(they could not be fetched); try again later");
        assertThat(verifier.jwksCache("github").orElseThrow().lastError()).isEqualTo("timed out after 1s");
    }

    @Test
    void discoveryDocumentMustNameTheConfiguredIssuer() {
        server.serve("/gh" + DemoIssuer.DISCOVERY_PATH, () -> gh.discoveryJson().replace(gh.issuerUrl() + "\"",
                "https://evil.example\""));
        IdentityException e = refused(verify(token(), T0));
        assertThat(e.reason()).isEqualTo(Reason.KEYS_UNAVAILABLE);
        assertThat(verifier.jwksCache("github").orElseThrow().lastError())
                .isEqualTo("discovery document names issuer https://evil.example, expected " + gh.issuerUrl());
        assertThat(server.jwksRequests("/gh")).isZero();
    }

    @Test
    void explicitJwksUriSkipsDiscovery() {
        String yaml = config(gh.issuerUrl(), server.baseUrl() + "/gl", "").replace("      preset: github\n",
                "      preset: github\n      jwksUri: " + gh.jwksUri() + "\n");
        verifier.update(settings(yaml));
        accepted(verify(token(), T0));
        assertThat(server.discoveryRequests("/gh")).isZero();
        assertThat(server.jwksRequests("/gh")).isEqualTo(1);
    }

    @Test
    void prefetchWarmsTheCacheAndReloadKeepsItForUnchangedIssuers() {
        verifier.prefetchKeys(T0).join();
        assertThat(server.jwksRequests("/gh")).isEqualTo(1);
        verifier.update(settings(config(gh.issuerUrl(), server.baseUrl() + "/gl", "revoked: {jtis: [x]}")));
        CompletableFuture<VerifiedToken> f = verify(token(), T0.plusSeconds(1));
        assertThat(f).isDone();
        accepted(f);
        assertThat(server.jwksRequests("/gh")).isEqualTo(1);
    }
}
