package dev.warden.cli;

import dev.warden.audit.AuditVerifier;
import dev.warden.audit.Checkpoint;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.PublicKey;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "verify", description = "Walk every chain and checkpoint signature; report the first broken place. "
        + "Exit status 0 only when everything verifies (1: a problem was found, 2: could not verify).")
final class AuditVerifyCommand implements Callable<Integer> {
    @Mixin
    AuditCommand.StoreOptions store = new AuditCommand.StoreOptions();

    @Option(names = "--from", description = "Verify from the checkpoint before this time (instant or date).")
    String from;

    @Option(names = "--to", description = "Verify up to the first checkpoint after this time (instant or date).")
    String to;

    @Option(names = "--checkpoint", description = "Exported checkpoint file(s) kept by the auditor; detects a tail "
            + "truncated together with the store's checkpoints.")
    List<Path> checkpoints = new ArrayList<>();

    @Option(names = "--instance", description = "Verify only this Warden instance's chain.")
    String instance;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            List<PublicKey> keys = store.resolveKeys();
            List<Checkpoint> exported = new ArrayList<>();
            for (Path p : checkpoints) {
                exported.addAll(Checkpoint.readFile(p));
            }
            AuditVerifier.Options o = new AuditVerifier.Options(AuditCommand.parseTime(from, "--from"),
                    AuditCommand.parseTime(to, "--to"), exported, instance);
            AuditVerifier.Report r;
            try (Connection c = store.connect()) {
                r = AuditVerifier.verify(c, keys, o);
            }
            if (r.chains().isEmpty()) {
                out.println("the audit store holds no records");
            }
            for (AuditVerifier.ChainReport chain : r.chains()) {
                (chain.ok() ? out : err).println((chain.ok() ? "ok: " : "FAILED: ") + chain.summary());
            }
            out.flush();
            err.flush();
            return r.ok() ? 0 : 1;
        } catch (Exception e) {
            err.println("warden audit verify: " + e.getMessage());
            err.flush();
            return 2;
        }
    }
}
