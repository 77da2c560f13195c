package dev.warden.identity.scram;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * The server half of SCRAM-SHA-256 (RFC 5802/7677) as PostgreSQL speaks it: Warden checks a
 * connecting client against a stored {@link ScramVerifier}.
 *
 * <p>A pure state machine: the caller takes the SASL payloads out of SASLInitialResponse and
 * SASLResponse and wraps the returned bytes in AuthenticationSASLContinue and
 * AuthenticationSASLFinal. One instance serves one authentication attempt and is not
 * thread-safe. Any failure, including a call out of order, leaves the session permanently
 * failed, so a client cannot retry proofs against the same server nonce.
 *
 * <p>Only {@code SCRAM-SHA-256} is accepted. Warden does not offer {@code SCRAM-SHA-256-PLUS},
 * so a client asking for channel binding ({@code p=}) is refused, while {@code y} ("I could
 * bind but you did not offer it") is accepted. If -PLUS is ever offered, {@code y} must be
 * refused instead, because then it would signal a downgrade attack.
 *
 * <p>The username in client-first-message is ignored: PostgreSQL clients send an empty one or
 * repeat the startup-packet user, and the startup packet is the authority.
 */
public final class ScramServerSession {

    /** Raw nonce length, as in PostgreSQL (SCRAM_RAW_NONCE_LEN); base64 of it has no padding. */
    static final int NONCE_BYTES = 18;

    private enum State { AWAIT_CLIENT_FIRST, AWAIT_CLIENT_FINAL, AUTHENTICATED, FAILED }

    private final ScramVerifier verifier;
    private final SecureRandom random;
    private final String fixedServerNonce;

    private State state = State.AWAIT_CLIENT_FIRST;
    private String gs2Header;
    private String clientFirstBare;
    private String serverFirst;
    private String combinedNonce;

    public ScramServerSession(ScramVerifier verifier, SecureRandom random) {
        this.verifier = Objects.requireNonNull(verifier, "verifier");
        this.random = Objects.requireNonNull(random, "random");
        this.fixedServerNonce = null;
    }

    /** For tests that replay published exchanges, which need a known server nonce. */
    ScramServerSession(ScramVerifier verifier, String fixedServerNonce) {
        this.verifier = Objects.requireNonNull(verifier, "verifier");
        this.random = null;
        this.fixedServerNonce = Objects.requireNonNull(fixedServerNonce, "fixedServerNonce");
    }

    /**
     * Consumes the SASLInitialResponse (mechanism name and client-first-message) and returns the
     * server-first-message for AuthenticationSASLContinue.
     */
    public byte[] handleClientFirst(String mechanism, byte[] clientFirst) throws ScramException {
        expect(State.AWAIT_CLIENT_FIRST);
        try {
            if (!ScramVerifier.MECHANISM.equals(mechanism)) {
                throw fail("client selected unsupported SASL mechanism " + printable(mechanism));
            }
            String msg = utf8(Objects.requireNonNull(clientFirst, "clientFirst"), "client-first-message");
            String[] parts = msg.split(",", -1);
            if (parts.length < 4) {
                throw fail("malformed client-first-message: too few attributes");
            }
            String flag = parts[0];
            if (flag.startsWith("p=")) {
                throw fail("client requires channel binding, which is not offered");
            }
            if (!flag.equals("n") && !flag.equals("y")) {
                throw fail("malformed client-first-message: bad channel-binding flag");
            }
            if (!parts[1].isEmpty()) {
                throw fail(parts[1].startsWith("a=")
                        ? "client sent an authorization identity, which is not supported"
                        : "malformed client-first-message: bad gs2 header");
            }
            if (parts[2].startsWith("m=")) {
                throw fail("client requires an unsupported mandatory SCRAM extension");
            }
            attribute(parts[2], 'n', "client-first-message"); // syntax only; see class comment
            String clientNonce = attribute(parts[3], 'r', "client-first-message");
            if (!isValidNonce(clientNonce)) {
                throw fail("malformed client-first-message: invalid nonce");
            }
            if (parts.length > 4) {
                throw fail("client-first-message carries unsupported extension attributes");
            }
            gs2Header = flag + ",,";
            clientFirstBare = msg.substring(gs2Header.length());
            String serverNonce = fixedServerNonce != null ? fixedServerNonce : newNonce(random);
            combinedNonce = clientNonce + serverNonce;
            serverFirst = "r=" + combinedNonce
                    + ",s=" + Base64.getEncoder().encodeToString(verifier.salt())
                    + ",i=" + verifier.iterations();
            state = State.AWAIT_CLIENT_FINAL;
            return serverFirst.getBytes(StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw fail(e.getMessage());
        }
    }

    /**
     * Consumes the client-final-message (SASLResponse) and, if the proof is right, returns the
     * server-final-message ({@code v=...}) for AuthenticationSASLFinal.
     */
    public byte[] handleClientFinal(byte[] clientFinal) throws ScramException {
        expect(State.AWAIT_CLIENT_FINAL);
        try {
            String msg = utf8(Objects.requireNonNull(clientFinal, "clientFinal"), "client-final-message");
            String[] parts = msg.split(",", -1);
            if (parts.length > 3 && parts[0].startsWith("c=") && parts[1].startsWith("r=")) {
                throw fail("client-final-message carries unsupported extension attributes");
            }
            if (parts.length != 3) {
                throw fail("malformed client-final-message: expected c=, r= and p=");
            }
            String cbind = attribute(parts[0], 'c', "client-final-message");
            String nonce = attribute(parts[1], 'r', "client-final-message");
            byte[] proof = base64(attribute(parts[2], 'p', "client-final-message"), "client proof");

            String expectedCbind = Base64.getEncoder().encodeToString(gs2Header.getBytes(StandardCharsets.US_ASCII));
            if (!cbind.equals(expectedCbind)) {
                throw fail("channel-binding attribute does not match the gs2 header");
            }
            if (!MessageDigest.isEqual(nonce.getBytes(StandardCharsets.UTF_8),
                    combinedNonce.getBytes(StandardCharsets.UTF_8))) {
                throw fail("nonce in client-final-message does not match client nonce + server nonce");
            }
            if (proof.length != ScramVerifier.KEY_LENGTH) {
                throw fail("malformed client-final-message: proof has the wrong length");
            }

            byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + parts[0] + "," + parts[1])
                    .getBytes(StandardCharsets.UTF_8);
            byte[] storedKey = verifier.storedKey();
            byte[] clientKey = xor(proof, ScramVerifier.hmac(storedKey, authMessage));
            byte[] candidate = ScramVerifier.sha256(clientKey);
            Arrays.fill(clientKey, (byte) 0);
            if (!MessageDigest.isEqual(candidate, storedKey)) {
                throw fail("client proof is wrong (wrong password)");
            }
            byte[] serverSignature = ScramVerifier.hmac(verifier.serverKey(), authMessage);
            state = State.AUTHENTICATED;
            return ("v=" + Base64.getEncoder().encodeToString(serverSignature)).getBytes(StandardCharsets.US_ASCII);
        } catch (IllegalArgumentException e) {
            throw fail(e.getMessage());
        }
    }

    /** True once a correct proof has been verified; the caller may then send AuthenticationOk. */
    public boolean isAuthenticated() {
        return state == State.AUTHENTICATED;
    }

    private void expect(State wanted) throws ScramException {
        if (state != wanted) {
            State was = state;
            throw fail(was == State.FAILED ? "SCRAM session already failed" : "SCRAM message out of order in state " + was);
        }
    }

    private ScramException fail(String detail) {
        state = State.FAILED;
        return ScramException.clientFailed(detail);
    }

    // ------------------------------------------------------------------ shared message helpers

    /**
     * Decodes strictly: PostgreSQL treats SASL payloads as C strings, so NUL is refused too.
     * Throws IllegalArgumentException with a log-safe detail.
     */
    static String utf8(byte[] bytes, String what) {
        try {
            String s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
            if (s.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("malformed " + what + ": contains NUL");
            }
            return s;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("malformed " + what + ": not valid UTF-8");
        }
    }

    /** The value of {@code name=value}; IllegalArgumentException if the attribute is another one. */
    static String attribute(String part, char name, String what) {
        if (part.length() < 2 || part.charAt(0) != name || part.charAt(1) != '=') {
            throw new IllegalArgumentException("malformed " + what + ": expected attribute " + name + "=");
        }
        return part.substring(2);
    }

    static byte[] base64(String text, String what) {
        try {
            return Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("malformed " + what + ": not valid base64");
        }
    }

    /** RFC 5802: printable ASCII except ','. */
    static boolean isValidNonce(String nonce) {
        return !nonce.isEmpty() && nonce.chars().allMatch(c -> c >= 0x21 && c <= 0x7E && c != ',');
    }

    static String newNonce(SecureRandom random) {
        byte[] raw = new byte[NONCE_BYTES];
        random.nextBytes(raw);
        return Base64.getEncoder().encodeToString(raw);
    }

    static byte[] xor(byte[] a, byte[] b) {
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] ^ b[i]);
        }
        return out;
    }

    /** Peer-supplied text headed for logs: bounded and stripped of control characters. */
    static String printable(String s) {
        if (s == null) {
            return "<null>";
        }
        String cut = s.length() > 64 ? s.substring(0, 64) + "..." : s;
        return '"' + cut.replaceAll("[^\\x20-\\x7E]", "?") + '"';
    }
}
