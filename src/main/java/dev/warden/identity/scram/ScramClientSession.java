package dev.warden.identity.scram;

import static dev.warden.identity.scram.ScramServerSession.attribute;
import static dev.warden.identity.scram.ScramServerSession.base64;
import static dev.warden.identity.scram.ScramServerSession.printable;
import static dev.warden.identity.scram.ScramServerSession.utf8;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * The client half of SCRAM-SHA-256 (RFC 5802/7677): Warden authenticating to an upstream
 * PostgreSQL with a configured password.
 *
 * <p>A pure state machine: send {@link #clientFirst()} in SASLInitialResponse with mechanism
 * {@link ScramVerifier#MECHANISM}, feed the AuthenticationSASLContinue payload to
 * {@link #handleServerFirst}, send the result in SASLResponse, and feed the
 * AuthenticationSASLFinal payload to {@link #verifyServerFinal}. Callers must not accept the
 * upstream's AuthenticationOk unless {@link #isAuthenticated()} is true: a server that skips
 * SASLFinal has not proven it knows the verifier. One instance per attempt; not thread-safe.
 *
 * <p>The server is treated as hostile until it proves itself: its nonce must extend ours and its
 * iteration count is capped at {@link #MAX_ITERATIONS} so it cannot make Warden burn CPU.
 * Channel binding is not used (gs2 header {@code n,,}).
 */
public final class ScramClientSession {

    /** Far above PostgreSQL's default of 4096, far below a useful CPU-exhaustion lever. */
    public static final int MAX_ITERATIONS = 1_000_000;

    private static final String GS2_HEADER = "n,,";

    private enum State { INITIAL, AWAIT_SERVER_FIRST, AWAIT_SERVER_FINAL, AUTHENTICATED, FAILED }

    private byte[] password;
    private final String username;
    private final String clientNonce;

    private State state = State.INITIAL;
    private String clientFirstBare;
    private byte[] expectedServerSignature;

    /** The password is SASLprep-normalised as PostgreSQL does (see {@link ScramVerifier}). */
    public ScramClientSession(String password, SecureRandom random) {
        this(password, "", ScramServerSession.newNonce(Objects.requireNonNull(random, "random")));
    }

    /** For tests that replay published exchanges, which need a known username and nonce. */
    ScramClientSession(String password, String username, String clientNonce) {
        this.password = ScramVerifier.saslPrep(Objects.requireNonNull(password, "password"));
        this.username = Objects.requireNonNull(username, "username");
        if (!ScramServerSession.isValidNonce(clientNonce)) {
            throw new IllegalArgumentException("client nonce must be printable ASCII without ','");
        }
        this.clientNonce = clientNonce;
    }

    /**
     * The client-first-message. The username is empty because PostgreSQL takes the user from
     * the startup packet and ignores this one.
     */
    public byte[] clientFirst() {
        if (state != State.INITIAL) {
            throw new IllegalStateException("clientFirst() already called");
        }
        clientFirstBare = "n=" + escapeUsername(username) + ",r=" + clientNonce;
        state = State.AWAIT_SERVER_FIRST;
        return (GS2_HEADER + clientFirstBare).getBytes(StandardCharsets.UTF_8);
    }

    /** Consumes the server-first-message and returns the client-final-message carrying the proof. */
    public byte[] handleServerFirst(byte[] serverFirst) throws ScramException {
        expect(State.AWAIT_SERVER_FIRST);
        try {
            String msg = utf8(Objects.requireNonNull(serverFirst, "serverFirst"), "server-first-message");
            String[] parts = msg.split(",", -1);
            if (parts[0].startsWith("m=")) {
                throw fail("server requires an unsupported mandatory SCRAM extension");
            }
            if (parts.length > 3 && parts[0].startsWith("r=")) {
                throw fail("server-first-message carries unsupported extension attributes");
            }
            if (parts.length != 3) {
                throw fail("malformed server-first-message: expected r=, s= and i=");
            }
            String nonce = attribute(parts[0], 'r', "server-first-message");
            byte[] salt = base64(attribute(parts[1], 's', "server-first-message"), "salt");
            int iterations = parseIterations(attribute(parts[2], 'i', "server-first-message"));
            if (!nonce.startsWith(clientNonce) || nonce.length() == clientNonce.length()
                    || !ScramServerSession.isValidNonce(nonce)) {
                throw fail("server nonce does not extend the client nonce");
            }
            if (salt.length == 0) {
                throw fail("malformed server-first-message: empty salt");
            }

            String withoutProof = "c=" + Base64.getEncoder().encodeToString(GS2_HEADER.getBytes(StandardCharsets.US_ASCII))
                    + ",r=" + nonce;
            byte[] authMessage = (clientFirstBare + "," + msg + "," + withoutProof).getBytes(StandardCharsets.UTF_8);

            byte[] salted = ScramVerifier.saltedPassword(password, salt, iterations);
            Arrays.fill(password, (byte) 0);
            password = null;
            byte[] clientKey = ScramVerifier.clientKey(salted);
            byte[] serverKey = ScramVerifier.serverKeyOf(salted);
            byte[] storedKey = ScramVerifier.sha256(clientKey);
            byte[] proof = ScramServerSession.xor(clientKey, ScramVerifier.hmac(storedKey, authMessage));
            expectedServerSignature = ScramVerifier.hmac(serverKey, authMessage);
            Arrays.fill(salted, (byte) 0);
            Arrays.fill(clientKey, (byte) 0);
            Arrays.fill(serverKey, (byte) 0);

            state = State.AWAIT_SERVER_FINAL;
            return (withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof)).getBytes(StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw fail(e.getMessage());
        }
    }

    /** Checks the server-final-message; afterwards {@link #isAuthenticated()} is true. */
    public void verifyServerFinal(byte[] serverFinal) throws ScramException {
        expect(State.AWAIT_SERVER_FINAL);
        try {
            String msg = utf8(Objects.requireNonNull(serverFinal, "serverFinal"), "server-final-message");
            if (msg.startsWith("e=")) {
                throw fail("server reported SCRAM error " + printable(msg.substring(2)));
            }
            String[] parts = msg.split(",", -1);
            if (parts.length != 1) {
                throw fail(parts[0].startsWith("v=")
                        ? "server-final-message carries unsupported extension attributes"
                        : "malformed server-final-message");
            }
            byte[] signature = base64(attribute(parts[0], 'v', "server-final-message"), "server signature");
            if (!MessageDigest.isEqual(signature, expectedServerSignature)) {
                throw fail("server signature is wrong: the server does not know the password's verifier");
            }
            state = State.AUTHENTICATED;
        } catch (IllegalArgumentException e) {
            throw fail(e.getMessage());
        }
    }

    /** True only after the server has proven knowledge of the verifier. */
    public boolean isAuthenticated() {
        return state == State.AUTHENTICATED;
    }

    private static int parseIterations(String text) {
        // Digit-only and length-bounded so neither signs nor overflow get past the cap.
        if (text.isEmpty() || text.length() > 9 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("server-first-message: iteration count is not a sane integer");
        }
        int iterations = Integer.parseInt(text);
        if (iterations < 1 || iterations > MAX_ITERATIONS) {
            throw new IllegalArgumentException("server-first-message: iteration count " + iterations
                    + " outside 1.." + MAX_ITERATIONS);
        }
        return iterations;
    }

    /** RFC 5802 saslname: ',' and '=' must be escaped. */
    private static String escapeUsername(String name) {
        return name.replace("=", "=3D").replace(",", "=2C");
    }

    private void expect(State wanted) throws ScramException {
        if (state != wanted) {
            State was = state;
            throw fail(was == State.FAILED ? "SCRAM session already failed" : "SCRAM message out of order in state " + was);
        }
    }

    private ScramException fail(String detail) {
        state = State.FAILED;
        if (password != null) {
            Arrays.fill(password, (byte) 0);
            password = null;
        }
        return ScramException.upstreamFailed(detail);
    }
}
