package httpapi_test

// A bug the HTTP tests of the second release found, kept as its regression
// test: a claim taken out of a closed case while it waited for its answer
// must be answered back into plain review.

import (
	"testing"

	"cpor/models"
	"cpor/testkit"
	"cpor/testkit/apitest"
)

// TestSecondReleaseAnswerAfterCaseClosedGoesToReview: a claim waiting for
// its partner's answer inside an arbitration case whose other claim is
// withdrawn is taken out of arbitration (deescalate, ACTION_REQUIRED in
// arbitration -> ACTION_REQUIRED in review, docs/state-machines.md). Its
// answer must then take it to UNDER_REVIEW, and a reviewer must be able to
// approve it.
//
// It once went back to ARBITRATION, in a case that was CLOSED, and could no
// longer be approved: deescalating a waiting claim kept its ResumeStatus.
func TestSecondReleaseAnswerAfterCaseClosedGoesToReview(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, fiona, rita := srv.Client(t, "ada"), srv.Client(t, "fiona"), srv.Client(t, "rita")
		mine := gid(claimWithStatus(t, w, contoso, models.Arbitration))
		theirs := gid(claimWithStatus(t, w, fabrikam, models.Arbitration))
		srFire(t, rita, srRequestInfo, "requestInformation", map[string]any{"claimId": theirs, "message": "Your latest proof."}).ok(t)
		srFire(t, ada, srWithdraw, "withdrawClaim", map[string]any{"claimId": mine, "reason": "Fabrikam led this one."}).ok(t)
		if c := srRead(t, fiona, theirs); c.Status != "ACTION_REQUIRED" || c.ArbitrationCase == nil || c.ArbitrationCase.Status != "CLOSED" {
			t.Fatalf("set-up: %s, case %+v", c.Status, c.ArbitrationCase)
		}

		c := srFire(t, fiona, srRespond, "respondToInformationRequest", map[string]any{"claimId": theirs, "message": "Attached."}).ok(t)
		if c.Status != "UNDER_REVIEW" || c.ReviewDueAt == nil {
			t.Errorf("the answer after the case closed took the claim to %s (case %+v); want UNDER_REVIEW", c.Status, c.ArbitrationCase)
		}
		p := srFire(t, rita, srApprove, "approveClaim", map[string]any{"claimId": theirs, "note": "Nothing competes any more."})
		if len(p.UserErrors) > 0 || p.Claim == nil || p.Claim.Status != "APPROVED" {
			t.Errorf("approving the remaining claim: %+v", p.UserErrors)
		}
		checkStatusInvariant(t, w)
	})
}
