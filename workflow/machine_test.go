package workflow_test

// The state machine of docs/product.md §5.1: every event with its role guard and
// its allowed and forbidden source states, first on workflow.Next and
// workflow.Allowed (no database), then through the transition service; and
// the happy path with what each transition writes.

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/catalog"
	"cpor/models"
	"cpor/sla"
	"cpor/testkit"
	"cpor/workflow"
)

// specRow is one event of docs/state-machines.md's claim table, written
// out here rather than taken from the package, so the test checks the
// declaration against the product guide: from each source state, the state
// it leads to.
type specRow struct {
	event workflow.Event
	to    map[workflow.State]workflow.State
	by    []workflow.Role
}

const (
	d, s, u, wr = workflow.Draft, workflow.Submitted, workflow.UnderReview, workflow.WaitingInReview
	a, wa, ap   = workflow.Arbitration, workflow.WaitingInArbitration, workflow.Approved
	rj, wd, ex  = workflow.Rejected, workflow.Withdrawn, workflow.Expired
)

// all maps every source to one destination.
func all(to workflow.State, from ...workflow.State) map[workflow.State]workflow.State {
	out := map[workflow.State]workflow.State{}
	for _, f := range from {
		out[f] = to
	}
	return out
}

type roles = []workflow.Role

var (
	partner, reviewer = roles{workflow.RolePartner}, roles{workflow.RoleReviewer}
	customer, system  = roles{workflow.RoleCustomer}, roles{workflow.RoleSystem}
)

var specTable = []specRow{
	{workflow.Submit, all(s, d), partner},
	{workflow.StartReview, all(u, s), reviewer},
	{workflow.RequestInformation, map[workflow.State]workflow.State{u: wr, a: wa}, reviewer},
	{workflow.Respond, map[workflow.State]workflow.State{wr: u, wa: a}, partner},
	{workflow.Escalate, all(a, u), roles{workflow.RoleSystem, workflow.RoleReviewer}},
	{workflow.Deescalate, map[workflow.State]workflow.State{a: u, wa: wr}, system},
	{workflow.Approve, all(ap, u, a), reviewer},
	{workflow.Reject, all(rj, s, u, wr, a, wa), reviewer},
	{workflow.Lapse, all(rj, wr, wa), system},
	{workflow.Withdraw, all(wd, d, s, u, wr, a, wa), partner},
	{workflow.Expire, all(ex, d), system},
	{workflow.CustomerDecline, all(rj, s, u, wr, a, wa), customer},
}

var (
	allRoles  = []workflow.Role{workflow.RolePartner, workflow.RoleReviewer, workflow.RoleCustomer, workflow.RoleSystem, "operator", ""}
	allStates = []workflow.State{d, s, u, wr, a, wa, ap, rj, wd, ex}
)

// machine is the claim machine as the service declares it.
func machine() *workflow.ClaimMachine {
	return workflow.NewService(nil, nil, nil, sla.NewCalendar(), workflow.Config{}).ClaimMachine()
}

// TestNextFollowsTheSpecTable tries every state (and two that are not
// states) with every event and every role, on the declaration alone.
func TestNextFollowsTheSpecTable(t *testing.T) {
	m := machine()
	for _, row := range specTable {
		for _, st := range append(slices.Clone(allStates), "", "CANCELLED") {
			for _, role := range allRoles {
				got, err := m.Next(st, row.event, role)
				want, applies := row.to[st]
				switch {
				case !slices.Contains(row.by, role):
					expectError(t, err, apperr.Forbidden, "")
				case !applies && row.event == workflow.Withdraw && slices.Contains([]workflow.State{ap, rj, wd, ex}, st):
					expectError(t, err, apperr.NotWithdrawable, "claimId")
				case !applies:
					e := expectError(t, err, apperr.InvalidTransition, "claimId")
					for from := range row.to {
						if !strings.Contains(e.Message, string(workflow.StatusOf(from))) {
							t.Errorf("%s from %q: message %q does not say where the event applies", row.event, st, e.Message)
						}
					}
				case err != nil || got != want:
					t.Errorf("Next(%q, %s, %q) = %q, %v; want %q", st, row.event, role, got, err, want)
				}
				if err != nil && got != "" {
					t.Errorf("Next(%q, %s, %q) failed but returned state %q", st, row.event, role, got)
				}
			}
		}
	}
	if len(specTable) != 12 {
		t.Fatalf("the product guide has twelve claim events")
	}
	_, err := m.Next(d, "cancel", workflow.RolePartner)
	expectError(t, err, apperr.InvalidInput, "event")
}

