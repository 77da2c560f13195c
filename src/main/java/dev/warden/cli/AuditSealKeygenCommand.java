package dev.warden.cli;

import dev.warden.masking.SealedOriginals;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./warden audit seal-keygen --out DIR}: a Tink hybrid keyset pair for masking.sealOriginals. */
@Command(name = "seal-keygen", description = "Write a Tink hybrid (HPKE X25519/AES-256-GCM) keyset pair for "
        + "masking.sealOriginals: seal-private.json (for the auditors only) and seal-public.json (for Warden).")
final class AuditSealKeygenCommand extends ToolCommand {
    @Option(names = "--out", required = true, description = "Directory to write seal-private.json and seal-public.json to.")
    Path out;

    @Override
    String toolName() {
        return "audit seal-keygen";
    }

    @Override
    int run(PrintWriter o, PrintWriter err) throws Exception {
        Files.createDirectories(out);
        Path priv = out.resolve("seal-private.json");
        Path pub = out.resolve("seal-public.json");
        if (Files.exists(priv) || Files.exists(pub)) {
            return fail(out + " holds a seal keyset already; not overwritten", 1);
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
        return 0;
    }
}
