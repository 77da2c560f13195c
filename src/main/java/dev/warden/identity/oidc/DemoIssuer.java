package dev.warden.identity.oidc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A minimal OpenID token issuer for the demo, {@code ./warden token} and tests: an in-memory RSA key
 * pair, RS256-signed ID tokens, and the discovery document and key set to serve at
 * {@code <issuerUrl>/.well-known/openid-configuration} and {@link #jwksPath()}. The key never
 * leaves the process and a new one is made on every start, so tokens die with the process.
 * Never configure a demo issuer in production: whoever runs it can mint any identity.
 */
public final class DemoIssuer {
    public static final String DISCOVERY_PATH = "/.well-known/openid-configuration";
    public static final String JWKS_PATH = "/.well-known/jwks.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String issuerUrl;
    private final String audience;
    private volatile RSAKey current;
    private volatile List<RSAKey> published;

    /**
     * @param issuerUrl the URL clients' tokens name as {@code iss}, where the documents are served
     *                  (no trailing slash), e.g. {@code http://127.0.0.1:8080/demo-issuer}
     * @param audience  the {@code aud} of issued tokens unless the claims give one
     */
    public DemoIssuer(String issuerUrl, String audience) {
        this.issuerUrl = issuerUrl.replaceAll("/+$", "");
        this.audience = audience;
        this.current = newKey();
        this.published = List.of(current);
    }

    private DemoIssuer(String issuerUrl, String audience, RSAKey key) {
        this.issuerUrl = issuerUrl.replaceAll("/+$", "");
        this.audience = audience;
        this.current = key;
        this.published = List.of(key);
    }

    /**
     * The demo issuer whose private key is kept in {@code keyFile} (created, owner-only, when missing),
     * so that {@code ./warden token} in another process signs with the key the running demo publishes.
     */
    public static DemoIssuer loadOrCreate(java.nio.file.Path keyFile, String issuerUrl, String audience) {
        try {
            if (java.nio.file.Files.exists(keyFile)) {
                return new DemoIssuer(issuerUrl, audience, RSAKey.parse(java.nio.file.Files.readString(keyFile)));
            }
            RSAKey key = newKey();
            java.nio.file.Files.createDirectories(keyFile.toAbsolutePath().getParent());
            java.nio.file.Files.writeString(keyFile, key.toJSONString());
            keyFile.toFile().setReadable(false, false);
            keyFile.toFile().setReadable(true, true);
            return new DemoIssuer(issuerUrl, audience, key);
        } catch (java.io.IOException | java.text.ParseException e) {
            throw new IllegalStateException("cannot read or write the demo issuer key " + keyFile + ": " + e.getMessage(), e);
        }
    }

    public String issuerUrl() {
        return issuerUrl;
    }

    /** The path of the key set relative to the issuer URL's path. */
    public String jwksPath() {
        return JWKS_PATH;
    }

    public String jwksUri() {
        return issuerUrl + JWKS_PATH;
    }

    /** The {@code kid} of the key that signs new tokens. */
    public String keyId() {
        return current.getKeyID();
    }

    /**
     * Starts signing with a new key. {@code keepOld}: whether the key set still publishes the previous
     * key (a graceful rotation) or only the new one (old tokens stop verifying once Warden refetches).
     */
    public synchronized void rotate(boolean keepOld) {
        RSAKey next = newKey();
        List<RSAKey> keys = new ArrayList<>();
        keys.add(next);
        if (keepOld) {
            keys.add(current);
        }
        current = next;
        published = List.copyOf(keys);
    }

    /** A token issued now; {@code claims} are added to (and may override) iss, sub, aud, iat, exp, jti. */
    public String issue(String subject, Map<String, Object> claims, Duration ttl) {
        return issueAt(subject, claims, Instant.now(), ttl);
    }

    /**
     * A token issued at {@code iat} (also its nbf), expiring {@code ttl} later. Claim values that are
     * {@link Instant}s are written as epoch seconds; a null value removes the claim.
     */
    public String issueAt(String subject, Map<String, Object> claims, Instant iat, Duration ttl) {
        JWTClaimsSet.Builder b = new JWTClaimsSet.Builder()
                .issuer(issuerUrl)
                .subject(subject)
                .audience(audience)
                .issueTime(Date.from(iat))
                .notBeforeTime(Date.from(iat))
                .expirationTime(Date.from(iat.plus(ttl)))
                .jwtID(UUID.randomUUID().toString());
        claims.forEach((k, v) -> b.claim(k, v instanceof Instant i ? Date.from(i) : v));
        RSAKey key = current;
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID())
                .type(JOSEObjectType.JWT).build(), b.build());
        try {
            jwt.sign(new RSASSASigner(key));
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot sign a demo token", e);
        }
        return jwt.serialize();
    }

    /** The OpenID discovery document (the fields Warden and common clients read). */
    public String discoveryJson() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("issuer", issuerUrl);
        doc.put("jwks_uri", jwksUri());
        doc.put("response_types_supported", List.of("id_token"));
        doc.put("subject_types_supported", List.of("public"));
        doc.put("id_token_signing_alg_values_supported", List.of("RS256"));
        try {
            return JSON.writeValueAsString(doc);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The public key set (never the private parts). */
    public String jwksJson() {
        return new JWKSet(new ArrayList<>(published.stream().map(k -> (com.nimbusds.jose.jwk.JWK) k.toPublicJWK())
                .toList())).toString(true);
    }

    private static RSAKey newKey() {
        try {
            return new RSAKeyGenerator(2048).keyUse(KeyUse.SIGNATURE).algorithm(JWSAlgorithm.RS256)
                    .keyID(UUID.randomUUID().toString()).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot generate the demo issuer's key", e);
        }
    }
}