// TestDeclarationIsTheSpecTable: the declaration has no transition the
// table lacks, and its states are the table's.
func TestDeclarationIsTheSpecTable(t *testing.T) {
	m := machine()
	n := 0
	for _, row := range specTable {
		n += len(row.to)
	}
	declared := 0
	for _, tr := range m.Transitions {
		declared += len(tr.From)
	}
	if declared != n {
		t.Errorf("the declaration has %d transitions; the table %d", declared, n)
	}
	if !slices.Equal(m.States, allStates) {
		t.Errorf("states %v; want %v", m.States, allStates)
	}
}

// TestAllowedFollowsTheSpecTable: the events offered to a role in a state
// are exactly those Next accepts, in table order, each once.
func TestAllowedFollowsTheSpecTable(t *testing.T) {
	m := machine()
	for _, st := range append(slices.Clone(allStates), "") {
		for _, role := range allRoles {
			var want []workflow.Event
			for _, row := range specTable {
				if _, ok := row.to[st]; ok && slices.Contains(row.by, role) {
					want = append(want, row.event)
				}
			}
			if got := m.Allowed(st, role); !slices.Equal(got, want) {
				t.Errorf("Allowed(%q, %q) = %v; want %v", st, role, got, want)
			}
		}
	}
	// Decided claims are final.
	for _, st := range []workflow.State{ap, rj, wd, ex} {
		for _, role := range allRoles {
			if got := m.Allowed(st, role); len(got) != 0 {
				t.Errorf("Allowed(%s, %s) = %v; a decided claim takes no event", st, role, got)
			}
		}
	}
}

// TestAllowedForOffersTheViewersRolesOnly: a partner admin is offered the
// partner's events, a reviewer the reviewer's and a customer admin the
// customer's; a user in none of them is offered nothing.
func TestAllowedForOffersTheViewersRolesOnly(t *testing.T) {
	svc := workflow.NewService(nil, nil, nil, sla.NewCalendar(), workflow.Config{})
	m := svc.ClaimMachine()
	for _, tc := range []struct {
		handle string
		status models.ClaimStatus
		want   []workflow.Event
	}{
		{"ada", models.Draft, []workflow.Event{workflow.Submit, workflow.Withdraw}},
		{"ada", models.Submitted, []workflow.Event{workflow.Withdraw}},
		{"rita", models.Draft, nil},
		{"rita", models.Submitted, []workflow.Event{workflow.StartReview, workflow.Reject}},
		{"rita", models.UnderReview, m.Allowed(u, workflow.RoleReviewer)},
		{"carl", models.Draft, nil},
		{"oscar", models.Submitted, nil},
		{"chloe", models.Submitted, []workflow.Event{workflow.CustomerDecline}},
		{"chloe", models.Approved, nil},
	} {
		id := testkit.Identity(tc.handle)
		if got := svc.AllowedFor(&id, &models.Claim{Status: tc.status}); !slices.Equal(got, tc.want) {
			t.Errorf("AllowedFor(%s, %s) = %v; want %v", tc.handle, tc.status, got, tc.want)
		}
	}
}

// handleFor is who fires the event in its allowed role; "customer" is an
// admin of the claim's own tenant.
func handleFor(e workflow.Event) string {
	switch e {
	case workflow.Submit, workflow.Respond, workflow.Withdraw:
		return "ada"
	case workflow.CustomerDecline:
		return customerOfClaim
	}
	return "rita"
}

