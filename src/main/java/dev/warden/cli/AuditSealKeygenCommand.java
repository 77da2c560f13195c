package dev.warden.cli;

import dev.warden.masking.SealedOriginals;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code ./warden audit seal-keygen --out DIR}: a Tink hybrid keyset pair for masking.sealOriginals. */
@Command(name = "seal-keygen", description = "Write a Tink hybrid (HPKE X25519/AES-256-GCM) keyset pair for "
        + "masking.sealOriginals: seal-private.json (for the auditors only) and seal-public.json (for Warden).")
final class AuditSealKeygenCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, description = "Directory to write seal-private.json and seal-public.json to.")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            Files.createDirectories(out);
            Path priv = out.resolve("seal-private.json");
            Path pub = out.resolve("seal-public.json");
            if (Files.exists(priv) || Files.exists(pub)) {
                err.println("warden audit seal-keygen: " + out + " holds a seal keyset already; not overwritten");
                err.flush();
                return 1;
            }
            String[] pair = SealedOriginals.generate();
            Files.createFile(priv);
            try {
                Files.setPosixFilePermissions(priv, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system
            }
            Files.writeString(priv, pair[0] + "\n", StandardCharsets.UTF_8);
            Files.writeString(pub, pair[1] + "\n", StandardCharsets.UTF_8);
            o.println("wrote " + priv + " (PRIVATE: give it to the auditors; never keep it on the Warden host)");
            o.println("wrote " + pub + " (public: targets.<name>.masking.sealOriginals.publicKeyset)");
            o.flush();
            return 0;
        } catch (Exception e) {
            err.println("warden audit seal-keygen: " + e.getMessage());
            err.flush();
            return 2;
        }
    }
}
