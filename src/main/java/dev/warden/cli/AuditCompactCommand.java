package dev.warden.cli;

import dev.warden.audit.AuditSettings;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code ./warden audit compact}: gives the embedded H2 store's unused space back to the file system,
 * with Warden stopped. H2 writes every commit to a new place in its file and, with commits reaching
 * the file at once ({@code WRITE_DELAY=0}), never rewrites the partly used old places on its own, so the
 * file grows to several times its data, and pruning frees space inside the file only. Compaction
 * rewrites the live data; records, blocks and checkpoints are unchanged, so {@code audit verify}
 * gives the same answer before and after.
 */
@Command(name = "compact", description = "Shrink the embedded H2 audit store's file to its live data (Warden must be "
        + "stopped). PostgreSQL stores reclaim space with VACUUM instead.")
final class AuditCompactCommand extends ToolCommand {
    @Mixin
    AuditCommand.StoreOptions store = new AuditCommand.StoreOptions();

    @Override
    String toolName() {
        return "audit compact";
    }

    @Override
    int run(PrintWriter o, PrintWriter err) throws Exception {
        AuditSettings.Store s = store.resolveStore();
        String prefix = "jdbc:h2:file:";
        if (!s.url().startsWith(prefix)) {
            return fail("only the embedded H2 store needs compacting; " + s.url()
                    + " is not one (PostgreSQL returns the space of pruned rows with VACUUM)", 2);
        }
        String path = s.url().substring(prefix.length());
        int semi = path.indexOf(';');
        Path file = Path.of((semi < 0 ? path : path.substring(0, semi)) + ".mv.db");
        long before = Files.exists(file) ? Files.size(file) : -1;
        long t0 = System.nanoTime();
        try (Connection c = store.connect(); Statement st = c.createStatement()) {
            st.execute("SHUTDOWN COMPACT");
        }
        long after = Files.size(file);
        o.printf("compacted %s: %,d bytes -> %,d bytes (%.1f s)%n", file, before, after,
                (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
