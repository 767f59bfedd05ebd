package httpapi_test

import (
	"testing"
	"time"

	"cpor/testkit"
	"cpor/testkit/apitest"
)

const attachOnMutation = `mutation($claimId: ID!, $file: Upload!, $on: Date) {
  attachProofOfExecution(input: {claimId: $claimId, file: $file, executedOn: $on}) {
    proofOfExecution { id executedOn uploadedAt } userErrors { code field message } } }`

// TestProofExecutedOnOverHTTP: executedOn is given or defaults to the
// upload day, a later day is a userError on executedOn, a malformed one a
// request error; submitting on proof older than 12 months is POE_TOO_OLD.
func TestProofExecutedOnOverHTTP(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada := srv.Client(t, "ada")
		ids := formData(t, ada)
		tenant, sub := testkit.FreshTarget(t, w, "proofday")
		draft := createDraft(t, ada, claimInput(ids, tenant.String(), "proofday.onmicrosoft.com", sub.String()))
		type attached struct {
			ProofOfExecution *struct{ ID, ExecutedOn, UploadedAt string }
			UserErrors       []userError
		}
		upload := func(on any) *apitest.Response {
			return ada.Upload(t, attachOnMutation, map[string]any{"claimId": draft.ID, "on": on}, "file", "p.pdf", testkit.PDF)
		}
		today := time.Now().UTC()
		got := field[attached](t, upload(nil), "attachProofOfExecution")
		if got.ProofOfExecution == nil || got.ProofOfExecution.ExecutedOn != got.ProofOfExecution.UploadedAt[:10] {
			t.Errorf("omitted executedOn: %+v", got)
		}
		old := today.AddDate(0, -13, 0).Format("2006-01-02")
		got = field[attached](t, upload(old), "attachProofOfExecution")
		if got.ProofOfExecution == nil || got.ProofOfExecution.ExecutedOn != old {
			t.Errorf("executedOn %s: %+v", old, got)
		}
		got = field[attached](t, upload(today.AddDate(0, 0, 1).Format("2006-01-02")), "attachProofOfExecution")
		wantUserError(t, got.UserErrors, "INVALID_INPUT", "input", "executedOn")
		for _, bad := range []string{"2026-02-30", "25.11.2026", "2026-11-25T00:00:00Z"} {
			wantGQLError(t, upload(bad), "INVALID_INPUT")
		}

		// A draft whose only proof is 13 months old is refused.
		tenant2, sub2 := testkit.FreshTarget(t, w, "proofday2")
		stale := createDraft(t, ada, claimInput(ids, tenant2.String(), "proofday2.onmicrosoft.com", sub2.String()))
		r := ada.Upload(t, attachOnMutation, map[string]any{"claimId": stale.ID, "on": old}, "file", "p.pdf", testkit.PDF)
		if a := field[attached](t, r, "attachProofOfExecution"); len(a.UserErrors) > 0 {
			t.Fatalf("attach old proof: %+v", a.UserErrors)
		}
		p := mutate(t, ada, submitMutation, map[string]any{"input": map[string]any{"claimId": stale.ID}}, "submitClaim")
		wantUserError(t, p.UserErrors, "POE_TOO_OLD", "input", "proofOfExecution")
		// The first draft has recent proof too: it submits.
		p = mutate(t, ada, submitMutation, map[string]any{"input": map[string]any{"claimId": draft.ID}}, "submitClaim")
		if len(p.UserErrors) > 0 {
			t.Errorf("submit with recent proof: %+v", p.UserErrors)
		}
	})
}
