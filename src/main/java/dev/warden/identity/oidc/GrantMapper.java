package dev.warden.identity.oidc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.warden.identity.Identity;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Maps the claims of a verified token to a grant: the first rule (in config order) whose grant is the
 * one the client asked for, whose issuer is the token's, and whose every claim condition holds, wins.
 * No matching rule: no access (default deny). Also builds the session's {@link Identity}.
 *
 * <p>A condition compares the claim's string form (numbers and booleans as written in JSON, dates as
 * epoch seconds) with the expected value, exactly or as a glob in which {@code *} matches any run of
 * characters, including {@code /}. For an array claim, the condition holds if any element matches.
 * Claims that are JSON objects never match.
 */
public final class GrantMapper {
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Condition(String claim, Pattern pattern) {
    }

    private record CompiledRule(OidcSettings.GrantRule rule, List<Condition> conditions) {
    }

    private final List<CompiledRule> rules = new ArrayList<>();

    public GrantMapper(OidcSettings settings) {
        for (OidcSettings.GrantRule r : settings.grants()) {
            List<Condition> cs = new ArrayList<>();
            r.match().forEach((claim, expected) -> cs.add(new Condition(claim, glob(expected))));
            rules.add(new CompiledRule(r, List.copyOf(cs)));
        }
    }

    /** {@code *} matches any run of characters; everything else is literal; the whole value must match. */
    static Pattern glob(String expected) {
        StringBuilder re = new StringBuilder();
        int from = 0;
        for (int star = expected.indexOf('*'); star >= 0; star = expected.indexOf('*', from)) {
            if (star > from) {
                re.append(Pattern.quote(expected.substring(from, star)));
            }
            re.append(".*");
            from = star + 1;
        }
        if (from < expected.length()) {
            re.append(Pattern.quote(expected.substring(from)));
        }
        return Pattern.compile(re.toString());
    }

    /** The first rule of {@code issuerName} for {@code requestedGrant} whose conditions all hold. */
    public Optional<Grant> map(JWTClaimsSet claims, String issuerName, String requestedGrant) {
        for (CompiledRule cr : rules) {
            OidcSettings.GrantRule r = cr.rule();
            if (r.grant().equals(requestedGrant) && r.issuer().equals(issuerName) && allHold(cr.conditions(), claims)) {
                return Optional.of(new Grant(r.name(), r.target(), r.upstreamRole(), r.grant()));
            }
        }
        return Optional.empty();
    }

    private static boolean allHold(List<Condition> conditions, JWTClaimsSet claims) {
        for (Condition c : conditions) {
            Object v = claims.getClaim(c.claim());
            if (v instanceof Collection<?> list) {
                if (list.stream().noneMatch(e -> scalarMatches(e, c.pattern()))) {
                    return false;
                }
            } else if (!scalarMatches(v, c.pattern())) {
                return false;
            }
        }
        return true;
    }

    private static boolean scalarMatches(Object v, Pattern p) {
        String s = scalar(v);
        return s != null && p.matcher(s).matches();
    }

    private static String scalar(Object v) {
        if (v instanceof String || v instanceof Number || v instanceof Boolean) {
            return v.toString();
        }
        if (v instanceof Date d) {
            return Long.toString(d.getTime() / 1000);
        }
        return null;
    }

    /** The session identity of a verified, mapped token. {@code issuer} is the token's {@code iss} URL. */
    public static Identity identity(JWTClaimsSet claims, OidcSettings.Issuer issuer, Grant grant) {
        Map<String, String> flat = flatten(claims);
        return new Identity(Identity.Kind.OIDC, claims.getSubject(), issuer.issuerUrl(), grant.grant(),
                grant.ruleName(), ciFields(flat, issuer), flat);
    }

    /**
     * The CI fields ({@link OidcSettings#CI_FIELDS}) per the issuer's claim mapping; for each, the first
     * listed claim present wins; a field none of whose claims is present is left out.
     */
    public static Map<String, String> ciFields(Map<String, String> flatClaims, OidcSettings.Issuer issuer) {
        Map<String, String> ci = new LinkedHashMap<>();
        issuer.ciClaims().forEach((field, names) -> names.stream().map(flatClaims::get)
                .filter(v -> v != null && !v.isEmpty()).findFirst().ifPresent(v -> ci.put(field, v)));
        return ci;
    }

    /**
     * Every claim as a string: strings as they are, numbers and booleans as in JSON, dates (exp, iat,
     * nbf) as epoch seconds, a one-element {@code aud} as that element, other arrays and objects as
     * compact JSON. Null claims are left out.
     */
    public static Map<String, String> flatten(JWTClaimsSet claims) {
        Map<String, String> out = new TreeMap<>();
        for (Map.Entry<String, Object> e : claims.toJSONObject().entrySet()) {
            Object v = e.getValue();
            if (v == null) {
                continue;
            }
            String s = scalar(v);
            if (s == null) {
                try {
                    s = JSON.writeValueAsString(v);
                } catch (JsonProcessingException ex) {
                    s = String.valueOf(v);
                }
            }
            out.put(e.getKey(), s);
        }
        return out;
    }
}
