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

    record Portal(PolicyProcessor.Judged statement, List<String> parameters, String approvalId, String approver) {
    }

    /** A statement a person approved: it may be bound (and so run) once. */
    private static final class Approved {
        final String id;
        final String approver;
        boolean used;

        Approved(String id, String approver) {
            this.id = id;
            this.approver = approver;
        }
    }

    private final Map<String, PolicyProcessor.Judged> statements = lru();
    private final Map<String, Portal> portals = lru();
    private final Map<String, Approved> approved = new java.util.HashMap<>(2);

    void parsed(String name, PolicyProcessor.Judged j) {
        statements.put(name, j);
        approved.remove(name);
    }

    /** The statement was held and then approved under {@code approvalId}: it runs once. */
    void parsed(String name, PolicyProcessor.Judged j, String approvalId, String approver) {
        statements.put(name, j);
        approved.put(name, new Approved(approvalId, approver));
    }

    /** Whether a statement of this name is defined (Parse seen and not closed). */
    boolean known(String name) {
        return statements.containsKey(name) || approved.containsKey(name);
    }

    /** The approved statement's one run is spent (or there was none to spend). */
    void approvalUsed(String name) {
        Approved a = approved.get(name);
        if (a != null) {
            a.used = true;
        }
    }

    void forget(String name) {
        statements.remove(name);
        approved.remove(name);
    }

    void forgetAll() {
        statements.clear();
        approved.clear();
    }

    /**
     * The approval id when this Bind would run an approved statement a second time (refuse it), else
     * null. Call before {@link #bound}.
     */
    String reusedApproval(FrontendMessage.Bind b) {
        Approved a = approved.get(b.statement());
        return a != null && a.used ? a.id : null;
    }

    void bound(FrontendMessage.Bind b) {
        Approved a = approved.get(b.statement());
        if (a != null) {
            a.used = true;
        }
        PolicyProcessor.Judged j = statements.get(b.statement());
        List<String> values = new ArrayList<>(b.paramValues().length);
        short[] formats = b.paramFormats();
        for (int i = 0; i < b.paramValues().length; i++) {
            byte[] v = b.paramValues()[i];
            boolean binary = formats.length == 1 ? formats[0] == 1 : formats.length > i && formats[i] == 1;
            values.add(v == null ? null : binary ? "\\x" + HexFormat.of().formatHex(v) : new String(v, StandardCharsets.UTF_8));
        }
        portals.put(b.portal(), new Portal(j, values, a == null ? null : a.id, a == null ? null : a.approver));
    }

    Portal portal(String name) {
        return portals.get(name);
    }

    void closed(FrontendMessage.Close c) {
        if (c.kind() == 'S') {
            statements.remove(c.name());
            approved.remove(c.name());
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
