package dev.warden.approval;

import static dev.warden.approval.Html.esc;

import dev.warden.approval.ApprovalRequest.State;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reviewers' HTML pages (bean {@code approvalPages}, routes/http/approvals.camel.yaml; the route
 * sets header {@code wardenOp} to page, decide or list). Runs on the route's worker threads, never on
 * the HTTP event loop: it waits for the service's store work.
 *
 * <ul>
 * <li>{@code GET /approvals/{id}?t=TOKEN}: the request in full and a form for the token's action.
 * GET never changes a request (mail scanners open links) but records "viewed". Without a token only
 * the state is shown, so a link in a client's notice leaks nothing.</li>
 * <li>{@code POST /approvals/{id}/decide} (form t, decision, reason): decides and shows the result.
 * A forged, expired, reused or foreign token gets a 403 page saying why.</li>
 * <li>{@code GET /approvals}: the pending requests, for callers with an http.apiKeys Bearer key.</li>
 * </ul>
 * Everything from the request (statement text, identity, reasons) is HTML-escaped: the statement
 * was written by whoever asked for approval.
 */
public final class ApprovalPages implements Processor {
    private static final Logger LOG = LoggerFactory.getLogger(ApprovalPages.class);
    static final String REMOTE_ADDRESS = "CamelVertxPlatformHttpRemoteAddress";
    private static final long WAIT_SECONDS = 30;

    private final Approvals approvals;
    private final ApiKeys keys;

