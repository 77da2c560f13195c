package dev.warden.masking;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The second layer: finds protected values by their shape in computed text columns (no origin,
 * so the catalog cannot say where they came from) and redacts each finding. Cheap regular
 * expressions plus the checksums that keep false positives down (Luhn for card numbers, mod-97 for
 * IBANs, the ABA routing checksum). Not a substitute for classification: it only sees well-formed
 * values.
 */
public final class Detectors {
    private record Detector(String name, Pattern pattern, java.util.function.Predicate<String> check) {
    }

    private static final List<Detector> ALL = List.of(
            new Detector("ssn", Pattern.compile("(?<!\\d)\\d{3}[- ]\\d{2}[- ]\\d{4}(?!\\d)"), s -> true),
            new Detector("pan", Pattern.compile("(?<!\\d)\\d(?:[ -]?\\d){12,18}(?!\\d)"), Detectors::luhn),
            new Detector("iban", Pattern.compile("\\b[A-Z]{2}\\d{2}(?: ?[A-Z0-9]){11,30}\\b"), Detectors::iban),
            new Detector("aba", Pattern.compile("(?<!\\d)\\d{9}(?!\\d)"), Detectors::aba),
            new Detector("email", Pattern.compile("[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}"), s -> true),
            new Detector("phone", Pattern.compile("(?<![\\d\\w])(?:\\+?1[ .-]?)?\\(?\\d{3}\\)?[ .-]\\d{3}[ .-]\\d{4}(?!\\d)"), s -> true));

    private final List<Detector> active;

    public Detectors(Set<String> names) {
        List<Detector> a = new ArrayList<>();
        for (Detector d : ALL) {
            if (names.contains(d.name)) {
                a.add(d);
            }
        }
        this.active = List.copyOf(a);
    }

    public boolean isEmpty() {
        return active.isEmpty();
    }

    /** The text with every finding replaced by "****"; the same instance when nothing was found. */
    public String redact(String text) {
        String out = text;
        for (Detector d : active) {
            Matcher m = d.pattern.matcher(out);
            StringBuilder sb = null;
            int last = 0;
            while (m.find()) {
                if (!d.check.test(m.group())) {
                    continue;
                }
                if (sb == null) {
                    sb = new StringBuilder(out.length());
                }
                sb.append(out, last, m.start()).append(ValueMasker.REDACTED);
                last = m.end();
            }
            if (sb != null) {
                out = sb.append(out, last, out.length()).toString();
            }
        }
        return out;
    }

    static boolean luhn(String s) {
        int sum = 0;
        boolean dbl = false;
        int digits = 0;
        for (int i = s.length() - 1; i >= 0; i--) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                continue;
            }
            int d = c - '0';
            if (dbl) {
                d *= 2;
                if (d > 9) {
                    d -= 9;
                }
            }
            sum += d;
            dbl = !dbl;
            digits++;
        }
        return digits >= 13 && sum % 10 == 0;
    }

    static boolean iban(String s) {
        String t = s.replace(" ", "");
        String r = t.substring(4) + t.substring(0, 4);
        int mod = 0;
        for (int i = 0; i < r.length(); i++) {
            char c = r.charAt(i);
            int v = Character.isDigit(c) ? c - '0' : c - 'A' + 10;
            mod = v > 9 ? (mod * 100 + v) % 97 : (mod * 10 + v) % 97;
        }
        return mod == 1;
    }

    static boolean aba(String s) {
        int[] d = new int[9];
        for (int i = 0; i < 9; i++) {
            d[i] = s.charAt(i) - '0';
        }
        int sum = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8]);
        return sum % 10 == 0 && sum != 0;
    }
}
