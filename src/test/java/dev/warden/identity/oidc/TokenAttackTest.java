package dev.warden.identity.oidc;

import static dev.warden.identity.oidc.OidcTestSupport.GITHUB_SUB;
import static dev.warden.identity.oidc.OidcTestSupport.GITLAB_SUB;
import static dev.warden.identity.oidc.OidcTestSupport.T0;
import static dev.warden.identity.oidc.OidcTestSupport.accepted;
import static dev.warden.identity.oidc.OidcTestSupport.config;
import static dev.warden.identity.oidc.OidcTestSupport.github;
import static dev.warden.identity.oidc.OidcTestSupport.gitlab;
import static dev.warden.identity.oidc.OidcTestSupport.refused;
import static dev.warden.identity.oidc.OidcTestSupport.settings;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.warden.identity.oidc.IdentityException.Reason;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Date;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Forged, tampered and confused tokens: each is refused with its exact reason, without echoing the token. */
class TokenAttackTest {
    private JwksServer server;
    private DemoIssuer gh;
    private DemoIssuer gl;
    private TokenVerifier verifier;

    @BeforeEach
    void start() throws Exception {
        server = new JwksServer();
        gh = server.issuer("/gh", "warden");
        gl = server.issuer("/gl", "warden");
        verifier = new TokenVerifier(settings(config(gh.issuerUrl(), gl.issuerUrl(), "")));
    }

    @AfterEach
    void stop() {
        verifier.close();
        server.close();
    }

    private String valid() {
        return gh.issueAt(GITHUB_SUB, github(), T0, Duration.ofMinutes(10));
    }

    private IdentityException refusedToken(String token) {
        IdentityException e = refused(verifier.verify(token, "ci_deploy", T0.plusSeconds(5)));
        String[] parts = token.split("\\.");
        for (String p : parts) {
            if (p.length() > 8) {
                assertThat(e.getMessage()).as("the message never echoes the token").doesNotContain(p);
            }
        }
        return e;
    }

    private static String b64(String json) {
        return Base64URL.encode(json.getBytes(StandardCharsets.UTF_8)).toString();
    }

    private JWTClaimsSet claims() throws Exception {
        return SignedJWT.parse(valid()).getJWTClaimsSet();
    }

    @Test
    void algNoneIsNeverAccepted() {
        String payload = valid().split("\\.")[1];
        IdentityException e = refusedToken(b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + payload + ".");
        assertThat(e.reason()).isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
        assertThat(e.getMessage()).isEqualTo("token refused: unsigned tokens (alg 'none') are never accepted");

        String signature = valid().split("\\.")[2];
        e = refusedToken(b64("{\"alg\":\"none\",\"kid\":\"" + gh.keyId() + "\"}") + "." + payload + "." + signature);
        assertThat(e.reason()).as("alg none with a signature part").isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
        assertThat(e.getMessage()).isEqualTo("token refused: unsigned tokens (alg 'none') are never accepted");

        e = refusedToken(b64("{\"alg\":\"None\"}") + "." + payload + "." + signature);
        assertThat(e.reason()).isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
        assertThat(e.getMessage()).isEqualTo("token refused: algorithm 'None' is not supported");
        assertThat(server.jwksRequests("/gh")).as("refused before any key is fetched").isZero();
    }

    @Test
    void hs256SignedWithTheIssuersRsaPublicKeyAsSecretIsRefused() throws Exception {
        RSAKey publicKey = (RSAKey) JWKSet.parse(gh.jwksJson()).getKeyByKeyId(gh.keyId());
        byte[][] secrets = {publicKey.toRSAPublicKey().getEncoded(), gh.jwksJson().getBytes(StandardCharsets.UTF_8),
                publicKey.getModulus().decode()};
        for (byte[] secret : secrets) {
            for (JWSAlgorithm alg : new JWSAlgorithm[] {JWSAlgorithm.HS256, JWSAlgorithm.HS512}) {
                SignedJWT forged = new SignedJWT(new JWSHeader.Builder(alg).keyID(gh.keyId()).build(), claims());
                forged.sign(new MACSigner(secret));
                IdentityException e = refusedToken(forged.serialize());
                assertThat(e.reason()).isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
                assertThat(e.getMessage()).isEqualTo("token refused: algorithm " + alg.getName() + " (HMAC, a shared "
                        + "secret) is never accepted; ID tokens are signed with the issuer's private key");
            }
        }
        assertThat(server.jwksRequests("/gh")).isZero();
    }

    @Test
    void tamperedPayloadFailsTheSignature() {
        String[] parts = valid().split("\\.");
        String payload = new String(Base64URL.from(parts[1]).decode(), StandardCharsets.UTF_8)
                .replace("\"acme/app\"", "\"acme/evil\"");
        IdentityException e = refusedToken(parts[0] + "." + b64(payload) + "." + parts[2]);
        assertThat(e.reason()).isEqualTo(Reason.BAD_SIGNATURE);
        assertThat(e.getMessage()).isEqualTo("token refused: the signature does not verify with key '" + gh.keyId()
                + "' of issuer 'github'");
    }