    public ApprovalPages(Approvals approvals, List<String> apiKeys) {
        this.approvals = approvals;
        this.keys = new ApiKeys(apiKeys);
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        Message in = exchange.getIn();
        Message out = exchange.getMessage();
        String op = in.getHeader("wardenOp", String.class);
        String id = in.getHeader("id", String.class);
        Map<String, String> form = "decide".equals(op) ? form(in) : Map.of();
        String token = in.getHeader("t", String.class);
        String authorization = in.getHeader("Authorization", String.class);
        String from = remote(in);
        out.removeHeaders("*"); // request headers (the token among them) must not be echoed in the response
        out.setHeader(Exchange.CONTENT_TYPE, "text/html; charset=utf-8");
        out.setHeader("Cache-Control", "no-store");
        out.setHeader("Referrer-Policy", "no-referrer");
        out.setHeader("X-Frame-Options", "DENY");
        out.setHeader("X-Content-Type-Options", "nosniff");
        out.setHeader("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
        if (approvals == null) {
            respond(out, 404, Html.page("Approvals are disabled", "<p>approvals.enabled is false on this Warden.</p>"));
            return;
        }
        try {
            switch (op == null ? "" : op) {
                case "page" -> page(out, id, token, from);
                case "decide" -> decide(out, id, form, from);
                case "list" -> list(out, authorization);
                default -> respond(out, 404, Html.page("Not found", ""));
            }
        } catch (ApprovalException e) {
            respond(out, e.status(), Html.page(title(e.status()), "<p class=\"error\">" + esc(e.getMessage()) + "</p>"));
        } catch (java.util.concurrent.ExecutionException e) {
            ApprovalException a = ApprovalException.of(e);
            respond(out, a.status(), Html.page(title(a.status()), "<p class=\"error\">" + esc(a.getMessage()) + "</p>"));
        }
    }

    private static String title(int status) {
        return switch (status) {
            case 403 -> "Not allowed";
            case 404 -> "Unknown approval request";
            case 409 -> "Already decided";
            case 400 -> "Bad request";
            default -> "Warden could not do this";
        };
    }

    private void page(Message out, String id, String token, String from) throws Exception {
        ApprovalRequest r = get(approvals.find(id)).orElseThrow(() -> new ApprovalException(404, "no approval request " + id));
        if (token == null || token.isBlank()) {
            respond(out, 200, Html.page("Approval " + r.id(), "<p>State: <span class=\"state\">" + esc(r.state().db())
                    + "</span>; expires " + esc(r.expires()) + ".</p><p>Reviewers of group " + esc(r.reviewerGroup())
                    + " decide through the link in their notification mail or the REST API.</p>"));
            return;
        }
        LinkTokens.Claims claims = verified(token, id);
        get(approvals.viewed(r, claims.reviewer(), from, "link"));
        StringBuilder b = new StringBuilder(details(r));
        if (r.state() == State.PENDING) {
            boolean approve = claims.action() == LinkTokens.Action.APPROVE;
            b.append("<form method=\"post\" action=\"/approvals/").append(esc(r.id())).append("/decide\">")
                    .append("<input type=\"hidden\" name=\"t\" value=\"").append(esc(token)).append("\">")
                    .append("<input type=\"hidden\" name=\"decision\" value=\"").append(approve ? "approve" : "deny").append("\">")
                    .append("<p><label for=\"reason\">Reason (recorded in the audit trail)</label><br>")
                    .append("<textarea id=\"reason\" name=\"reason\" rows=\"3\" maxlength=\"2000\"></textarea></p>")
                    .append("<p>You are deciding as ").append(esc(claims.reviewer())).append(".</p>")
                    .append("<p><button type=\"submit\">").append(approve ? "Approve this statement" : "Deny this statement")
                    .append("</button></p></form>");
        } else {
            b.append("<p>This request is ").append(esc(r.state().db())).append("; nothing is left to decide.</p>");
        }
        respond(out, 200, Html.page("Approval " + r.id(), b.toString()));
    }

    private void decide(Message out, String id, Map<String, String> form, String from) throws Exception {
        LinkTokens.Claims claims = verified(form.get("t"), id);
        String decision = form.getOrDefault("decision", "");
        boolean approve = claims.action() == LinkTokens.Action.APPROVE;
        if (!decision.equals(approve ? "approve" : "deny")) {
            throw new ApprovalException(403, "this link can only " + (approve ? "approve" : "deny") + " the request");
        }
        ApprovalRequest r = get(approvals.decide(id, claims.reviewer(), approve, form.get("reason"), from, "link",
                claims.nonce()));
        String result = switch (r.state()) {
            case APPROVED -> "Approved: the statement may run now.";
            case DENIED -> "Denied: the statement is refused.";
            default -> "Your approval is recorded; " + r.approvals() + " of " + r.requiredApprovals()
                    + " approvals so far, the statement waits for more.";
        };
        respond(out, 200, Html.page("Approval " + r.id(), "<p class=\"state\">" + esc(result) + "</p>" + details(r)));
    }

    private void list(Message out, String authorization) throws Exception {
        if (keys.principal(authorization).isEmpty()) {
            out.setHeader("WWW-Authenticate", "Bearer");
            respond(out, 401, Html.page("Authentication required",
                    "<p>The list of pending approvals needs an API key from http.apiKeys (Authorization: Bearer &lt;key&gt;).</p>"));
            return;
        }
        List<ApprovalRequest> pending = get(approvals.list(State.PENDING, 500));
        StringBuilder b = new StringBuilder("<p>").append(pending.size()).append(" pending request(s).</p>");
        b.append("<table><tr><th>id</th><th>requested</th><th>expires</th><th>by</th><th>target</th><th>group</th>")
                .append("<th>approvals</th><th>statement</th></tr>");
        for (ApprovalRequest r : pending) {
            String text = r.text().length() > 200 ? r.text().substring(0, 200) + "…" : r.text();
            b.append("<tr><td>").append(esc(r.id())).append("</td><td>").append(esc(r.created())).append("</td><td>")
                    .append(esc(r.expires())).append("</td><td>").append(esc(r.requester())).append("</td><td>")
                    .append(esc(r.target())).append("</td><td>").append(esc(r.reviewerGroup())).append("</td><td>")
                    .append(r.approvals()).append(" / ").append(r.requiredApprovals()).append("</td><td><code>")
                    .append(esc(text)).append("</code></td></tr>");
        }
        b.append("</table>");
        respond(out, 200, Html.page("Pending approvals", b.toString()));
    }

    private static String details(ApprovalRequest r) {
        StringBuilder b = new StringBuilder("<table>");
        row(b, "State", r.state().db());
        row(b, "Asked by", r.requester());
        row(b, "Grant", r.identity() == null ? null : r.identity().grant());
        row(b, "Client", r.clientAddress());
        row(b, "Target", r.target());
        row(b, "Risk", r.risk());
        row(b, "Reason", r.reason());
        row(b, "Rules", String.join("; ", r.rules()) + (r.rulesVersion() == null ? "" : " (" + r.rulesVersion() + ")"));
        row(b, "Group", r.reviewerGroup() + " (" + r.requiredApprovals() + " approval(s) needed)");
        row(b, "Requested", r.created());
        row(b, "Expires", r.expires());
        row(b, "Session", r.sessionId());
        row(b, "Statement hash", r.statementHash());
        for (ApprovalRequest.Vote v : r.votes()) {
            row(b, v.approve() ? "Approved by" : "Denied by", v.reviewer() + " at " + v.at()
                    + (v.reason() == null ? "" : ": " + v.reason()));
        }
        b.append("</table><h2>Statement</h2><pre>").append(esc(r.text())).append("</pre>");
        return b.toString();
    }

    private static void row(StringBuilder b, String k, Object v) {
        b.append("<tr><th>").append(esc(k)).append("</th><td>").append(esc(v == null ? "-" : v)).append("</td></tr>");
    }

    private LinkTokens.Claims verified(String token, String id) {
        LinkTokens.Result res = approvals.tokens().verify(token, id, Instant.now());
        if (!res.ok()) {
            LOG.warn("approval {}: refused link token: {}", id, res.problem());
            throw new ApprovalException(403, res.problem());
        }
        return res.claims();
    }

    private static <T> T get(java.util.concurrent.CompletableFuture<T> f) throws Exception {
        try {
            return f.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw ApprovalException.of(e);
        }
    }

    private static void respond(Message out, int status, String html) {
        out.setHeader(Exchange.HTTP_RESPONSE_CODE, status);
        out.setBody(html);
    }

    static String remote(Message in) {
        Object a = in.getHeader(REMOTE_ADDRESS);
        return a == null ? null : a.toString();
    }

    /** The decision form, whether the HTTP layer left it in the body (raw or parsed) or in headers. */
    @SuppressWarnings("unchecked")
    static Map<String, String> form(Message in) {
        Map<String, String> out = new HashMap<>();
        Object body = in.getBody();
        if (body instanceof Map<?, ?> m) {
            m.forEach((k, v) -> out.put(String.valueOf(k), v == null ? null : String.valueOf(v)));
        } else {
            String s = in.getBody(String.class);
            if (s != null && !s.isBlank()) {
                for (String pair : s.split("&")) {
                    int eq = pair.indexOf('=');
                    String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                    String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                    out.putIfAbsent(k, v);
                }
            }
        }
        for (String k : List.of("t", "decision", "reason")) {
            if (!out.containsKey(k)) {
                Optional.ofNullable(in.getHeader(k, String.class)).ifPresent(v -> out.put(k, v));
            }
        }
        return out;
    }
}
