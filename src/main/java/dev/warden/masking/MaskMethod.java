package dev.warden.masking;

import java.util.Locale;

/**
 * How a protected value is shown to a client. {@code partial} keeps the last {@code keep}
 * letters/digits ("partial" = 4, "partial:2"); the other methods take no argument.
 *
 * @param kind what is done
 * @param keep for PARTIAL: how many trailing letters/digits stay visible (at most half of them)
 */
public record MaskMethod(Kind kind, int keep) {
    public enum Kind { NONE, REDACT, PARTIAL, TOKEN, NULL, EMAIL, YEAR }

    public static final MaskMethod NONE = new MaskMethod(Kind.NONE, 0);
    public static final MaskMethod REDACT = new MaskMethod(Kind.REDACT, 0);
    public static final MaskMethod NULL = new MaskMethod(Kind.NULL, 0);
    public static final MaskMethod TOKEN = new MaskMethod(Kind.TOKEN, 0);

    public MaskMethod {
        if (keep < 0 || keep > 64) {
            throw new IllegalArgumentException("partial keeps 0 to 64 characters, not " + keep);
        }
    }

    /** Parses "redact", "partial", "partial:4", "token", "null", "email", "year", "none". */
    public static MaskMethod parse(String s) {
        if (s == null) {
            throw new IllegalArgumentException("no masking method given");
        }
        String t = s.trim().toLowerCase(Locale.ROOT);
        int colon = t.indexOf(':');
        String name = colon < 0 ? t : t.substring(0, colon);
        Kind k;
        try {
            k = Kind.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown masking method '" + s
                    + "'; use one of none, redact, partial[:N], token, null, email, year");
        }
        if (colon >= 0 && k != Kind.PARTIAL) {
            throw new IllegalArgumentException("masking method '" + name + "' takes no argument");
        }
        int keep = 0;
        if (k == Kind.PARTIAL) {
            try {
                keep = colon < 0 ? 4 : Integer.parseInt(t.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("partial:N needs a number, not '" + s + "'");
            }
        }
        return new MaskMethod(k, keep);
    }

    public boolean isNone() {
        return kind == Kind.NONE;
    }

    /**
     * The method for a value computed from protected data (a function, cast, concatenation...):
     * methods that reveal part of the value or keep its shape assume they see the original column,
     * so a derived value is redacted instead (token and null stay, they reveal nothing).
     */
    public MaskMethod forDerived() {
        return switch (kind) {
            case NONE, TOKEN, NULL, REDACT -> this;
            default -> REDACT;
        };
    }

    @Override
    public String toString() {
        return kind == Kind.PARTIAL ? "partial:" + keep : kind.name().toLowerCase(Locale.ROOT);
    }
}