    @Test
    void tokenSignedWithAnotherKeyUnderTheIssuersKidFailsTheSignature() throws Exception {
        RSAKey attacker = new RSAKeyGenerator(2048).generate();
        SignedJWT forged = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(gh.keyId()).build(), claims());
        forged.sign(new RSASSASigner(attacker));
        IdentityException e = refusedToken(forged.serialize());
        assertThat(e.reason()).isEqualTo(Reason.BAD_SIGNATURE);
        assertThat(e.getMessage()).isEqualTo("token refused: the signature does not verify with key '" + gh.keyId()
                + "' of issuer 'github'");

        String[] parts = valid().split("\\.");
        e = refusedToken(parts[0] + "." + parts[1] + "." + parts[2].substring(0, 40));
        assertThat(e.reason()).as("truncated signature").isEqualTo(Reason.BAD_SIGNATURE);
    }

    @Test
    void malformedPasswords() {
        IdentityException e = refused(verifier.verify("", "ci_deploy", T0));
        assertThat(e.reason()).isEqualTo(Reason.MALFORMED);
        assertThat(e.getMessage()).isEqualTo("token refused: the password is empty, expected an OIDC ID token");
        for (String bad : new String[] {"hunter2", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30", "...."}) {
            e = refused(verifier.verify(bad, "ci_deploy", T0));
            assertThat(e.reason()).as(bad).isEqualTo(Reason.MALFORMED);
            assertThat(e.getMessage()).isEqualTo("token refused: the password is not a well-formed JWT");
        }
        e = refused(verifier.verify("x".repeat(TokenVerifier.MAX_TOKEN_CHARS + 1), "ci_deploy", T0));
        assertThat(e.getMessage()).isEqualTo("token refused: the password is longer than 16384 characters");
        String rsaOaep = b64("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\"}") + ".AAAA.AAAA.AAAA.AAAA";
        e = refused(verifier.verify(rsaOaep, "ci_deploy", T0));
        assertThat(e.reason()).isEqualTo(Reason.MALFORMED);
        assertThat(e.getMessage()).isEqualTo("token refused: encrypted tokens (JWE) are not supported");
        e = refused(verifier.verify(b64("{\"alg\":\"RS256\"}") + "." + b64("[1,2]") + ".AAAA", "ci_deploy", T0));
        assertThat(e.reason()).isEqualTo(Reason.MALFORMED);
        assertThat(e.getMessage()).isEqualTo("token refused: the token's payload is not a JSON claims set");
    }

    @Test
    void es256TokensVerifyWithEcKeysAndKeyTypeConfusionIsRefused() throws Exception {
        ECKey ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").keyUse(KeyUse.SIGNATURE).generate();
        server.serve("/gl" + DemoIssuer.JWKS_PATH, () -> new JWKSet(ec.toPublicJWK()).toString());
        JWTClaimsSet claims = new JWTClaimsSet.Builder(claimsFor(gl.issuerUrl())).build();
        SignedJWT es = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("ec-1").build(), claims);
        es.sign(new ECDSASigner(ec));
        VerifiedToken v = accepted(verifier.verify(es.serialize(), "ci_migrate", T0.plusSeconds(5)));
        assertThat(v.identity().ci("repository")).isEqualTo("acme/ledger");

        SignedJWT rs = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("ec-1").build(), claims);
        rs.sign(new RSASSASigner(new RSAKeyGenerator(2048).generate()));
        IdentityException e = refused(verifier.verify(rs.serialize(), "ci_migrate", T0.plusSeconds(5)));
        assertThat(e.reason()).isEqualTo(Reason.BAD_SIGNATURE);
        assertThat(e.getMessage()).isEqualTo("token refused: the signature cannot be checked: key 'ec-1' of issuer "
                + "'gitlab' is not a key for algorithm RS256");

        // the github issuer allows RS256 only
        SignedJWT toGithub = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("ec-1").build(),
                new JWTClaimsSet.Builder(claims).issuer(gh.issuerUrl()).build());
        toGithub.sign(new ECDSASigner(ec));
        e = refused(verifier.verify(toGithub.serialize(), "ci_deploy", T0.plusSeconds(5)));
        assertThat(e.reason()).isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
        assertThat(e.getMessage()).isEqualTo("token refused: issuer 'github' is allowed algorithms RS256, the token uses ES256");
    }

    private static JWTClaimsSet claimsFor(String issuer) {
        JWTClaimsSet.Builder b = new JWTClaimsSet.Builder().issuer(issuer).subject(GITLAB_SUB).audience("warden")
                .issueTime(Date.from(T0)).expirationTime(Date.from(T0.plusSeconds(600)));
        for (Map.Entry<String, Object> c : gitlab().entrySet()) {
            b.claim(c.getKey(), c.getValue());
        }
        return b.build();
    }
}
