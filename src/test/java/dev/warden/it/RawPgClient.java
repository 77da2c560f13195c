package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.identity.scram.ScramClientSession;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A deliberately tiny PostgreSQL wire client on a plain {@link Socket}, for tests that must send
 * bytes no driver would send. It frames what the server says (type byte, length, body) and nothing
 * more; everything it sends is built by hand with {@link Bytes}. The SCRAM arithmetic comes from
 * {@link ScramClientSession}, the framing of the exchange is written out here.
 */
final class RawPgClient implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int PROTOCOL_3_0 = 196608;

    /** One backend message: type byte and body (length word stripped). */
    record Msg(char type, byte[] body) {
        /** Fields of an ErrorResponse / NoticeResponse, keyed by field code. */
        Map<Character, String> fields() {
            Map<Character, String> f = new LinkedHashMap<>();
            int p = 0;
            while (p < body.length && body[p] != 0) {
                char code = (char) body[p++];
                int z = p;
                while (z < body.length && body[z] != 0) {
                    z++;
                }
                f.put(code, new String(body, p, z - p, StandardCharsets.UTF_8));
                p = z + 1;
            }
            return f;
        }

        boolean isError() {
            return type == 'E';
        }

        boolean isFatal() {
            return isError() && "FATAL".equals(fields().get('S'));
        }

        String sqlState() {
            return fields().get('C');
        }

        String message() {
            return fields().get('M');
        }

        int int32(int at) {
            return ((body[at] & 0xFF) << 24) | ((body[at + 1] & 0xFF) << 16) | ((body[at + 2] & 0xFF) << 8) | (body[at + 3] & 0xFF);
        }

        @Override
        public String toString() {
            if (type == 'E' || type == 'N') {
                return type + fields().toString();
            }
            return type + "(" + body.length + " bytes)";
        }
    }

    /** What a connection ended with: the messages read, and whether the server closed it. */
    record Ending(List<Msg> messages, boolean closed, boolean reset) {
        Msg last() {
            return messages.isEmpty() ? null : messages.get(messages.size() - 1);
        }
    }

    private final Socket socket;
    private final InputStream in;
    private byte[] buf = new byte[16384];
    private int rpos;
    private int wpos;
    private final OutputStream out;
    private final List<Msg> loginMessages = new ArrayList<>();

    private RawPgClient(Socket socket, UnaryOperator<InputStream> wrapIn) throws IOException {
        this.socket = socket;
        this.in = wrapIn.apply(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /** A connected client that has sent nothing yet. */
    static RawPgClient connect(int port) {
        return connect(port, 0, UnaryOperator.identity());
    }

    /**
     * A connected client. {@code receiveBuffer} > 0 sets SO_RCVBUF before connecting (so a slow
     * reader really holds the sender back); {@code wrapIn} may wrap the input stream (throttling).
     */
    static RawPgClient connect(int port, int receiveBuffer, UnaryOperator<InputStream> wrapIn) {
        Socket s = new Socket();
        try {
            if (receiveBuffer > 0) {
                s.setReceiveBufferSize(receiveBuffer);
            }
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            s.setSoTimeout(15_000);
            return new RawPgClient(s, wrapIn);
        } catch (IOException e) {
            try {
                s.close();
            } catch (IOException ignored) {
                // already failing
            }
            throw new UncheckedIOException(e);
        }
    }

    /** Connects and logs in with SCRAM-SHA-256; returns once ReadyForQuery has arrived. */
    static RawPgClient login(int port, String user, String password, String database, String applicationName) {
        RawPgClient c = connect(port);
        try {
            c.login(user, password, database, applicationName);
            return c;
        } catch (RuntimeException | Error e) {
            c.close();
            throw e;
        }
    }

    static RawPgClient login(int port, String applicationName) {
        return login(port, TestGateway.USER, TestGateway.PASSWORD, TestGateway.TARGET, applicationName);
    }

    /** Performs the startup and SCRAM exchange on this (fresh) connection. */
    void login(String user, String password, String database, String applicationName) {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", user);
        params.put("database", database);
        if (applicationName != null) {
            params.put("application_name", applicationName);
        }
        write(startupMessage(params));
        Msg sasl = expect('R');
        assertThat(sasl.int32(0)).as("AuthenticationSASL").isEqualTo(10);
        assertThat(new String(sasl.body(), 4, sasl.body().length - 4, StandardCharsets.UTF_8)).contains("SCRAM-SHA-256");
        ScramClientSession scram = new ScramClientSession(password, RANDOM);
        byte[] first = scram.clientFirst();
        write(Bytes.of().cstr("SCRAM-SHA-256").i32(first.length).raw(first).typed('p'));
        Msg cont = expect('R');
        assertThat(cont.int32(0)).as("AuthenticationSASLContinue").isEqualTo(11);
        byte[] clientFinal;
        try {
            clientFinal = scram.handleServerFirst(Arrays.copyOfRange(cont.body(), 4, cont.body().length));
        } catch (Exception e) {
            throw new AssertionError("server-first-message refused", e);
        }
        write(Bytes.of().raw(clientFinal).typed('p'));
        Msg fin = expect('R');
        assertThat(fin.int32(0)).as("AuthenticationSASLFinal").isEqualTo(12);
        try {
            scram.verifyServerFinal(Arrays.copyOfRange(fin.body(), 4, fin.body().length));
        } catch (Exception e) {
            throw new AssertionError("server signature refused", e);
        }
        Msg ok = expect('R');
        assertThat(ok.int32(0)).as("AuthenticationOk").isEqualTo(0);
        while (true) {
            Msg m = read();
            if (m == null) {
                throw new AssertionError("connection closed during login; got " + loginMessages);
            }
            loginMessages.add(m);
            if (m.isError()) {
                throw new AssertionError("login failed: " + m);
            }
            if (m.type() == 'Z') {
                return;
            }
        }
    }

    List<Msg> loginMessages() {
        return loginMessages;
    }

    Socket socket() {
        return socket;
    }

    private Msg expect(char type) {
        Msg m = read();
        if (m == null) {
            throw new AssertionError("connection closed while waiting for '" + type + "'");
        }
        if (m.type() != type) {
            throw new AssertionError("expected message '" + type + "' but got " + m);
        }
        return m;
    }

    /** Writes all chunks as ONE write call (one TCP segment for small payloads). */
    void write(byte[]... chunks) {
        try {
            out.write(concat(chunks));
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Like {@link #write} but a server that already hung up is not an error: false then. */
    boolean tryWrite(byte[]... chunks) {
        try {
            out.write(concat(chunks));
            out.flush();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    void shutdownOutput() {
        try {
            socket.shutdownOutput();
        } catch (IOException ignored) {
            // the server may already have closed the connection
        }
    }

    void soTimeout(Duration d) {
        try {
            socket.setSoTimeout((int) d.toMillis());
        } catch (SocketException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Next backend message; {@code null} once the server has closed the connection (FIN or reset).
     * A frame that no PostgreSQL server could send fails the test.
     */
    Msg read() {
        try {
            return readOrThrow();
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no message from the server within " + timeoutMillis() + " ms", e);
        } catch (EOFException e) {
            throw new AssertionError("connection closed in the middle of a message", e);
        } catch (SocketException e) {
            return null; // connection reset: the server is gone
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Next message; throws SocketTimeoutException when nothing (or only part of a message) arrives
     * in time, without losing what did arrive; {@code null} on a clean close.
     */
    Msg readOrThrow() throws IOException {
        while (true) {
            int avail = wpos - rpos;
            int need = 5;
            if (avail >= 5) {
                int len = int32(buf, rpos + 1);
                if (len < 4 || len > (1 << 30)) {
                    throw new AssertionError("server sent a frame of type '" + (char) buf[rpos] + "' with impossible length " + len);
                }
                if (avail >= len + 1) {
                    Msg m = new Msg((char) (buf[rpos] & 0xFF), Arrays.copyOfRange(buf, rpos + 5, rpos + 1 + len));
                    rpos += len + 1;
                    return m;
                }
                need = len + 1;
            }
            if (rpos + need > buf.length) {
                byte[] nb = need > buf.length ? new byte[Math.max(need, 2 * buf.length)] : buf;
                System.arraycopy(buf, rpos, nb, 0, avail);
                buf = nb;
                rpos = 0;
                wpos = avail;
            }
            int n = in.read(buf, wpos, buf.length - wpos);
            if (n < 0) {
                if (wpos == rpos) {
                    return null;
                }
                throw new EOFException((wpos - rpos) + " bytes of an unfinished message before the connection closed");
            }
            wpos += n;
        }
    }

    private static int int32(byte[] b, int at) {
        return ((b[at] & 0xFF) << 24) | ((b[at + 1] & 0xFF) << 16) | ((b[at + 2] & 0xFF) << 8) | (b[at + 3] & 0xFF);
    }

    /** Reads until a message of {@code type} (returned) arrives; fails on close. */
    List<Msg> readUntil(char type) {
        List<Msg> got = new ArrayList<>();
        while (true) {
            Msg m = read();
            if (m == null) {
                throw new AssertionError("connection closed before '" + type + "'; got " + got);
            }
            got.add(m);
            if (m.type() == type) {
                return got;
            }
        }
    }

    /** Reads everything until the server closes the connection, which must happen within {@code within}. */
    Ending readUntilClosed(Duration within) {
        soTimeout(within);
        List<Msg> got = new ArrayList<>();
        long deadline = System.nanoTime() + within.toNanos();
        try {
            while (true) {
                Msg m;
                try {
                    m = readOrThrow();
                } catch (SocketTimeoutException e) {
                    throw new AssertionError("the server did not close the connection within " + within + "; got " + got);
                } catch (EOFException e) {
                    throw new AssertionError("connection closed in the middle of a message; got " + got);
                } catch (SocketException e) {
                    return new Ending(got, true, true);
                }
                if (m == null) {
                    return new Ending(got, true, false);
                }
                got.add(m);
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the server kept talking for more than " + within + "; got " + got.size() + " messages");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private int timeoutMillis() {
        try {
            return socket.getSoTimeout();
        } catch (SocketException e) {
            return -1;
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    // ------------------------------------------------------------ message builders

    static byte[] startupMessage(Map<String, String> params) {
        Bytes b = Bytes.of().i32(PROTOCOL_3_0);
        params.forEach((k, v) -> b.cstr(k).cstr(v));
        return b.i8(0).untyped();
    }

    static byte[] query(String sql) {
        return Bytes.of().cstr(sql).typed('Q');
    }

    static byte[] sync() {
        return Bytes.of().typed('S');
    }

    /** Parse: a statement name, its SQL, no parameter types. */
    static byte[] parse(String name, String sql) {
        return Bytes.of().cstr(name).cstr(sql).i16(0).typed('P');
    }

    /** Bind without parameters; {@code resultFormat} (0 text, 1 binary) applies to every result column. */
    static byte[] bind(String portal, String statement, int resultFormat) {
        return Bytes.of().cstr(portal).cstr(statement).i16(0).i16(0).i16(1).i16(resultFormat).typed('B');
    }

    /** Describe of a statement ('S') or portal ('P'). */
    static byte[] describe(char kind, String name) {
        return Bytes.of().i8(kind).cstr(name).typed('D');
    }

    /** Execute a portal, all rows. */
    static byte[] execute(String portal) {
        return Bytes.of().cstr(portal).i32(0).typed('E');
    }

    /** Close a statement ('S') or portal ('P'). */
    static byte[] close(char kind, String name) {
        return Bytes.of().i8(kind).cstr(name).typed('C');
    }

    static byte[] concat(byte[]... chunks) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] c : chunks) {
            b.write(c, 0, c.length);
        }
        return b.toByteArray();
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    /** Builds message bytes field by field, as the protocol documentation lays them out. */
    static final class Bytes {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        static Bytes of() {
            return new Bytes();
        }

        Bytes i8(int v) {
            out.write(v);
            return this;
        }

        Bytes i16(int v) {
            return i8(v >>> 8).i8(v);
        }

        Bytes i32(int v) {
            return i16(v >>> 16).i16(v);
        }

        Bytes raw(byte[] b) {
            out.write(b, 0, b.length);
            return this;
        }

        Bytes str(String s) {
            return raw(s.getBytes(StandardCharsets.UTF_8));
        }

        Bytes cstr(String s) {
            return str(s).i8(0);
        }

        byte[] body() {
            return out.toByteArray();
        }

        /** Type byte, a length word counting itself and the body, then the body. */
        byte[] typed(char type) {
            byte[] body = body();
            return of().i8(type).i32(body.length + 4).raw(body).body();
        }

        /** Type byte and an arbitrary (possibly lying) length word, then the body. */
        byte[] typedWithLength(char type, int length) {
            return of().i8(type).i32(length).raw(body()).body();
        }

        /** An untyped startup-phase packet: a length word counting itself, then the body. */
        byte[] untyped() {
            byte[] body = body();
            return of().i32(body.length + 4).raw(body).body();
        }
    }
}
