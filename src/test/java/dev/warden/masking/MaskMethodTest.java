package dev.warden.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class MaskMethodTest {
    static final ValueMasker M = new ValueMasker(new Tokenizer("0123456789abcdef0123456789abcdef".getBytes()));

    private static String text(String method, int oid, String v) {
        byte[] out = M.mask(MaskMethod.parse(method), oid, false, v.getBytes(StandardCharsets.UTF_8));
        return out == null ? null : new String(out, StandardCharsets.UTF_8);
    }

    @Test
    void partialKeepsTheLastDigitsAndTheSeparators() {
        assertThat(text("partial", PgTypes.BPCHAR, "123-45-6789")).isEqualTo("***-**-6789");
        assertThat(text("partial", PgTypes.TEXT, "4111111111111111")).isEqualTo("************1111");
        assertThat(text("partial:2", PgTypes.TEXT, "555-123-4567")).isEqualTo("***-***-**67");
    }

    @Test
    void partialNeverShowsAShortValueWhole() {
        assertThat(text("partial", PgTypes.TEXT, "1234")).isEqualTo("**34");
        assertThat(text("partial", PgTypes.TEXT, "7")).isEqualTo("*");
    }

    @Test
    void redactDoesNotKeepTheLengthAndIsNullForNonTextTypes() {
        assertThat(text("redact", PgTypes.TEXT, "123-45-6789")).isEqualTo("****");
        assertThat(text("redact", PgTypes.TEXT, "a much longer value")).isEqualTo("****");
        assertThat(text("redact", PgTypes.INT4, "42")).isNull();
    }

    @Test
    void emailKeepsOnlyTheDomain() {
        assertThat(text("email", PgTypes.TEXT, "jane.doe@example.com")).isEqualTo("****@example.com");
        assertThat(text("email", PgTypes.TEXT, "not an address")).isEqualTo("****");
    }

    @Test
    void yearGeneralisesDatesToJanuaryFirst() {
        assertThat(text("year", PgTypes.DATE, "1984-07-23")).isEqualTo("1984-01-01");
        assertThat(text("year", PgTypes.TIMESTAMPTZ, "1984-07-23 10:11:12+02")).isEqualTo("1984-01-01 00:00:00+02");
        assertThat(text("year", PgTypes.DATE, "07/23/1984")).isNull();
    }

    @Test
    void tokenIsDeterministicAndKeepsTheShape() {
        String a = text("token", PgTypes.TEXT, "123-45-6789");
        assertThat(a).isEqualTo(text("token", PgTypes.TEXT, "123-45-6789")).matches("\\d{3}-\\d{2}-\\d{4}").isNotEqualTo("123-45-6789");
        assertThat(text("token", PgTypes.TEXT, "123-45-6780")).isNotEqualTo(a);
    }

    @Test
    void nullAndNoneDoWhatTheySay() {
        assertThat(text("null", PgTypes.TEXT, "x")).isNull();
        assertThat(text("none", PgTypes.TEXT, "x")).isEqualTo("x");
    }

    @Test
    void binaryTextIsMaskedAsText() {
        byte[] out = M.mask(MaskMethod.parse("partial"), PgTypes.BPCHAR, true, "123-45-6789".getBytes());
        assertThat(new String(out)).isEqualTo("***-**-6789");
    }

    @Test
    void binaryIntegersStayValidIntegers() {
        byte[] v = ByteBuffer.allocate(4).putInt(123456789).array();
        byte[] t = M.mask(MaskMethod.TOKEN, PgTypes.INT4, true, v);
        assertThat(t).hasSize(4).isNotEqualTo(v);
        byte[] p = M.mask(MaskMethod.parse("partial"), PgTypes.INT8, true, ByteBuffer.allocate(8).putLong(123456789L).array());
        assertThat(ByteBuffer.wrap(p).getLong()).isEqualTo(6789L);
        assertThat(M.mask(MaskMethod.REDACT, PgTypes.INT4, true, v)).isNull();
    }

    @Test
    void binaryDatesAreGeneralisedAndEncodedAgain() {
        int days = (int) java.time.temporal.ChronoUnit.DAYS.between(java.time.LocalDate.of(2000, 1, 1), java.time.LocalDate.of(1984, 7, 23));
        byte[] out = M.mask(MaskMethod.parse("year"), PgTypes.DATE, true, ByteBuffer.allocate(4).putInt(days).array());
        int back = ByteBuffer.wrap(out).getInt();
        assertThat(java.time.LocalDate.of(2000, 1, 1).plusDays(back)).isEqualTo(java.time.LocalDate.of(1984, 1, 1));
        long micros = days * 86_400_000_000L + 12_345_000_000L;
        byte[] ts = M.mask(MaskMethod.parse("year"), PgTypes.TIMESTAMPTZ, true, ByteBuffer.allocate(8).putLong(micros).array());
        assertThat(ByteBuffer.wrap(ts).getLong() / 86_400_000_000L).isEqualTo(
                java.time.temporal.ChronoUnit.DAYS.between(java.time.LocalDate.of(2000, 1, 1), java.time.LocalDate.of(1984, 1, 1)));
    }

    @Test
    void binaryNumericRoundTripsAndMasks() {
        for (String s : new String[] {"0", "1", "12345.67", "-9876543210.5", "0.0001", "100000000"}) {
            byte[] b = PgTypes.numericBinary(new BigDecimal(s));
            assertThat(new BigDecimal(PgTypes.binaryToText(PgTypes.NUMERIC, b))).isEqualByComparingTo(s);
        }
        byte[] out = M.mask(MaskMethod.parse("partial"), PgTypes.NUMERIC, true, PgTypes.numericBinary(new BigDecimal("123456789012")));
        assertThat(new BigDecimal(PgTypes.binaryToText(PgTypes.NUMERIC, out))).isEqualByComparingTo("9012");
    }

    @Test
    void binaryValuesOfUndecodedTypesBecomeNull() {
        assertThat(M.mask(MaskMethod.parse("partial"), PgTypes.JSONB, true, new byte[] {1, '{', '}'})).isNull();
        assertThat(M.mask(MaskMethod.TOKEN, 99999, true, "abc".getBytes())).isNull();
        assertThat(M.mask(MaskMethod.REDACT, PgTypes.RECORD, false, "(1,x)".getBytes())).isNull();
    }

    @Test
    void methodsParseWithClearErrors() {
        assertThat(MaskMethod.parse("partial:2").keep()).isEqualTo(2);
        assertThat(MaskMethod.parse("PARTIAL").keep()).isEqualTo(4);
        assertThatThrownBy(() -> MaskMethod.parse("hash")).hasMessageContaining("unknown masking method");
        assertThatThrownBy(() -> MaskMethod.parse("token:3")).hasMessageContaining("takes no argument");
        assertThatThrownBy(() -> DataClass.parse("secret")).hasMessageContaining("unknown data class");
    }

    @Test
    void derivedValuesAreNeverPartial() {
        assertThat(MaskMethod.parse("partial").forDerived()).isEqualTo(MaskMethod.REDACT);
        assertThat(MaskMethod.TOKEN.forDerived()).isEqualTo(MaskMethod.TOKEN);
        assertThat(MaskMethod.NONE.forDerived()).isEqualTo(MaskMethod.NONE);
    }
}
