package dev.warden.approval;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code http.apiKeys} as reviewer credentials: a Bearer key authenticates as
 * {@code api-key:<index>} (its position in the list, from 0). Every key is compared, in constant time.
 */
final class ApiKeys {
    private final List<byte[]> keys = new ArrayList<>();

    ApiKeys(List<String> apiKeys) {
        for (String k : apiKeys) {
            keys.add(k.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** The principal for an {@code Authorization} header, if it carries a configured key. */
    Optional<String> principal(String authorization) {
        if (authorization == null || !authorization.startsWith("Bearer ") || keys.isEmpty()) {
            return Optional.empty();
        }
        byte[] given = authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        int match = -1;
        for (int i = 0; i < keys.size(); i++) {
            if (MessageDigest.isEqual(keys.get(i), given) && match < 0) {
                match = i;
            }
        }
        return match < 0 ? Optional.empty() : Optional.of("api-key:" + match);
    }
}
