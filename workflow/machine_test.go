package workflow_test

// The state machine of docs/product.md §5.1: every event with its role guard and
// its allowed and forbidden source states, first on workflow.Next and
// workflow.Allowed (no database), then through the transition service; and
// the happy path with what each transition writes.

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/catalog"
	"cpor/models"
	"cpor/testkit"
	"cpor/workflow"
)

// specRow is one row of the docs/product.md §5.1 table, written out here rather
// than taken from the package, so the test checks the code against the product guide.
type specRow struct {
	event workflow.Event
	from  []models.ClaimStatus
	to    models.ClaimStatus // "" keeps the state
	by    []workflow.Role
}

var specTable = func() []specRow {
	const (
		d, s, u, a = models.Draft, models.Submitted, models.UnderReview, models.Arbitration
		ap, rj     = models.Approved, models.Rejected
	)
	type states = []models.ClaimStatus
	type roles = []workflow.Role
	return []specRow{
		{workflow.Submit, states{d}, s, roles{workflow.RolePartner}},
		{workflow.StartReview, states{s}, u, roles{workflow.RoleReviewer}},
		{workflow.RequestInformation, states{u, a}, "", roles{workflow.RoleReviewer}},
		{workflow.Escalate, states{u}, a, roles{workflow.RoleSystem, workflow.RoleReviewer}},
		{workflow.Approve, states{u, a}, ap, roles{workflow.RoleReviewer}},
		{workflow.Reject, states{s, u, a}, rj, roles{workflow.RoleReviewer}},
	}
}()

var allRoles = []workflow.Role{workflow.RolePartner, workflow.RoleReviewer, workflow.RoleSystem, "customer", ""}

// TestNextFollowsTheSpecTable tries every state (and two that are not
// states) with every event and every role.
func TestNextFollowsTheSpecTable(t *testing.T) {
	states := append(slices.Clone(models.ClaimStatuses), "", "CANCELLED")
	ctx := context.Background()
	for _, row := range specTable {
		for _, st := range states {
			for _, role := range allRoles {
				got, err := workflow.Next(ctx, st, row.event, role)
				switch {
				case !slices.Contains(row.by, role):
					expectError(t, err, apperr.Forbidden, "")
				case !slices.Contains(row.from, st):
					e := expectError(t, err, apperr.InvalidTransition, "claimId")
					if !strings.Contains(e.Message, string(row.from[0])) {
						t.Errorf("%s from %q: message %q does not say where the event applies", row.event, st, e.Message)
					}
				default:
					want := row.to
					if want == "" {
						want = st
					}
					if err != nil || got != want {
						t.Errorf("Next(%q, %s, %q) = %q, %v; want %q", st, row.event, role, got, err, want)
					}
				}
				if err != nil && got != "" {
					t.Errorf("Next(%q, %s, %q) failed but returned state %q", st, row.event, role, got)
				}
			}
		}
	}
	if len(specTable) != 6 {
		t.Fatalf("the product guide has six events")
	}
	_, err := workflow.Next(ctx, models.Draft, "cancel", workflow.RolePartner)
	expectError(t, err, apperr.InvalidInput, "event")
}

// TestAllowedFollowsTheSpecTable: the events offered to a role in a state
// are exactly those Next accepts, in table order.
func TestAllowedFollowsTheSpecTable(t *testing.T) {
	for _, st := range append(slices.Clone(models.ClaimStatuses), "") {
		for _, role := range allRoles {
			var want []workflow.Event
			for _, row := range specTable {
				if slices.Contains(row.by, role) && slices.Contains(row.from, st) {
					want = append(want, row.event)
				}
			}
			if got := workflow.Allowed(st, role); !slices.Equal(got, want) {
				t.Errorf("Allowed(%q, %q) = %v; want %v", st, role, got, want)
			}
		}
	}
	// Decided claims are final.
	for _, st := range []models.ClaimStatus{models.Approved, models.Rejected} {
		for _, role := range allRoles {
			if got := workflow.Allowed(st, role); len(got) != 0 {
				t.Errorf("Allowed(%s, %s) = %v; a decided claim takes no event", st, role, got)
			}
		}
	}
}

