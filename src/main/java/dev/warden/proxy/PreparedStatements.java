package dev.warden.proxy;

import dev.warden.wire.FrontendMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The session's prepared statements and portals as Warden judged them, so that an Execute is
 * audited with the statement's text, verdict and bind values. Bounded: a client that keeps
 * thousands of named statements loses only the oldest entries' text in the audit (the Execute is
 * still recorded, as a statement unknown to Warden).
 */
final class PreparedStatements {
    private static final int MAX = 1000;

    record Portal(PolicyProcessor.Judged statement, List<String> parameters) {
    }

    private final Map<String, PolicyProcessor.Judged> statements = lru();
    private final Map<String, Portal> portals = lru();

    void parsed(String name, PolicyProcessor.Judged j) {
        statements.put(name, j);
    }

    void bound(FrontendMessage.Bind b) {
        PolicyProcessor.Judged j = statements.get(b.statement());
        List<String> values = new ArrayList<>(b.paramValues().length);
        short[] formats = b.paramFormats();
        for (int i = 0; i < b.paramValues().length; i++) {
            byte[] v = b.paramValues()[i];
            boolean binary = formats.length == 1 ? formats[0] == 1 : formats.length > i && formats[i] == 1;
            values.add(v == null ? null : binary ? "\\x" + HexFormat.of().formatHex(v) : new String(v, StandardCharsets.UTF_8));
        }
        portals.put(b.portal(), new Portal(j, values));
    }

    Portal portal(String name) {
        return portals.get(name);
    }

    void closed(FrontendMessage.Close c) {
        if (c.kind() == 'S') {
            statements.remove(c.name());
        } else {
            portals.remove(c.name());
        }
    }

    private static <V> Map<String, V> lru() {
        return new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
                return size() > MAX;
            }
        };
    }
}
