package httpapi_test

// The second release's status changes, live over websockets
// (graphql-transport-ws), as the partner portal and the customer's page
// follow them: each event reaches exactly those who may see its claim.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"cpor/models"
	"cpor/testkit"
	"cpor/testkit/apitest"
	"cpor/workflow"
)

// srStatusEvent is a claimStatusChanged event with what the tests check.
type srStatusEvent struct {
	Status, PreviousStatus, Event string
	Reason                        *string
	Actor                         struct{ Name, Kind string }
	Claim                         struct {
		ID, Status   string
		Version      int
		Organization struct{ Name string }
	}
}

func (e srStatusEvent) String() string {
	return fmt.Sprintf("%s %s:%s>%s", e.Claim.ID, e.Event, e.PreviousStatus, e.Status)
}

// TestSecondReleaseStatusChangesLive: an information request, its answer,
// two withdrawals (one leaving an arbitration case, which closes) and a
// customer's decline, each done over HTTP by the one allowed to, reach the
// partner live in commit order; Fabrikam hears only of its own claim going
// back to review when the case closes; chloe hears only the decline of her
// tenant's claim, on the all-claims stream and on the one-claim stream.
func TestSecondReleaseStatusChangesLive(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, rita, chloe := srv.Client(t, "ada"), srv.Client(t, "rita"), srv.Client(t, "chloe")

		// Set-up, before anyone subscribes.
		asked := gid(testkit.SubmitFreshClaim(t, w, "ada", "ws-asked"))
		if _, err := w.Workflow.StartReview(testkit.As("rita"), workflow.Request{ClaimID: mustParseGlobalUUID(t, asked)}); err != nil {
			t.Fatal(err)
		}
		gone := gid(testkit.SubmitFreshClaim(t, w, "ada", "ws-gone"))
		declined := submitOnNorthwind(t, w, "ada", "TEAMS")
		tailA := gid(claimWithStatus(t, w, contoso, models.Arbitration))
		tailF := gid(claimWithStatus(t, w, fabrikam, models.Arbitration))
		w.Settle(t)

		subscribe := func(handle string, ops map[string]map[string]any) *apitest.WS {
			ws := srv.DialWS(t, "graphql-transport-ws", nil)
			ws.Init(apitest.Token(t, handle))
			for id, vars := range ops {
				ws.Subscribe(id, statusSubscription, vars)
			}
			return ws
		}
		adaWS := subscribe("ada", map[string]map[string]any{"all": nil})
		fionaWS := subscribe("fiona", map[string]map[string]any{"all": nil})
		chloeWS := subscribe("chloe", map[string]map[string]any{"all": nil, "one": {"id": declined}})
		waitSubscribers(t, w.Live, 4)

		// Over HTTP, each by the one who may.
		srFire(t, rita, srRequestInfo, "requestInformation", map[string]any{"claimId": asked, "message": "Send the project plan."}).ok(t)
		srFire(t, ada, srRespond, "respondToInformationRequest", map[string]any{"claimId": asked, "message": "Plan attached."}).ok(t)
		srFire(t, ada, srWithdraw, "withdrawClaim", map[string]any{"claimId": gone, "reason": "Claimed too early."}).ok(t)
		srFire(t, ada, srWithdraw, "withdrawClaim", map[string]any{"claimId": tailA, "reason": "Fabrikam led this one."}).ok(t)
		const words = "We did not ask this partner for Teams help."
		if p := run[srPayload](t, chloe, `mutation($input: CustomerDeclineInput!) { customerDecline(input: $input) {
		  claim { id status } userErrors { code field message } } }`, map[string]any{"input": map[string]any{"claimId": declined, "reason": words}}, "customerDecline"); len(p.UserErrors) > 0 {
			t.Fatalf("customerDecline: %+v", p.UserErrors)
		}

		read := func(ws *apitest.WS, id string, n int) []srStatusEvent {
			t.Helper()
			out := make([]srStatusEvent, n)
			for i := range out {
				next(t, ws, id, "claimStatusChanged", &out[i])
			}
			return out
		}
		// The partner: all five, in order, as they happened.
		got := read(adaWS, "all", 5)
		want := []string{
			asked + " requestInformation:UNDER_REVIEW>ACTION_REQUIRED",
			asked + " respond:ACTION_REQUIRED>UNDER_REVIEW",
			gone + " withdraw:SUBMITTED>WITHDRAWN",
			tailA + " withdraw:ARBITRATION>WITHDRAWN",
			declined + " customerDecline:SUBMITTED>REJECTED",
		}
		for i := range want {
			if got[i].String() != want[i] {
				t.Errorf("ada's event %d: %s; want %s", i, got[i], want[i])
			}
		}
		if e := got[0]; e.Actor.Name != "Rita Reviewer" || e.Actor.Kind != "REVIEWER" {
			t.Errorf("the request's actor: %+v", e.Actor)
		}
		if e := got[2]; e.Actor.Name != "Ada Lovelace" || !strings.Contains(deref(e.Reason), "Claimed too early.") || e.Claim.Status != "WITHDRAWN" {
			t.Errorf("the withdrawal as delivered: %+v reason %q", e, deref(e.Reason))
		}
		if e := got[4]; e.Actor.Kind != "CUSTOMER" || e.Actor.Name != "Chloe Customer" {
			t.Errorf("the decline's actor: %+v", e.Actor)
		}
		if e := got[4]; !strings.Contains(deref(e.Reason), words) {
			t.Errorf("the decline's reason as delivered to the partner: %q", deref(e.Reason))
		}

		// Fabrikam: only its own claim, back to review when the case closed.
		f := read(fionaWS, "all", 1)
		if f[0].String() != tailF+" deescalate:ARBITRATION>UNDER_REVIEW" || f[0].Actor.Kind != "SYSTEM" || f[0].Claim.Organization.Name == "Contoso Partners" {
			t.Errorf("fiona got %s by %+v", f[0], f[0].Actor)
		}

		// chloe: the decline of her tenant's claim, on both streams.
		for _, id := range []string{"all", "one"} {
			c := read(chloeWS, id, 1)
			if c[0].String() != declined+" customerDecline:SUBMITTED>REJECTED" || c[0].Claim.Status != "REJECTED" {
				t.Errorf("chloe's %s stream got %s", id, c[0])
			}
		}
		for _, ws := range []*apitest.WS{adaWS, fionaWS, chloeWS} {
			quiet(t, ws)
		}
		checkStatusInvariant(t, w)
	})
}

