package dev.warden.identity.scram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScramVerifierTest {

    private static final byte[] RFC_SALT = Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ==");
    // Computed independently with Python's hashlib.pbkdf2_hmac / hmac for "pencil" and "".
    private static final String PENCIL =
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
                    + ":wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";
    private static final String EMPTY =
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AJ6h8dbzJdqPups1RHMsUwUwWmoe55vzkmldCT32rlY="
                    + ":PaPyzvmMvez2KHVzr2IQl1SyC/VgZCEXKozJyWErWOE=";

    @Test
    void parseFormatRoundTrip() {
        ScramVerifier v = ScramVerifier.parse(PENCIL);
        assertThat(v.iterations()).isEqualTo(4096);
        assertThat(v.salt()).isEqualTo(RFC_SALT);
        assertThat(v.storedKey()).hasSize(32);
        assertThat(v.format()).isEqualTo(PENCIL);
        assertThat(ScramVerifier.parse(v.format())).isEqualTo(v).hasSameHashCodeAs(v);
    }

    @Test
    void derivationMatchesAnIndependentImplementation() {
        assertThat(ScramVerifier.fromPassword("pencil", RFC_SALT, 4096).format()).isEqualTo(PENCIL);
        assertThat(ScramVerifier.fromPassword("", RFC_SALT, 4096).format()).isEqualTo(EMPTY);
    }

    @Test
    void randomSaltDefaults() {
        ScramVerifier a = ScramVerifier.fromPassword("secret");
        ScramVerifier b = ScramVerifier.fromPassword("secret");
        assertThat(a.iterations()).isEqualTo(4096);
        assertThat(a.salt()).hasSize(16);
        assertThat(a.salt()).isNotEqualTo(b.salt());
        assertThat(ScramVerifier.fromPassword("secret", a.salt(), 4096)).isEqualTo(a);
    }

    @Test
    void immutableAndRedacted() {
        ScramVerifier v = ScramVerifier.parse(PENCIL);
        v.storedKey()[0] ^= 1;
        v.salt()[0] ^= 1;
        assertThat(v.format()).isEqualTo(PENCIL);
        byte[] salt = RFC_SALT.clone();
        ScramVerifier w = new ScramVerifier(4096, salt, v.storedKey(), v.serverKey());
        salt[0] ^= 1;
        assertThat(w).isEqualTo(v);
        assertThat(v.toString()).doesNotContain("WG5d8oPm").doesNotContain("wfPLwcE6").contains("redacted");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "md53f48b7c4b76a86ce72276c5755f217d",
        "SCRAM-SHA-1$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=",
        "SCRAM-SHA-256$4096$W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$0:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$-1:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$+5:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$99999999999:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:not*base64$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7A==:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=:x",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=$",
    })
    void parseRejectsMalformedSecrets(String secret) {
        assertThatThrownBy(() -> ScramVerifier.parse(secret))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageNotContaining("wfPLwcE6");
    }

    @Test
    void parseMessagesSayWhatIsWrong() {
        assertThatThrownBy(() -> ScramVerifier.parse("md5abc")).hasMessageContaining("not a SCRAM secret");
        assertThatThrownBy(() -> ScramVerifier.parse(PENCIL.replace("$4096:", "$x:")))
                .hasMessageContaining("iteration count");
        assertThatThrownBy(() -> ScramVerifier.parse(PENCIL.replace("$WG5d8oPm", "$!!5d8oPm")))
                .hasMessageContaining("StoredKey");
    }

    @Test
    void saslPrepFollowsPostgres() {
        assertThat(prep("pencil")).isEqualTo("pencil");
        assertThat(prep("I\u00ADX")).isEqualTo("IX"); // soft hyphen is mapped to nothing
        assertThat(prep("\u2168")).isEqualTo("IX"); // NFKC of ROMAN NUMERAL NINE
        assertThat(prep("\u00AA")).isEqualTo("a");
        assertThat(prep("a\u00A0\u00E9")).isEqualTo("a \u00E9"); // non-ASCII space becomes SPACE
        assertThat(prep("\u0007")).isEqualTo("\u0007"); // ASCII is never touched
        // Not valid SASLprep: raw bytes, not normalised.
        assertThat(prep("\u00AD")).isEqualTo("\u00AD"); // maps to nothing at all
        assertThat(prep("\u2168\u0007")).isEqualTo("\u2168\u0007"); // prohibited control char
        assertThat(prep("\u0627\u0031")).isEqualTo("\u0627\u0031"); // bidi: must end in RandALCat
        assertThat(prep("\u0627x\u0628")).isEqualTo("\u0627x\u0628"); // bidi: mixes L and R
        assertThat(prep("\u0627\u0031\u0628")).isEqualTo("\u0627\u0031\u0628");
        assertThatThrownBy(() -> ScramVerifier.saslPrep("\u00E9\uD800"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ScramVerifier.fromPassword("a\u0000"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static String prep(String s) {
        return new String(ScramVerifier.saslPrep(s), StandardCharsets.UTF_8);
    }

    @Test
    void md5MatchesTheFormula() {
        // md5sum of "secretpostgres", then of its hex + 01 02 03 04, computed with coreutils.
        assertThat(Md5Password.storedHash("postgres", "secret")).isEqualTo("md553f48b7c4b76a86ce72276c5755f217d");
        assertThat(new String(Md5Password.response("postgres", "secret", new byte[] {1, 2, 3, 4}),
                StandardCharsets.US_ASCII)).isEqualTo("md5bb41a296aab6baccb36ff243a562abff");
        assertThatThrownBy(() -> Md5Password.response("u", "p", new byte[3]))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** Passwords exercising each SASLprep branch; each must hash exactly as PostgreSQL 17 does. */
    private static final List<String> PASSWORDS = List.of(
            "secret", "p\u00E4ssw\u00F6rd", "\u2168", "I\u00ADX", "\uFB01re", "a\u00A0b\u3000c",
            "\u2168\u0007", "\u0627\u0031", "\u0627\u0031\u0628", "\u00AD", "e\u0301\uE000");

    @Test
    void verifiersProducedByRealPostgresMatch() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.start();
                Connection c = pg.getPostgresDatabase().getConnection();
                Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SHOW server_encoding")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("UTF8");
            }
            st.execute("SET password_encryption = 'scram-sha-256'");
            for (int i = 0; i < PASSWORDS.size(); i++) {
                String password = PASSWORDS.get(i);
                st.execute("CREATE ROLE u" + i + " LOGIN PASSWORD '" + password + "'");
                ScramVerifier fromPg = ScramVerifier.parse(rolpassword(c, "u" + i));
                assertThat(fromPg.format()).isEqualTo(rolpassword(c, "u" + i));
                ScramVerifier ours = ScramVerifier.fromPassword(password, fromPg.salt(), fromPg.iterations());
                assertThat(ours.storedKey()).as("StoredKey for password #%d", i).isEqualTo(fromPg.storedKey());
                assertThat(ours.serverKey()).as("ServerKey for password #%d", i).isEqualTo(fromPg.serverKey());
            }
            // The normalisation really happened on PostgreSQL's side too.
            ScramVerifier nine = ScramVerifier.parse(rolpassword(c, "u2"));
            assertThat(ScramVerifier.fromPassword("IX", nine.salt(), nine.iterations())).isEqualTo(nine);

            st.execute("SET password_encryption = 'md5'");
            st.execute("CREATE ROLE m LOGIN PASSWORD 'secret'");
            assertThat(rolpassword(c, "m")).isEqualTo(Md5Password.storedHash("m", "secret"));
        }
    }

    private static String rolpassword(Connection c, String role) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("SELECT rolpassword FROM pg_authid WHERE rolname = ?")) {
            ps.setString(1, role);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return rs.getString(1);
            }
        }
    }
}
