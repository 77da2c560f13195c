package dev.warden.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Renders a page in headless Chromium (Debian's /usr/bin/chromium, installed by .ci/run) and returns
 * the DOM after parsing and scripts, so page tests check what a browser really builds.
 */
final class HeadlessChromium {
    static final Path BINARY = Path.of("/usr/bin/chromium");

    private HeadlessChromium() {
    }

    static boolean available() {
        return Files.isExecutable(BINARY);
    }

    /** The serialised DOM of {@code url} (file:// or http://) once loaded; writes a screenshot when asked. */
    static String dumpDom(String url, Path screenshot, Path workDir) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(BINARY.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + Files.createTempDirectory(workDir, "chromium")));
        if (screenshot != null) {
            List<String> shot = new ArrayList<>(cmd);
            shot.add("--screenshot=" + screenshot);
            shot.add("--window-size=1280,2000");
            shot.add(url);
            run(shot, workDir);
        }
        cmd.add("--virtual-time-budget=5000");
        cmd.add("--dump-dom");
        cmd.add(url);
        return run(cmd, workDir);
    }

    private static String run(List<String> cmd, Path workDir) throws IOException, InterruptedException {
        Path out = Files.createTempFile(workDir, "chromium", ".out");
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD)
                .redirectOutput(out.toFile()).start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("chromium did not finish within 90 s: " + cmd);
        }
        return Files.readString(out, StandardCharsets.UTF_8);
    }
}
