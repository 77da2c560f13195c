package dev.warden.proxy;

import dev.warden.config.WardenConfig.Target;
import dev.warden.config.WardenConfig.User;
import dev.warden.identity.Identity;
import dev.warden.identity.oidc.Grant;
import dev.warden.identity.oidc.IdentityException;
import dev.warden.identity.oidc.VerifiedToken;
import dev.warden.identity.scram.ScramException;
import dev.warden.identity.scram.ScramServerSession;
import dev.warden.identity.scram.ScramVerifier;
import dev.warden.wire.ClientFrameDecoder;
import dev.warden.wire.FrontendCodec;
import dev.warden.wire.FrontendMessage;
import dev.warden.wire.ProtocolViolation;
import dev.warden.wire.SqlState;
import dev.warden.wire.Wire;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The startup phase of a client connection: TLS negotiation, the StartupMessage, and SCRAM-SHA-256
 * against the static users in config. Unknown users go through the same exchange against a mock
 * verifier, so that a failed login does not tell an attacker whether the user exists; the target
 * is checked only after a successful login, so that the inventory of targets is not probeable.
 */
final class ClientLogin {
    private final Gateway gw;
    private final ClientSession session;
    private final ClientFrameDecoder decoder;
    private boolean tls;
    private String userName;
    private String database;
    private User user;
    private ScramServerSession scram;
    private int saslStep;
    private boolean tokenLogin;
    private final Map<String, String> forwardParams = new LinkedHashMap<>();

    ClientLogin(Gateway gw, ClientSession session, ClientFrameDecoder decoder) {
        this.gw = gw;
        this.session = session;
        this.decoder = decoder;
    }

    boolean isTls() {
        return tls;
    }

    void stopReading() {
        decoder.poison();
    }

    void onStartupPacket(ChannelHandlerContext ctx, ByteBuf packet) {
        FrontendMessage m = FrontendCodec.decodeStartup(packet);
        if (m instanceof FrontendMessage.SSLRequest) {
            onSslRequest(ctx);
        } else if (m instanceof FrontendMessage.GSSENCRequest) {
            if (decoder.pendingBytes() > 0) {
                // as PostgreSQL: a client must wait for the answer before sending more
                throw new ProtocolViolation("received unencrypted data after GSSENCRequest");
            }
            ctx.writeAndFlush(PgOut.singleByte(ctx.alloc(), 'N'));
        } else if (m instanceof FrontendMessage.CancelRequest c) {
            ClientSession victim = gw.cancels().find(c.processId(), c.secretKey());
            if (victim != null) {
                victim.cancelUpstream();
            } else {
                gw.log().debug("ignored a CancelRequest with an unknown key from {}", ctx.channel().remoteAddress());
            }
            stopReading();
            ctx.close();
        } else if (m instanceof FrontendMessage.StartupMessage s) {
            onStartup(ctx, s);
        } else {
            throw new ProtocolViolation("unexpected startup packet");
        }
    }

    private void onSslRequest(ChannelHandlerContext ctx) {
        if (tls) {
            throw new ProtocolViolation("SSLRequest received on a connection that already uses TLS");
        }
        if (decoder.pendingBytes() > 0) {
            // bytes sent ahead of the handshake would be read as if they were protected (CVE-2021-23214);
            // refused whether or not TLS is on offer, as PostgreSQL does
            throw new ProtocolViolation("received unencrypted data after SSLRequest");
        }
        if (!gw.tls().clientTlsEnabled()) {
            ctx.writeAndFlush(PgOut.singleByte(ctx.alloc(), 'N'));
            return;
        }
        ctx.writeAndFlush(PgOut.singleByte(ctx.alloc(), 'S'));
        ctx.pipeline().addFirst("tls", gw.tls().clientHandler(ctx.alloc()));
        tls = true;
    }

