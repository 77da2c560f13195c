package dev.warden.cli;

import dev.warden.config.ConfigLoader;
import dev.warden.config.WardenConfig;
import dev.warden.proxy.Gateway;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
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
        awaitShutdown(gw::close);
        return 0;
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
