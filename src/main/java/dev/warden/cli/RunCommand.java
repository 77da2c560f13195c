package dev.warden.cli;

import dev.warden.config.ConfigLoader;
import dev.warden.config.WardenConfig;
import dev.warden.proxy.Gateway;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

@Command(name = "run", description = "Run the gateway against the targets in a config file.")
final class RunCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "Config file (see config/warden.yaml).")
    Path config;

    @Option(names = "--routes", description = "Directory with the Camel routes (default: <warden home>/routes).")
    Path routes;

    @Option(names = "--rules", description = "Directory with the Drools rulepacks (default: <warden home>/rules).")
    Path rules;

    @Override
    public Integer call() throws Exception {
        WardenConfig cfg = ConfigLoader.load(config);
        Gateway gw = new Gateway(cfg, routes != null ? routes : WardenCli.home().resolve("routes"),
                rules != null ? rules : WardenCli.home().resolve("rules")).start();
        Thread watcher = watchConfig(config, gw);
        awaitShutdown(() -> {
            watcher.interrupt();
            gw.close();
        });
        return 0;
    }

    /**
     * Re-reads the config file when it changes and applies its oidc section (issuers, grants,
     * revocations), so a revocation ends live sessions within seconds. Other sections need a restart;
     * a file that no longer validates is reported and ignored.
     */
    static Thread watchConfig(Path file, Gateway gw) {
        Thread t = new Thread(() -> {
            long seen = modified(file);
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
                long now = modified(file);
                if (now != seen) {
                    seen = now;
                    try {
                        gw.reloadIdentity(ConfigLoader.load(file).oidc());
                    } catch (RuntimeException e) {
                        LoggerFactory.getLogger("dev.warden.gateway")
                                .error("config change in {} ignored, the running settings stay: {}", file, e.getMessage());
                    }
                }
            }
        }, "warden-config-watch");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static long modified(Path file) {
        try {
            return java.nio.file.Files.getLastModifiedTime(file).toMillis();
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    /** Blocks until Ctrl-C / SIGTERM, then runs the cleanup once. */
    static void awaitShutdown(Runnable cleanup) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                cleanup.run();
            } finally {
                done.countDown();
            }
        }, "warden-shutdown"));
        done.await();
    }
}