    private void onStartup(ChannelHandlerContext ctx, FrontendMessage.StartupMessage s) {
        if (!gw.admit(session)) {
            session.fatal(SqlState.TOO_MANY_CONNECTIONS, "sorry, too many clients already (limits.maxConnections)", null);
            return;
        }
        if (s.majorVersion() != 3) {
            session.fatal(SqlState.FEATURE_NOT_SUPPORTED, "unsupported frontend protocol " + s.majorVersion() + "."
                    + s.minorVersion() + ": Warden supports protocol 3.0", null);
            return;
        }
        Map<String, String> p = s.parameters();
        userName = p.get("user");
        if (userName == null || userName.isEmpty()) {
            session.fatal(SqlState.INVALID_AUTHORIZATION, "no user name specified in the startup packet", null);
            return;
        }
        String replication = p.get("replication");
        if (replication != null && !List.of("false", "off", "no", "0").contains(replication.toLowerCase())) {
            session.fatal(SqlState.INSUFFICIENT_PRIVILEGE, "Warden does not relay replication connections", null);
            return;
        }
        if (gw.config().tls().required() && !tls) {
            session.fatal(SqlState.INVALID_AUTHORIZATION, "Warden accepts only TLS connections",
                    "Connect with sslmode=require or sslmode=verify-full.");
            return;
        }
        database = p.getOrDefault("database", userName);
        if (tls) {
            var engine = ctx.pipeline().get(io.netty.handler.ssl.SslHandler.class).engine();
            gw.audit().sessionEvent(dev.warden.audit.SessionEvent.tls(session.sessionId(), java.time.Instant.now(),
                    engine.getSession().getProtocol() + " " + engine.getSession().getCipherSuite()));
        }
        List<String> unsupportedOptions = new ArrayList<>();
        for (Map.Entry<String, String> e : p.entrySet()) {
            String k = e.getKey();
            if (k.startsWith("_pq_.")) {
                unsupportedOptions.add(k);
            } else if (!k.equals("user") && !k.equals("database") && !k.equals("replication")) {
                forwardParams.put(k, e.getValue());
            }
        }
        if (s.minorVersion() > 0 || !unsupportedOptions.isEmpty()) {
            ctx.write(PgOut.negotiateProtocolVersion(ctx.alloc(), 0, unsupportedOptions));
        }
        user = gw.config().user(userName).orElse(null);
        if (user == null && gw.tokens().isGrant(userName)) {
            startTokenLogin(ctx);
            return;
        }
        ScramVerifier verifier = user != null ? ScramVerifier.parse(user.scramVerifier()) : gw.mockVerifier(userName);
        scram = new ScramServerSession(verifier, gw.random());
        ctx.writeAndFlush(PgOut.authenticationSasl(ctx.alloc(), List.of("SCRAM-SHA-256")));
    }

    /**
     * A CI job: its OIDC ID token is the password. Cleartext password exchange is only acceptable
     * over TLS (the token is a bearer credential), so a plain connection is refused before asking.
     */
    private void startTokenLogin(ChannelHandlerContext ctx) {
        java.net.InetAddress peer = ((java.net.InetSocketAddress) ctx.channel().remoteAddress()).getAddress();
        var refused = gw.tokens().checkTransport(tls, peer);
        if (refused.isPresent()) {
            tokenRefused(ctx, refused.get());
            return;
        }
        tokenLogin = true;
        ctx.writeAndFlush(PgOut.authentication(ctx.alloc(), 3, new byte[0]));
    }

    private void onToken(ChannelHandlerContext ctx, FrontendMessage.PasswordMessage message) {
        String jwt = message.asPassword();
        tokenLogin = false;
        // no more client input until the verdict (the key fetch may take a moment, off the event loop)
        ctx.channel().config().setAutoRead(false);
        gw.tokens().verify(jwt, userName, java.time.Instant.now()).whenCompleteAsync((token, failure) -> {
            ctx.channel().config().setAutoRead(true);
            if (failure != null) {
                Throwable cause = IdentityException.unwrap(failure);
                if (cause instanceof IdentityException e) {
                    tokenRefused(ctx, e);
                } else {
                    gw.log().error("token verification failed unexpectedly for {}", ctx.channel().remoteAddress(), cause);
                    session.fatal(SqlState.INTERNAL_ERROR, "Warden could not verify the token because of an internal error",
                            null);
                }
                return;
            }
            tokenAccepted(ctx, token);
        }, ctx.executor());
    }

    private void auditFailure(String reason) {
        gw.audit().sessionEvent(dev.warden.audit.SessionEvent.authFailure(session.sessionId(), java.time.Instant.now(),
                session.clientAddress(), userName, database, reason));
    }

    private void tokenRefused(ChannelHandlerContext ctx, IdentityException e) {
        gw.loginFailed();
        auditFailure(e.reason() + ": " + e.getMessage());
        gw.log().info("token login refused for grant {} from {}: {} ({})", userName, ctx.channel().remoteAddress(),
                e.getMessage(), e.reason());
        session.fatal(e.sqlState(), e.getMessage(), null);
    }

