package dev.warden.wire;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.wire.WireTestSupport.Bytes;
import io.netty.buffer.ByteBuf;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/** Random valid client messages round-trip; corrupted ones fail only in the documented way. */
class FrontendCodecPropertiesTest {

    @Provide
    Arbitrary<FrontendMessage> typed() {
        return WireArbitraries.typedFrontend();
    }

    @Provide
    Arbitrary<FrontendMessage> startup() {
        return WireArbitraries.startupPhase();
    }

    @Provide
    Arbitrary<Byte> anyTypeByte() {
        return Arbitraries.oneOf(Arbitraries.of((byte) 'Q', (byte) 'P', (byte) 'B', (byte) 'D', (byte) 'E', (byte) 'S',
                (byte) 'H', (byte) 'C', (byte) 'd', (byte) 'c', (byte) 'f', (byte) 'F', (byte) 'p', (byte) 'X'),
                Arbitraries.bytes());
    }

    /**
     * Frames built field by field with counts that may or may not agree (format codes versus
     * values, any kind byte): the two independent checks must reach the same verdict.
     */
    @Provide
    Arbitrary<byte[]> looseFrames() {
        Arbitrary<short[]> formats = WireArbitraries.shorts(4);
        Arbitrary<byte[][]> values = WireArbitraries.values();
        Arbitrary<byte[]> bind = Combinators.combine(WireArbitraries.text(), formats, values, formats)
                .as((name, pf, pv, rf) -> {
                    Bytes b = Bytes.of().cstr(name).cstr("");
                    shorts(b, pf);
                    values(b, pv);
                    shorts(b, rf);
                    return b.typed('B');
                });
        Arbitrary<byte[]> call = Combinators.combine(Arbitraries.integers(), formats, values, Arbitraries.shorts())
                .as((oid, af, args, rf) -> {
                    Bytes b = Bytes.of().i32(oid);
                    shorts(b, af);
                    values(b, args);
                    return b.i16(rf).typed('F');
                });
        Arbitrary<byte[]> kinds = Combinators.combine(Arbitraries.of('D', 'C'), Arbitraries.bytes(), WireArbitraries.text())
                .as((type, kind, name) -> Bytes.of().i8(kind).cstr(name).typed(type));
        return Arbitraries.oneOf(bind, call, kinds);
    }

    private static void shorts(Bytes b, short[] a) {
        b.i16(a.length);
        for (short s : a) {
            b.i16(s);
        }
    }

    private static void values(Bytes b, byte[][] values) {
        b.i16(values.length);
        for (byte[] v : values) {
            if (v == null) {
                b.i32(-1);
            } else {
                b.i32(v.length).raw(v);
            }
        }
    }

    @Property(tries = 2000)
    void looselyBuiltFramesGetOneVerdict(@ForAll("looseFrames") byte[] frame, @ForAll long seed) {
        checkTyped(WireTestSupport.embed(frame, new Random(seed)), frame);
    }

    @Property(tries = 1500)
    void typedMessagesRoundTripAndPassTheValidator(@ForAll("typed") FrontendMessage m, @ForAll long seed) {
        byte[] wire = WireTestSupport.encode(m);
        assertThat(wire.length).isGreaterThanOrEqualTo(5);
        assertThat(WireTestSupport.buf(wire).getInt(1)).isEqualTo(wire.length - 1);
        ByteBuf frame = WireTestSupport.embed(wire, new Random(seed));
        int reader = frame.readerIndex();
        assertThat(FrontendCodec.decode(frame)).isEqualTo(m);
        assertThat(FrontendValidator.check(frame)).isNull();
        assertThat(frame.readerIndex()).isEqualTo(reader);
    }

    @Property(tries = 500)
    void startupPacketsRoundTrip(@ForAll("startup") FrontendMessage m, @ForAll long seed) {
        byte[] wire = WireTestSupport.encode(m);
        assertThat(WireTestSupport.buf(wire).getInt(0)).isEqualTo(wire.length);
        ByteBuf frame = WireTestSupport.embed(wire, new Random(seed));
        assertThat(FrontendCodec.decodeStartup(frame)).isEqualTo(m);
        if (m instanceof FrontendMessage.StartupMessage s) {
            assertThat(((FrontendMessage.StartupMessage) FrontendCodec.decodeStartup(frame)).parameters().keySet())
                    .containsExactlyElementsOf(s.parameters().keySet());
        }
    }

    @Property(tries = 4000)
    void corruptedTypedMessagesFailOnlyWithProtocolViolation(@ForAll("typed") FrontendMessage m, @ForAll long seed) {
        Random rnd = new Random(seed);
        byte[] bad = WireTestSupport.corrupt(WireTestSupport.encode(m), rnd, true);
        checkTyped(WireTestSupport.embed(bad, rnd), bad);
    }

    @Property(tries = 1500)
    void arbitraryBodiesFailOnlyWithProtocolViolation(@ForAll("anyTypeByte") byte type, @ForAll @Size(max = 40) byte[] body,
            @ForAll long seed) {
        byte[] frame = WireTestSupport.Bytes.of().raw(body).typed((char) (type & 0xFF));
        checkTyped(WireTestSupport.embed(frame, new Random(seed)), frame);
    }

    @Property(tries = 2000)
    void corruptedStartupPacketsFailOnlyWithProtocolViolation(@ForAll("startup") FrontendMessage m, @ForAll long seed) {
        Random rnd = new Random(seed);
        byte[] bad = WireTestSupport.corrupt(WireTestSupport.encode(m), rnd, false);
        ByteBuf frame = WireTestSupport.embed(bad, rnd);
        int reader = frame.readerIndex();
        try {
            FrontendMessage decoded = FrontendCodec.decodeStartup(frame);
            assertThat(WireTestSupport.encode(decoded)).containsExactly(bad);
        } catch (ProtocolViolation e) {
            assertThat(e.getMessage()).isNotBlank();
        }
        assertThat(frame.readerIndex()).isEqualTo(reader);
    }

    /**
     * The decoder may only throw ProtocolViolation (anything else fails the property); the
     * validator never throws and agrees with it; an accepted frame re-encodes to the same bytes.
     */
    static void checkTyped(ByteBuf frame, byte[] wire) {
        int reader = frame.readerIndex();
        int writer = frame.writerIndex();
        String reason = FrontendValidator.check(frame);
        try {
            FrontendMessage decoded = FrontendCodec.decode(frame);
            assertThat(reason).as("validator verdict on an accepted frame").isNull();
            assertThat(WireTestSupport.encode(decoded)).containsExactly(wire);
        } catch (ProtocolViolation e) {
            assertThat(reason).as("validator verdict on a rejected frame").isEqualTo(e.getMessage());
        }
        assertThat(FrontendValidator.isValid(frame)).isEqualTo(reason == null);
        assertThat(frame.readerIndex()).isEqualTo(reader);
        assertThat(frame.writerIndex()).isEqualTo(writer);
    }
}
