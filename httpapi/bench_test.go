package httpapi_test

import (
	"fmt"
	"testing"

	"cpor/testkit"
	"cpor/testkit/apitest"
)

// BenchmarkLifecycleHTTP runs one whole claim lifecycle per iteration over
// real HTTP: the partner creates a claim, attaches a PDF (multipart) and
// submits it; the reviewer starts the review and approves it. Each
// iteration claims a fresh customer tenant and subscription, made by the
// operator through the catalog service outside the timed part.
func BenchmarkLifecycleHTTP(b *testing.B) {
	testkit.Each(b, func(b *testing.B, w *testkit.World) {
		srv := apitest.NewServer(b, w)
		ada, rita := srv.Client(b, "ada"), srv.Client(b, "rita")
		ids := formData(b, ada)
		i := 0
		for b.Loop() {
			b.StopTimer()
			name := fmt.Sprintf("bench%d", i)
			i++
			tenant, sub := testkit.FreshTarget(b, w, name)
			b.StartTimer()

			c := field[benchPayload](b, ada.Do(b, testkit.LifecycleCreate, map[string]any{
				"input": claimInput(ids, tenant.String(), name+".onmicrosoft.com", sub.String()),
			}), "createClaim").must(b, "create", "DRAFT")
			att := field[benchPayload](b, ada.Upload(b, testkit.LifecycleAttach, map[string]any{"claimId": c.ID}, "file", "proof.pdf", testkit.PDF),
				"attachProofOfExecution").must(b, "attach", "")
			c = field[benchPayload](b, ada.Do(b, testkit.LifecycleSubmit, map[string]any{
				"input": map[string]any{"claimId": c.ID, "expectedVersion": att.Version},
			}), "submitClaim").must(b, "submit", "SUBMITTED")
			c = field[benchPayload](b, rita.Do(b, testkit.LifecycleStartReview, map[string]any{
				"input": map[string]any{"claimId": c.ID, "expectedVersion": c.Version},
			}), "startReview").must(b, "startReview", "UNDER_REVIEW")
			c = field[benchPayload](b, rita.Do(b, testkit.LifecycleApprove, map[string]any{
				"input": map[string]any{"claimId": c.ID, "expectedVersion": c.Version, "note": "benchmark"},
			}), "approveClaim").must(b, "approve", "APPROVED")
			if c.Association == nil || !c.Association.Active {
				b.Fatalf("approved without an active association: %+v", c)
			}
		}
		if i > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i*5), "ns/request")
		}
	})
}
