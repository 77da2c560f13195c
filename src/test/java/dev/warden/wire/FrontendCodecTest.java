package dev.warden.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.wire.FrontendCases.Case;
import dev.warden.wire.FrontendMessage.Bind;
import dev.warden.wire.FrontendMessage.PasswordMessage;
import dev.warden.wire.FrontendMessage.StartupMessage;
import dev.warden.wire.WireTestSupport.Bytes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Exact layouts and exact failures of {@link FrontendCodec}; the random properties are in FrontendCodecPropertiesTest. */
class FrontendCodecTest {

    private static final byte[] NULL = null;

    static Stream<Arguments> everyMessageType() {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", "alice");
        params.put("database", "sales");
        params.put("application_name", "");
        return Stream.of(
                Arguments.of(new StartupMessage(196608, params), Bytes.of().i32(196608).cstr("user").cstr("alice")
                        .cstr("database").cstr("sales").cstr("application_name").cstr("").i8(0).untyped()),
                Arguments.of(new FrontendMessage.SSLRequest(), Bytes.of().i32(80877103).untyped()),
                Arguments.of(new FrontendMessage.GSSENCRequest(), Bytes.of().i32(80877104).untyped()),
                Arguments.of(new FrontendMessage.CancelRequest(4242, -7), Bytes.of().i32(80877102).i32(4242).i32(-7).untyped()),
                Arguments.of(new FrontendMessage.Query("SELECT 1"), Bytes.of().cstr("SELECT 1").typed('Q')),
                Arguments.of(new FrontendMessage.Parse("s1", "select $1::int, $2", new int[] {23, 0}),
                        Bytes.of().cstr("s1").cstr("select $1::int, $2").i16(2).i32(23).i32(0).typed('P')),
                Arguments.of(new Bind("p1", "s1", new short[] {1}, new byte[][] {{0, 0, 0, 42}, NULL}, new short[] {0, 1}),
                        Bytes.of().cstr("p1").cstr("s1").i16(1).i16(1).i16(2).i32(4).raw(0, 0, 0, 42).i32(-1)
                                .i16(2).i16(0).i16(1).typed('B')),
                Arguments.of(new FrontendMessage.Describe((byte) 'S', "s1"), Bytes.of().i8('S').cstr("s1").typed('D')),
                Arguments.of(new FrontendMessage.Execute("", 100), Bytes.of().cstr("").i32(100).typed('E')),
                Arguments.of(new FrontendMessage.Sync(), new byte[] {'S', 0, 0, 0, 4}),
                Arguments.of(new FrontendMessage.Flush(), new byte[] {'H', 0, 0, 0, 4}),
                Arguments.of(new FrontendMessage.Close((byte) 'P', "p1"), Bytes.of().i8('P').cstr("p1").typed('C')),
                Arguments.of(new FrontendMessage.CopyData(new byte[] {1, 0, 2}), Bytes.of().raw(1, 0, 2).typed('d')),
                Arguments.of(new FrontendMessage.CopyDone(), new byte[] {'c', 0, 0, 0, 4}),
                Arguments.of(new FrontendMessage.CopyFail("disk full"), Bytes.of().cstr("disk full").typed('f')),
                Arguments.of(new FrontendMessage.FunctionCall(1598, new short[0], new byte[][] {{9}, NULL}, (short) 1),
                        Bytes.of().i32(1598).i16(0).i16(2).i32(1).i8(9).i32(-1).i16(1).typed('F')),
                Arguments.of(PasswordMessage.password("s3cr\u00E9t"), Bytes.of().cstr("s3cr\u00E9t").typed('p')),
                Arguments.of(new FrontendMessage.Terminate(), new byte[] {'X', 0, 0, 0, 4}));
    }

    @ParameterizedTest
    @MethodSource("everyMessageType")
    void encodesTheDocumentedLayoutAndDecodesItBack(FrontendMessage message, byte[] wire) {
        assertThat(WireTestSupport.encode(message)).containsExactly(wire);
        ByteBuf frame = Unpooled.wrappedBuffer(wire);
        FrontendMessage decoded = WireTestSupport.isStartupPhase(message)
                ? FrontendCodec.decodeStartup(frame) : FrontendCodec.decode(frame);
        assertThat(decoded).isEqualTo(message).hasSameHashCodeAs(message);
        assertThat(frame.readerIndex()).isZero();
        if (!WireTestSupport.isStartupPhase(message)) {
            assertThat(FrontendValidator.check(frame)).isNull();
        }
    }