// TestAllowedForOffersTheViewersRolesOnly: a partner admin is offered the
// partner's events and a reviewer the reviewer's; a user in neither role
// (a partner user without an admin role, an operator, a customer admin)
// is offered nothing.
func TestAllowedForOffersTheViewersRolesOnly(t *testing.T) {
	for _, tc := range []struct {
		handle string
		state  models.ClaimStatus
		want   []workflow.Event
	}{
		{"ada", models.Draft, []workflow.Event{workflow.Submit}},
		{"ada", models.Submitted, nil},
		{"rita", models.Draft, nil},
		{"rita", models.Submitted, []workflow.Event{workflow.StartReview, workflow.Reject}},
		{"rita", models.UnderReview, workflow.Allowed(models.UnderReview, workflow.RoleReviewer)},
		{"carl", models.Draft, nil},
		{"oscar", models.Submitted, nil},
		{"chloe", models.Submitted, nil},
	} {
		id := testkit.Identity(tc.handle)
		if got := workflow.AllowedFor(&id, tc.state); !slices.Equal(got, tc.want) {
			t.Errorf("AllowedFor(%s, %s) = %v; want %v", tc.handle, tc.state, got, tc.want)
		}
	}
}

// handleFor is the demo user who fires the event in its allowed role.
func handleFor(e workflow.Event) string {
	if e == workflow.Submit {
		return "ada"
	}
	return "rita"
}

// TestEveryEventThroughTheService fires every event on a claim in every
// state through the transition service: from an allowed state it moves the
// claim as the table says; from any other state it is INVALID_TRANSITION;
// in the wrong role it is FORBIDDEN. Refused events change nothing.
func TestEveryEventThroughTheService(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		for _, st := range models.ClaimStatuses {
			slug := strings.ToLower(strings.ReplaceAll(string(st), "_", "-"))
			var refused uuid.UUID // one claim in st for every refused event
			for _, row := range specTable {
				t.Run(string(st)+"/"+string(row.event), func(t *testing.T) {
					f := f.at(t)
					if refused == uuid.Nil {
						refused = f.claimIn(st, "svc-"+slug)
					}
					// The wrong roles: a partner admin for reviewer events,
					// a reviewer for partner events, and people of neither.
					wrong := []string{"carl", "chloe", "oscar"}
					if row.event == workflow.Submit {
						wrong = append(wrong, "rita")
					} else {
						wrong = append(wrong, "ada")
					}
					for _, h := range wrong {
						before := f.snap(refused)
						expectError(t, fire(h, row.event, plain)(f, refused), apperr.Forbidden, "")
						f.unchanged(refused, before)
					}
					if !slices.Contains(row.from, st) {
						before := f.snap(refused)
						expectError(t, fire(handleFor(row.event), row.event, plain)(f, refused), apperr.InvalidTransition, "claimId")
						f.unchanged(refused, before)
						return
					}
					id := f.claimIn(st, "svc-"+slug+"-"+strings.ToLower(string(row.event)))
					before := f.claim(id)
					if err := fire(handleFor(row.event), row.event, plain)(f, id); err != nil {
						t.Fatalf("%s from %s: %v", row.event, st, err)
					}
					after := f.claim(id)
					want := row.to
					if want == "" {
						want = st
					}
					if after.Status != want || after.Version != before.Version+1 {
						t.Fatalf("%s from %s: claim is %s v%d; want %s v%d", row.event, st, after.Status, after.Version, want, before.Version+1)
					}
					evs := f.statusEvents(id)
					last := evs[len(evs)-1]
					actor := testkit.Identity(handleFor(row.event))
					if last.Event != string(row.event) || *last.FromStatus != st || *last.ToStatus != want ||
						last.ActorID != actor.UserID || last.Version != after.Version {
						t.Errorf("%s from %s: last status event %+v", row.event, st, last)
					}
				})
			}
		}
	})
}

