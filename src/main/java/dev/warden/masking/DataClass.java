package dev.warden.masking;

import java.util.Locale;

/** The kinds of protected data Warden knows, each with the method used when no rule says otherwise. */
public enum DataClass {
    SSN("partial:4"), PAN("partial:4"), ACCOUNT("partial:4"), EMAIL("email"), PHONE("partial:4"), DOB("year"),
    NAME("redact"), ADDRESS("redact"), FREETEXT("redact");

    private final MaskMethod defaultMethod;

    DataClass(String method) {
        this.defaultMethod = MaskMethod.parse(method);
    }

    public MaskMethod defaultMethod() {
        return defaultMethod;
    }

    /** The name used in config and rules ("ssn"). */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static DataClass parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown data class '" + s
                    + "'; use one of ssn, pan, account, email, phone, dob, name, address, freetext");
        }
    }
}
