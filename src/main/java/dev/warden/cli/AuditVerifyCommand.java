package dev.warden.cli;

import dev.warden.audit.AuditVerifier;
import dev.warden.audit.Checkpoint;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.PublicKey;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "verify", description = "Walk every chain and checkpoint signature; report the first broken place. "
        + "Exit status 0 only when everything verifies (1: a problem was found, 2: could not verify).")
final class AuditVerifyCommand extends ToolCommand {
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

    @Option(names = "--bundle", description = "Verify a recording bundle (from 'warden replay SESSION --export') "
            + "offline: its chunk hashes, its audit records up to the signed checkpoint, the signature.")
    Path bundle;

    @Option(names = "--recordings", description = "Recording directory to check against the audit "
            + "(default: recording.directory of --config). Missing, it fails verification when the audit records "
            + "chunks.")
    Path recordings;

    private int bundle(PrintWriter out, PrintWriter err) throws Exception {
        List<PublicKey> keys = new ArrayList<>();
        for (Path p : store.publicKeys) {
            keys.add(dev.warden.audit.SigningKeys.readPublic(p));
        }
        dev.warden.recording.Bundle.Check c = dev.warden.recording.Bundle.verify(bundle, keys);
        if (c.ok()) {
            out.println("ok: bundle of session " + c.session() + ": " + c.records() + " audit records chain to the signed "
                    + "checkpoint (key " + c.keyId() + (keys.isEmpty() ? ", taken from the bundle — compare it with the "
                    + "key you hold" : "") + "), " + c.chunks() + " chunk(s) match their records");
        } else {
            err.println("FAILED: bundle of session " + c.session() + ":");
            c.problems().forEach(p -> err.println("  " + p));
        }
        c.gaps().forEach(g -> (c.ok() ? out : err).println("  gap — " + g));
        return c.ok() ? 0 : 1;
    }

    @Override
    String toolName() {
        return "audit verify";
    }

    @Override
    int run(PrintWriter out, PrintWriter err) throws Exception {
        if (bundle != null) {
            return bundle(out, err);
        }
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
        Path dir = recordings != null ? recordings : store.config == null ? null
                : dev.warden.config.RecordingSection.fromConfigFile(store.config).directory();
        boolean recOk = true;
        // a missing directory is checked too: it is a problem when the chain records chunks (RecordingVerifier)
        if (dir != null) {
            dev.warden.recording.RecordingVerifier.Report rr;
            try (Connection c = store.connect()) {
                rr = dev.warden.recording.RecordingVerifier.verify(c, dir);
            }
            recOk = rr.ok();
            if (rr.ok() && !java.nio.file.Files.isDirectory(dir)) {
                out.println("ok: recordings: no recording directory at " + dev.warden.recording.ChunkFiles.printable(dir)
                        + " and no recorded chunk in the audit");
            } else {
                (recOk ? out : err).println((recOk ? "ok: " : "FAILED: ") + rr.summary());
            }
        }
        return r.ok() && recOk ? 0 : 1;
    }
}
