package workflow_test

// The second release's time-driven events on the world's clock, moved by
// the tests rather than waited for, and the races of the new events: a
// withdrawal against an approval, an answer against its lapse, and two
// instances' schedulers over one PostgreSQL.

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/claims"
	"cpor/live"
	"cpor/models"
	"cpor/storage"
	"cpor/storage/storagetest"
	"cpor/testkit"
	"cpor/workflow"
)

// TestAnswerDeadline: the partner is warned before the deadline, an answer
// in time restarts the review clock with the time that was left, and no
// answer lapses the claim into a rejection that a late answer cannot undo.
func TestAnswerDeadline(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		answered := f.claimIn(workflow.WaitingInReview, "answered")
		silent := f.claimIn(workflow.WaitingInReview, "silent")
		left := *f.claim(silent).ReviewTimeLeft
		due := *f.claim(silent).ResponseDueAt

		f.w.Clock.Advance(due.Sub(f.w.Clock.Now()) - 24*time.Hour) // within two business days of it
		f.w.RunDue(t)
		if n := f.count(&models.ClaimEvent{}, "claim_id = ? AND type = ?", silent, models.EventDeadlineWarning); n != 1 {
			t.Fatalf("%d deadline warnings before the answer is due; want 1", n)
		}
		c := f.ok("respond")(f.w.Workflow.Respond(testkit.As("ada"), withReason(answered, "Here it is.")))
		wantDue := f.w.Calendar.AddBusinessTime(f.w.Clock.Now(), time.Duration(left)*time.Second)
		if c.Status != models.UnderReview || c.ReviewDueAt == nil || c.ReviewDueAt.Sub(wantDue).Abs() > time.Second {
			t.Errorf("answered claim %s due %v; want UNDER_REVIEW due %v", c.Status, c.ReviewDueAt, wantDue)
		}

		f.w.Clock.Advance(25 * time.Hour)
		f.w.RunDue(t)
		lapsed := f.claim(silent)
		if lapsed.Status != models.Rejected || lapsed.DecisionCode == nil || *lapsed.DecisionCode != models.NoPartnerResponse {
			t.Fatalf("unanswered claim is %s (%v); want REJECTED for no partner response", lapsed.Status, lapsed.DecisionCode)
		}
		_, err := f.w.Workflow.Respond(testkit.As("ada"), withReason(silent, "Sorry, late."))
		expectError(t, err, apperr.ResponseOverdue, "claimId")
		if f.claim(answered).Status != models.UnderReview {
			t.Errorf("the answered claim lapsed too")
		}
	})
}

// TestDraftExpiry: a draft untouched for 30 days expires after a warning a
// week before; one changed meanwhile lives on.
func TestDraftExpiry(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		idle := f.claimIn(workflow.Draft, "idle")
		touched := f.claimIn(workflow.Draft, "touched")
		f.w.Clock.Advance(24 * 24 * time.Hour)
		f.w.RunDue(t)
		if n := f.count(&models.ClaimEvent{}, "claim_id = ? AND type = ?", idle, models.EventDeadlineWarning); n != 1 {
			t.Fatalf("%d expiry warnings; want 1", n)
		}
		if err := f.w.DB.Model(&models.Claim{}).Where("id = ?", touched).Update("updated_at", f.w.Clock.Now()).Error; err != nil {
			t.Fatal(err)
		}
		f.w.Clock.Advance(7 * 24 * time.Hour)
		f.w.RunDue(t)
		if c := f.claim(idle); c.Status != models.Expired || c.DecidedAt == nil {
			t.Errorf("idle draft is %s; want EXPIRED", c.Status)
		}
		if c := f.claim(touched); c.Status != models.Draft {
			t.Errorf("a draft changed 7 days ago is %s; want DRAFT", c.Status)
		}
	})
}

// TestWithdrawRacesApprove: a partner withdrawing and a reviewer approving
// the same claim at once: exactly one wins, and the claim, its history and
// its association agree with the winner.
func TestWithdrawRacesApprove(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		for round := 0; round < 8; round++ {
			id := f.claimIn(workflow.UnderReview, fmt.Sprintf("race-withdraw-%d", round))
			var wg sync.WaitGroup
			errs := make([]error, 2)
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, errs[0] = f.w.Workflow.Withdraw(testkit.As("ada"), withReason(id, "Not needed."))
			}()
			go func() {
				defer wg.Done()
				_, errs[1] = f.w.Workflow.Approve(testkit.As("rita"), withReason(id, "Fine."))
			}()
			wg.Wait()
			c := f.claim(id)
			won := map[models.ClaimStatus]int{models.Withdrawn: 0, models.Approved: 1}[c.Status]
			if errs[won] != nil || errs[1-won] == nil {
				t.Fatalf("round %d: claim %s; withdraw %v, approve %v", round, c.Status, errs[0], errs[1])
			}
			if !apperr.Is(errs[1-won], apperr.InvalidTransition) && !apperr.Is(errs[1-won], apperr.NotWithdrawable) {
				t.Errorf("round %d: the loser got %v", round, errs[1-won])
			}
			if n := f.count(&models.Association{}, "claim_id = ?", id); (n == 1) != (c.Status == models.Approved) {
				t.Errorf("round %d: %s claim with %d associations", round, c.Status, n)
			}
			concCheckHistory(t, f.w.DB, c)
		}
	})
}

