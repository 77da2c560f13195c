package dev.warden.identity.oidc;

import static dev.warden.identity.oidc.OidcTestSupport.accepted;
import static dev.warden.identity.oidc.OidcTestSupport.refused;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import dev.warden.config.OidcSection;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.Ed25519Signer;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.gen.OctetKeyPairGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.time.Instant;
import java.util.Date;
import org.junit.jupiter.api.Test;

/** Tokens signed with Ed25519 (JWS alg EdDSA) verify against the issuer's OKP key; a foreign key's do not. */
class EdDsaTokenTest {
    private static String token(OctetKeyPair key, String issuer, Instant now) throws Exception {
        JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(issuer).subject("repo:acme/app:ref:refs/heads/main")
                .audience("warden").issueTime(Date.from(now)).notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(300))).jwtID("j-1")
                .claim("repository", "acme/app").claim("ref", "refs/heads/main").claim("run_id", "77").build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.EdDSA).keyID(key.getKeyID()).build(), claims);
        jwt.sign(new Ed25519Signer(key));
        return jwt.serialize();
    }

    @Test
    void ed25519SignedTokenIsAcceptedAndAForgedOneRefused() throws Exception {
        try (JwksServer server = new JwksServer()) {
            String iss = server.baseUrl() + "/ed";
            OctetKeyPair key = new OctetKeyPairGenerator(Curve.Ed25519).keyID("ed-1").generate();
            OctetKeyPair forger = new OctetKeyPairGenerator(Curve.Ed25519).keyID("ed-1").generate();
            server.serve("/ed" + DemoIssuer.DISCOVERY_PATH,
                    () -> "{\"issuer\":\"" + iss + "\",\"jwks_uri\":\"" + iss + DemoIssuer.JWKS_PATH + "\"}");
            server.serve("/ed" + DemoIssuer.JWKS_PATH, () -> new JWKSet(key.toPublicJWK()).toString());
            OidcSettings settings = OidcSection.parseYaml(String.join("\n",
                    "oidc:",
                    "  issuers:",
                    "    ed:",
                    "      issuerUrl: " + iss,
                    "      audience: warden",
                    "      preset: github",
                    "  grants:",
                    "    - name: app",
                    "      issuer: ed",
                    "      match: {repository: acme/app}",
                    "      target: bank",
                    "      grant: ci", ""));
            assertThat(settings.issuers().get("ed").algorithms()).contains("EdDSA");
            Instant now = Instant.now();
            try (TokenVerifier verifier = new TokenVerifier(settings)) {
                VerifiedToken ok = accepted(verifier.verify(token(key, iss, now), "ci", now));
                assertThat(ok.identity().ci("repository")).isEqualTo("acme/app");
                IdentityException forged = refused(verifier.verify(token(forger, iss, now), "ci", now));
                assertThat(forged.reason()).isEqualTo(IdentityException.Reason.BAD_SIGNATURE);
            }
        }
    }
}
