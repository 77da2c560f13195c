package dev.warden.approval;

import static dev.warden.approval.ApprovalFixture.ALICE;
import static dev.warden.approval.ApprovalFixture.BOB;
import static dev.warden.approval.ApprovalFixture.CAROL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.warden.approval.ApprovalFixture.Kind;
import dev.warden.approval.ApprovalRequest.State;
import dev.warden.approval.Approvals.Decision;
import dev.warden.approval.Approvals.Hold;
import dev.warden.approval.Approvals.Mode;
import dev.warden.approval.Approvals.Outcome;
import dev.warden.audit.AuditVerifier;
import dev.warden.identity.Identity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The approval service against real H2 and PostgreSQL control stores with a real audit log. */
class ApprovalServiceTest {
    private static final String HASH = "a".repeat(64);
    @TempDir
    Path dir;

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(20, TimeUnit.SECONDS);
    }

    private static ApprovalException refusal(CompletableFuture<?> f) {
        try {
            f.get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return ApprovalException.of(e);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("expected a refusal");
    }

    private static State state(ApprovalFixture f, String id) throws Exception {
        return get(f.approvals.find(id)).orElseThrow().state();
    }

    private static void assertChainVerifies(ApprovalFixture f) throws Exception {
        AuditVerifier.Report report = f.audit.verify(AuditVerifier.Options.all(), List.of());
        assertThat(report.ok()).as(String.valueOf(report.firstProblem())).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void anApprovalReleasesTheHoldAndEveryStepIsAudited(Kind kind) throws Exception {
        try (ApprovalFixture f = ApprovalFixture.open(dir, ApprovalFixture.fresh(kind), "i-a", ApprovalFixture.settings(dir))) {
            Hold h = get(f.approvals.request(ApprovalFixture.hold("dba", "DROP TABLE customers", HASH, Mode.WAIT)));
            assertThat(h.id()).matches("AR-[0-9A-Z]{10}");
            assertThat(h.url()).isEqualTo("https://warden.example.com/approvals/" + h.id());
            assertThat(h.decision()).isNotDone();
            ApprovalRequest stored = get(f.approvals.find(h.id())).orElseThrow();
            assertThat(stored.state()).isEqualTo(State.PENDING);
            assertThat(stored.text()).isEqualTo("DROP TABLE customers");
            assertThat(stored.identity().ci("repository")).isEqualTo("acme/app");
            assertThat(stored.requiredApprovals()).isEqualTo(1);
            assertThat(stored.ownerInstance()).isEqualTo("i-a");

            await().atMost(Duration.ofSeconds(10)).until(() -> f.sent.size() == 3);
            assertThat(f.sent).extracting(Approvals.Notification::reviewer).containsExactlyInAnyOrder(ALICE, BOB, CAROL);
            assertThat(f.sent.get(0).approveUrl()).startsWith(h.url() + "?t=");

            ApprovalRequest after = get(f.approvals.decide(h.id(), BOB, true, "looks fine", "10.1.1.1", "api-key:0", null));
            assertThat(after.state()).isEqualTo(State.APPROVED);
            Decision d = get(h.decision());
            assertThat(d.outcome()).isEqualTo(Outcome.APPROVED);
            assertThat(d.reviewers()).containsExactly(BOB);
            assertThat(d.reason()).isEqualTo("looks fine");

            get(f.approvals.executed(h.id(), "sess-1"));
            assertThat(state(f, h.id())).isEqualTo(State.EXECUTED);
            // a decision on a request that is no longer pending is refused clearly
            ApprovalException late = refusal(f.approvals.decide(h.id(), ALICE, false, null, "10.1.1.2", "api-key:0", null));
            assertThat(late.status()).isEqualTo(409);
            assertThat(late.getMessage()).contains("already executed");

            await().atMost(Duration.ofSeconds(10)).until(() -> f.events(h.id()).contains("notified"));
            assertThat(f.events(h.id())).containsExactlyInAnyOrder("requested", "notified", "approved", "executed");
            var approved = f.records(h.id(), "approved").get(0).record();
            assertThat(approved).containsEntry("reviewer", BOB).containsEntry("client", "10.1.1.1")
                    .containsEntry("session", "sess-1").containsEntry("statement", "rec-1");
            assertChainVerifies(f);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void oneDenyDeniesEvenAfterAnApproval(Kind kind) throws Exception {
        try (ApprovalFixture f = ApprovalFixture.open(dir, ApprovalFixture.fresh(kind), "i-a", ApprovalFixture.settings(dir))) {
            Hold h = get(f.approvals.request(ApprovalFixture.hold("pair", "ALTER TABLE accounts DROP COLUMN iban", HASH, Mode.WAIT)));
            assertThat(get(f.approvals.decide(h.id(), ALICE, true, null, "a", "link", null)).state()).isEqualTo(State.PENDING);
            assertThat(h.decision()).isNotDone();
            get(f.approvals.decide(h.id(), BOB, false, "not during business hours", "b", "link", null));
            Decision d = get(h.decision());
            assertThat(d.outcome()).isEqualTo(Outcome.DENIED);
            assertThat(d.reviewers()).containsExactly(BOB);
            assertThat(d.reason()).isEqualTo("not during business hours");
            assertThat(refusal(f.approvals.decide(h.id(), CAROL, true, null, "c", "link", null)).status()).isEqualTo(409);
            assertThat(f.events(h.id())).contains("requested", "approved", "denied");
            assertChainVerifies(f);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void requiredApprovalsMustComeFromDistinctReviewers(Kind kind) throws Exception {
        try (ApprovalFixture f = ApprovalFixture.open(dir, ApprovalFixture.fresh(kind), "i-a", ApprovalFixture.settings(dir))) {
            Hold h = get(f.approvals.request(ApprovalFixture.hold("pair", "GRANT ALL ON customers TO etl", HASH, Mode.WAIT)));
            get(f.approvals.decide(h.id(), ALICE, true, "ok", "a", "link", null));
            ApprovalException twice = refusal(f.approvals.decide(h.id(), ALICE.toUpperCase(), true, "again", "a", "link", null));
            assertThat(twice.status()).isEqualTo(409);
            assertThat(twice.getMessage()).contains("distinct reviewers");
            assertThat(state(f, h.id())).isEqualTo(State.PENDING);
            assertThat(h.decision()).isNotDone();
            get(f.approvals.decide(h.id(), CAROL, true, "ok too", "c", "link", null));
            Decision d = get(h.decision());
            assertThat(d.outcome()).isEqualTo(Outcome.APPROVED);
            assertThat(d.reviewers()).containsExactlyInAnyOrder(ALICE, CAROL);
            assertThat(f.records(h.id(), "approved")).hasSize(2);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void theRequesterAndNonMembersMayNotDecide(Kind kind) throws Exception {
        try (ApprovalFixture f = ApprovalFixture.open(dir, ApprovalFixture.fresh(kind), "i-a", ApprovalFixture.settings(dir))) {
            // carol's own CI job (her address in the token's email claim), and a static user named like bob
            Identity carolsJob = new Identity(Identity.Kind.OIDC, "repo:acme/app:ref:refs/heads/x", "https://issuer",
                    "ci", "rule", java.util.Map.of(), java.util.Map.of("email", CAROL));
            Hold h = get(f.approvals.request(ApprovalFixture.hold(carolsJob, "dba", "DROP TABLE cards", HASH, Mode.WAIT)));
            ApprovalException self = refusal(f.approvals.decide(h.id(), CAROL, true, null, "c", "link", null));
            assertThat(self.status()).isEqualTo(403);
            assertThat(self.getMessage()).contains("made this request");
            ApprovalException outsider = refusal(f.approvals.decide(h.id(), "mallory@example.com", true, null, "m", "link", null));
            assertThat(outsider.status()).isEqualTo(403);
            assertThat(outsider.getMessage()).contains("not a reviewer of group 'dba'");
            Hold h2 = get(f.approvals.request(ApprovalFixture.hold(Identity.staticUser(BOB), "dba", "DROP TABLE x", HASH, Mode.WAIT)));
            assertThat(refusal(f.approvals.decide(h2.id(), BOB, true, null, "b", "link", null)).status()).isEqualTo(403);
            assertThat(state(f, h.id())).isEqualTo(State.PENDING);
            assertThat(state(f, h2.id())).isEqualTo(State.PENDING);
            assertThat(f.events(h.id())).doesNotContain("approved");
            // the requester is not even notified
            await().atMost(Duration.ofSeconds(10)).until(() -> f.events(h.id()).contains("notified"));
            assertThat(f.sent).filteredOn(n -> n.request().id().equals(h.id()))
                    .extracting(Approvals.Notification::reviewer).containsExactlyInAnyOrder(ALICE, BOB);
            assertThat(refusal(f.approvals.request(ApprovalFixture.hold("nobody", "DROP TABLE y", HASH, Mode.WAIT))).status())
                    .isEqualTo(400);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void anUndecidedRequestExpires(Kind kind) throws Exception {
        try (ApprovalFixture f = ApprovalFixture.open(dir, ApprovalFixture.fresh(kind), "i-a", ApprovalFixture.settings(dir))) {
            Hold h = get(f.approvals.request(ApprovalFixture.hold("dba", "DROP SCHEMA audit CASCADE", HASH, Mode.WAIT)));
            f.approvals.expireDue();
            assertThat(h.decision()).isNotDone();
            f.clock.advance(ApprovalSettings.DEFAULT_TIMEOUT.plusSeconds(1));
            f.approvals.expireDue();
            Decision d = get(h.decision());
            assertThat(d.outcome()).isEqualTo(Outcome.EXPIRED);
            assertThat(d.reviewers()).isEmpty();
            assertThat(state(f, h.id())).isEqualTo(State.EXPIRED);
            assertThat(refusal(f.approvals.decide(h.id(), ALICE, true, null, "a", "link", null)).status()).isEqualTo(409);
            assertThat(f.records(h.id(), "expired")).hasSize(1);
            assertChainVerifies(f);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aClientThatGoesAwayAbandonsItsRequest(Kind kind) throws Exception {
        try (ApprovalFixture f = ApprovalFixture.open(dir, ApprovalFixture.fresh(kind), "i-a", ApprovalFixture.settings(dir))) {
            Hold h = get(f.approvals.request(ApprovalFixture.hold("dba", "TRUNCATE ledger", HASH, Mode.WAIT)));
            get(f.approvals.abandoned(h.id()));
            assertThat(h.decision()).isCancelled();
            assertThat(state(f, h.id())).isEqualTo(State.ABANDONED);
            assertThat(refusal(f.approvals.decide(h.id(), ALICE, true, null, "a", "link", null)).getMessage())
                    .contains("already abandoned");
            assertThat(f.records(h.id(), "abandoned")).hasSize(1);
            assertThat(f.approvals.waiting()).isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void failFastApprovalIsUsedOnceAndOnlyForTheSameStatement(Kind kind) throws Exception {
        try (ApprovalFixture f = ApprovalFixture.open(dir, ApprovalFixture.fresh(kind), "i-a", ApprovalFixture.settings(dir))) {
            String subject = ApprovalFixture.requester().subject();
            Hold h = get(f.approvals.request(ApprovalFixture.hold("dba", "DELETE FROM cards WHERE expired", HASH, Mode.FAIL_FAST)));
            assertThat(get(f.approvals.consumeFailFast(subject, "bank", HASH))).as("not approved yet").isEmpty();
            get(f.approvals.decide(h.id(), ALICE, true, "once", "a", "link", null));
            assertThat(get(h.decision()).outcome()).isEqualTo(Outcome.APPROVED);

            assertThat(get(f.approvals.consumeFailFast(subject, "bank", "b".repeat(64)))).as("other statement").isEmpty();
            assertThat(get(f.approvals.consumeFailFast("repo:evil/app", "bank", HASH))).as("other identity").isEmpty();
            assertThat(get(f.approvals.consumeFailFast(subject, "other", HASH))).as("other target").isEmpty();
            assertThat(get(f.approvals.consumeFailFast(subject, "bank", HASH, "sess-2"))).contains(h.id());
            assertThat(get(f.approvals.consumeFailFast(subject, "bank", HASH))).as("used once").isEmpty();
            assertThat(state(f, h.id())).isEqualTo(State.EXECUTED);
            assertThat(f.records(h.id(), "executed").get(0).record()).containsEntry("session", "sess-2");

            // an approval older than failFastValidity is no longer usable
            Hold old = get(f.approvals.request(ApprovalFixture.hold("dba", "DELETE FROM cards WHERE expired", HASH, Mode.FAIL_FAST)));
            get(f.approvals.decide(old.id(), BOB, true, null, "b", "link", null));
            f.clock.advance(ApprovalSettings.DEFAULT_FAIL_FAST_VALIDITY.plusMinutes(1));
            assertThat(get(f.approvals.consumeFailFast(subject, "bank", HASH))).isEmpty();
            // a WAIT-mode approval is never consumable as fail-fast
            Hold waited = get(f.approvals.request(ApprovalFixture.hold("dba", "DELETE FROM cards WHERE expired", HASH, Mode.WAIT)));
            get(f.approvals.decide(waited.id(), BOB, true, null, "b", "link", null));
            assertThat(get(f.approvals.consumeFailFast(subject, "bank", HASH))).isEmpty();
            assertThat(state(f, waited.id())).isEqualTo(State.APPROVED);
            assertChainVerifies(f);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aDecisionTheAuditCannotRecordIsNotTaken(Kind kind) throws Exception {
        try (ApprovalFixture f = ApprovalFixture.open(dir, ApprovalFixture.fresh(kind), "i-a", ApprovalFixture.settings(dir))) {
            Hold h = get(f.approvals.request(ApprovalFixture.hold("dba", "DROP TABLE customers", HASH, Mode.WAIT)));
            f.audit.close();
            ApprovalException e = refusal(f.approvals.decide(h.id(), ALICE, true, null, "a", "link", null));
            assertThat(e.status()).isEqualTo(503);
            assertThat(e.getMessage()).contains("audit trail could not record 'approved'");
            assertThat(state(f, h.id())).isEqualTo(State.PENDING);
            assertThat(get(f.approvals.find(h.id())).orElseThrow().votes()).isEmpty();
            assertThat(h.decision()).isNotDone();
            assertThat(refusal(f.approvals.request(ApprovalFixture.hold("dba", "DROP TABLE x", HASH, Mode.WAIT))).status())
                    .isEqualTo(503);
            assertThat(get(f.approvals.list(State.PENDING, 10))).extracting(ApprovalRequest::id).containsExactly(h.id());
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aFailedNotificationIsAuditedAndTheRequestStaysDecidable(Kind kind) throws Exception {
        try (ApprovalFixture f = ApprovalFixture.open(dir, ApprovalFixture.fresh(kind), "i-a", ApprovalFixture.settings(dir))) {
            f.approvals.notifyWith(n -> {
                if (n.reviewer().equals(BOB)) {
                    throw new java.io.IOException("552 mailbox full");
                }
                f.sent.add(n);
            });
            Hold h = get(f.approvals.request(ApprovalFixture.hold("dba", "DROP TABLE customers", HASH, Mode.WAIT)));
            await().atMost(Duration.ofSeconds(10)).until(() -> !f.records(h.id(), "notified").isEmpty());
            @SuppressWarnings("unchecked")
            var detail = (java.util.Map<String, Object>) f.records(h.id(), "notified").get(0).record().get("detail");
            assertThat((List<String>) detail.get("recipients")).containsExactlyInAnyOrder(ALICE, CAROL);
            assertThat((List<String>) detail.get("failed")).containsExactly(BOB);
            assertThat(String.valueOf(detail.get("error"))).contains("mailbox full");
            assertThat(state(f, h.id())).isEqualTo(State.PENDING);
            get(f.approvals.decide(h.id(), BOB, true, null, "b", "api-key:0", null));
            assertThat(get(h.decision()).outcome()).isEqualTo(Outcome.APPROVED);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aSecondInstanceSharingTheStoreCanDecideMyHold(Kind kind) throws Exception {
        // two services, two instance ids, one store (a named in-memory H2 database is shared within the JVM)
        var store = ApprovalFixture.fresh(kind);
        try (ApprovalFixture a = ApprovalFixture.open(dir, store, "i-a", ApprovalFixture.settings(dir));
             ApprovalFixture b = ApprovalFixture.open(dir, store, "i-b", ApprovalFixture.settings(dir))) {
            Hold h = get(a.approvals.request(ApprovalFixture.hold("dba", "DROP TABLE customers", HASH, Mode.WAIT)));
            get(b.approvals.decide(h.id(), ALICE, true, "from b", "a", "link", null));
            Decision d = h.decision().get(2, TimeUnit.SECONDS);
            assertThat(d.outcome()).isEqualTo(Outcome.APPROVED);
            assertThat(Optional.ofNullable(d.reason())).contains("from b");
        }
    }
}
