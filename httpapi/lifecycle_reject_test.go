package httpapi_test

import (
	"slices"
	"testing"

	"cpor/testkit"
	"cpor/testkit/apitest"
)

// The claim lifecycle over real HTTP, the other way: a rejection with its
// reason, and the partner starting again with a reclaim.

func TestRejectPathOverHTTP(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, rita := srv.Client(t, "ada"), srv.Client(t, "rita")
		ids := formData(t, ada)
		c := createDraft(t, ada, claimInput(ids, woodgroveTenant, woodgroveDomain, woodgroveSub))
		if p := attach(t, ada, c.ID, "proof.pdf", testkit.PDF); len(p.UserErrors) > 0 {
			t.Fatalf("attach: %+v", p.UserErrors)
		}
		c = fire(t, ada, submitMutation, "submitClaim", map[string]any{"claimId": c.ID}).ok(t)

		// A rejection needs a reason.
		before := takeSnapshot(t, w)
		p := fire(t, rita, rejectMutation, "rejectClaim", map[string]any{"claimId": c.ID, "reason": "   "})
		wantUserError(t, p.UserErrors, "INVALID_INPUT")
		unchanged(t, w, before, "rejection without a reason")

		const reason = "The proof does not show usage of Dynamics 365 Sales; reclaim with usage reports."
		c = fire(t, rita, rejectMutation, "rejectClaim", map[string]any{"claimId": c.ID, "expectedVersion": c.Version, "reason": reason}).ok(t)
		if c.Status != "REJECTED" || c.DecidedAt == nil {
			t.Fatalf("rejected claim: %+v", c)
		}

		// The partner sees why, and can do nothing more with it.
		got := readClaim(t, ada, c.ID)
		if got.Status != "REJECTED" || deref(got.DecisionReason) != reason || got.Association != nil {
			t.Fatalf("rejected claim as the partner sees it: %+v", got)
		}
		if len(got.AvailableActions) != 0 {
			t.Errorf("partner availableActions on a rejected claim = %v", got.AvailableActions)
		}
		if acts := readClaim(t, rita, c.ID).AvailableActions; len(acts) != 0 {
			t.Errorf("reviewer availableActions on a rejected claim = %v", acts)
		}
		changes := statusChanges(got.History.Nodes)
		if len(changes) == 0 || changes[len(changes)-1] != "reject:SUBMITTED->REJECTED by rita@microsoft.example/REVIEWER" {
			t.Errorf("history status changes: %q", changes)
		}
		var rejectReason string
		for _, e := range got.History.Nodes {
			if deref(e.Event) == "reject" {
				rejectReason = deref(e.Reason)
			}
		}
		if rejectReason != reason {
			t.Errorf("the reject event's reason = %q", rejectReason)
		}

		// No more transitions or proof on a rejected claim.
		before = takeSnapshot(t, w)
		wantUserError(t, fire(t, rita, approveMutation, "approveClaim", map[string]any{"claimId": c.ID}).UserErrors, "INVALID_TRANSITION")
		wantUserError(t, fire(t, ada, submitMutation, "submitClaim", map[string]any{"claimId": c.ID}).UserErrors, "INVALID_TRANSITION")
		wantUserError(t, attach(t, ada, c.ID, "late.pdf", testkit.PDF).UserErrors, "INVALID_TRANSITION")
		wantUserError(t, mutate(t, ada, updateClaimMutation, map[string]any{"input": map[string]any{"claimId": c.ID, "notes": "edit"}}, "updateClaim").UserErrors, "INVALID_TRANSITION")
		unchanged(t, w, before, "changes to a rejected claim")

		// The partner starts again with a reclaim, linked to the old claim.
		nc := fire(t, ada, reclaimMutation, "reclaim", map[string]any{"claimId": c.ID, "activity": "PRESALES"}).ok(t)
		if nc.ID == c.ID || nc.Status != "DRAFT" || nc.Activity != "PRESALES" || nc.ReclaimedFrom == nil || nc.ReclaimedFrom.ID != c.ID ||
			deref(nc.SubscriptionID) != woodgroveSub || nc.CustomerDomain != woodgroveDomain {
			t.Fatalf("reclaimed draft: %+v", nc)
		}
		if old := readClaim(t, ada, c.ID); old.Status != "REJECTED" || !slices.ContainsFunc(old.History.Nodes, func(e historyEvent) bool { return e.Type == "RECLAIMED" }) {
			t.Errorf("the old claim after a reclaim: %s %+v", old.Status, old.History.Nodes)
		}
	})
}
