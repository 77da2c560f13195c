package dev.warden.it;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.SocketFactory;

/**
 * A pgJDBC {@code socketFactory} whose sockets copy every byte the driver reads into a buffer, so a
 * test can check the raw stream the client received rather than only the values the driver
 * decoded. Pass {@code socketFactory=dev.warden.it.TeeSocketFactory&socketFactoryArg=<id>}; the
 * bytes are then in {@link #captured(String)}.
 */
public final class TeeSocketFactory extends SocketFactory {
    private static final Map<String, ByteArrayOutputStream> CAPTURES = new ConcurrentHashMap<>();

    private final String id;

    public TeeSocketFactory(String id) {
        this.id = id;
    }

    /** Everything the driver read on sockets made for {@code id} so far. */
    public static byte[] captured(String id) {
        ByteArrayOutputStream b = CAPTURES.get(id);
        if (b == null) {
            return new byte[0];
        }
        synchronized (b) {
            return b.toByteArray();
        }
    }

    public static void forget(String id) {
        CAPTURES.remove(id);
    }

    private ByteArrayOutputStream sink() {
        return CAPTURES.computeIfAbsent(id, k -> new ByteArrayOutputStream());
    }

    @Override
    public Socket createSocket() {
        return new TeeSocket(sink());
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        Socket s = createSocket();
        s.connect(new java.net.InetSocketAddress(host, port));
        return s;
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return createSocket(host, port);
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return createSocket(host.getHostAddress(), port);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
        return createSocket(address, port);
    }

    private static final class TeeSocket extends Socket {
        private final ByteArrayOutputStream sink;
        private InputStream tee;

        TeeSocket(ByteArrayOutputStream sink) {
            this.sink = sink;
        }

        @Override
        public synchronized InputStream getInputStream() throws IOException {
            if (tee == null) {
                tee = new FilterInputStream(super.getInputStream()) {
                    @Override
                    public int read() throws IOException {
                        int b = super.read();
                        if (b >= 0) {
                            synchronized (sink) {
                                sink.write(b);
                            }
                        }
                        return b;
                    }

                    @Override
                    public int read(byte[] buf, int off, int len) throws IOException {
                        int n = super.read(buf, off, len);
                        if (n > 0) {
                            synchronized (sink) {
                                sink.write(buf, off, n);
                            }
                        }
                        return n;
                    }
                };
            }
            return tee;
        }
    }
}
