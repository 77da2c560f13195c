package dev.warden.proxy;

import dev.warden.config.ConfigException;
import dev.warden.config.WardenConfig;
import dev.warden.config.WardenConfig.SslMode;
import dev.warden.config.WardenConfig.Target;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.util.HashMap;
import java.util.Map;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/** TLS towards clients (Warden is the server) and towards each target (Warden is the client). */
final class TlsContexts {
    private final SslContext client;
    private final Map<String, SslContext> upstream = new HashMap<>();

    TlsContexts(WardenConfig config) {
        WardenConfig.ClientTls t = config.tls();
        try {
            client = t.enabled()
                    ? SslContextBuilder.forServer(t.certificate().toFile(), t.privateKey().toFile())
                            .protocols("TLSv1.3", "TLSv1.2").build()
                    : null;
        } catch (Exception e) {
            throw new ConfigException("tls: cannot use certificate " + t.certificate() + " with key " + t.privateKey()
                    + " (the key must be PEM, PKCS#8): " + e.getMessage(), e);
        }
        for (Target target : config.targets().values()) {
            if (target.sslmode() == SslMode.DISABLE) {
                continue;
            }
            try {
                SslContextBuilder b = SslContextBuilder.forClient().protocols("TLSv1.3", "TLSv1.2");
                if (target.sslmode() == SslMode.VERIFY_FULL) {
                    b.trustManager(target.sslRootCert().toFile());
                } else {
                    // sslmode=require encrypts but, as in libpq, does not authenticate the server
                    b.trustManager(InsecureTrustManagerFactory.INSTANCE);
                }
                upstream.put(target.name(), b.build());
            } catch (Exception e) {
                throw new ConfigException("targets." + target.name() + ".sslrootcert: cannot load "
                        + target.sslRootCert() + ": " + e.getMessage(), e);
            }
        }
    }

    boolean clientTlsEnabled() {
        return client != null;
    }

    SslHandler clientHandler(ByteBufAllocator alloc) {
        return client.newHandler(alloc);
    }

    SslHandler upstreamHandler(Target target, ByteBufAllocator alloc) {
        SslHandler h = upstream.get(target.name()).newHandler(alloc, target.host(), target.port());
        if (target.sslmode() == SslMode.VERIFY_FULL) {
            SSLEngine engine = h.engine();
            SSLParameters p = engine.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            engine.setSSLParameters(p);
        }
        return h;
    }
}
