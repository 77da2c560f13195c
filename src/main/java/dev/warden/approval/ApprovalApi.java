package dev.warden.approval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.approval.ApprovalRequest.State;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;

/**
 * The approvals REST API (bean {@code approvalApi}; header {@code wardenOp} list, get or decide):
 * {@code GET /api/approvals?state=pending&limit=}, {@code GET /api/approvals/{id}},
 * {@code POST /api/approvals/{id}/decision} with {@code {"decision":"approve"|"deny","reason":…,
 * "reviewer":…}}. Callers present one of {@code http.apiKeys} as a Bearer key and act as
 * {@code api-key:<index>}, or, naming {@code reviewer}, on behalf of that member of the request's
 * group (an integration such as a chat bot that authenticated the person itself). A reviewer may
 * instead present their own OIDC ID token as the Bearer value (an issuer from {@code oidc.issuers});
 * they then act as themselves — the token's verified email, else its subject — and cannot name
 * another reviewer. Errors are JSON
 * {@code {"error": …}} with 400, 401, 403, 404, 409 or 503.
 */
public final class ApprovalApi implements Processor {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long WAIT_SECONDS = 30;

    private final Approvals approvals;
    private final ApiKeys keys;
    private final dev.warden.identity.oidc.TokenVerifier tokens;

    public ApprovalApi(Approvals approvals, List<String> apiKeys) {
        this(approvals, apiKeys, null);
    }

    /** With {@code tokens}: reviewers may also authenticate with their own OIDC ID token. */
    public ApprovalApi(Approvals approvals, List<String> apiKeys, dev.warden.identity.oidc.TokenVerifier tokens) {
        this.approvals = approvals;
        this.keys = new ApiKeys(apiKeys);
        this.tokens = tokens;
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        Message in = exchange.getIn();
        Message out = exchange.getMessage();
        String op = in.getHeader("wardenOp", String.class);
        String id = in.getHeader("id", String.class);
        String stateParam = in.getHeader("state", String.class);
        String limitParam = in.getHeader("limit", String.class);
        String authorization = in.getHeader("Authorization", String.class);
        String from = ApprovalPages.remote(in);
        String body = "decide".equals(op) ? in.getBody(String.class) : null;
        out.removeHeaders("*");
        out.setHeader(Exchange.CONTENT_TYPE, "application/json");
        out.setHeader("Cache-Control", "no-store");
        Optional<String> principal = keys.principal(authorization);
        String person = null;
        if (principal.isEmpty() && tokens != null && authorization != null && authorization.startsWith("Bearer ")
                && authorization.chars().filter(c -> c == '.').count() == 2) {
            try {
                var p = tokens.verifyPerson(authorization.substring(7).strip(), java.time.Instant.now())
                        .get(WAIT_SECONDS, TimeUnit.SECONDS);
                person = p.reviewer();
                principal = Optional.of("oidc:" + p.issuer());
            } catch (java.util.concurrent.ExecutionException e) {
                out.setHeader("WWW-Authenticate", "Bearer");
                error(out, 401, "the reviewer token was refused: " + e.getCause().getMessage());
                return;
            }
        }
        if (principal.isEmpty()) {
            out.setHeader("WWW-Authenticate", "Bearer");
            error(out, 401, "an API key from http.apiKeys is required (Authorization: Bearer <key>)");
            return;
        }
        if (person != null && !"decide".equals(op)) {
            // any token with Warden's audience verifies; listing every request needs an API key
            error(out, 403, "a reviewer token may only decide (POST /api/approvals/{id}/decision); listing and "
                    + "reading requests need an API key, or the request's link");
            return;
        }
        if (approvals == null) {
            error(out, 404, "approvals are disabled on this Warden (approvals.enabled: false)");
            return;
        }
        try {
            switch (op == null ? "" : op) {
                case "list" -> list(out, stateParam, limitParam);
                case "get" -> ok(out, get(approvals.find(id)).orElseThrow(() ->
                        new ApprovalException(404, "no approval request " + id)).toMap());
                case "decide" -> decide(out, id, body, principal.get(), person, from);
                default -> error(out, 404, "not found");
            }
        } catch (ApprovalException e) {
            error(out, e.status(), e.getMessage());
        }
    }

    private void list(Message out, String stateParam, String limitParam) throws Exception {
        State state = null;
        if (stateParam != null && !stateParam.isBlank() && !stateParam.equals("all")) {
            try {
                state = State.valueOf(stateParam.trim().toUpperCase());
            } catch (IllegalArgumentException e) {
                throw new ApprovalException(400, "state must be one of all, pending, approved, denied, expired, abandoned, executed");
            }
        }
        int limit = 100;
        if (limitParam != null) {
            try {
                limit = Integer.parseInt(limitParam.trim());
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > 1000) {
                throw new ApprovalException(400, "limit must be a whole number between 1 and 1000");
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("approvals", get(approvals.list(state, limit)).stream().map(ApprovalRequest::toMap).toList());
        ok(out, m);
    }

    private void decide(Message out, String id, String body, String principal, String person, String from)
            throws Exception {
        JsonNode json;
        try {
            json = body == null || body.isBlank() ? null : JSON.readTree(body);
        } catch (Exception e) {
            throw new ApprovalException(400, "the body must be JSON: {\"decision\": \"approve\" | \"deny\", \"reason\": \"…\"}");
        }
        if (json == null || !json.isObject()) {
            throw new ApprovalException(400, "the body must be a JSON object: {\"decision\": \"approve\" | \"deny\", \"reason\": \"…\"}");
        }
        String decision = text(json, "decision");
        if (!"approve".equals(decision) && !"deny".equals(decision)) {
            throw new ApprovalException(400, "decision must be \"approve\" or \"deny\"");
        }
        String reviewer = text(json, "reviewer");
        if (person != null) {
            // a person's own token: they decide as themselves, never on someone else's behalf
            if (reviewer != null && !reviewer.isBlank() && !reviewer.strip().equalsIgnoreCase(person)) {
                throw new ApprovalException(403, "with a reviewer token you decide as yourself (" + person
                        + "); \"reviewer\" may not name someone else");
            }
            reviewer = person;
        } else if (reviewer == null || reviewer.isBlank()) {
            reviewer = principal;
        }
        ApprovalRequest r = get(approvals.decide(id, reviewer.trim(), decision.equals("approve"), text(json, "reason"),
                from, principal, null));
        ok(out, r.toMap());
    }

    private static String text(JsonNode json, String field) {
        JsonNode n = json.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw new ApprovalException(400, field + " must be a string");
        }
        return n.asText();
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        try {
            return f.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw ApprovalException.of(e);
        }
    }

    private static void ok(Message out, Object value) throws Exception {
        out.setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
        out.setBody(JSON.writeValueAsString(value));
    }

    private static void error(Message out, int status, String message) throws Exception {
        out.setHeader(Exchange.HTTP_RESPONSE_CODE, status);
        out.setBody(JSON.writeValueAsString(Map.of("error", String.valueOf(message))));
    }
}
