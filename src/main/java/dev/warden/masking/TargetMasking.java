package dev.warden.masking;

import dev.warden.identity.Identity;
import dev.warden.policy.MaskingVerdict;
import dev.warden.policy.PolicyEngine;
import dev.warden.policy.TargetFact;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Everything masking needs for one target, shared by its sessions: the protected-column catalog,
 * the value masker with the target's token key, its detectors and its default method per class.
 */
public final class TargetMasking {
    private final String name;
    private final ProtectedCatalog catalog;
    private final ValueMasker masker;
    private final Detectors detectors;
    private final Map<DataClass, MaskMethod> defaults;
    private final Set<String> classes;
    private final PolicyEngine policy;
    private volatile SealedOriginals sealer;

    public TargetMasking(String name, ProtectedCatalog catalog, byte[] tokenKey, Set<String> detectors,
                         Map<String, String> defaults, Set<DataClass> classes, PolicyEngine policy) {
        this.name = name;
        this.catalog = catalog;
        this.masker = new ValueMasker(new Tokenizer(tokenKey));
        this.detectors = new Detectors(detectors);
        Map<DataClass, MaskMethod> d = new EnumMap<>(DataClass.class);
        for (DataClass c : DataClass.values()) {
            String m = defaults.get(c.id());
            d.put(c, m == null ? c.defaultMethod() : MaskMethod.parse(m));
        }
        this.defaults = d;
        Set<String> cs = new HashSet<>();
        classes.forEach(c -> cs.add(c.id()));
        cs.add(DataClass.FREETEXT.id()); // computed values of any class are judged as freetext
        this.classes = Set.copyOf(cs);
        this.policy = policy;
    }

    /** Seals the originals of masked cells for the auditors (sealOriginals); null = off. */
    public TargetMasking sealOriginals(SealedOriginals s) {
        this.sealer = s;
        return this;
    }

    SealedOriginals sealer() {
        return sealer;
    }

    public String name() {
        return name;
    }

    public ProtectedCatalog catalog() {
        return catalog;
    }

    ValueMasker masker() {
        return masker;
    }

    Detectors detectors() {
        return detectors;
    }

    /** The method per class for this identity: a rule's choice, else the configured or built-in default. */
    public Methods methods(Identity who, TargetFact target) {
        MaskingVerdict v = policy.maskingDecision(who, target, classes);
        Map<DataClass, MaskMethod> out = new EnumMap<>(defaults);
        for (Map.Entry<String, String> e : v.methods().entrySet()) {
            try {
                out.put(DataClass.parse(e.getKey()), MaskMethod.parse(e.getValue()));
            } catch (IllegalArgumentException bad) {
                // a rule named a class or method that does not exist: hide everything of it
                try {
                    out.put(DataClass.parse(e.getKey()), MaskMethod.NULL);
                } catch (IllegalArgumentException ignored) {
                    // not a class Warden knows: nothing to apply it to
                }
            }
        }
        // a computed value mixing classes is freetext: it is never shown more openly than its strictest part
        Set<DataClass> predicates = new HashSet<>();
        for (String c : v.predicatesAllowed()) {
            try {
                predicates.add(DataClass.parse(c));
            } catch (IllegalArgumentException ignored) {
                // unknown class: nothing to allow
            }
        }
        return new Methods(out, predicates, v.rulesVersion());
    }

    /** Resolved methods for one identity: per class, and which classes may be used in predicates. */
    public record Methods(Map<DataClass, MaskMethod> byClass, Set<DataClass> predicatesAllowed, String rulesVersion) {
        public MaskMethod of(DataClass c) {
            return byClass.get(c);
        }

        /** Whether a predicate on a column of this class is allowed (visible in clear, or allowed by a rule). */
        public boolean predicateAllowed(DataClass c) {
            return of(c).isNone() || predicatesAllowed.contains(c);
        }
    }
}
