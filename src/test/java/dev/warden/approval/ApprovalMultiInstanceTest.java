package dev.warden.approval;

import static dev.warden.approval.ApprovalFixture.ALICE;
import static dev.warden.approval.ApprovalFixture.BOB;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.approval.ApprovalFixture.Kind;
import dev.warden.approval.Approvals.Hold;
import dev.warden.approval.Approvals.Mode;
import dev.warden.approval.Approvals.Outcome;
import dev.warden.audit.AuditSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two Warden instances (two services, two instance ids) sharing one PostgreSQL control store. */
class ApprovalMultiInstanceTest {
    private static final String HASH = "d".repeat(64);
    @TempDir
    Path dir;

    @Test
    void aDecisionOnOneInstanceReleasesTheHoldOnTheOther() throws Exception {
        AuditSettings.Store store = ApprovalFixture.fresh(Kind.POSTGRES);
        ApprovalSettings settings = ApprovalFixture.settings(dir); // one link key file for both, as documented
        try (ApprovalFixture a = ApprovalFixture.open(dir, store, "warden-a", settings);
             ApprovalFixture b = ApprovalFixture.open(dir, store, "warden-b", settings)) {
            Hold h = a.approvals.request(ApprovalFixture.hold("dba", "DROP TABLE customers", HASH, Mode.WAIT))
                    .get(10, TimeUnit.SECONDS);
            assertThat(b.approvals.find(h.id()).get(10, TimeUnit.SECONDS).orElseThrow().ownerInstance()).isEqualTo("warden-a");

            // a link made by A (in A's mail) works on B: the instances share the link key
            LinkTokens.Result onB = b.approvals.tokens().verify(
                    a.approvals.tokens().issue(h.id(), ALICE, LinkTokens.Action.APPROVE, h.expiresAt()), h.id(),
                    java.time.Instant.now());
            assertThat(onB.ok()).isTrue();

            b.approvals.decide(h.id(), ALICE, true, "decided on b", "10.9.9.9", "link", onB.claims().nonce())
                    .get(10, TimeUnit.SECONDS);
            Approvals.Decision d = h.decision().get(2, TimeUnit.SECONDS);
            assertThat(d.outcome()).isEqualTo(Outcome.APPROVED);
            assertThat(d.reviewers()).containsExactly(ALICE);
            assertThat(a.approvals.waiting()).isZero();
            // the decision was recorded by B's audit chain, the request by A's
            assertThat(b.records(h.id(), "approved")).singleElement()
                    .satisfies(e -> assertThat(e.instanceId()).isEqualTo("warden-b"));
            assertThat(a.records(h.id(), "requested")).singleElement()
                    .satisfies(e -> assertThat(e.instanceId()).isEqualTo("warden-a"));
        }
    }

    @Test
    void expiryOnOneInstanceAndRacingDecisionsHappenOnce() throws Exception {
        AuditSettings.Store store = ApprovalFixture.fresh(Kind.POSTGRES);
        ApprovalSettings settings = ApprovalFixture.settings(dir);
        try (ApprovalFixture a = ApprovalFixture.open(dir, store, "warden-a", settings);
             ApprovalFixture b = ApprovalFixture.open(dir, store, "warden-b", settings)) {
            // B's sweeper expires A's request; A's waiting statement learns it
            Hold h = a.approvals.request(ApprovalFixture.hold("dba", "DROP TABLE x", HASH, Mode.WAIT)).get(10, TimeUnit.SECONDS);
            b.clock.advance(ApprovalSettings.DEFAULT_TIMEOUT.plusSeconds(1));
            b.approvals.expireDue();
            assertThat(h.decision().get(2, TimeUnit.SECONDS).outcome()).isEqualTo(Outcome.EXPIRED);
            assertThat(a.records(h.id(), "expired")).hasSize(1);

            // the instances agree on the time again: otherwise B's sweeper, 15 minutes ahead, expires A's
            // new requests on its own schedule and both decisions below are refused (seen once in CI)
            b.clock.setTo(a.clock.instant());
            // two reviewers decide the same one-approval request at once on both instances: one wins
            for (int round = 0; round < 5; round++) {
                Hold r = a.approvals.request(ApprovalFixture.hold("dba", "DROP TABLE y" + round, HASH, Mode.WAIT))
                        .get(10, TimeUnit.SECONDS);
                List<CompletableFuture<ApprovalRequest>> both = new ArrayList<>();
                both.add(a.approvals.decide(r.id(), ALICE, true, null, "a", "link", null));
                both.add(b.approvals.decide(r.id(), BOB, false, null, "b", "link", null));
                int ok = 0;
                int conflict = 0;
                for (CompletableFuture<ApprovalRequest> f : both) {
                    try {
                        f.get(20, TimeUnit.SECONDS);
                        ok++;
                    } catch (ExecutionException e) {
                        assertThat(ApprovalException.of(e).status()).isEqualTo(409);
                        conflict++;
                    }
                }
                assertThat(ok).isEqualTo(1);
                assertThat(conflict).isEqualTo(1);
                ApprovalRequest after = a.approvals.find(r.id()).get(10, TimeUnit.SECONDS).orElseThrow();
                assertThat(after.votes()).hasSize(1);
                Outcome o = r.decision().get(2, TimeUnit.SECONDS).outcome();
                assertThat(o).isEqualTo(after.votes().get(0).approve() ? Outcome.APPROVED : Outcome.DENIED);
            }
        }
    }
}