// TestEveryEventThroughTheService fires every event people fire on a claim
// in every state through the transition service: from an allowed state it
// moves the claim as the table says; from any other state it is refused
// (INVALID_TRANSITION, or NOT_WITHDRAWABLE); in the wrong role it is
// FORBIDDEN. Refused events change nothing.
func TestEveryEventThroughTheService(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		for _, st := range allStates {
			slug := strings.ToLower(strings.ReplaceAll(string(st), "_", "-"))
			var refused uuid.UUID // one claim in st for every refused event
			for _, row := range specTable {
				if slices.Equal(row.by, system) {
					continue // the scheduler's and the arbitration's own: see deadlines_test.go
				}
				t.Run(string(st)+"/"+string(row.event), func(t *testing.T) {
					f := f.at(t)
					if refused == uuid.Nil {
						refused = f.claimIn(st, "svc-"+slug)
					}
					// The wrong roles: reviewers for partner and customer
					// events, partner admins for the others, and people of
					// neither.
					wrong := []string{"carl", "oscar"}
					if handleFor(row.event) == "rita" {
						wrong = append(wrong, "ada", "chloe")
					} else {
						wrong = append(wrong, "rita")
					}
					for _, h := range wrong {
						before := f.snap(refused)
						expectError(t, fire(h, row.event, plain)(f, refused), apperr.Forbidden, "")
						f.unchanged(refused, before)
					}
					want, applies := row.to[st]
					if !applies {
						before := f.snap(refused)
						err := fire(handleFor(row.event), row.event, plain)(f, refused)
						switch {
						case row.event == workflow.Withdraw && slices.Contains([]workflow.State{ap, rj, wd, ex}, st):
							expectError(t, err, apperr.NotWithdrawable, "claimId")
						case row.event == workflow.CustomerDecline && (st == d || st == ex):
							// The customer is told of a claim at submit;
							// drafts do not exist for it.
							expectError(t, err, apperr.NotFound, "claimId")
						default:
							expectError(t, err, apperr.InvalidTransition, "claimId")
						}
						f.unchanged(refused, before)
						return
					}
					id := f.claimIn(st, "svc-"+slug+"-"+strings.ToLower(string(row.event)))
					before := f.claim(id)
					if err := fire(handleFor(row.event), row.event, plain)(f, id); err != nil {
						t.Fatalf("%s from %s: %v", row.event, st, err)
					}
					after := f.claim(id)
					if workflow.StateOf(&after) != want || after.Version != before.Version+1 {
						t.Fatalf("%s from %s: claim is %s v%d; want %s v%d", row.event, st, workflow.StateOf(&after), after.Version, want, before.Version+1)
					}
					evs := f.statusEvents(id)
					last := evs[len(evs)-1]
					if last.Event != string(row.event) || *last.FromStatus != before.Status || *last.ToStatus != after.Status ||
						last.Version != after.Version {
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
		if c.Status != models.ActionRequired || c.Version != 4 || c.ReviewDueAt != nil || c.ResponseDueAt == nil {
			t.Fatalf("after an information request the claim is %s v%d", c.Status, c.Version)
		}
		f.checkStatusEvent(c, workflow.RequestInformation, models.UnderReview, models.ActionRequired, "rita")
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

		// respond
		c = f.ok("respond")(f.w.Workflow.Respond(ada, workflow.Request{ClaimID: c.ID, ExpectedVersion: ptr(4), Reason: "The statement is attached."}))
		if c.Status != models.UnderReview || c.Version != 5 || c.ReviewDueAt == nil || c.ResponseDueAt != nil {
			t.Fatalf("after the answer the claim is %s v%d", c.Status, c.Version)
		}
		f.checkStatusEvent(c, workflow.Respond, models.ActionRequired, models.UnderReview, "ada")

		// approve
		c = f.ok("approve")(f.w.Workflow.Approve(rita, workflow.Request{ClaimID: c.ID, ExpectedVersion: ptr(5), Reason: "Workshop proven."}))
		if c.Status != models.Approved || c.Version != 6 || c.DecidedAt == nil || c.DecisionReason != "Workshop proven." {
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
		if !slices.Equal(versions, []int{2, 3, 4, 5, 6}) {
			t.Errorf("status event versions %v; want [2 3 4 5 6]", versions)
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
		for _, st := range []workflow.State{s, u, a} {
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
				f.checkStatusEvent(c, workflow.Reject, workflow.StatusOf(st), models.Rejected, "rita")
				if e := f.statusEvents(id); e[len(e)-1].Reason != "The proof predates the subscription." {
					t.Errorf("status event reason %q", e[len(e)-1].Reason)
				}
				if n := f.count(&models.Association{}, "claim_id = ?", id); n != 0 {
					t.Errorf("a rejected claim has %d associations", n)
				}
				if st == a {
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
