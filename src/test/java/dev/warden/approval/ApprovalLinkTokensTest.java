package dev.warden.approval;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApprovalLinkTokensTest {
    @TempDir
    Path dir;

    @Test
    void aTokenVerifiesOnlyUnchangedForItsRequestAndUntilItExpires() throws Exception {
        Path keyFile = dir.resolve("sub/link.key");
        LinkTokens tokens = new LinkTokens(LinkTokens.loadOrGenerateKey(keyFile));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile))).isEqualTo("rw-------");
        assertThat(LinkTokens.loadOrGenerateKey(keyFile)).as("kept, not regenerated")
                .isEqualTo(LinkTokens.loadOrGenerateKey(keyFile));
        Instant now = Instant.now();
        Instant expires = now.plusSeconds(600);
        String t = tokens.issue("AR-1", "alice@example.com", LinkTokens.Action.DENY, expires);
        assertThat(t).matches("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");

        LinkTokens.Result ok = tokens.verify(t, "AR-1", now);
        assertThat(ok.ok()).isTrue();
        assertThat(ok.claims().reviewer()).isEqualTo("alice@example.com");
        assertThat(ok.claims().action()).isEqualTo(LinkTokens.Action.DENY);
        assertThat(ok.claims().expires()).isEqualTo(Instant.ofEpochSecond(expires.getEpochSecond()));
        assertThat(tokens.issue("AR-1", "alice@example.com", LinkTokens.Action.DENY, expires)).as("fresh nonce").isNotEqualTo(t);

        assertThat(tokens.verify(t, "AR-2", now).problem()).contains("another approval request");
        assertThat(tokens.verify(t, "AR-1", expires.plusSeconds(1)).problem()).contains("expired");
        assertThat(tokens.verify(null, "AR-1", now).problem()).contains("missing");
        assertThat(tokens.verify("garbage", "AR-1", now).ok()).isFalse();
        // a payload rewritten to approve, with the old MAC, is refused
        String payload = new String(Base64.getUrlDecoder().decode(t.substring(0, t.indexOf('.'))));
        String forged = Base64.getUrlEncoder().withoutPadding().encodeToString(payload.replace("\ndeny\n", "\napprove\n")
                .getBytes()) + t.substring(t.indexOf('.'));
        assertThat(tokens.verify(forged, "AR-1", now).problem()).contains("forged");
        // another key (another Warden) does not accept it
        LinkTokens other = new LinkTokens(LinkTokens.loadOrGenerateKey(dir.resolve("other.key")));
        assertThat(other.verify(t, "AR-1", now).ok()).isFalse();
    }
}
