package dev.warden.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.wire.BackendMessage.Authentication;
import dev.warden.wire.BackendMessage.ErrorResponse;
import dev.warden.wire.BackendMessage.RowDescription;
import dev.warden.wire.WireTestSupport.Bytes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class BackendCodecTest {

    private static final byte[] NULL = null;

    static Stream<Arguments> everyMessageType() {
        Map<Character, String> error = new LinkedHashMap<>();
        error.put('S', "ERROR");
        error.put('V', "ERROR");
        error.put('C', "42P01");
        error.put('M', "relation \"nope\" does not exist");
        error.put('P', "15");
        return Stream.of(
                Arguments.of(Authentication.ok(), Bytes.of().i32(0).typed('R')),
                Arguments.of(Authentication.kerberosV5(), Bytes.of().i32(2).typed('R')),
                Arguments.of(Authentication.cleartextPassword(), Bytes.of().i32(3).typed('R')),
                Arguments.of(Authentication.md5Password(new byte[] {1, 2, 3, 4}), Bytes.of().i32(5).raw(1, 2, 3, 4).typed('R')),
                Arguments.of(Authentication.gss(), Bytes.of().i32(7).typed('R')),
                Arguments.of(Authentication.gssContinue(new byte[] {9, 8}), Bytes.of().i32(8).raw(9, 8).typed('R')),
                Arguments.of(Authentication.sspi(), Bytes.of().i32(9).typed('R')),
                Arguments.of(Authentication.sasl(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")),
                        Bytes.of().i32(10).cstr("SCRAM-SHA-256-PLUS").cstr("SCRAM-SHA-256").i8(0).typed('R')),
                Arguments.of(Authentication.saslContinue(new byte[] {'r', '='}), Bytes.of().i32(11).str("r=").typed('R')),
                Arguments.of(Authentication.saslFinal(new byte[] {'v', '='}), Bytes.of().i32(12).str("v=").typed('R')),
                Arguments.of(new BackendMessage.BackendKeyData(77, -5), Bytes.of().i32(77).i32(-5).typed('K')),
                Arguments.of(new BackendMessage.BindComplete(), Bytes.of().typed('2')),
                Arguments.of(new BackendMessage.CloseComplete(), Bytes.of().typed('3')),
                Arguments.of(new BackendMessage.CommandComplete("INSERT 0 1"), Bytes.of().cstr("INSERT 0 1").typed('C')),
                Arguments.of(new BackendMessage.CopyData(new byte[] {0, 1}), Bytes.of().raw(0, 1).typed('d')),
                Arguments.of(new BackendMessage.CopyDone(), Bytes.of().typed('c')),
                Arguments.of(new BackendMessage.CopyInResponse(0, new short[] {0, 0}), Bytes.of().i8(0).i16(2).i16(0).i16(0).typed('G')),
                Arguments.of(new BackendMessage.CopyOutResponse(1, new short[] {1}), Bytes.of().i8(1).i16(1).i16(1).typed('H')),
                Arguments.of(new BackendMessage.CopyBothResponse(0, new short[0]), Bytes.of().i8(0).i16(0).typed('W')),
                Arguments.of(new BackendMessage.DataRow(new byte[][] {{'4', '2'}, NULL, {}}),
                        Bytes.of().i16(3).i32(2).str("42").i32(-1).i32(0).typed('D')),
                Arguments.of(new BackendMessage.EmptyQueryResponse(), Bytes.of().typed('I')),
                Arguments.of(new ErrorResponse(error), Bytes.of().i8('S').cstr("ERROR").i8('V').cstr("ERROR").i8('C').cstr("42P01")
                        .i8('M').cstr("relation \"nope\" does not exist").i8('P').cstr("15").i8(0).typed('E')),
                Arguments.of(BackendMessage.NoticeResponse.of("NOTICE", "00000", "hi"),
                        Bytes.of().i8('S').cstr("NOTICE").i8('V').cstr("NOTICE").i8('C').cstr("00000").i8('M').cstr("hi").i8(0)
                                .typed('N')),
                Arguments.of(new BackendMessage.FunctionCallResponse(new byte[] {5}), Bytes.of().i32(1).i8(5).typed('V')),
                Arguments.of(new BackendMessage.FunctionCallResponse(null), Bytes.of().i32(-1).typed('V')),
                Arguments.of(new BackendMessage.NegotiateProtocolVersion(0, List.of("_pq_.foo")),
                        Bytes.of().i32(0).i32(1).cstr("_pq_.foo").typed('v')),
                Arguments.of(new BackendMessage.NoData(), Bytes.of().typed('n')),
                Arguments.of(new BackendMessage.NotificationResponse(12, "jobs", "{\"id\":1}"),
                        Bytes.of().i32(12).cstr("jobs").cstr("{\"id\":1}").typed('A')),
                Arguments.of(new BackendMessage.ParameterDescription(new int[] {23, 25}), Bytes.of().i16(2).i32(23).i32(25).typed('t')),
                Arguments.of(new BackendMessage.ParameterStatus("TimeZone", "UTC"), Bytes.of().cstr("TimeZone").cstr("UTC").typed('S')),
                Arguments.of(new BackendMessage.ParseComplete(), Bytes.of().typed('1')),
                Arguments.of(new BackendMessage.PortalSuspended(), Bytes.of().typed('s')),
                Arguments.of(new BackendMessage.ReadyForQuery('T'), Bytes.of().i8('T').typed('Z')),
                Arguments.of(new RowDescription(List.of(new RowDescription.Field("id", 16384, (short) 1, 23, (short) 4, -1, (short) 0),
                        new RowDescription.Field("?column?", 0, (short) 0, 25, (short) -1, -1, (short) 1))),
                        Bytes.of().i16(2).cstr("id").i32(16384).i16(1).i32(23).i16(4).i32(-1).i16(0)
                                .cstr("?column?").i32(0).i16(0).i32(25).i16(-1).i32(-1).i16(1).typed('T')));
    }

    @ParameterizedTest
    @MethodSource("everyMessageType")
    void encodesTheDocumentedLayoutAndDecodesItBack(BackendMessage message, byte[] wire) {
        assertThat(WireTestSupport.encode(message)).containsExactly(wire);
        ByteBuf frame = Unpooled.wrappedBuffer(wire);
        assertThat(BackendCodec.decode(frame)).isEqualTo(message).hasSameHashCodeAs(message);
        assertThat(frame.readerIndex()).isZero();
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of(Bytes.of().typed('x'), "unknown backend message type 'x'"),
                Arguments.of(Bytes.of().i8('Z').i32(6).i8('I').body(), "ReadyForQuery message declares length 6 but only 5 bytes follow the type byte"),
                Arguments.of(Bytes.of().i8('X').typed('Z'), "ReadyForQuery message has transaction status 'X' where 'I', 'T' or 'E' is expected"),
                Arguments.of(Bytes.of().typed('Z'), "ReadyForQuery message ends inside its transaction status (1 byte needed, 0 left)"),
                Arguments.of(Bytes.of().i32(99).typed('R'), "Authentication message has unknown request code 99"),
                Arguments.of(Bytes.of().i32(0).i8(1).typed('R'), "Authentication message has request code 0, which carries no data, yet 1 bytes follow it"),
                Arguments.of(Bytes.of().i32(5).raw(1, 2, 3).typed('R'), "Authentication message has an MD5 salt of 3 bytes instead of 4"),
                Arguments.of(Bytes.of().i32(10).cstr("SCRAM-SHA-256").typed('R'), "Authentication message has a malformed SASL mechanism list"
                        + " (AuthenticationSASL message has no terminating NUL byte after its mechanism list)"),
                Arguments.of(Bytes.of().i16(2).typed('R'), "Authentication message ends inside its request code (4 bytes needed, 2 left)"),
                Arguments.of(Bytes.of().i8('S').cstr("ERROR").typed('E'), "ErrorResponse message has no terminating NUL byte after its field list"),
                Arguments.of(Bytes.of().i8('M').cstr("a").i8('M').cstr("b").i8(0).typed('E'), "ErrorResponse message has field 'M' more than once"),
                Arguments.of(Bytes.of().i8('M').str("oops").typed('N'), "NoticeResponse message has an unterminated field 'M'"),
                Arguments.of(Bytes.of().i32(0).i32(-1).typed('v'), "NegotiateProtocolVersion message declares -1 unrecognized options but only 0 bytes follow"),
                Arguments.of(Bytes.of().i32(0).i32(1000000).cstr("x").typed('v'), "NegotiateProtocolVersion message declares 1000000 unrecognized options but only 2 bytes follow"),
                Arguments.of(Bytes.of().i16(2).cstr("a").i32(0).i16(0).i32(0).i16(0).i32(0).i16(0).typed('T'), "RowDescription message declares 2 fields but the message ends after 1"),
                Arguments.of(Bytes.of().i16(1).cstr("a").i32(0).i16(0).typed('T'), "RowDescription message ends inside its field 1 type OID (4 bytes needed, 0 left)"),
                Arguments.of(Bytes.of().i16(2).i32(5).str("ab").typed('D'), "DataRow message has column value 1 declaring 5 bytes but only 2 remain"),
                Arguments.of(Bytes.of().i16(1).i32(-7).typed('D'), "DataRow message has invalid length -7 for column value 1"),
                Arguments.of(Bytes.of().i16(3).i32(-1).typed('D'), "DataRow message declares 3 column values but the message ends after 1"),
                Arguments.of(Bytes.of().i32(-2).typed('V'), "FunctionCallResponse message has invalid length -2 for result value"),
                Arguments.of(Bytes.of().i8(0).i16(2).i16(0).typed('G'), "CopyInResponse message declares 2 column format codes but the message ends after 1"),
                Arguments.of(Bytes.of().i32(1).typed('K'), "BackendKeyData message ends inside its secret key (4 bytes needed, 0 left)"),
                Arguments.of(Bytes.of().i32(1).i32(2).i32(3).typed('K'), "BackendKeyData message has 4 unexpected trailing bytes"),
                Arguments.of(Bytes.of().i8(0).typed('1'), "ParseComplete message has 1 unexpected trailing byte"),
                Arguments.of(Bytes.of().cstr("a").typed('t'), "ParameterDescription message declares 24832 parameter types but the message ends after 0"));
    }

    @ParameterizedTest
    @MethodSource("malformed")
    void rejectsMalformedMessagesWithAReason(byte[] wire, String reason) {
        ByteBuf frame = Unpooled.wrappedBuffer(wire);
        assertThatThrownBy(() -> BackendCodec.decode(frame)).isInstanceOf(ProtocolViolation.class).hasMessage(reason);
        assertThat(frame.readerIndex()).isZero();
    }

    @Test
    void authenticationHelpers() {
        Authentication sasl = Authentication.sasl(List.of("SCRAM-SHA-256"));
        assertThat(((Authentication) BackendCodec.decode(Unpooled.wrappedBuffer(WireTestSupport.encode(sasl)))).saslMechanisms())
                .containsExactly("SCRAM-SHA-256");
        assertThatThrownBy(Authentication.ok()::saslMechanisms).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> Authentication.md5Password(new byte[3])).isInstanceOf(IllegalArgumentException.class);
        ByteBuf out = Unpooled.buffer();
        assertThatThrownBy(() -> BackendCodec.encode(new Authentication(0, new byte[] {1}), out))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Authentication message has request code 0, which carries no data, yet 1 bytes follow it");
        assertThat(out.writerIndex()).isZero();
    }

    @Test
    void diagnosticsAndTheFatalProtocolViolationResponse() {
        ErrorResponse e = new ProtocolViolation("Bind message is empty").toErrorResponse();
        assertThat(e.fields().keySet()).containsExactly('S', 'V', 'C', 'M');
        assertThat(e.severity()).isEqualTo("FATAL");
        assertThat(e.sqlState()).isEqualTo("08P01");
        assertThat(e.message()).isEqualTo("Bind message is empty");
        assertThat(BackendCodec.decode(Unpooled.wrappedBuffer(WireTestSupport.encode(e)))).isEqualTo(e);
        Map<Character, String> legacy = Map.of('S', "ERREUR", 'C', "42601");
        assertThat(new ErrorResponse(legacy).severity()).isEqualTo("ERREUR");
    }

    @Test
    void refusesToEncodeWhatTheWireCannotCarry() {
        ByteBuf out = Unpooled.buffer();
        assertThatThrownBy(() -> BackendCodec.encode(new ErrorResponse(Map.of('\0', "x")), out))
                .hasMessage("field code must be a non-zero single byte, not 0");
        assertThatThrownBy(() -> BackendCodec.encode(new ErrorResponse(Map.of('\u0100', "x")), out))
                .hasMessage("field code must be a non-zero single byte, not 256");
        assertThatThrownBy(() -> BackendCodec.encode(new BackendMessage.CommandComplete("a\0b"), out))
                .hasMessage("command tag contains a NUL character at index 1");
        assertThatThrownBy(() -> BackendCodec.encode(new BackendMessage.DataRow(new byte[70000][]), out))
                .hasMessage("columns has 70000 entries; the protocol allows at most 65535");
        assertThat(out.writerIndex()).isZero();
        assertThatThrownBy(() -> new BackendMessage.ReadyForQuery('X')).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new BackendMessage.CopyInResponse(256, new short[0])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Authentication.sasl(List.of(""))).isInstanceOf(IllegalArgumentException.class);
    }

    @Provide
    Arbitrary<BackendMessage> messages() {
        return WireArbitraries.backend();
    }

    @Property(tries = 1500)
    void randomMessagesRoundTrip(@ForAll("messages") BackendMessage m, @ForAll long seed) {
        byte[] wire = WireTestSupport.encode(m);
        assertThat(Unpooled.wrappedBuffer(wire).getInt(1)).isEqualTo(wire.length - 1);
        ByteBuf frame = WireTestSupport.embed(wire, new Random(seed));
        int reader = frame.readerIndex();
        assertThat(BackendCodec.decode(frame)).isEqualTo(m);
        assertThat(frame.readerIndex()).isEqualTo(reader);
    }

    @Property(tries = 4000)
    void corruptedMessagesFailOnlyWithProtocolViolation(@ForAll("messages") BackendMessage m, @ForAll long seed) {
        Random rnd = new Random(seed);
        byte[] bad = WireTestSupport.corrupt(WireTestSupport.encode(m), rnd, true);
        ByteBuf frame = WireTestSupport.embed(bad, rnd);
        int reader = frame.readerIndex();
        try {
            BackendMessage decoded = BackendCodec.decode(frame);
            // Whatever is accepted is canonical: it re-encodes to exactly the bytes received.
            assertThat(WireTestSupport.encode(decoded)).containsExactly(bad);
        } catch (ProtocolViolation e) {
            assertThat(e.getMessage()).isNotBlank();
        }
        assertThat(frame.readerIndex()).isEqualTo(reader);
    }
}
