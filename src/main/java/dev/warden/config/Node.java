package dev.warden.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A YAML node with the path that leads to it, so that every validation error names the exact key an
 * operator has to change ("targets.bank.port: ..."), and unknown keys are reported instead of being
 * silently ignored (a typo in a security setting must not fall back to a default).
 */
final class Node {
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");

    private final JsonNode json;
    private final String path;

    Node(JsonNode json, String path) {
        this.json = json;
        this.path = path;
    }

    String path() {
        return path;
    }

    boolean isMissing() {
        return json == null || json.isMissingNode() || json.isNull();
    }

    Node get(String key) {
        return new Node(json == null ? null : json.get(key), path.isEmpty() ? key : path + "." + key);
    }

    void allowOnly(Set<String> keys) {
        if (isMissing()) {
            return;
        }
        if (!json.isObject()) {
            throw error("expected a mapping of keys to values");
        }
        for (Iterator<String> it = json.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!keys.contains(k)) {
                throw new ConfigException(get(k).path + ": unknown key; known keys here are " + String.join(", ", keys.stream().sorted().toList()));
            }
        }
    }

    Map<String, Node> entries() {
        Map<String, Node> out = new LinkedHashMap<>();
        if (isMissing()) {
            return out;
        }
        if (!json.isObject()) {
            throw error("expected a mapping");
        }
        json.fieldNames().forEachRemaining(k -> out.put(k, get(k)));
        return out;
    }

    List<Node> items() {
        List<Node> out = new ArrayList<>();
        if (isMissing()) {
            return out;
        }
        if (!json.isArray()) {
            throw error("expected a list");
        }
        for (int i = 0; i < json.size(); i++) {
            out.add(new Node(json.get(i), path + "[" + i + "]"));
        }
        return out;
    }

    String text(String dflt) {
        if (isMissing()) {
            return dflt;
        }
        if (!json.isValueNode()) {
            throw error("expected a single value");
        }
        return json.asText();
    }

    String requiredText() {
        String v = text(null);
        if (v == null || v.isBlank()) {
            throw error("is required");
        }
        return v;
    }

    int integer(int dflt, int min, int max) {
        if (isMissing()) {
            return dflt;
        }
        String text = json.asText().trim();
        // a quoted whole number ("6543", common in templated YAML) counts as one
        if (!json.isIntegralNumber() && !(json.isTextual() && text.matches("-?\\d+"))) {
            throw error("expected a whole number between " + min + " and " + max + ", got '" + json.asText() + "'");
        }
        BigInteger v = json.isIntegralNumber() ? json.bigIntegerValue() : new BigInteger(text);
        if (v.compareTo(BigInteger.valueOf(min)) < 0 || v.compareTo(BigInteger.valueOf(max)) > 0) {
            throw error("expected a whole number between " + min + " and " + max + ", got " + v);
        }
        return v.intValue();
    }

    long bytes(long dflt, long min, long max) {
        if (isMissing()) {
            return dflt;
        }
        String s = json.asText().trim().toUpperCase();
        long mult = 1;
        if (s.endsWith("KB") || s.endsWith("KIB")) {
            mult = 1024;
        } else if (s.endsWith("MB") || s.endsWith("MIB")) {
            mult = 1024 * 1024;
        } else if (s.endsWith("GB") || s.endsWith("GIB")) {
            mult = 1024L * 1024 * 1024;
        }
        String digits = s.replaceAll("[A-Z]+$", "").trim();
        long v;
        try {
            v = Math.multiplyExact(Long.parseLong(digits), mult);
        } catch (NumberFormatException e) {
            if (digits.matches("-?\\d+")) {
                throw error("expected a size between " + min + " and " + max + " bytes, got '" + json.asText() + "'");
            }
            throw error("expected a size such as 16MB or 65536, got '" + json.asText() + "'");
        } catch (ArithmeticException e) {
            throw error("expected a size between " + min + " and " + max + " bytes, got '" + json.asText() + "'");
        }
        if (v < min || v > max) {
            throw error("expected a size between " + min + " and " + max + " bytes, got " + v);
        }
        return v;
    }

    boolean bool(boolean dflt) {
        if (isMissing()) {
            return dflt;
        }
        if (json.isBoolean()) {
            return json.asBoolean();
        }
        String s = json.asText();
        if (s.equals("true") || s.equals("false")) {
            return Boolean.parseBoolean(s);
        }
        throw error("expected true or false, got '" + s + "'");
    }

    Duration duration(Duration dflt) {
        if (isMissing()) {
            return dflt;
        }
        Matcher m = DURATION.matcher(json.asText().trim());
        if (!m.matches()) {
            throw error("expected a duration such as 500ms, 10s, 5m or 1h, got '" + json.asText() + "'");
        }
        try {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            };
        } catch (NumberFormatException | ArithmeticException e) {
            throw error("duration '" + json.asText() + "' is too long");
        }
    }

    <E extends Enum<E>> E choice(Class<E> type, E dflt) {
        if (isMissing()) {
            return dflt;
        }
        String s = json.asText().trim().replace('-', '_').toUpperCase();
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(s)) {
                return e;
            }
        }
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            names.add(e.name().toLowerCase().replace('_', '-'));
        }
        throw error("expected one of " + String.join(", ", names) + ", got '" + json.asText() + "'");
    }

    ConfigException error(String problem) {
        return new ConfigException(path + ": " + problem);
    }
}
