package dev.warden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.identity.scram.ScramClientSession;
import dev.warden.identity.scram.ScramServerSession;
import dev.warden.identity.scram.ScramVerifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Map;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Config validation: every mistake an operator can make is refused with a message naming the key to fix. */
class ConfigLoaderTest {
    private static final String USERS = """
            users:
              - name: alice
                password: alice-pw
            """;
    private static final String TARGETS = """
            targets:
              bank:
                host: db.internal
                user: warden_bank
            """;

    @TempDir
    Path dir;

    private WardenConfig parse(String yaml) {
        return parse(yaml, Map.of());
    }

    private WardenConfig parse(String yaml, Map<String, String> env) {
        return ConfigLoader.parse(yaml, new Secrets(env, dir), dir);
    }

    private AbstractThrowableAssert<?, ? extends Throwable> assertRefused(String yaml) {
        return assertThatThrownBy(() -> parse(yaml)).isInstanceOf(ConfigException.class);
    }

    // ------------------------------------------------------------------ defaults

    @Test
    void minimalConfigGetsDocumentedDefaults() {
        WardenConfig c = parse(USERS + TARGETS);
        assertThat(c.listen().host()).isEqualTo("127.0.0.1");
        assertThat(c.listen().port()).isEqualTo(7432);
        assertThat(c.limits().maxMessageBytes()).isEqualTo(64 * 1024 * 1024);
        assertThat(c.limits().startupTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.limits().maxConnections()).isEqualTo(1000);
        assertThat(c.tls().enabled()).isFalse();
        assertThat(c.tls().required()).isFalse();
        WardenConfig.Target bank = c.target("bank").orElseThrow();
        assertThat(bank.sslmode()).isEqualTo(WardenConfig.SslMode.REQUIRE);
        assertThat(bank.port()).isEqualTo(5432);
        assertThat(bank.database()).as("database defaults to the target's name").isEqualTo("bank");
        assertThat(bank.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(bank.password()).isNull();
        assertThat(c.user("alice").orElseThrow().targets()).as("no targets list = every target").isEmpty();
        assertThat(c.user("alice").orElseThrow().mayUse("bank")).isTrue();
    }

    @Test
    void explicitValuesOverrideDefaults() {
        WardenConfig c = parse("""
                listen:
                  host: 0.0.0.0
                  port: 6543
                limits:
                  maxMessageBytes: 64KB
                  startupTimeout: 1500ms
                  maxConnections: 7
                """ + USERS + """
                targets:
                  bank:
                    host: db.internal
                    port: 15432
                    database: core
                    user: warden_bank
                    sslmode: disable
                    connectTimeout: 2m
                """);
        assertThat(c.listen().host()).isEqualTo("0.0.0.0");
        assertThat(c.listen().port()).isEqualTo(6543);
        assertThat(c.limits().maxMessageBytes()).isEqualTo(65536);
        assertThat(c.limits().startupTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(c.limits().maxConnections()).isEqualTo(7);
        WardenConfig.Target bank = c.target("bank").orElseThrow();
        assertThat(bank.port()).isEqualTo(15432);
        assertThat(bank.database()).isEqualTo("core");
        assertThat(bank.sslmode()).isEqualTo(WardenConfig.SslMode.DISABLE);
        assertThat(bank.connectTimeout()).isEqualTo(Duration.ofMinutes(2));
    }

    @ParameterizedTest
    @CsvSource({"1024,1024", "65536,65536", "64KB,65536", "16MB,16777216", "16 MiB,16777216", "1GB,1073741824", "2kib,2048"})
    void sizesAcceptPlainBytesAndBinaryUnits(String text, long bytes) {
        WardenConfig c = parse("limits:\n  maxMessageBytes: " + text + "\n" + USERS + TARGETS);
        assertThat(c.limits().maxMessageBytes()).isEqualTo(bytes);
    }

    // ------------------------------------------------------------------ unknown keys

    @Test
    void unknownTargetKeyNamesItsFullPathAndListsTheKnownKeys() {
        assertRefused(USERS + TARGETS + "    prot: 5432\n")
                .hasMessageStartingWith("targets.bank.prot: unknown key")
                .hasMessageContaining("known keys here are allowStaticUsers, classifiedTables, connectTimeout, database, environment, host, masking, password, port, roles, sslmode, sslrootcert, user");
    }

    @Test
    void unknownTopLevelKeyIsRefused() {
        assertRefused("listn:\n  port: 1\n" + USERS + TARGETS)
                .hasMessage("listn: unknown key; known keys here are approvals, audit, http, limits, listen, oidc, recording, reports, targets, tls, users");
    }

    @Test
    void unknownKeyInAUserEntryNamesItsIndex() {
        assertRefused("users:\n  - name: alice\n    passwd: x\n" + TARGETS)
                .hasMessageStartingWith("users[0].passwd: unknown key")
                .hasMessageContaining("name, password, scramVerifier, targets");
    }

    @Test
    void misspelledSecuritySettingIsNotSilentlyIgnored() {
        assertRefused("tls:\n  requried: true\n" + USERS + TARGETS)
                .hasMessageStartingWith("tls.requried: unknown key")
                .hasMessageContaining("certificate, enabled, privateKey, required");
    }

    // ------------------------------------------------------------------ required values and ranges

    @Test
    void targetWithoutHostIsRefused() {
        assertRefused(USERS + "targets:\n  bank:\n    user: warden_bank\n").hasMessage("targets.bank.host: is required");
    }

    @Test
    void targetWithEmptyHostIsRefused() {
        assertRefused(USERS + "targets:\n  bank:\n    host:\n    user: warden_bank\n").hasMessage("targets.bank.host: is required");
    }

    @Test
    void targetWithoutUserIsRefused() {
        assertRefused(USERS + "targets:\n  bank:\n    host: db\n").hasMessage("targets.bank.user: is required");
    }

    @Test
    void configWithoutTargetsIsRefused() {
        assertRefused(USERS).hasMessageContaining("targets: at least one upstream target is required");
    }

    @Test
    void userWithoutNameIsRefused() {
        assertRefused("users:\n  - password: x\n" + TARGETS).hasMessage("users[0].name: is required");
    }

    @ParameterizedTest
    @ValueSource(ints = {65536, 70000, -1})
    void listenPortOutOfRangeIsRefused(int port) {
        assertRefused("listen:\n  port: " + port + "\n" + USERS + TARGETS)
                .hasMessage("listen.port: expected a whole number between 0 and 65535, got " + port);
    }

    @Test
    void targetPortZeroIsRefused() {
        assertRefused(USERS + TARGETS + "    port: 0\n")
                .hasMessage("targets.bank.port: expected a whole number between 1 and 65535, got 0");
    }

    @Test
    void nonNumericPortIsRefusedWithTheValueQuoted() {
        assertRefused("listen:\n  port: http\n" + USERS + TARGETS)
                .hasMessage("listen.port: expected a whole number between 0 and 65535, got 'http'");
    }

    @Test
    void fractionalPortIsRefused() {
        assertRefused("listen:\n  port: 5432.5\n" + USERS + TARGETS)
                .hasMessageStartingWith("listen.port: expected a whole number between 0 and 65535");
    }

    @ParameterizedTest
    @ValueSource(strings = {"512", "2GB", "-5", "0"})
    void sizeOutsideTheAllowedRangeIsRefused(String size) {
        assertRefused("limits:\n  maxMessageBytes: " + size + "\n" + USERS + TARGETS)
                .hasMessageStartingWith("limits.maxMessageBytes: expected a size between 1024 and 1073741824 bytes");
    }

    @ParameterizedTest
    @ValueSource(strings = {"lots", "1.5MB", "64 KB please"})
    void unparseableSizeIsRefused(String size) {
        assertRefused("limits:\n  maxMessageBytes: " + size + "\n" + USERS + TARGETS)
                .hasMessage("limits.maxMessageBytes: expected a size such as 16MB or 65536, got '" + size + "'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"10", "ten seconds", "10 minutes", "1d", "-5s", "1.5s"})
    void badDurationIsRefusedWithExamples(String d) {
        assertRefused("limits:\n  startupTimeout: " + d + "\n" + USERS + TARGETS)
                .hasMessage("limits.startupTimeout: expected a duration such as 500ms, 10s, 5m or 1h, got '" + d + "'");
    }

    @Test
    void badTargetConnectTimeoutNamesTheTarget() {
        assertRefused(USERS + TARGETS + "    connectTimeout: soon\n")
                .hasMessageStartingWith("targets.bank.connectTimeout: expected a duration");
    }

    @Test
    void nonBooleanIsRefused() {
        assertRefused("tls:\n  enabled: yes please\n" + USERS + TARGETS)
                .hasMessage("tls.enabled: expected true or false, got 'yes please'");
    }

    // ------------------------------------------------------------------ sslmode

    @Test
    void unknownSslmodeListsTheAllowedValues() {
        assertRefused(USERS + TARGETS + "    sslmode: prefer\n")
                .hasMessage("targets.bank.sslmode: expected one of disable, require, verify-full, got 'prefer'");
    }

    @ParameterizedTest
    @CsvSource({"disable,DISABLE", "require,REQUIRE", "REQUIRE,REQUIRE", "verify_full,VERIFY_FULL"})
    void sslmodeSpellingsThatMeanTheSameAreAccepted(String text, WardenConfig.SslMode mode) throws Exception {
        Files.writeString(dir.resolve("root.crt"), "not checked at load");
        WardenConfig c = parse(USERS + TARGETS + "    sslmode: " + text + "\n    sslrootcert: root.crt\n");
        assertThat(c.target("bank").orElseThrow().sslmode()).isEqualTo(mode);
    }

    @Test
    void verifyFullWithoutRootCertificateIsRefused() {
        assertRefused(USERS + TARGETS + "    sslmode: verify-full\n").hasMessage("targets.bank.sslrootcert: is required");
    }

    @Test
    void verifyFullWithMissingRootCertificateFileIsRefused() {
        assertRefused(USERS + TARGETS + "    sslmode: verify-full\n    sslrootcert: nowhere.crt\n")
                .hasMessageStartingWith("targets.bank.sslrootcert: file ")
                .hasMessageContaining(dir.resolve("nowhere.crt").toString())
                .hasMessageEndingWith("does not exist or is not readable");
    }

    // ------------------------------------------------------------------ secrets

    @Test
    void envReferenceIsResolved() {
        WardenConfig c = parse(USERS + TARGETS + "    password: ${env:BANK_PW}\n", Map.of("BANK_PW", "s3cret!"));
        assertThat(c.target("bank").orElseThrow().password()).isEqualTo("s3cret!");
    }

    @Test
    void missingEnvVariableIsRefusedNamingTheVariableAndTheKey() {
        assertThatThrownBy(() -> parse(USERS + TARGETS + "    password: ${env:BANK_PW}\n", Map.of("OTHER", "x")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("targets.bank.password: environment variable BANK_PW is not set");
    }

    @Test
    void userPasswordFromEnvIsHashedFromTheResolvedValue() {
        WardenConfig c = parse("users:\n  - name: alice\n    password: ${env:ALICE_PW}\n" + TARGETS,
                Map.of("ALICE_PW", "from-env"));
        assertThat(verifies(c.user("alice").orElseThrow().scramVerifier(), "from-env")).isTrue();
        assertThat(verifies(c.user("alice").orElseThrow().scramVerifier(), "${env:ALICE_PW}")).isFalse();
    }

    @Test
    void fileReferenceIsReadWithTheTrailingNewlineStripped() throws Exception {
        Files.writeString(dir.resolve("bank.pw"), "s3cret\n", StandardCharsets.UTF_8);
        WardenConfig c = parse(USERS + TARGETS + "    password: ${file:bank.pw}\n");
        assertThat(c.target("bank").orElseThrow().password()).isEqualTo("s3cret");
    }

    @Test
    void fileReferenceWithAnAbsolutePathAndCrlfIsRead() throws Exception {
        Path secret = Files.createTempDirectory(dir, "elsewhere").resolve("pw");
        Files.writeString(secret, "p@ss word\r\n", StandardCharsets.UTF_8);
        WardenConfig c = parse(USERS + TARGETS + "    password: ${file:" + secret.toAbsolutePath() + "}\n");
        assertThat(c.target("bank").orElseThrow().password()).isEqualTo("p@ss word");
    }

    @Test
    void missingSecretFileIsRefusedNamingTheKeyAndThePath() {
        assertRefused(USERS + TARGETS + "    password: ${file:missing.pw}\n")
                .hasMessageStartingWith("targets.bank.password: cannot read secret file ")
                .hasMessageContaining(dir.resolve("missing.pw").toString());
    }

    @Test
    void valueThatOnlyLooksLikeAReferenceIsTakenLiterally() {
        WardenConfig c = parse(USERS + TARGETS + "    password: \"${env:NOPE\"\n");
        assertThat(c.target("bank").orElseThrow().password()).isEqualTo("${env:NOPE");
    }

    // ------------------------------------------------------------------ users

    @Test
    void userWithBothPasswordAndVerifierIsRefused() {
        String verifier = ScramVerifier.fromPassword("x").format();
        assertRefused("users:\n  - name: alice\n    password: x\n    scramVerifier: " + verifier + "\n" + TARGETS)
                .hasMessage("users[0]: give exactly one of 'password' (hashed at load) or 'scramVerifier'");
    }

    @Test
    void userWithNeitherPasswordNorVerifierIsRefused() {
        assertRefused("users:\n  - name: alice\n" + TARGETS)
                .hasMessage("users[0]: give exactly one of 'password' (hashed at load) or 'scramVerifier'");
    }

    @Test
    void malformedVerifierIsRefusedWithoutEchoingIt() {
        assertRefused("users:\n  - name: alice\n    scramVerifier: md5abcdef0123\n" + TARGETS)
                .hasMessageStartingWith("users[0].scramVerifier: not a SCRAM secret")
                .hasMessageNotContaining("md5abcdef0123");
    }

    @Test
    void givenVerifierIsKeptAsIs() {
        String verifier = ScramVerifier.fromPassword("pw").format();
        WardenConfig c = parse("users:\n  - name: alice\n    scramVerifier: " + verifier + "\n" + TARGETS);
        assertThat(c.user("alice").orElseThrow().scramVerifier()).isEqualTo(verifier);
    }

    @Test
    void userTargetNamingAnUnknownTargetIsRefused() {
        assertRefused("users:\n  - name: alice\n    password: x\n    targets: [bank, nope]\n" + TARGETS)
                .hasMessageContaining("alice")
                .hasMessageContaining("'nope' is not a configured target");
    }

    @Test
    void userTargetsRestrictAccess() {
        WardenConfig c = parse("users:\n  - name: alice\n    password: x\n    targets: [bank]\n" + TARGETS
                + "  shop:\n    host: db2\n    user: u\n");
        assertThat(c.user("alice").orElseThrow().mayUse("bank")).isTrue();
        assertThat(c.user("alice").orElseThrow().mayUse("shop")).isFalse();
    }

    @Test
    void userDefinedTwiceIsRefused() {
        assertRefused("users:\n  - name: alice\n    password: x\n  - name: alice\n    password: y\n" + TARGETS)
                .hasMessage("users[1].name: user 'alice' is defined twice");
    }

    @Test
    void plaintextPasswordIsHashedToAWorkingScramVerifierAndNotKept() {
        WardenConfig c = parse(USERS + TARGETS);
        String stored = c.user("alice").orElseThrow().scramVerifier();
        ScramVerifier v = ScramVerifier.parse(stored);
        assertThat(v.iterations()).isEqualTo(ScramVerifier.DEFAULT_ITERATIONS);
        assertThat(v.salt()).hasSize(ScramVerifier.DEFAULT_SALT_LENGTH);
        assertThat(ScramVerifier.fromPassword("alice-pw", v.salt(), v.iterations())).isEqualTo(v);
        assertThat(stored).doesNotContain("alice-pw");
        assertThat(c.toString()).doesNotContain("alice-pw");
        assertThat(verifies(stored, "alice-pw")).isTrue();
        assertThat(verifies(stored, "alice-pw ")).isFalse();
        // a fresh salt per load: equal passwords do not give equal verifiers
        assertThat(parse(USERS + TARGETS).user("alice").orElseThrow().scramVerifier()).isNotEqualTo(stored);
    }

    @Test
    void targetPasswordNeverAppearsInTheTargetsPrintedForm() {
        WardenConfig c = parse(USERS + TARGETS + "    password: hunter2-upstream\n");
        assertThat(c.target("bank").orElseThrow().toString()).doesNotContain("hunter2-upstream");
        assertThat(c.toString()).doesNotContain("hunter2-upstream");
    }

    // ------------------------------------------------------------------ tls

    @Test
    void tlsRequiredWithoutTlsEnabledIsRefused() {
        assertRefused("tls:\n  required: true\n" + USERS + TARGETS)
                .hasMessage("tls.required: cannot require TLS while tls.enabled is false");
    }

    @Test
    void tlsEnabledWithMissingCertificateFileIsRefused() throws Exception {
        Files.writeString(dir.resolve("server.key"), "key");
        assertRefused("tls:\n  enabled: true\n  certificate: server.crt\n  privateKey: server.key\n" + USERS + TARGETS)
                .hasMessage("tls.certificate: file " + dir.resolve("server.crt") + " does not exist or is not readable");
    }

    @Test
    void tlsEnabledWithMissingPrivateKeyFileIsRefused() throws Exception {
        Files.writeString(dir.resolve("server.crt"), "cert");
        assertRefused("tls:\n  enabled: true\n  certificate: server.crt\n  privateKey: server.key\n" + USERS + TARGETS)
                .hasMessageStartingWith("tls.privateKey: file ");
    }

    @Test
    void tlsEnabledWithoutCertificateKeyIsRefused() {
        assertRefused("tls:\n  enabled: true\n" + USERS + TARGETS).hasMessage("tls.certificate: is required");
    }

    @Test
    void tlsFilesResolveAgainstTheConfigFilesDirectory() throws Exception {
        Path conf = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(conf.resolve("server.crt"), "cert");
        Files.writeString(conf.resolve("server.key"), "key");
        Path file = conf.resolve("warden.yaml");
        Files.writeString(file, "tls:\n  enabled: true\n  required: true\n  certificate: server.crt\n  privateKey: server.key\n"
                + USERS + TARGETS);
        WardenConfig c = ConfigLoader.load(file, Map.of());
        assertThat(c.tls().enabled()).isTrue();
        assertThat(c.tls().required()).isTrue();
        assertThat(c.tls().certificate()).isEqualTo(conf.resolve("server.crt"));
        assertThat(c.tls().privateKey()).isEqualTo(conf.resolve("server.key"));
    }

    // ------------------------------------------------------------------ files and syntax

    @Test
    void invalidYamlIsRefusedAsSuch() {
        assertRefused("listen:\n  port: [1, 2\nusers: {").hasMessageStartingWith("config is not valid YAML");
    }

    @Test
    void tabIndentedYamlIsRefusedAsInvalidYaml() {
        assertRefused("listen:\n\tport: 5\n").hasMessageStartingWith("config is not valid YAML");
    }

    @Test
    void wrongShapeIsRefusedNamingTheKey() {
        assertRefused("users:\n  alice: {password: x}\n" + TARGETS).hasMessage("users: expected a list");
        assertRefused(USERS + "targets:\n  - bank\n").hasMessage("targets: expected a mapping");
        assertRefused(USERS + "targets:\n  bank:\n    host: {a: b}\n    user: u\n").hasMessage("targets.bank.host: expected a single value");
    }

    @Test
    void missingConfigFileIsAReadableError() {
        Path missing = dir.resolve("nope.yaml");
        assertThatThrownBy(() -> ConfigLoader.load(missing, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("cannot read config file " + missing);
    }

    @Test
    void fileSecretsResolveAgainstTheConfigFilesDirectory() throws Exception {
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Files.writeString(conf.resolve("bank.pw"), "from-file\n");
        Path file = conf.resolve("warden.yaml");
        Files.writeString(file, USERS + TARGETS + "    password: ${file:bank.pw}\n");
        assertThat(ConfigLoader.load(file, Map.of()).target("bank").orElseThrow().password()).isEqualTo("from-file");
    }

    // ------------------------------------------------------------------ edge cases that must stay readable

    @Test
    void quotedWholeNumberIsAcceptedLikeAnUnquotedOne() {
        // the loader has a branch for digit strings; a quoted port ("6543") is common in templated YAML
        WardenConfig c = parse("listen:\n  port: \"6543\"\n" + USERS + TARGETS);
        assertThat(c.listen().port()).isEqualTo(6543);
    }

    @Test
    void absurdlyLongDurationIsAConfigErrorNotACrash() {
        assertRefused("limits:\n  startupTimeout: 99999999999999999999s\n" + USERS + TARGETS)
                .hasMessageStartingWith("limits.startupTimeout: ");
        assertRefused("limits:\n  startupTimeout: 9999999999999999h\n" + USERS + TARGETS)
                .hasMessageStartingWith("limits.startupTimeout: ");
    }

    @Test
    void sizeThatOverflowsIsRefusedNotWrappedAround() {
        // 2^54 + 1 KiB wraps to exactly 1024 bytes in 64-bit arithmetic
        assertRefused("limits:\n  maxMessageBytes: 18014398509481985KB\n" + USERS + TARGETS)
                .hasMessageStartingWith("limits.maxMessageBytes: ");
    }

    // ------------------------------------------------------------------ helpers

    /** Runs a real SCRAM-SHA-256 exchange of a client knowing {@code password} against {@code verifier}. */
    private static boolean verifies(String verifier, String password) {
        SecureRandom random = new SecureRandom();
        ScramServerSession server = new ScramServerSession(ScramVerifier.parse(verifier), random);
        ScramClientSession client = new ScramClientSession(password, random);
        try {
            byte[] serverFirst = server.handleClientFirst("SCRAM-SHA-256", client.clientFirst());
            byte[] serverFinal = server.handleClientFinal(client.handleServerFirst(serverFirst));
            client.verifyServerFinal(serverFinal);
            return server.isAuthenticated() && client.isAuthenticated();
        } catch (Exception e) {
            return false;
        }
    }
}