    @Test
    void startupParametersKeepTheirWireOrder() {
        byte[] wire = Bytes.of().i32(196610).cstr("options").cstr("-c x=1").cstr("user").cstr("u").cstr("database")
                .cstr("d").i8(0).untyped();
        StartupMessage m = (StartupMessage) FrontendCodec.decodeStartup(Unpooled.wrappedBuffer(wire));
        assertThat(m.parameters().keySet()).containsExactly("options", "user", "database");
        assertThat(m.majorVersion()).isEqualTo(3);
        assertThat(m.minorVersion()).isEqualTo(2);
        assertThatThrownBy(() -> m.parameters().put("user", "root")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void startupWithoutParametersIsJustTheTerminator() {
        byte[] wire = Bytes.of().i32(196608).i8(0).untyped();
        assertThat(FrontendCodec.decodeStartup(Unpooled.wrappedBuffer(wire)))
                .isEqualTo(new StartupMessage(196608, Map.of()));
    }

    static Stream<Arguments> malformedStartupPackets() {
        return Stream.of(
                Arguments.of(new byte[] {0, 0, 0, 4}, "startup packet of 4 bytes is shorter than the minimum of 8"),
                Arguments.of(Bytes.of().i32(20).i32(196608).i8(0).body(),
                        "startup packet declares length 20 but the frame holds 9 bytes"),
                Arguments.of(Bytes.of().i32(196608).raw(new byte[10000]).untyped(),
                        "startup packet of 10008 bytes exceeds the limit of 10000"),
                Arguments.of(Bytes.of().i32(80877103).i32(0).untyped(), "SSLRequest must be 8 bytes long, not 12"),
                Arguments.of(Bytes.of().i32(80877104).i8(0).untyped(), "GSSENCRequest must be 8 bytes long, not 9"),
                Arguments.of(Bytes.of().i32(80877102).i32(1).untyped(), "CancelRequest must be 16 bytes long, not 12"),
                Arguments.of(Bytes.of().i32(80877102).i32(1).raw(new byte[36]).untyped(),
                        "CancelRequest must be 16 bytes long, not 48"),
                Arguments.of(Bytes.of().i32(0x20000).cstr("user").cstr("u").i8(0).untyped(),
                        "unsupported frontend protocol 2.0: only 3.x is supported"),
                Arguments.of(Bytes.of().i32(80877105).untyped(),
                        "unsupported frontend protocol 1234.5681: only 3.x is supported"),
                Arguments.of(Bytes.of().i32(196608).untyped(),
                        "startup message has no terminating NUL byte after its parameter list"),
                Arguments.of(Bytes.of().i32(196608).cstr("user").cstr("bob").untyped(),
                        "startup message has no terminating NUL byte after its parameter list"),
                Arguments.of(Bytes.of().i32(196608).cstr("user").str("bob").untyped(),
                        "startup message has an unterminated value of parameter \"user\""),
                Arguments.of(Bytes.of().i32(196608).str("user").untyped(), "startup message has an unterminated parameter name"),
                Arguments.of(Bytes.of().i32(196608).cstr("user").cstr("bob").cstr("user").cstr("postgres").i8(0).untyped(),
                        "startup message has parameter \"user\" more than once"),
                Arguments.of(Bytes.of().i32(196608).cstr("user").cstr("bob").i8(0).str("xy").untyped(),
                        "startup message has 2 unexpected trailing bytes"),
                Arguments.of(Bytes.of().i32(196608).cstr("user").raw(0xFF).i8(0).i8(0).untyped(),
                        "startup message has invalid UTF-8 in its value of parameter \"user\""));
    }

    @ParameterizedTest
    @MethodSource("malformedStartupPackets")
    void rejectsMalformedStartupPackets(byte[] wire, String reason) {
        ByteBuf frame = Unpooled.wrappedBuffer(wire);
        assertThatThrownBy(() -> FrontendCodec.decodeStartup(frame)).isInstanceOf(ProtocolViolation.class).hasMessage(reason);
        assertThat(frame.readerIndex()).isZero();
    }

    static List<Case> malformed() {
        return FrontendCases.malformed();
    }

    @ParameterizedTest
    @MethodSource("malformed")
    void rejectsMalformedTypedMessagesWithAReason(Case c) {
        ByteBuf frame = Unpooled.wrappedBuffer(c.frame());
        assertThatThrownBy(() -> FrontendCodec.decode(frame)).isInstanceOf(ProtocolViolation.class).hasMessage(c.expected());
        assertThat(frame.readerIndex()).isZero();
        assertThat(frame.writerIndex()).isEqualTo(c.frame().length);
    }

    static List<Case> valid() {
        return FrontendCases.valid();
    }

    @ParameterizedTest
    @MethodSource("valid")
    void acceptsUnusualButValidMessagesAndReencodesThemIdentically(Case c) {
        FrontendMessage m = FrontendCodec.decode(Unpooled.wrappedBuffer(c.frame()));
        assertThat(WireTestSupport.encode(m)).containsExactly(c.frame());
    }

    @Test
    void neverReadsPastTheFrame() {
        // An unterminated query followed, outside the frame, by a NUL and more bytes.
        byte[] frame = Bytes.of().str("SELECT 1").typed('Q');
        ByteBuf buf = Unpooled.buffer();
        buf.writeBytes(new byte[] {'Q', 0, 0}).writeBytes(frame).writeBytes(new byte[] {0, 0, 0, 0, 0, 0, 0, 0});
        buf.setIndex(3, 3 + frame.length);
        assertThatThrownBy(() -> FrontendCodec.decode(buf)).hasMessage("Query message has an unterminated query string");
        assertThat(FrontendValidator.check(buf)).isEqualTo("Query message has an unterminated query string");
        assertThat(buf.readerIndex()).isEqualTo(3);
    }

    @Test
    void decodesAFrameThatIsNotAtIndexZero() {
        ByteBuf buf = Unpooled.buffer();
        buf.writeBytes(new byte[] {1, 2, 3}).writeBytes(Bytes.of().cstr("SELECT 2").typed('Q')).writeBytes(new byte[] {'S'});
        buf.setIndex(3, buf.writerIndex() - 1);
        assertThat(FrontendCodec.decode(buf)).isEqualTo(new FrontendMessage.Query("SELECT 2"));
        assertThat(buf.readerIndex()).isEqualTo(3);
    }

    @Test
    void saslInitialResponseHelpers() {
        byte[] data = "n,,n=,r=abc".getBytes(StandardCharsets.US_ASCII);
        PasswordMessage withData = PasswordMessage.saslInitialResponse("SCRAM-SHA-256", data);
        assertThat(withData.payload()).containsExactly(Bytes.of().cstr("SCRAM-SHA-256").i32(data.length).raw(data).body());
        PasswordMessage.SaslInitialResponse parsed = withData.asSaslInitialResponse();
        assertThat(parsed.mechanism()).isEqualTo("SCRAM-SHA-256");
        assertThat(parsed.data()).containsExactly(data);
        assertThat(parsed.dataLength()).isEqualTo(data.length);

        PasswordMessage none = PasswordMessage.saslInitialResponse("SCRAM-SHA-256-PLUS", null);
        assertThat(none.payload()).containsExactly(Bytes.of().cstr("SCRAM-SHA-256-PLUS").i32(-1).body());
        assertThat(none.asSaslInitialResponse().data()).isNull();
        assertThat(none.asSaslInitialResponse().dataLength()).isEqualTo(-1);

        // What arrives on the wire decodes to a PasswordMessage whose payload parses the same way.
        PasswordMessage decoded = (PasswordMessage) FrontendCodec.decode(Unpooled.wrappedBuffer(WireTestSupport.encode(withData)));
        assertThat(decoded.asSaslInitialResponse()).isEqualTo(parsed);
        assertThat(PasswordMessage.saslResponse(data).payload()).isSameAs(data);
    }

    @Test
    void malformedSaslInitialResponsesAreViolations() {
        assertThatThrownBy(() -> new PasswordMessage(Bytes.of().cstr("SCRAM-SHA-256").i32(10).raw(1, 2, 3).body())
                .asSaslInitialResponse()).isInstanceOf(ProtocolViolation.class)
                .hasMessage("SASLInitialResponse message ends inside its initial response (10 bytes needed, 3 left)");
        assertThatThrownBy(() -> new PasswordMessage(Bytes.of().cstr("SCRAM-SHA-256").i32(-1).i8(0).body())
                .asSaslInitialResponse()).hasMessage("SASLInitialResponse message has 1 unexpected trailing byte");
        assertThatThrownBy(() -> new PasswordMessage(Bytes.of().cstr("X").i32(-3).body()).asSaslInitialResponse())
                .hasMessage("SASLInitialResponse message has invalid length -3 for initial response");
        assertThatThrownBy(() -> new PasswordMessage(Bytes.of().str("SCRAM").body()).asSaslInitialResponse())
                .hasMessage("SASLInitialResponse message has an unterminated mechanism name");
        assertThatThrownBy(() -> new PasswordMessage(Bytes.of().cstr("SCRAM").i16(0).body()).asSaslInitialResponse())
                .hasMessage("SASLInitialResponse message ends inside its initial response length (4 bytes needed, 2 left)");
    }

    @Test
    void passwordHelpers() {
        assertThat(PasswordMessage.password("md5abc").asPassword()).isEqualTo("md5abc");
        assertThatThrownBy(() -> new PasswordMessage(Bytes.of().cstr("a").cstr("b").body()).asPassword())
                .hasMessage("PasswordMessage message has 2 unexpected trailing bytes");
        assertThat(new PasswordMessage(new byte[] {1, 2}).toString()).doesNotContain("1, 2");
    }

    static Stream<Arguments> unencodable() {
        return Stream.of(
                Arguments.of(new FrontendMessage.Query("SELECT 1\0; DROP TABLE t"), "query string contains a NUL character at index 8"),
                Arguments.of(new FrontendMessage.Query("x\uD800y"), "query string contains an unpaired surrogate at index 1"),
                Arguments.of(new FrontendMessage.Query("x\uDC00"), "query string contains an unpaired surrogate at index 1"),
                Arguments.of(new Bind("", "", new short[] {0, 1}, new byte[3][], new short[0]),
                        "Bind parameter format count 2 must be 0, 1 or 3"),
                Arguments.of(new FrontendMessage.FunctionCall(1, new short[] {0, 0}, new byte[1][], (short) 0),
                        "FunctionCall argument format count 2 must be 0, 1 or 1"),
                Arguments.of(new Bind("", "", new short[0], new byte[70000][], new short[0]),
                        "parameter values has 70000 entries; the protocol allows at most 65535"),
                Arguments.of(new FrontendMessage.Parse("", "", new int[65536]),
                        "parameter types has 65536 entries; the protocol allows at most 65535"),
                Arguments.of(new PasswordMessage(new byte[0]), "PasswordMessage payload must not be empty"),
                Arguments.of(new StartupMessage(196608, Map.of("", "x")), "startup parameter names must not be empty"),
                Arguments.of(new StartupMessage(196608, Map.of("options", "x".repeat(10000))),
                        "startup packet of 10018 bytes exceeds 10000"),
                Arguments.of(new StartupMessage(0x20000, Map.of()), "only protocol 3.x startup messages can be encoded"));
    }

    @ParameterizedTest
    @MethodSource("unencodable")
    void refusesToEncodeWhatTheWireCannotCarryAndWritesNothing(FrontendMessage m, String reason) {
        ByteBuf out = Unpooled.buffer().writeBytes(new byte[] {7, 7});
        assertThatThrownBy(() -> FrontendCodec.encode(m, out)).isInstanceOf(IllegalArgumentException.class).hasMessage(reason);
        assertThat(WireTestSupport.bytes(out)).containsExactly(7, 7);
    }

    @Test
    void recordsCheckTheirInvariants() {
        assertThatThrownBy(() -> new FrontendMessage.Describe((byte) 'X', "")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new FrontendMessage.Close((byte) 's', "")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new FrontendMessage.Query(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void arrayRecordsCompareByContent() {
        Bind a = new Bind("p", "s", new short[] {1}, new byte[][] {{1, 2}, NULL}, new short[] {1});
        Bind b = new Bind("p", "s", new short[] {1}, new byte[][] {{1, 2}, NULL}, new short[] {1});
        Bind c = new Bind("p", "s", new short[] {1}, new byte[][] {{1, 3}, NULL}, new short[] {1});
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b).isNotEqualTo(c);
        assertThat(a.toString()).contains("[[1, 2], null]");
        assertThat(new FrontendMessage.Parse("", "", new int[] {1})).isNotEqualTo(new FrontendMessage.Parse("", "", new int[] {2}));
    }
}
