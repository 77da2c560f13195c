package dev.warden.wire;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.wire.FrontendCases.Case;
import dev.warden.wire.WireTestSupport.Bytes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class FrontendValidatorTest {

    static List<Case> malformed() {
        return FrontendCases.malformed();
    }

    static List<Case> valid() {
        return FrontendCases.valid();
    }

    @ParameterizedTest
    @MethodSource("malformed")
    void explainsWhatIsWrong(Case c) {
        ByteBuf frame = Unpooled.wrappedBuffer(c.frame());
        assertThat(FrontendValidator.check(frame)).isEqualTo(c.expected());
        assertThat(FrontendValidator.isValid(frame)).isFalse();
        assertThat(frame.readerIndex()).isZero();
        assertThat(frame.writerIndex()).isEqualTo(c.frame().length);
    }

    @ParameterizedTest
    @MethodSource("valid")
    void acceptsUnusualButValidMessages(Case c) {
        assertThat(FrontendValidator.check(Unpooled.wrappedBuffer(c.frame()))).isNull();
    }

    @Test
    void onlyBodilessTypesAndCopyDataAcceptAnEmptyBody() {
        Set<Character> accepted = new TreeSet<>();
        for (int t = 0; t < 256; t++) {
            if (FrontendValidator.check(Unpooled.wrappedBuffer(Bytes.of().typed((char) t))) == null) {
                accepted.add((char) t);
            }
        }
        assertThat(accepted).containsExactly('H', 'S', 'X', 'c', 'd');
    }

    @Test
    void everyUnknownTypeIsRejectedByName() {
        String known = "QPBDESHCdcfFpX";
        for (int t = 0; t < 256; t++) {
            if (known.indexOf(t) < 0) {
                String reason = FrontendValidator.check(Unpooled.wrappedBuffer(Bytes.of().cstr("x").typed((char) t)));
                assertThat(reason).startsWith("unknown frontend message type ");
            }
        }
    }

    @Test
    void validatesFramesSplitAcrossComposites() {
        byte[] frame = Bytes.of().cstr("SELECT * FROM accounts WHERE owner = 'caf\u00E9' AND id > 10").typed('Q');
        for (int cut = 0; cut <= frame.length; cut++) {
            ByteBuf b = Unpooled.wrappedBuffer(Unpooled.wrappedBuffer(frame, 0, cut),
                    Unpooled.wrappedBuffer(frame, cut, frame.length - cut));
            assertThat(FrontendValidator.check(b)).as("cut at %d", cut).isNull();
            frame[frame.length - 2] = (byte) 0xC3; // now a cut two-byte sequence before the NUL
            ByteBuf bad = Unpooled.wrappedBuffer(Unpooled.wrappedBuffer(frame, 0, cut),
                    Unpooled.wrappedBuffer(frame, cut, frame.length - cut));
            assertThat(FrontendValidator.check(bad)).isEqualTo("Query message has invalid UTF-8 in its query string");
            frame[frame.length - 2] = '0';
        }
    }

    /** The hot path must not allocate: measured with the JVM's per-thread allocation counter. */
    @Test
    void acceptingAMessageAllocatesNothing() {
        List<ByteBuf> frames = new ArrayList<>();
        for (FrontendMessage m : List.of(
                new FrontendMessage.Query("SELECT name, balance FROM accounts WHERE id = $1 -- caf\u00E9 \uD83D\uDE00"),
                new FrontendMessage.Parse("s1", "SELECT $1::int", new int[] {23}),
                new FrontendMessage.Bind("", "s1", new short[] {1}, new byte[][] {{0, 0, 0, 1}, null}, new short[] {1}),
                new FrontendMessage.Describe((byte) 'P', ""), new FrontendMessage.Execute("", 0),
                new FrontendMessage.Close((byte) 'S', "s1"), new FrontendMessage.Sync(), new FrontendMessage.Flush(),
                new FrontendMessage.CopyData(new byte[100]), new FrontendMessage.CopyDone(),
                new FrontendMessage.CopyFail("stop"),
                new FrontendMessage.FunctionCall(1598, new short[0], new byte[][] {{1}}, (short) 0),
                FrontendMessage.PasswordMessage.password("pw"), new FrontendMessage.Terminate())) {
            frames.add(Unpooled.wrappedBuffer(WireTestSupport.encode(m)));
        }
        ByteBuf[] array = frames.toArray(new ByteBuf[0]);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int accepted = 0;
        for (int i = 0; i < 20_000; i++) { // warm up, so that JIT activity is not counted
            accepted += run(array);
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 20_000; i++) {
            accepted += run(array);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertThat(accepted).isEqualTo(40_000 * array.length);
        // 280,000 checks: any per-call allocation would show up as megabytes.
        assertThat(allocated).isLessThan(4096);
    }

    private static int run(ByteBuf[] frames) {
        int n = 0;
        for (ByteBuf f : frames) {
            if (FrontendValidator.check(f) == null) {
                n++;
            }
        }
        return n;
    }

    @Provide
    Arbitrary<byte[]> utf8ish() {
        // Biased toward the bytes that matter: ASCII, continuation bytes and every lead byte.
        Arbitrary<Byte> interesting = Arbitraries.oneOf(Arbitraries.bytes().between((byte) 1, (byte) 0x7F),
                Arbitraries.integers().between(0x80, 0xFF).map(Integer::byteValue));
        return interesting.array(byte[].class).ofMaxSize(20);
    }

    @Property(tries = 5000)
    void utf8CheckAgreesWithTheJdkStrictDecoder(@ForAll("utf8ish") byte[] text) {
        byte[] cstring = Bytes.of().raw(text).i8(0).body();
        int z = WirePrimitives.cstringEnd(Unpooled.wrappedBuffer(cstring), 0, cstring.length);
        boolean jdkAccepts;
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(text));
            jdkAccepts = true;
        } catch (CharacterCodingException e) {
            jdkAccepts = false;
        }
        assertThat(z == text.length).isEqualTo(jdkAccepts);
        assertThat(z).isIn(text.length, WirePrimitives.BAD_UTF8);
    }

    @Property(tries = 2000)
    void neverThrowsOnArbitraryBytes(@ForAll @Size(max = 48) byte[] junk, @ForAll long seed) {
        ByteBuf frame = WireTestSupport.embed(junk, new Random(seed));
        String reason = FrontendValidator.check(frame);
        assertThat(reason == null).isEqualTo(FrontendValidator.isValid(frame));
        if (reason != null) {
            assertThat(reason).isNotBlank();
        }
    }

    @Property(tries = 500)
    void copyDataAcceptsAnyBody(@ForAll @Size(max = 64) byte[] body) {
        assertThat(FrontendValidator.check(Unpooled.wrappedBuffer(Bytes.of().raw(body).typed('d')))).isNull();
    }

    @Property(tries = 500)
    void passwordMessagesAreOnlyCheckedForLength(@ForAll @Size(min = 1, max = 64) byte[] body) {
        assertThat(FrontendValidator.check(Unpooled.wrappedBuffer(Bytes.of().raw(body).typed('p')))).isNull();
    }

    @Property(tries = 1500)
    void randomValidMessagesPass(@ForAll("typed") FrontendMessage m, @ForAll long seed) {
        ByteBuf frame = WireTestSupport.embed(WireTestSupport.encode(m), new Random(seed));
        assertThat(FrontendValidator.check(frame)).isNull();
    }

    @Property(tries = 3000)
    void truncatedMessagesAreRejectedAndNeverThrow(@ForAll("typed") FrontendMessage m, @ForAll long seed) {
        Random rnd = new Random(seed);
        byte[] wire = WireTestSupport.encode(m);
        byte[] cut = java.util.Arrays.copyOf(wire, rnd.nextInt(wire.length));
        ByteBuf frame = WireTestSupport.embed(cut, rnd);
        // Without fixing the length word, a truncated frame can never match its header.
        assertThat(FrontendValidator.check(frame)).isNotNull();
        // With it fixed, the body parser has to notice (or, for CopyData and the like, accept).
        if (cut.length >= 5) {
            Unpooled.wrappedBuffer(cut).setInt(1, cut.length - 1);
            FrontendCodecPropertiesTest.checkTyped(WireTestSupport.embed(cut, rnd), cut);
        }
    }

    @Provide
    Arbitrary<FrontendMessage> typed() {
        return WireArbitraries.typedFrontend();
    }
}
