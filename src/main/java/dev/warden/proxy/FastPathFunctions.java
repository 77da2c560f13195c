package dev.warden.proxy;

import io.netty.buffer.ByteBuf;
import java.util.Map;

/**
 * A FunctionCall (fast-path) message names its function by OID only. For the built-in functions
 * clients really use this way — the large-object API of pgJDBC and libpq — the OID is fixed in
 * PostgreSQL's catalog (pg_proc.dat), so Warden can turn the call into the equivalent SQL and let
 * the rules judge that. Any other OID cannot be inspected and is refused.
 */
final class FastPathFunctions {
    // built-in OIDs, stable across PostgreSQL versions (checked against PostgreSQL 17)
    private static final Map<Integer, String> BUILT_IN = Map.ofEntries(
            Map.entry(715, "lo_create"), Map.entry(764, "lo_import"), Map.entry(765, "lo_export"),
            Map.entry(767, "lo_import"), Map.entry(952, "lo_open"), Map.entry(953, "lo_close"),
            Map.entry(954, "loread"), Map.entry(955, "lowrite"), Map.entry(956, "lo_lseek"),
            Map.entry(957, "lo_creat"), Map.entry(958, "lo_tell"), Map.entry(964, "lo_unlink"),
            Map.entry(1004, "lo_truncate"), Map.entry(3170, "lo_lseek64"), Map.entry(3171, "lo_tell64"),
            Map.entry(3172, "lo_truncate64"), Map.entry(3457, "lo_from_bytea"), Map.entry(3458, "lo_get"),
            Map.entry(3459, "lo_get"), Map.entry(3460, "lo_put"));

    private FastPathFunctions() {
    }

    /** The SQL equivalent of the call ("SELECT pg_catalog.lo_open($1, $2)"), or null for an unknown OID. */
    static String asSql(ByteBuf functionCall) {
        int at = functionCall.readerIndex() + 5;
        String name = BUILT_IN.get(functionCall.getInt(at));
        if (name == null) {
            return null;
        }
        // skip the argument format codes to reach the argument count
        int formats = functionCall.getUnsignedShort(at + 4);
        int args = functionCall.getUnsignedShort(at + 6 + 2 * formats);
        StringBuilder sql = new StringBuilder("SELECT pg_catalog.").append(name).append('(');
        for (int i = 1; i <= args; i++) {
            sql.append(i > 1 ? ", $" : "$").append(i);
        }
        return sql.append(')').toString();
    }

    static int oid(ByteBuf functionCall) {
        return functionCall.getInt(functionCall.readerIndex() + 5);
    }
}
