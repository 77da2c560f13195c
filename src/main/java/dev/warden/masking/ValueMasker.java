package dev.warden.masking;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Applies a {@link MaskMethod} to one cell, in text or binary format. The result is always a valid
 * value of the column's type or NULL: a method that cannot be expressed for a type (a redacted
 * integer, a partial date) gives NULL, and a binary value whose type Warden does not decode is
 * never passed through.
 */
public final class ValueMasker {
    static final String REDACTED = "****";
    private static final Pattern ISO_DATE = Pattern.compile("^(\\d{4})-\\d\\d-\\d\\d");
    private static final Pattern TZ = Pattern.compile("[+-]\\d\\d(:\\d\\d)?$");

    private final Tokenizer tokens;

    public ValueMasker(Tokenizer tokens) {
        this.tokens = tokens;
    }

    /** Masks one cell; {@code value} is null for SQL NULL. Returns the new cell (null = SQL NULL). */
    public byte[] mask(MaskMethod m, int typeOid, boolean binary, byte[] value) {
        if (value == null || m.isNone()) {
            return value;
        }
        if (m.kind() == MaskMethod.Kind.NULL) {
            return null;
        }
        if (binary) {
            String text = PgTypes.binaryToText(typeOid, value);
            String masked = text == null ? null : maskText(m, typeOid, text);
            return masked == null ? null : PgTypes.textToBinary(typeOid, masked);
        }
        if (PgTypes.stringy(typeOid)) {
            byte[] fast = maskTextBytes(m, value);
            if (fast != null) {
                return fast;
            }
        }
        String masked = maskText(m, typeOid, new String(value, StandardCharsets.UTF_8));
        return masked == null ? null : masked.getBytes(StandardCharsets.UTF_8);
    }

    private static final byte[] REDACTED_BYTES = REDACTED.getBytes(StandardCharsets.US_ASCII);

    /**
     * The hot path of a text cell, on its UTF-8 bytes without decoding: redact, email, and partial of
     * an ASCII value give exactly what {@link #maskText} gives (ASCII letters and digits are what
     * {@link Character#isLetterOrDigit} accepts below 128; '@' never occurs inside a multi-byte UTF-8
     * sequence). Null when the value needs the general path.
     */
    static byte[] maskTextBytes(MaskMethod m, byte[] v) {
        switch (m.kind()) {
            case REDACT:
                return REDACTED_BYTES;
            case EMAIL: {
                int at = -1;
                for (int i = v.length - 1; i >= 0; i--) {
                    if (v[i] == '@') {
                        at = i;
                        break;
                    }
                }
                if (at <= 0 || at >= v.length - 1) {
                    return REDACTED_BYTES;
                }
                byte[] out = new byte[REDACTED_BYTES.length + v.length - at];
                System.arraycopy(REDACTED_BYTES, 0, out, 0, REDACTED_BYTES.length);
                System.arraycopy(v, at, out, REDACTED_BYTES.length, v.length - at);
                return out;
            }
            case PARTIAL: {
                int alnum = 0;
                for (byte b : v) {
                    if (b < 0) {
                        return null; // not ASCII
                    }
                    alnum += asciiAlnum(b) ? 1 : 0;
                }
                int show = Math.min(m.keep(), alnum / 2);
                byte[] out = new byte[v.length];
                int seen = 0;
                for (int i = 0; i < v.length; i++) {
                    byte b = v[i];
                    if (asciiAlnum(b)) {
                        seen++;
                        out[i] = seen > alnum - show ? b : (byte) '*';
                    } else {
                        out[i] = b;
                    }
                }
                return out;
            }
            default:
                return null;
        }
    }

    private static boolean asciiAlnum(byte b) {
        return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
    }

    /** The masked text form of a value of type {@code typeOid}, or null when the result must be NULL. */
    public String maskText(MaskMethod m, int typeOid, String v) {
        boolean text = PgTypes.stringy(typeOid);
        return switch (m.kind()) {
            case NONE -> v;
            case NULL -> null;
            case REDACT -> text ? REDACTED : null;
            case PARTIAL -> text ? partial(v, m.keep(), '*')
                    : PgTypes.integer(typeOid) || typeOid == PgTypes.NUMERIC ? partial(v, m.keep(), '0') : null;
            case TOKEN -> text ? tokens.token(v) : PgTypes.integer(typeOid) ? fitInteger(typeOid, tokens.token(v))
                    : typeOid == PgTypes.NUMERIC ? tokens.token(v) : null;
            case EMAIL -> text ? email(v) : null;
            case YEAR -> year(typeOid, v, text);
        };
    }

    /**
     * Keeps the last {@code keep} letters/digits (never more than half of them, so a short value is
     * never shown whole) and replaces the other letters/digits; separators stay.
     */
    static String partial(String v, int keep, char fill) {
        int alnum = 0;
        for (int i = 0; i < v.length(); i++) {
            alnum += Character.isLetterOrDigit(v.charAt(i)) ? 1 : 0;
        }
        int show = Math.min(keep, alnum / 2);
        StringBuilder out = new StringBuilder(v.length());
        int seen = 0;
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (Character.isLetterOrDigit(c)) {
                seen++;
                out.append(seen > alnum - show ? c : fill);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    static String email(String v) {
        int at = v.lastIndexOf('@');
        return at > 0 && at < v.length() - 1 ? REDACTED + v.substring(at) : REDACTED;
    }

    private static String year(int typeOid, String v, boolean text) {
        Matcher d = ISO_DATE.matcher(v);
        if (!d.find()) {
            // another DateStyle, BC dates, infinity: nothing to generalise safely
            return text ? REDACTED : null;
        }
        String day = d.group(1) + "-01-01";
        if (typeOid == PgTypes.TIMESTAMP) {
            return day + " 00:00:00";
        }
        if (typeOid == PgTypes.TIMESTAMPTZ) {
            Matcher z = TZ.matcher(v);
            return day + " 00:00:00" + (z.find() ? z.group() : "+00");
        }
        return typeOid == PgTypes.DATE || text ? day : null;
    }

    /** A token of an integer may overflow its type: fold it back into range, deterministically. */
    private static String fitInteger(int typeOid, String token) {
        long max = typeOid == PgTypes.INT2 ? Short.MAX_VALUE : typeOid == PgTypes.INT4 ? Integer.MAX_VALUE : Long.MAX_VALUE;
        try {
            java.math.BigInteger b = new java.math.BigInteger(token);
            java.math.BigInteger m = java.math.BigInteger.valueOf(max).add(java.math.BigInteger.ONE);
            java.math.BigInteger r = b.abs().mod(m);
            return (b.signum() < 0 ? r.negate() : r).toString();
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