    private void tokenAccepted(ChannelHandlerContext ctx, VerifiedToken token) {
        Grant grant = token.grant();
        if (!grant.target().equals(database)) {
            tokenRefused(ctx, new IdentityException(IdentityException.Reason.NO_GRANT, "grant \"" + userName
                    + "\" (rule " + grant.ruleName() + ") is for target \"" + grant.target() + "\", not \"" + database + "\""));
            return;
        }
        Target t = gw.config().target(database).orElseThrow();
        Identity who = token.identity();
        // DBAs see which CI run a backend belongs to
        forwardParams.put("application_name", applicationName(who));
        gw.log().info("token login: grant {} (rule {}) for {} from {}", userName, grant.ruleName(), who.subject(),
                ctx.channel().remoteAddress());
        session.loggedIn(who, t, grant.upstreamRoleOr(t.user()), forwardParams);
        session.watchToken(() -> gw.tokens().recheck(token, java.time.Instant.now()), 1000);
    }

    static String applicationName(Identity who) {
        String repo = who.ci("repository");
        String run = who.ci("runId");
        String name = "warden:" + (repo != null ? repo : who.subject()) + (run != null ? "#" + run : "");
        // PostgreSQL truncates application_name to 63 bytes
        return name.length() > 63 ? name.substring(0, 63) : name;
    }

    void onMessage(ChannelHandlerContext ctx, ByteBuf frame) {
        if (tokenLogin && frame.getByte(frame.readerIndex()) == Wire.PASSWORD_MESSAGE) {
            onToken(ctx, (FrontendMessage.PasswordMessage) FrontendCodec.decode(frame));
            return;
        }
        if (scram == null || frame.getByte(frame.readerIndex()) != Wire.PASSWORD_MESSAGE) {
            throw new ProtocolViolation("expected a password message during authentication, got type '"
                    + (char) frame.getByte(frame.readerIndex()) + "'");
        }
        var password = (FrontendMessage.PasswordMessage) FrontendCodec.decode(frame);
        try {
            if (saslStep == 0) {
                FrontendMessage.PasswordMessage.SaslInitialResponse first = password.asSaslInitialResponse();
                byte[] data = first.data() == null ? new byte[0] : first.data();
                ctx.writeAndFlush(PgOut.authentication(ctx.alloc(), 11, scram.handleClientFirst(first.mechanism(), data)));
                saslStep = 1;
            } else if (saslStep == 1) {
                byte[] serverFinal = scram.handleClientFinal(password.payload());
                saslStep = 2;
                if (user == null) {
                    loginFailed(ctx, "no such user (the proof matched a mock verifier)");
                    return;
                }
                ctx.write(PgOut.authentication(ctx.alloc(), 12, serverFinal));
                authenticated(ctx);
            } else {
                throw new ProtocolViolation("unexpected password message");
            }
        } catch (ScramException e) {
            loginFailed(ctx, user == null ? "no such user" : e.getDetail());
        }
    }

    private void loginFailed(ChannelHandlerContext ctx, String detail) {
        gw.loginFailed();
        auditFailure(detail);
        gw.log().info("login failed for user {} from {}: {}", userName, ctx.channel().remoteAddress(), detail);
        session.fatal(SqlState.INVALID_PASSWORD, "password authentication failed for user \"" + userName + "\"", null);
    }

    private void authenticated(ChannelHandlerContext ctx) {
        Target t = gw.config().target(database).orElse(null);
        if (t == null) {
            session.fatal(SqlState.INVALID_CATALOG_NAME, "database \"" + database + "\" is not a known Warden target",
                    "The database name selects the Warden target; ask your Warden administrator for the right name.");
            return;
        }
        if (!t.allowStaticUsers()) {
            session.fatal(SqlState.INSUFFICIENT_PRIVILEGE, "target \"" + t.name() + "\" accepts only CI identities (OIDC tokens)",
                    "Log in with your CI job's OIDC token as the password and a grant name as the user.");
            return;
        }
        if (!user.mayUse(t.name())) {
            session.fatal(SqlState.INSUFFICIENT_PRIVILEGE, "user \"" + userName + "\" may not connect to target \""
                    + t.name() + "\"", "The user's 'targets' list in Warden's config does not include it.");
            return;
        }
        ctx.flush();
        session.loggedIn(Identity.staticUser(userName), t, t.user(), forwardParams);
    }
}