// businessDaysAfter counts Monday-to-Friday days from the day after from
// up to and including to's day.
func businessDaysAfter(from, to time.Time) int {
	n := 0
	day := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	end := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, time.UTC)
	for day = day.AddDate(0, 0, 1); !day.After(end); day = day.AddDate(0, 0, 1) {
		if wd := day.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n++
		}
	}
	return n
}

// checkStatusEvent checks that the claim's last status change is the event
// from → to by the demo user at the claim's current version.
func (f *fx) checkStatusEvent(c *models.Claim, event workflow.Event, from, to models.ClaimStatus, handle string) {
	f.t.Helper()
	evs := f.statusEvents(c.ID)
	if len(evs) == 0 {
		f.t.Fatalf("no status events after %s", event)
	}
	e := evs[len(evs)-1]
	id := testkit.Identity(handle)
	kind := models.ActorPartner
	if id.IsReviewer() {
		kind = models.ActorReviewer
	}
	switch {
	case e.Event != string(event), e.FromStatus == nil, e.ToStatus == nil, *e.FromStatus != from, *e.ToStatus != to:
		f.t.Errorf("%s: status event %s %v → %v; want %s → %s", event, e.Event, e.FromStatus, e.ToStatus, from, to)
	case e.ActorID != id.UserID || e.ActorName != id.Name || e.ActorKind != kind:
		f.t.Errorf("%s: status event by %s (%s, %s); want %s", event, e.ActorID, e.ActorName, e.ActorKind, id.UserID)
	case e.Version != c.Version || e.OrganizationID != c.OrganizationID:
		f.t.Errorf("%s: status event at version %d of org %s; claim is at %d of %s", event, e.Version, e.OrganizationID, c.Version, c.OrganizationID)
	case e.CreatedAt.IsZero():
		f.t.Errorf("%s: status event without a time", event)
	}
}