// TestRespondRacesLapse: the partner's answer and the scheduler's lapse
// at once: one wins, the other is refused or finds nothing to do.
func TestRespondRacesLapse(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		for round := 0; round < 8; round++ {
			id := f.claimIn(workflow.WaitingInReview, fmt.Sprintf("race-lapse-%d", round))
			lapseAt := f.claim(id).ResponseDueAt.Add(time.Minute)
			var wg sync.WaitGroup
			var respondErr error
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, respondErr = f.w.Workflow.Respond(testkit.As("ada"), withReason(id, "Just in time."))
			}()
			go func() { defer wg.Done(); f.due(workflow.JobLapse, id, lapseAt) }()
			wg.Wait()
			c := f.claim(id)
			switch c.Status {
			case models.UnderReview:
				if respondErr != nil {
					t.Fatalf("round %d: answered claim but respond failed: %v", round, respondErr)
				}
			case models.Rejected:
				if !apperr.Is(respondErr, apperr.ResponseOverdue) {
					t.Fatalf("round %d: lapsed claim but respond gave %v", round, respondErr)
				}
			default:
				t.Fatalf("round %d: claim is %s", round, c.Status)
			}
			concCheckHistory(t, f.w.DB, c)
		}
	})
}

// TestTwoSchedulersLapseEachClaimOnce: two instances over one PostgreSQL
// run the same due lapses at once; each claim lapses exactly once.
func TestTwoSchedulersLapseEachClaimOnce(t *testing.T) {
	w := testkit.New(t, storage.Postgres)
	storagetest.PostgresURL(t)
	other := w.Instance(t, live.DefaultConfig)
	f := &fx{t: t, w: w}
	var ids []string
	for i := 0; i < 12; i++ {
		ids = append(ids, f.claimIn(workflow.WaitingInReview, fmt.Sprintf("two-schedulers-%d", i)).String())
	}
	for _, x := range []*testkit.World{w, other} {
		x.Clock.Advance(30 * 24 * time.Hour)
	}
	var wg sync.WaitGroup
	for _, x := range []*testkit.World{w, other, w, other} {
		wg.Add(1)
		go func() { defer wg.Done(); x.RunDue(t) }()
	}
	wg.Wait()
	for _, id := range ids {
		if n := f.count(&models.ClaimEvent{}, "claim_id = ? AND event = ?", id, string(workflow.Lapse)); n != 1 {
			t.Errorf("claim %s lapsed %d times; want once", id, n)
		}
	}
}

// TestWithdrawalClosesACaseLeftWithOneClaim: when one of two competing
// claims is withdrawn (here while the other waits for its partner's
// answer), the case closes undecided and the other claim goes back to
// review, still waiting for its answer; the answer then takes it to plain
// review, not to arbitration.
func TestWithdrawalClosesACaseLeftWithOneClaim(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		rita := testkit.As("rita")
		a := f.submitted("ada", f.woodgroveFor("ada"))
		b := f.submitted("fiona", f.woodgroveFor("fiona"))
		f.ok("start review A")(f.w.Workflow.StartReview(rita, req(a.ID)))
		cb := f.ok("start review B")(f.w.Workflow.StartReview(rita, req(b.ID)))
		caseID := *cb.ArbitrationCaseID
		f.ok("ask B")(f.w.Workflow.RequestInformation(rita, withReason(b.ID, "Send the signed plan.")))

		f.ok("withdraw A")(f.w.Workflow.Withdraw(testkit.As("ada"), withReason(a.ID, "We were not involved after all.")))
		var cs models.ArbitrationCase
		if err := f.w.DB.Where("id = ?", caseID).Take(&cs).Error; err != nil {
			t.Fatal(err)
		}
		if cs.Status != models.ArbitrationClosed || cs.WinningClaimID != nil || cs.ResolvedAt == nil {
			t.Errorf("case after the withdrawal: %+v; want CLOSED without a winner", cs)
		}
		left := f.claim(b.ID)
		if workflow.StateOf(&left) != workflow.WaitingInReview {
			t.Fatalf("the remaining claim is %s; want ACTION_REQUIRED in review", workflow.StateOf(&left))
		}
		c := f.ok("respond")(f.w.Workflow.Respond(testkit.As("fiona"), withReason(b.ID, "Plan attached.")))
		if c.Status != models.UnderReview {
			t.Errorf("after the answer the claim is %s; want UNDER_REVIEW", c.Status)
		}
		for _, id := range []uuid.UUID{a.ID, b.ID} {
			concCheckHistory(t, f.w.DB, f.claim(id))
		}
	})
}

// TestAnswerWithProofIsOneTransaction: new proof sent with an answer is
// stored with it, and an answer refused (after its deadline) keeps none.
func TestAnswerWithProofIsOneTransaction(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		ada := testkit.As("ada")
		upload := func() *claims.Proof {
			p, err := f.w.Claims.ReadProof(ada, claims.Upload{FileName: "plan.pdf", Content: bytes.NewReader(testkit.PDF)})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		on := f.claimIn(workflow.WaitingInReview, "answer-with-proof")
		before := f.count(&models.Document{}, "claim_id = ?", on)
		r := withReason(on, "The plan is attached.")
		r.Proof = upload()
		f.ok("respond with proof")(f.w.Workflow.Respond(ada, r))
		if n := f.count(&models.Document{}, "claim_id = ?", on); n != before+1 {
			t.Errorf("%d documents after the answer; want %d", n, before+1)
		}
		if n := f.count(&models.ClaimEvent{}, "claim_id = ? AND type = ? AND document_id = ?", on, models.EventDocumentAttached, r.Proof.Document().ID); n != 1 {
			t.Errorf("%d DOCUMENT_ATTACHED events for the answer's proof", n)
		}

		late := lapsed(f)
		snap := f.snap(late)
		r = withReason(late, "Too late.")
		r.Proof = upload()
		_, err := f.w.Workflow.Respond(ada, r)
		expectError(t, err, apperr.ResponseOverdue, "claimId")
		f.unchanged(late, snap)
	})
}