// TestSecondReleaseLapseIsLive: the scheduler's lapse of an unanswered
// request, run on the world's clock, reaches the partner live as a SYSTEM
// rejection.
func TestSecondReleaseLapseIsLive(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		rita := srv.Client(t, "rita")
		id := gid(testkit.SubmitFreshClaim(t, w, "ada", "ws-lapse"))
		srFire(t, rita, srStartReview, "startReview", map[string]any{"claimId": id}).ok(t)
		c := srFire(t, rita, srRequestInfo, "requestInformation", map[string]any{"claimId": id, "message": "Send the plan."}).ok(t)
		w.Settle(t)

		ws := srv.DialWS(t, "graphql-transport-ws", nil)
		ws.Init(apitest.Token(t, "ada"))
		ws.Subscribe("one", statusSubscription, map[string]any{"id": id})
		waitSubscribers(t, w.Live, 1)

		w.Clock.Advance(c.ResponseDueAt.Sub(w.Clock.Now()) + time.Hour)
		w.RunDue(t)
		var ev srStatusEvent
		next(t, ws, "one", "claimStatusChanged", &ev)
		if ev.String() != id+" lapse:ACTION_REQUIRED>REJECTED" || ev.Actor.Kind != "SYSTEM" || ev.Claim.Status != "REJECTED" {
			t.Errorf("the lapse as delivered: %s by %+v", ev, ev.Actor)
		}
		quiet(t, ws)
		checkStatusInvariant(t, w)
	})
}
