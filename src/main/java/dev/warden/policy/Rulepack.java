package dev.warden.policy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.kie.api.KieBase;
import org.kie.api.io.ResourceType;
import org.kie.internal.builder.CompositeKnowledgeBuilder;
import org.kie.internal.builder.KnowledgeBuilder;
import org.kie.internal.builder.KnowledgeBuilderConfiguration;
import org.kie.internal.builder.KnowledgeBuilderFactory;
import org.kie.internal.builder.KnowledgeBuilderResult;
import org.kie.internal.builder.ResultSeverity;
import org.kie.internal.builder.conf.PropertySpecificOption;
import org.kie.internal.io.ResourceFactory;

/** One compiled, immutable rulepack: the KieBase built from every {@code *.drl} of a directory. */
record Rulepack(String version, KieBase kieBase, List<String> files) {

    /** The global every rulepack writes to; declared here too so that a file that omits it still compiles and runs. */
    static final String GLOBAL = "verdict";
    private static final String BUILTIN_NAME = "(warden built-in)";
    private static final String BUILTIN = "package dev.warden.policy.builtin;\n"
            + "global dev.warden.policy.Decision " + GLOBAL + ";\n";

    /** The rule files' names and text, read once, so the version and the compiled rules describe the same bytes. */
    record Sources(Path dir, String version, Map<String, String> files) {
    }

    /** Reads {@code dir/*.drl} (not subdirectories), sorted by name. */
    static Sources read(Path dir) throws IOException {
        List<Path> paths;
        try (Stream<Path> s = Files.list(dir)) {
            paths = s.filter(p -> p.getFileName().toString().endsWith(".drl") && Files.isRegularFile(p))
                    .sorted().toList();
        }
        Map<String, String> files = new LinkedHashMap<>();
        for (Path p : paths) {
            files.put(p.getFileName().toString(), Files.readString(p, StandardCharsets.UTF_8));
        }
        return new Sources(dir, version(files), files);
    }

    /** Short SHA-256 over the sorted file names and contents: equal text, equal version, wherever it runs. */
    static String version(Map<String, String> files) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Map.Entry<String, String> e : files.entrySet()) {
                sha.update(e.getKey().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
                sha.update(e.getValue().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            return HexFormat.of().formatHex(sha.digest(), 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Compiles the sources into one KieBase; slow (about a second), so never on an event loop. */
    static Rulepack compile(Sources src) {
        if (src.files().isEmpty()) {
            // no rules would mean every statement is allowed: never a silent default for a governance gateway
            throw new RulepackException("no *.drl rule files in " + src.dir(), List.of());
        }
        KnowledgeBuilderConfiguration conf =
                KnowledgeBuilderFactory.newKnowledgeBuilderConfiguration(Rulepack.class.getClassLoader());
        // rules never modify facts, so property reactivity buys nothing (and warns about joins)
        conf.setOption(PropertySpecificOption.ALLOWED);
        KnowledgeBuilder kb = KnowledgeBuilderFactory.newKnowledgeBuilder(conf);
        CompositeKnowledgeBuilder batch = kb.batch();
        batch.add(ResourceFactory.newByteArrayResource(BUILTIN.getBytes(StandardCharsets.UTF_8))
                .setSourcePath(BUILTIN_NAME), ResourceType.DRL);
        for (Map.Entry<String, String> f : src.files().entrySet()) {
            batch.add(ResourceFactory.newByteArrayResource(f.getValue().getBytes(StandardCharsets.UTF_8))
                    .setSourcePath(f.getKey()), ResourceType.DRL);
        }
        try {
            batch.build();
        } catch (RuntimeException e) {
            throw new RulepackException("rules in " + src.dir() + " do not compile", e);
        }
        if (kb.hasErrors()) {
            List<String> problems = new ArrayList<>();
            for (KnowledgeBuilderResult r : kb.getResults(ResultSeverity.ERROR)) {
                problems.add(describe(r));
            }
            throw new RulepackException("rules in " + src.dir() + " do not compile", problems);
        }
        return new Rulepack(src.version(), kb.newKieBase(), List.copyOf(src.files().keySet()));
    }

    /** "guardrails.drl:12: message" — the file and line a compliance engineer has to look at. */
    static String describe(KnowledgeBuilderResult r) {
        String file = r.getResource() == null || r.getResource().getSourcePath() == null
                ? "?" : Path.of(r.getResource().getSourcePath()).getFileName().toString();
        int[] lines = r.getLines();
        String line = lines == null || lines.length == 0 || lines[0] <= 0 ? "?" : String.valueOf(lines[0]);
        return file + ":" + line + ": " + r.getMessage().strip().replaceAll("\\s*\\n\\s*", " | ");
    }
}
