package dev.warden.masking;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;

/**
 * The few PostgreSQL types whose binary format Warden re-encodes after masking. A masked binary
 * value must still be a valid value of its column's type: any type not handled here becomes NULL.
 */
final class PgTypes {
    static final int BOOL = 16, BYTEA = 17, CHAR = 18, NAME = 19, INT8 = 20, INT2 = 21, INT4 = 23, TEXT = 25, OID = 26,
            JSON = 114, XML = 142, FLOAT4 = 700, FLOAT8 = 701, UNKNOWN = 705, BPCHAR = 1042, VARCHAR = 1043,
            DATE = 1082, TIME = 1083, TIMESTAMP = 1114, TIMESTAMPTZ = 1184, INTERVAL = 1186, NUMERIC = 1700,
            UUID = 2950, RECORD = 2249, JSONB = 3802;
    /** The first OID PostgreSQL gives user-defined objects; types below it are built in. */
    static final int FIRST_USER_OID = 16384;
    private static final LocalDate PG_EPOCH = LocalDate.of(2000, 1, 1);

    private PgTypes() {
    }

    /** Types whose text form is arbitrary text: masking may produce any string. */
    static boolean stringy(int oid) {
        return oid == TEXT || oid == VARCHAR || oid == BPCHAR || oid == NAME || oid == UNKNOWN || oid == CHAR
                || oid >= FIRST_USER_OID;
    }

    static boolean integer(int oid) {
        return oid == INT2 || oid == INT4 || oid == INT8;
    }

    static boolean dateLike(int oid) {
        return oid == DATE || oid == TIMESTAMP || oid == TIMESTAMPTZ;
    }

    /** Text form of a binary value, or null when Warden does not decode this type. */
    static String binaryToText(int oid, byte[] b) {
        ByteBuffer bb = ByteBuffer.wrap(b);
        if (stringy(oid) && oid < FIRST_USER_OID) {
            return new String(b, StandardCharsets.UTF_8);
        }
        return switch (oid) {
            case INT2 -> b.length == 2 ? Short.toString(bb.getShort()) : null;
            case INT4 -> b.length == 4 ? Integer.toString(bb.getInt()) : null;
            case INT8 -> b.length == 8 ? Long.toString(bb.getLong()) : null;
            case DATE -> b.length == 4 ? PG_EPOCH.plusDays(bb.getInt()).toString() : null;
            case TIMESTAMP, TIMESTAMPTZ -> b.length == 8 ? timestampText(bb.getLong()) : null;
            case NUMERIC -> numericText(bb);
            default -> null;
        };
    }

    /** Binary form of a (masked) text value, or null when it is not a valid value of the type. */
    static byte[] textToBinary(int oid, String s) {
        try {
            if (stringy(oid) && oid < FIRST_USER_OID) {
                return s.getBytes(StandardCharsets.UTF_8);
            }
            return switch (oid) {
                case INT2 -> ByteBuffer.allocate(2).putShort(Short.parseShort(s)).array();
                case INT4 -> ByteBuffer.allocate(4).putInt(Integer.parseInt(s)).array();
                case INT8 -> ByteBuffer.allocate(8).putLong(Long.parseLong(s)).array();
                case DATE -> ByteBuffer.allocate(4).putInt((int) ChronoUnit.DAYS.between(PG_EPOCH,
                        LocalDate.parse(s.substring(0, 10)))).array();
                case TIMESTAMP, TIMESTAMPTZ -> ByteBuffer.allocate(8).putLong(ChronoUnit.DAYS.between(PG_EPOCH,
                        LocalDate.parse(s.substring(0, 10))) * 86_400_000_000L).array();
                case NUMERIC -> numericBinary(new BigDecimal(s));
                default -> null;
            };
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String timestampText(long micros) {
        long days = Math.floorDiv(micros, 86_400_000_000L);
        // only the date matters to the masks that keep anything of a timestamp (year)
        return PG_EPOCH.plusDays(days) + " 00:00:00";
    }

    private static String numericText(ByteBuffer bb) {
        if (bb.remaining() < 8) {
            return null;
        }
        int ndigits = bb.getShort();
        int weight = bb.getShort();
        int sign = bb.getShort() & 0xffff;
        int dscale = bb.getShort();
        if (sign == 0xC000 || bb.remaining() != ndigits * 2) {
            return null; // NaN or malformed
        }
        BigInteger unscaled = BigInteger.ZERO;
        for (int i = 0; i < ndigits; i++) {
            unscaled = unscaled.multiply(BigInteger.valueOf(10_000)).add(BigInteger.valueOf(bb.getShort()));
        }
        BigDecimal v = new BigDecimal(unscaled, (ndigits - weight - 1) * 4);
        if (sign == 0x4000) {
            v = v.negate();
        }
        return v.setScale(dscale, java.math.RoundingMode.DOWN).toPlainString();
    }

    static byte[] numericBinary(BigDecimal v) {
        int sign = v.signum() < 0 ? 0x4000 : 0;
        BigDecimal a = v.abs();
        int dscale = Math.max(0, a.scale());
        String plain = a.setScale(dscale).toPlainString();
        int dot = plain.indexOf('.');
        String intPart = dot < 0 ? plain : plain.substring(0, dot);
        String frac = dot < 0 ? "" : plain.substring(dot + 1);
        int padInt = (4 - intPart.length() % 4) % 4;
        intPart = "0".repeat(padInt) + intPart;
        frac = frac + "0".repeat((4 - frac.length() % 4) % 4);
        String all = intPart + frac;
        int n = all.length() / 4;
        short[] digits = new short[n];
        for (int i = 0; i < n; i++) {
            digits[i] = Short.parseShort(all.substring(i * 4, i * 4 + 4));
        }
        int weight = intPart.length() / 4 - 1;
        int first = 0;
        while (first < n && digits[first] == 0) {
            first++;
            weight--;
        }
        int last = n;
        while (last > first && digits[last - 1] == 0) {
            last--;
        }
        if (first == last) {
            weight = 0;
        }
        ByteBuffer out = ByteBuffer.allocate(8 + (last - first) * 2);
        out.putShort((short) (last - first)).putShort((short) weight).putShort((short) sign).putShort((short) dscale);
        for (int i = first; i < last; i++) {
            out.putShort(digits[i]);
        }
        return out.array();
    }
}