// TestHappyPath: draft → submitted → under review (with an information
// request and an answer) → approved, checking what each step writes.
func TestHappyPath(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		ada, rita := testkit.As("ada"), testkit.As("rita")
		s := f.woodgrove()
		s.activity = models.Presales
		draft := f.create("ada", s)
		f.attach("ada", draft.ID)

		// submit
		began := time.Now().UTC()
		c := f.ok("submit")(f.w.Workflow.Submit(ada, workflow.Request{ClaimID: draft.ID, ExpectedVersion: ptr(1)}))
		if c.Status != models.Submitted || c.Version != 2 {
			t.Fatalf("submitted claim is %s v%d", c.Status, c.Version)
		}
		if c.SubmittedAt == nil || c.ReviewDueAt == nil {
			t.Fatalf("submit did not set submittedAt and reviewDueAt")
		}
		sub, due := *c.SubmittedAt, *c.ReviewDueAt
		if sub.Before(began.Add(-time.Second)) || sub.After(time.Now().Add(time.Second)) {
			t.Errorf("submittedAt %s is not now", sub)
		}
		if n := businessDaysAfter(sub, due); n != 5 {
			t.Errorf("reviewDueAt %s is %d business days after %s; want 5", due, n, sub)
		}
		if wd := due.Weekday(); wd == time.Saturday || wd == time.Sunday {
			t.Errorf("reviewDueAt falls on a %s", wd)
		}
		if h, m, s := due.Clock(); h != sub.Hour() || m != sub.Minute() || s != sub.Second() {
			t.Errorf("reviewDueAt %s is not at the time of day of submission %s", due, sub)
		}
		if !due.Equal(f.w.Calendar.AddBusinessDays(sub, 5)) {
			t.Errorf("reviewDueAt %s; the calendar says %s", due, f.w.Calendar.AddBusinessDays(sub, 5))
		}
		stored := f.claim(c.ID)
		if !stored.ReviewDueAt.Equal(due) || !stored.SubmittedAt.Equal(sub) || stored.Version != 2 {
			t.Errorf("stored claim differs from the returned one: %+v", stored)
		}
		if stored.Overdue(due.Add(-time.Minute)) || !stored.Overdue(due.Add(time.Minute)) {
			t.Errorf("overdue does not turn at reviewDueAt")
		}
		f.checkStatusEvent(&stored, workflow.Submit, models.Draft, models.Submitted, "ada")
		if n := len(f.comments(c.ID, models.CommentSystem)); n != 1 {
			t.Errorf("submit posted %d system comments; want 1 telling of the customer notice", n)
		}
		notified := 0
		for _, e := range f.events(c.ID) {
			if e.Type == models.EventCustomerNotified {
				notified++
			}
		}
		if notified != 1 {
			t.Errorf("submit wrote %d CUSTOMER_NOTIFIED events; want 1", notified)
		}

		// startReview
		c = f.ok("start review")(f.w.Workflow.StartReview(rita, workflow.Request{ClaimID: c.ID, ExpectedVersion: ptr(2)}))
		if c.Status != models.UnderReview || c.Version != 3 {
			t.Fatalf("claim under review is %s v%d", c.Status, c.Version)
		}
		f.checkStatusEvent(c, workflow.StartReview, models.Submitted, models.UnderReview, "rita")

		// requestInformation
		const ask = "Please attach the signed statement of work."
		c = f.ok("request information")(f.w.Workflow.RequestInformation(rita, workflow.Request{ClaimID: c.ID, Reason: "  " + ask + "\n"}))
		if c.Status != models.UnderReview || c.Version != 4 {
			t.Fatalf("after an information request the claim is %s v%d", c.Status, c.Version)
		}
		f.checkStatusEvent(c, workflow.RequestInformation, models.UnderReview, models.UnderReview, "rita")
		asks := f.comments(c.ID, models.CommentInformationRequest)
		if len(asks) != 1 || asks[0].Body != ask || asks[0].AuthorID != "rita@microsoft.example" {
			t.Errorf("information request comments: %+v", asks)
		}
		if sys := f.comments(c.ID, models.CommentSystem); len(sys) != 2 || sys[1].AuthorID != "system" {
			t.Errorf("system comments after the information request: %+v", sys)
		}
		answer, err := f.w.Claims.AddComment(ada, c.ID, "Attached the statement of work.")
		if err != nil || answer.Kind != models.CommentPartner {
			t.Fatalf("partner answer: %+v, %v", answer, err)
		}
		f.attach("ada", c.ID)
		if f.claim(c.ID).Version != 4 {
			t.Errorf("a comment or a document changed the claim's version")
		}

		// approve
		c = f.ok("approve")(f.w.Workflow.Approve(rita, workflow.Request{ClaimID: c.ID, ExpectedVersion: ptr(4), Reason: "Workshop proven."}))
		if c.Status != models.Approved || c.Version != 5 || c.DecidedAt == nil || c.DecisionReason != "Workshop proven." {
			t.Fatalf("approved claim: %+v", c)
		}
		f.checkStatusEvent(c, workflow.Approve, models.UnderReview, models.Approved, "rita")
		var assocs []models.Association
		if err := f.w.DB.Where("claim_id = ?", c.ID).Find(&assocs).Error; err != nil {
			t.Fatal(err)
		}
		if len(assocs) != 1 {
			t.Fatalf("approval created %d associations; want 1", len(assocs))
		}
		a := assocs[0]
		if !a.Active() || a.OrganizationID != c.OrganizationID || a.CustomerTenantID != c.CustomerTenantID ||
			a.ProductID != *c.ProductID || a.SubscriptionID == nil || *a.SubscriptionID != *c.SubscriptionID || a.Activity != models.Presales {
			t.Errorf("association %+v does not match claim %+v", a, c)
		}
		// The history holds every step, versions rising.
		var versions []int
		for _, e := range f.statusEvents(c.ID) {
			versions = append(versions, e.Version)
		}
		if !slices.Equal(versions, []int{2, 3, 4, 5}) {
			t.Errorf("status event versions %v; want [2 3 4 5]", versions)
		}
		// A decided claim takes no further event.
		_, err = f.w.Workflow.Reject(rita, workflow.Request{ClaimID: c.ID, Reason: "Changed my mind."})
		expectError(t, err, apperr.InvalidTransition, "claimId")
	})
}

