package dev.warden.cli;

import dev.warden.audit.Canonical;
import dev.warden.masking.SealedOriginals;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./warden audit unseal --key PRIVATE_KEYSET RECORD_ID}: shows the original values of the
 * cells Warden masked in one statement's result, sealed with the auditors' public keyset
 * (targets.X.masking.sealOriginals). Only the holder of the private keyset can run it usefully.
 */
@Command(name = "unseal", description = "Show the original values of the masked cells of one statement "
        + "(sealed with masking.sealOriginals), using the auditors' private Tink keyset.")
final class AuditUnsealCommand extends ToolCommand {
    @Mixin
    AuditCommand.StoreOptions store = new AuditCommand.StoreOptions();

    @Option(names = "--key", required = true, description = "The auditors' PRIVATE Tink keyset (JSON, from "
            + "./warden audit seal-keygen). Keep it off the Warden host.")
    Path key;

    @Option(names = "--json", description = "Print the sealed document as JSON instead of a table.")
    boolean json;

    @Parameters(index = "0", paramLabel = "RECORD_ID", description = "The statement record's id (or its outcome record's id).")
    String recordId;

    @Override
    String toolName() {
        return "audit unseal";
    }

    @Override
    int run(PrintWriter o, PrintWriter err) throws Exception {
        var keyset = SealedOriginals.readPrivateKeyset(key);
        String statementId = recordId;
        String sealed = null;
        boolean found = false;
        try (Connection c = store.connect()) {
            dev.warden.audit.StoredRecord r = dev.warden.audit.RecordScan.byId(c, recordId);
            if (r != null) {
                found = true;
                Map<String, Object> body = r.envelope();
                Map<String, Object> payload = map(body.get("payload"));
                if ("outcome".equals(r.type())) {
                    statementId = String.valueOf(payload.get("statement"));
                    sealed = str(payload.get("sealedOriginals"));
                } else {
                    Map<String, Object> folded = map(body.get("outcome"));
                    sealed = folded == null ? null : str(folded.get("sealedOriginals"));
                    if (sealed == null) {
                        dev.warden.audit.StoredRecord out = dev.warden.audit.RecordScan.outcomeOf(c, r);
                        sealed = out == null ? null : str(map(out.payload()).get("sealedOriginals"));
                    }
                }
            }
        }
        if (!found) {
            return fail("no record " + recordId + " in the audit store", 1);
        }
        if (sealed == null) {
            return fail("record " + recordId + " has no sealed originals (nothing was masked, "
                    + "or masking.sealOriginals was off for its target)", 1);
        }
        String doc;
        try {
            doc = SealedOriginals.unseal(keyset, sealed, statementId);
        } catch (GeneralSecurityException e) {
            return fail("cannot open the sealed originals of " + recordId + " with " + key
                    + ": the key is not the private half of the public keyset Warden sealed them with (or the "
                    + "record was altered)", 1);
        }
        if (json) {
            o.println(doc);
        } else {
            print(o, Canonical.decodeObject(doc.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        }
        return 0;
    }

    private static void print(PrintWriter o, Map<String, Object> doc) {
        List<String> cols = new ArrayList<>();
        for (Object c : (List<?>) doc.get("columns")) {
            cols.add(String.valueOf(c));
        }
        o.println(String.join("\t", cols));
        for (Object r : (List<?>) doc.get("rows")) {
            List<String> cells = new ArrayList<>();
            for (Object v : (List<?>) r) {
                cells.add(v == null ? "" : String.valueOf(v));
            }
            o.println(String.join("\t", cells));
        }
        if (Boolean.TRUE.equals(doc.get("truncated"))) {
            o.println("(truncated: more rows were masked than sealOriginals.maxBytes keeps)");
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }
}
