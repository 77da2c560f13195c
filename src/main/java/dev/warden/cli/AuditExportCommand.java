package dev.warden.cli;

import dev.warden.audit.Checkpoint;
import dev.warden.audit.SigningKeys;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "export-checkpoint", description = "Write the newest signed checkpoint of each chain to a small file "
        + "for the auditor to keep (two lines each: the signed JSON, the base64 Ed25519 signature).")
final class AuditExportCommand extends ToolCommand {
    @Mixin
    AuditCommand.StoreOptions store = new AuditCommand.StoreOptions();

    @Option(names = "--out", required = true, description = "File to write.")
    Path out;

    @Option(names = "--instance", description = "Only this Warden instance's chain.")
    String instance;

    @Override
    String toolName() {
        return "audit export-checkpoint";
    }

    @Override
    int run(PrintWriter o, PrintWriter err) throws Exception {
        try (Connection c = store.connect()) {
            List<Checkpoint> latest = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT body, signature FROM audit_checkpoint c WHERE number = "
                    + "(SELECT MAX(number) FROM audit_checkpoint d WHERE d.instance_id = c.instance_id) "
                    + (instance == null ? "" : "AND instance_id = ? ") + "ORDER BY instance_id")) {
                if (instance != null) {
                    ps.setString(1, instance);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        latest.add(Checkpoint.parse(rs.getBytes(1), rs.getBytes(2)));
                    }
                }
            }
            if (latest.isEmpty()) {
                return fail("the store holds no checkpoints"
                        + (instance == null ? "" : " for instance " + instance), 1);
            }
            if (!store.publicKeys.isEmpty() || store.config != null) {
                var keys = store.resolveKeys();
                for (Checkpoint cp : latest) {
                    if (keys.stream().noneMatch(cp::verifies)) {
                        return fail(cp + " does not verify with the given public "
                                + "key (it names key " + cp.keyId() + ", given "
                                + String.join(", ", keys.stream().map(SigningKeys::keyId).toList()) + "); not exported", 1);
                    }
                }
            }
            Checkpoint.writeFile(out, latest);
            for (Checkpoint cp : latest) {
                o.println("exported " + cp + " to " + out);
            }
            return 0;
        }
    }
}
