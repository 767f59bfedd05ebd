package httpapi_test

import (
	"testing"

	"cpor/models"
	"cpor/testkit"
	"cpor/testkit/apitest"
	"cpor/workflow"
)

// TestEventRenderedOncePerSelection: subscriptions that differ only in
// their operation name, spacing and comments show the same thing, so one
// rendering serves them; one that adds an alias shows something else and
// is rendered apart.
func TestEventRenderedOncePerSelection(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		srv := apitest.NewServer(t, w)
		claim := claimWithStatus(t, w, contoso, models.Submitted)
		documents := []string{
			`subscription Board($id: ID) { claimStatusChanged(claimId: $id) { status claim { id } } }`,
			"# the same, from another client\nsubscription Widget($id: ID) {\n  claimStatusChanged(claimId: $id) {\n    status\n    claim { id }\n  }\n}",
			`subscription($id: ID){claimStatusChanged(claimId:$id){status claim{id}}}`,
			`subscription Aliased($id: ID) { claimStatusChanged(claimId: $id) { now: status claim { id } } }`,
		}
		var subscribers []*apitest.WS
		for _, doc := range documents {
			ws := srv.DialWS(t, "graphql-transport-ws", nil)
			ws.Init(apitest.Token(t, "rita"))
			ws.Subscribe("s", doc, map[string]any{"id": gid(claim)})
			subscribers = append(subscribers, ws)
		}
		waitSubscribers(t, w.Live, int64(len(subscribers)))

		before := subscriptionRenders(t, srv)
		if _, err := w.Workflow.StartReview(testkit.As("rita"), workflow.Request{ClaimID: claim}); err != nil {
			t.Fatal(err)
		}
		for i, ws := range subscribers[:3] {
			var ev statusEvent
			next(t, ws, "s", "claimStatusChanged", &ev)
			if ev.Status != "UNDER_REVIEW" || ev.Claim.ID != gid(claim) {
				t.Fatalf("subscriber %d got %+v", i, ev)
			}
		}
		var aliased struct{ Now string }
		next(t, subscribers[3], "s", "claimStatusChanged", &aliased)
		if aliased.Now != "UNDER_REVIEW" {
			t.Fatalf("the aliased subscriber got %+v", aliased)
		}
		if renders := subscriptionRenders(t, srv) - before; renders != 2 {
			t.Fatalf("one event for two selections was rendered %d times, want 2", renders)
		}
	})
}
