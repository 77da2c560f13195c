package dev.warden.cli;

import dev.warden.identity.oidc.DemoIssuer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Prints an OIDC ID token signed by the demo issuer, shaped like a GitHub Actions token, so the
 * token login can be tried without a CI platform. Only useful with {@code ./warden demo}.
 */
@Command(name = "token", description = "Print a demo OIDC token (GitHub Actions shape) that ./warden demo accepts.")
final class TokenCommand implements Callable<Integer> {
    static final String KEY_FILE = "demo-issuer-key.json";
    static final String URL_FILE = "demo-issuer-url.txt";

    @Option(names = "--subject", defaultValue = "repo:acme/etl:ref:refs/heads/main", description = "The sub claim.")
    String subject;

    @Option(names = "--claim", description = "Extra claim name=value (repeatable), e.g. repository=acme/etl, run_id=4711.")
    List<String> claims = List.of();

    @Option(names = "--ttl", defaultValue = "15m", description = "Lifetime, e.g. 30s, 15m, 1h (default ${DEFAULT-VALUE}).")
    String ttl;

    @Option(names = "--data", description = "The demo's data directory (default: <home>/data/demo).")
    Path data;

    @Override
    public Integer call() throws Exception {
        Path dir = data != null ? data : WardenCli.home().resolve("data/demo");
        if (!Files.exists(dir.resolve(KEY_FILE)) || !Files.exists(dir.resolve(URL_FILE))) {
            System.err.println("warden: no demo issuer in " + dir + "; start ./warden demo first");
            return 2;
        }
        DemoIssuer issuer = DemoIssuer.loadOrCreate(dir.resolve(KEY_FILE), Files.readString(dir.resolve(URL_FILE)).trim(), "warden");
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("repository", "acme/etl");
        c.put("ref", "refs/heads/main");
        c.put("workflow", "nightly.yml");
        c.put("run_id", "4711");
        c.put("actor", "demo-bot");
        c.put("sha", "0123456789abcdef0123456789abcdef01234567");
        for (String kv : claims) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                System.err.println("warden: --claim wants name=value, got '" + kv + "'");
                return 2;
            }
            c.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        System.out.println(issuer.issue(subject, c, parse(ttl)));
        return 0;
    }

    private static Duration parse(String s) {
        String t = s.trim();
        long n = Long.parseLong(t.replaceAll("[a-z]+$", ""));
        return switch (t.replaceAll("^[0-9]+", "")) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> throw new IllegalArgumentException("--ttl: expected e.g. 30s, 15m or 1h, got '" + s + "'");
        };
    }
}