// TestRejectNeedsAReason: a reviewer rejects with a reason, which the claim
// and its history keep; without one nothing changes.
func TestRejectNeedsAReason(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		rita := testkit.As("rita")
		for _, st := range []models.ClaimStatus{models.Submitted, models.UnderReview, models.Arbitration} {
			t.Run(string(st), func(t *testing.T) {
				f := f.at(t)
				id := f.claimIn(st, "reject-"+strings.ToLower(strings.ReplaceAll(string(st), "_", "-")))
				for _, reason := range []string{"", "   ", "\n\t"} {
					before := f.snap(id)
					_, err := f.w.Workflow.Reject(rita, workflow.Request{ClaimID: id, Reason: reason})
					expectError(t, err, apperr.InvalidInput, "reason")
					f.unchanged(id, before)
				}
				before := f.claim(id)
				c := f.ok("reject")(f.w.Workflow.Reject(rita, workflow.Request{ClaimID: id, Reason: " The proof predates the subscription. "}))
				if c.Status != models.Rejected || c.Version != before.Version+1 || c.DecidedAt == nil ||
					c.DecisionReason != "The proof predates the subscription." {
					t.Fatalf("rejected claim: %+v", c)
				}
				f.checkStatusEvent(c, workflow.Reject, st, models.Rejected, "rita")
				if e := f.statusEvents(id); e[len(e)-1].Reason != "The proof predates the subscription." {
					t.Errorf("status event reason %q", e[len(e)-1].Reason)
				}
				if n := f.count(&models.Association{}, "claim_id = ?", id); n != 0 {
					t.Errorf("a rejected claim has %d associations", n)
				}
				if st == models.Arbitration {
					var cs models.ArbitrationCase
					if err := f.w.DB.Where("id = ?", *c.ArbitrationCaseID).Take(&cs).Error; err != nil {
						t.Fatal(err)
					}
					if cs.Status != models.ArbitrationResolved || cs.WinningClaimID != nil || cs.ResolvedAt == nil {
						t.Errorf("a case whose only claim was rejected is %+v; want resolved without a winner", cs)
					}
				}
			})
		}
	})
}

// TestSubmitAcceptsInGraceSubscription: in grace is as good as active.
func TestSubmitAcceptsInGraceSubscription(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		s := f.fresh("grace")
		f.upsertSub(s.sub, func(in *catalog.SubscriptionInput) { in.Status = models.SubscriptionInGrace })
		c := f.submitted("ada", s)
		if c.Status != models.Submitted {
			t.Fatalf("claim on an in-grace subscription is %s", c.Status)
		}
		// A reviewer cannot submit on a partner's behalf, even a valid draft.
		d := f.create("ada", f.fresh("grace-two"))
		f.attach("ada", d.ID)
		_, err := f.w.Workflow.Submit(testkit.As("rita"), workflow.Request{ClaimID: d.ID})
		expectError(t, err, apperr.Forbidden, "")
		// Another admin of the organisation may submit it.
		if _, err := f.w.Workflow.Submit(testkit.As("ben"), workflow.Request{ClaimID: d.ID}); err != nil {
			t.Fatalf("submit by another admin of the organisation: %v", err)
		}
	})
}
