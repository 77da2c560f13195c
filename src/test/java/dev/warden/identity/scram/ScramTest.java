package dev.warden.identity.scram;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.util.Base64;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScramTest {

    // RFC 7677 section 3, the SCRAM-SHA-256 example exchange.
    private static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    private static final String SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    private static final byte[] SALT = Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ==");
    private static final String C1 = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    private static final String S1 = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    private static final String C2 = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    private static final String S2 = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
    private static final String MECH = "SCRAM-SHA-256";

    private static final ScramVerifier PENCIL = ScramVerifier.fromPassword("pencil", SALT, 4096);

    private static ScramServerSession rfcServer() {
        return new ScramServerSession(PENCIL, SERVER_NONCE);
    }

    private static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    @Test
    void rfc7677ExchangeClientAgainstServer() throws Exception {
        ScramClientSession client = new ScramClientSession("pencil", "user", CLIENT_NONCE);
        ScramServerSession server = rfcServer();

        byte[] c1 = client.clientFirst();
        assertThat(new String(c1, UTF_8)).isEqualTo(C1);
        byte[] s1 = server.handleClientFirst(MECH, c1);
        assertThat(new String(s1, UTF_8)).isEqualTo(S1);
        byte[] c2 = client.handleServerFirst(s1);
        assertThat(new String(c2, UTF_8)).isEqualTo(C2);
        assertThat(server.isAuthenticated()).isFalse();
        byte[] s2 = server.handleClientFinal(c2);
        assertThat(new String(s2, UTF_8)).isEqualTo(S2);
        assertThat(server.isAuthenticated()).isTrue();
        assertThat(client.isAuthenticated()).isFalse();
        client.verifyServerFinal(s2);
        assertThat(client.isAuthenticated()).isTrue();
    }

    @Test
    void randomNoncesAndPostgresStyleEmptyUsername() throws Exception {
        SecureRandom random = new SecureRandom();
        ScramClientSession client = new ScramClientSession("s3cr\u00E9t", random);
        ScramServerSession server = new ScramServerSession(ScramVerifier.fromPassword("s3cr\u00E9t"), random);
        String first = new String(client.clientFirst(), UTF_8);
        assertThat(first).matches("n,,n=,r=[A-Za-z0-9+/]{24}");
        client.verifyServerFinal(server.handleClientFinal(client.handleServerFirst(server.handleClientFirst(MECH, b(first)))));
        assertThat(client.isAuthenticated()).isTrue();
        assertThat(server.isAuthenticated()).isTrue();
    }

    @Property(tries = 200)
    void anyPasswordAuthenticatesAndAnyOtherDoesNot(@ForAll @StringLength(max = 24) String password,
                                                    @ForAll @StringLength(max = 24) String other) throws Exception {
        // Neither a NUL nor a lone surrogate can be a PostgreSQL password (see saslPrep).
        Assume.that(password.codePoints().noneMatch(cp -> cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)));
        Assume.that(other.codePoints().noneMatch(cp -> cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)));
        ScramVerifier verifier = ScramVerifier.fromPassword(password, SALT, 16);
        SecureRandom random = new SecureRandom();

        ScramClientSession good = new ScramClientSession(password, random);
        ScramServerSession server = new ScramServerSession(verifier, random);
        good.verifyServerFinal(server.handleClientFinal(good.handleServerFirst(server.handleClientFirst(MECH, good.clientFirst()))));
        assertThat(good.isAuthenticated()).isTrue();

        Assume.that(!java.util.Arrays.equals(ScramVerifier.saslPrep(password), ScramVerifier.saslPrep(other)));
        ScramClientSession bad = new ScramClientSession(other, random);
        ScramServerSession server2 = new ScramServerSession(verifier, random);
        byte[] c2 = bad.handleServerFirst(server2.handleClientFirst(MECH, bad.clientFirst()));
        assertThatThrownBy(() -> server2.handleClientFinal(c2)).isInstanceOf(ScramException.class);
    }

    @Test
    void wrongPasswordFailsWithGenericMessageAndSessionIsDead() throws Exception {
        ScramClientSession client = new ScramClientSession("pencil!", "user", CLIENT_NONCE);
        ScramServerSession server = rfcServer();
        byte[] c2 = client.handleServerFirst(server.handleClientFirst(MECH, client.clientFirst()));
        assertThatThrownBy(() -> server.handleClientFinal(c2))
                .isInstanceOf(ScramException.class)
                .hasMessage("password authentication failed")
                .satisfies(e -> assertThat(((ScramException) e).getDetail()).contains("proof"));
        assertThat(server.isAuthenticated()).isFalse();
        // Even the correct final message cannot rescue a failed session.
        assertThatThrownBy(() -> server.handleClientFinal(b(C2)))
                .isInstanceOf(ScramException.class)
                .satisfies(e -> assertThat(((ScramException) e).getDetail()).contains("already failed"));
        assertThat(server.isAuthenticated()).isFalse();
    }

    private static ScramServerSession afterFirst(String clientFirst) throws ScramException {
        ScramServerSession server = rfcServer();
        server.handleClientFirst(MECH, b(clientFirst));
        return server;
    }

    private static void assertServerFinalFails(String clientFinal, String detailFragment) throws ScramException {
        ScramServerSession server = afterFirst(C1);
        assertThatThrownBy(() -> server.handleClientFinal(b(clientFinal)))
                .isInstanceOf(ScramException.class)
                .hasMessage(ScramException.CLIENT_MESSAGE)
                .satisfies(e -> assertThat(((ScramException) e).getDetail()).contains(detailFragment));
        assertThat(server.isAuthenticated()).isFalse();
    }

    @Test
    void tamperedProofFails() throws Exception {
        assertServerFinalFails(C2.replace("p=dHzb", "p=dHzc"), "proof");
        assertServerFinalFails(C2.replace("p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "p=dHzbZapWIk4jUhN+Ute9yg=="), "proof");
        assertServerFinalFails(C2.replace("p=dHzb", "p=*Hzb"), "base64");
    }

    @Test
    void tamperedNonceFails() throws Exception {
        assertServerFinalFails(C2.replace("$k0,", "$k1,"), "nonce");
        assertServerFinalFails(C2.replace("$k0,", "$k0x,"), "nonce"); // must be exact, not a prefix
        assertServerFinalFails(C2.replace("hNlF$k0,", ","), "nonce");
    }

    @Test
    void channelBindingIsRefusedAndCheckedAgainstTheGs2Header() throws Exception {
        ScramServerSession server = rfcServer();
        assertThatThrownBy(() -> server.handleClientFirst(MECH, b("p=tls-server-end-point,,n=,r=abc")))
                .isInstanceOf(ScramException.class)
                .satisfies(e -> assertThat(((ScramException) e).getDetail()).contains("channel binding"));

        assertServerFinalFails(C2.replace("c=biws", "c=eSws"), "channel-binding");
        assertServerFinalFails(C2.replace("c=biws", "c=cD10bHMtc2VydmVyLWVuZC1wb2ludCws"), "channel-binding");

        // "y": the client supports binding but was not offered it; its c= must then be "y,,".
        ScramServerSession y = afterFirst("y,,n=user,r=" + CLIENT_NONCE);
        assertThatThrownBy(() -> y.handleClientFinal(b(C2))).isInstanceOf(ScramException.class);
        ScramServerSession y2 = afterFirst("y,,n=,r=" + CLIENT_NONCE);
        ScramClientSession client = new ScramClientSession("pencil", "", CLIENT_NONCE);
        client.clientFirst();
        String c2 = new String(client.handleServerFirst(b(S1)), UTF_8);
        assertThatThrownBy(() -> y2.handleClientFinal(b(c2))).isInstanceOf(ScramException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1", "scram-sha-256", "", "PLAIN"})
    void wrongMechanismFails(String mechanism) {
        ScramServerSession server = rfcServer();
        assertThatThrownBy(() -> server.handleClientFirst(mechanism, b(C1)))
                .isInstanceOf(ScramException.class)
                .hasMessage(ScramException.CLIENT_MESSAGE);
        assertThatThrownBy(() -> server.handleClientFirst(MECH, b(C1))).isInstanceOf(ScramException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "n", "n,,", "n,,n=", "n,,r=abc", "n,,n=user", "x,,n=,r=abc", "n=,r=abc",
        "n,a=admin,n=,r=abc", "n,x,n=,r=abc", "n,,m=ext,n=,r=abc", "n,,n=,r=abc,x=ext", "n,,n=,r=abc,",
        "n,,n=,r=", "n,,n=,r=a b", "n,,n=,r=ab\u00E9", "n,,n=,x=abc", "n,,n=,r=abc\u0000",
        "N,,n=,r=abc", "n,,,n=,r=abc",
    })
    void malformedClientFirstFails(String clientFirst) {
        ScramServerSession server = rfcServer();
        assertThatThrownBy(() -> server.handleClientFirst(MECH, b(clientFirst)))
                .isInstanceOf(ScramException.class)
                .hasMessage(ScramException.CLIENT_MESSAGE);
    }

    @Test
    void clientFirstThatIsNotUtf8Fails() {
        byte[] bad = {'n', ',', ',', 'n', '=', (byte) 0xC3, ',', 'r', '=', 'a'};
        assertThatThrownBy(() -> rfcServer().handleClientFirst(MECH, bad)).isInstanceOf(ScramException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "c=biws", "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,x=ext,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=",
        "biws,rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    })
    void malformedClientFinalFails(String clientFinal) throws Exception {
        ScramServerSession server = afterFirst(C1);
        assertThatThrownBy(() -> server.handleClientFinal(b(clientFinal)))
                .isInstanceOf(ScramException.class)
                .hasMessage(ScramException.CLIENT_MESSAGE);
    }

    @Test
    void outOfOrderCallsFail() throws Exception {
        assertThatThrownBy(() -> rfcServer().handleClientFinal(b(C2))).isInstanceOf(ScramException.class);
        ScramServerSession server = afterFirst(C1);
        assertThatThrownBy(() -> server.handleClientFirst(MECH, b(C1))).isInstanceOf(ScramException.class);
        assertThatThrownBy(() -> server.handleClientFinal(b(C2))).isInstanceOf(ScramException.class);

        ScramClientSession client = new ScramClientSession("pencil", "user", CLIENT_NONCE);
        assertThatThrownBy(() -> client.handleServerFirst(b(S1))).isInstanceOf(ScramException.class);
        ScramClientSession client2 = new ScramClientSession("pencil", "user", CLIENT_NONCE);
        client2.clientFirst();
        assertThatThrownBy(client2::clientFirst).isInstanceOf(IllegalStateException.class);
    }

    // ------------------------------------------------------------------ client side vs. a hostile server

    private static ScramClientSession clientAfterFirst() {
        ScramClientSession client = new ScramClientSession("pencil", "user", CLIENT_NONCE);
        client.clientFirst();
        return client;
    }

    private static void assertServerFirstRejected(String serverFirst, String detailFragment) {
        ScramClientSession client = clientAfterFirst();
        assertThatThrownBy(() -> client.handleServerFirst(b(serverFirst)))
                .isInstanceOf(ScramException.class)
                .hasMessage(ScramException.UPSTREAM_MESSAGE)
                .satisfies(e -> assertThat(((ScramException) e).getDetail()).contains(detailFragment));
    }

    @Test
    void clientRejectsHostileServerFirst() {
        assertServerFirstRejected(S1.replace("i=4096", "i=0"), "iteration");
        assertServerFirstRejected(S1.replace("i=4096", "i=1000001"), "iteration");
        assertServerFirstRejected(S1.replace("i=4096", "i=2147483648"), "iteration");
        assertServerFirstRejected(S1.replace("i=4096", "i=-1"), "iteration");
        assertServerFirstRejected(S1.replace("i=4096", "i=+4096"), "iteration");
        assertServerFirstRejected(S1.replace("i=4096", "i="), "iteration");
        assertServerFirstRejected("r=" + CLIENT_NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "nonce");
        assertServerFirstRejected(S1.replace("r=rOpr", "r=xOpr"), "nonce");
        assertServerFirstRejected(S1.replace("$k0", "$k0 "), "nonce");
        assertServerFirstRejected(S1.replace("s=W22ZaJ0SNY7soEsUEjb6gQ==", "s="), "salt");
        assertServerFirstRejected(S1.replace("s=W22Z", "s=*22Z"), "base64");
        assertServerFirstRejected("m=ext," + S1, "mandatory");
        assertServerFirstRejected(S1 + ",x=ext", "extension");
        assertServerFirstRejected("s=W22ZaJ0SNY7soEsUEjb6gQ==,r=rOprNGfwEbeRWgbNEkqOabc,i=4096", "r=");
        assertServerFirstRejected("e=other-error", "malformed");
    }

    @Test
    void clientAcceptsTheMaximumIterationCount() throws Exception {
        ScramClientSession client = clientAfterFirst();
        String s1 = S1.replace("i=4096", "i=" + ScramClientSession.MAX_ITERATIONS);
        assertThat(new String(client.handleServerFirst(b(s1)), UTF_8)).startsWith("c=biws,r=");
    }

    private static ScramClientSession clientAwaitingFinal() throws ScramException {
        ScramClientSession client = clientAfterFirst();
        client.handleServerFirst(b(S1));
        return client;
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", "v=", "v=6rriTRBi23WpRR/wtup+mA==", "v=*",
        "e=invalid-proof", "e=other-error", "", "x=1",
        "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=,x=ext",
    })
    void clientRejectsBadServerFinal(String serverFinal) throws Exception {
        ScramClientSession client = clientAwaitingFinal();
        assertThatThrownBy(() -> client.verifyServerFinal(b(serverFinal)))
                .isInstanceOf(ScramException.class)
                .hasMessage(ScramException.UPSTREAM_MESSAGE);
        assertThat(client.isAuthenticated()).isFalse();
        // The right signature after a failure does not revive the session.
        assertThatThrownBy(() -> client.verifyServerFinal(b(S2))).isInstanceOf(ScramException.class);
        assertThat(client.isAuthenticated()).isFalse();
    }

    @Test
    void serverErrorIsKeptForLogsOnly() throws Exception {
        ScramClientSession client = clientAwaitingFinal();
        assertThatThrownBy(() -> client.verifyServerFinal(b("e=invalid-proof\n")))
                .isInstanceOf(ScramException.class)
                .hasMessageNotContaining("invalid-proof")
                .satisfies(e -> assertThat(((ScramException) e).getDetail()).contains("invalid-proof?"));
    }

    @Test
    void callerSuppliedMessageDoublesAsDetail() {
        ScramException e = new ScramException("server offers only [PLAIN]");
        assertThat(e.getMessage()).isEqualTo(e.getDetail()).isEqualTo("server offers only [PLAIN]");
    }

    @Test
    void usernameIsEscapedButIgnoredByTheServer() throws Exception {
        ScramClientSession client = new ScramClientSession("pencil", "a=b,c", CLIENT_NONCE);
        String first = new String(client.clientFirst(), UTF_8);
        assertThat(first).isEqualTo("n,,n=a=3Db=2Cc,r=" + CLIENT_NONCE);
        ScramServerSession server = rfcServer();
        client.verifyServerFinal(server.handleClientFinal(client.handleServerFirst(server.handleClientFirst(MECH, b(first)))));
        assertThat(server.isAuthenticated()).isTrue();
    }
}
