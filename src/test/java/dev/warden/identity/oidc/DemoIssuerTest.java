package dev.warden.identity.oidc;

import static dev.warden.identity.oidc.OidcTestSupport.accepted;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.config.OidcSection;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The demo issuer's documents are what a real OpenID provider serves, and its tokens verify end to end. */
class DemoIssuerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void documentsArePublicAndConsistent() throws Exception {
        DemoIssuer issuer = new DemoIssuer("http://127.0.0.1:8080/demo/", "warden");
        assertThat(issuer.issuerUrl()).isEqualTo("http://127.0.0.1:8080/demo");
        JsonNode discovery = JSON.readTree(issuer.discoveryJson());
        assertThat(discovery.get("issuer").asText()).isEqualTo("http://127.0.0.1:8080/demo");
        assertThat(discovery.get("jwks_uri").asText()).isEqualTo("http://127.0.0.1:8080/demo/.well-known/jwks.json");
        JsonNode keys = JSON.readTree(issuer.jwksJson()).get("keys");
        assertThat(keys).hasSize(1);
        assertThat(keys.get(0).get("kid").asText()).isEqualTo(issuer.keyId());
        assertThat(keys.get(0).get("kty").asText()).isEqualTo("RSA");
        assertThat(keys.get(0).has("d")).as("never the private exponent").isFalse();
        assertThat(keys.get(0).has("p")).isFalse();

        String first = issuer.keyId();
        issuer.rotate(true);
        assertThat(JSON.readTree(issuer.jwksJson()).get("keys")).extracting(k -> k.get("kid").asText())
                .containsExactly(issuer.keyId(), first);
        issuer.rotate(false);
        assertThat(JSON.readTree(issuer.jwksJson()).get("keys")).hasSize(1);
    }

    @Test
    void tokensIssuedNowVerifyAgainstTheServedKeys() throws Exception {
        try (JwksServer server = new JwksServer()) {
            DemoIssuer issuer = server.issuer("/demo", "warden");
            String yaml = """
                    oidc:
                      issuers:
                        demo:
                          issuerUrl: %s
                          audience: warden
                      grants:
                        - name: demo
                          issuer: demo
                          match: {sub: "demo:*"}
                          target: bank
                          grant: demo_ci
                    """.formatted(issuer.issuerUrl());
            try (TokenVerifier verifier = new TokenVerifier(OidcSection.parseYaml(yaml))) {
                String token = issuer.issue("demo:alice", Map.of("repository", "acme/demo"), Duration.ofMinutes(5));
                VerifiedToken v = accepted(verifier.verify(token, "demo_ci", Instant.now()));
                assertThat(v.identity().subject()).isEqualTo("demo:alice");
                assertThat(v.identity().ci()).isEqualTo(Map.of("repository", "acme/demo"));
                assertThat(v.grant()).isEqualTo(new Grant("demo", "bank", null, "demo_ci"));
            }
        }
    }
}
