package httpapi_test

// The second release's GraphQL surface over real HTTP with real tokens, on
// both databases: an information request and its answer or lapse, the
// partner's withdrawal (and what it does to an arbitration case), the
// customer's decline of a request, and the partner ending its own
// association. Each test ends by checking, on every claim of the world,
// that the claim's status is the last status change its history recorded.
// The live side is in second_release_ws_test.go.

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/claims"
	"cpor/demo"
	"cpor/models"
	"cpor/testkit"
	"cpor/testkit/apitest"
	"cpor/workflow"
)

// srClaimFields are claimFields and the second release's fields of a claim.
const srClaimFields = claimFields + `
  responseDueAt customerConsent decisionCode arbitrationCase { id status }`

// srClaim is a claim with the second release's fields.
type srClaim struct {
	claimView
	ResponseDueAt   *time.Time
	CustomerConsent *string
	DecisionCode    *string
	ArbitrationCase *struct{ ID, Status string }
}

type srPayload struct {
	Claim      *srClaim
	UserErrors []userError
}

func (p srPayload) ok(t testing.TB) *srClaim {
	t.Helper()
	if len(p.UserErrors) > 0 || p.Claim == nil {
		t.Fatalf("unexpected userErrors: %+v (claim %v)", p.UserErrors, p.Claim)
	}
	return p.Claim
}

func srMutation(name, inputType string) string { return claimMutation(name, inputType, srClaimFields) }

// wantHiddenClaim: a mutation on a claim the caller may not see answers a
// NOT_FOUND userError on input.claimId, not a GraphQL error, and no claim.
func wantHiddenClaim(t testing.TB, r *apitest.Response, mutation, what string) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Errorf("%s: GraphQL errors %+v; want a NOT_FOUND userError", what, r.Errors)
		return
	}
	p := field[srPayload](t, r, mutation)
	wantUserError(t, p.UserErrors, "NOT_FOUND", "input", "claimId")
	if p.Claim != nil {
		t.Errorf("%s returned the claim %+v", what, p.Claim)
	}
}

var (
	srStartReview   = srMutation("startReview", "StartReviewInput")
	srRequestInfo   = srMutation("requestInformation", "RequestInformationInput")
	srRespond       = srMutation("respondToInformationRequest", "RespondToInformationRequestInput")
	srWithdraw      = srMutation("withdrawClaim", "WithdrawClaimInput")
	srApprove       = srMutation("approveClaim", "ApproveClaimInput")
	srCustomerDecl  = srMutation("customerDecline", "CustomerDeclineInput")
	srClaimQuery    = `query($id: ID!) { claim(id: $id) {` + srClaimFields + `} }`
	srCustomerQuery = `query($id: ID!) { claim(id: $id) { id status version decidedAt decisionReason decisionCode customerConsent availableActions } }`
)

// srFire runs a second-release mutation that must not fail with a GraphQL
// error and returns its payload.
func srFire(t testing.TB, c *apitest.Client, mutation, name string, input map[string]any) srPayload {
	t.Helper()
	return run[srPayload](t, c, mutation, map[string]any{"input": input}, name)
}

func srRead(t testing.TB, c *apitest.Client, id string) *srClaim {
	t.Helper()
	return run[*srClaim](t, c, srClaimQuery, map[string]any{"id": id}, "claim")
}

// hasHistory reports whether the claim's history has an entry of the type.
func hasHistory(c *srClaim, typ string) bool {
	return slices.ContainsFunc(c.History.Nodes, func(e historyEvent) bool { return e.Type == typ })
}

func countComments(c *srClaim, kind string) int {
	n := 0
	for _, cm := range c.Comments.Nodes {
		if cm.Kind == kind {
			n++
		}
	}
	return n
}

// lastStatusChange is the claim's last STATUS_CHANGED history entry as the
// API shows it.
func lastStatusChange(t testing.TB, c *srClaim) historyEvent {
	t.Helper()
	for i := len(c.History.Nodes) - 1; i >= 0; i-- {
		if e := c.History.Nodes[i]; e.Type == "STATUS_CHANGED" {
			return e
		}
	}
	t.Fatalf("claim %s has no status change in %+v", c.ID, c.History.Nodes)
	return historyEvent{}
}

// submitOnNorthwind has the demo partner with the handle claim the
// Microsoft 365 workload of the demo Northwind tenant (chloe's) and submit
// the claim, through the domain services; it returns the claim's global ID.
func submitOnNorthwind(t testing.TB, w *testkit.World, handle, workload string) string {
	t.Helper()
	id := draftOnNorthwind(t, w, handle, workload)
	ctx := testkit.As(handle)
	if _, err := w.Claims.Attach(ctx, id, claims.Upload{FileName: "proof.pdf", Content: bytes.NewReader(testkit.PDF)}); err != nil {
		t.Fatalf("attach: %v", err)
	}
	if _, err := w.Workflow.Submit(ctx, workflow.Request{ClaimID: id}); err != nil {
		t.Fatalf("submit: %v", err)
	}
	return gid(id)
}

func draftOnNorthwind(t testing.TB, w *testkit.World, handle, workload string) uuid.UUID {
	t.Helper()
	ctx := testkit.As(handle)
	area, act := models.Microsoft365, models.Usage
	tenant, domain := demo.Northwind.String(), "northwindtraders.com"
	product, mpn := testkit.ProductID(t, w, workload), testkit.EnrolledMpn(t, w, testkit.Identity(handle).OrganizationID)
	c, err := w.Claims.Create(ctx, claims.DraftInput{
		SolutionArea: &area, Activity: &act, CustomerTenantID: &tenant, CustomerDomain: &domain,
		ProductID: &product, MpnID: &mpn,
		CustomerContact: &claims.ContactInput{Name: "Dana", Title: "CIO", Email: "dana@" + domain},
		PartnerContact:  &claims.ContactInput{Name: "Sam", Email: "sam@partner.example"},
	})
	if err != nil {
		t.Fatalf("create claim: %v", err)
	}
	return c.ID
}

// checkStatusInvariant reads the database directly: every claim's status
// is the toStatus of its last STATUS_CHANGED event, and its version is at
// least that event's. A claim without status changes is a draft.
func checkStatusInvariant(t testing.TB, w *testkit.World) {
	t.Helper()
	var cs []models.Claim
	if err := w.DB.Order("id").Find(&cs).Error; err != nil {
		t.Fatal(err)
	}
	if len(cs) == 0 {
		t.Fatal("no claims to check")
	}
	for _, c := range cs {
		var evs []models.ClaimEvent
		if err := w.DB.Where("claim_id = ? AND type = ?", c.ID, models.EventStatusChanged).Order("seq").Find(&evs).Error; err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			if c.Status != models.Draft {
				t.Errorf("claim %s is %s without a status change", c.ID, c.Status)
			}
			continue
		}
		last := evs[len(evs)-1]
		if last.ToStatus == nil || *last.ToStatus != c.Status {
			t.Errorf("claim %s is %s but its last status change (%s, seq %d) went to %v", c.ID, c.Status, last.Event, last.Seq, deref((*string)(last.ToStatus)))
		}
		if c.Version < last.Version {
			t.Errorf("claim %s is at version %d, below its last status change's %d", c.ID, c.Version, last.Version)
		}
	}
}

// TestSecondReleaseInformationRequestAndAnswer: a reviewer's request makes
// the claim wait for the partner (ACTION_REQUIRED, answer due, review clock
// stopped, RESPOND and WITHDRAW offered); the answer takes it back where it
// came from — review, or arbitration — with the review clock running again;
// a stale answer is refused.
func TestSecondReleaseInformationRequestAndAnswer(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, rita, fiona := srv.Client(t, "ada"), srv.Client(t, "rita"), srv.Client(t, "fiona")
		id := gid(testkit.SubmitFreshClaim(t, w, "ada", "sr-answer"))

		c := srFire(t, rita, srStartReview, "startReview", map[string]any{"claimId": id}).ok(t)
		if c.Status != "UNDER_REVIEW" || c.ReviewDueAt == nil || c.ResponseDueAt != nil {
			t.Fatalf("under review: %+v", c)
		}
		const question = "Please attach the signed statement of work."
		c = srFire(t, rita, srRequestInfo, "requestInformation", map[string]any{"claimId": id, "expectedVersion": c.Version, "message": question}).ok(t)
		if c.Status != "ACTION_REQUIRED" || c.ReviewDueAt != nil || c.ResponseDueAt == nil {
			t.Fatalf("after the request: status %s, reviewDueAt %v, responseDueAt %v", c.Status, c.ReviewDueAt, c.ResponseDueAt)
		}
		if days := c.ResponseDueAt.Sub(w.Clock.Now()); days < 13*24*time.Hour || days > 17*24*time.Hour {
			t.Errorf("answer due %s from now; want ten business days", days)
		}
		waiting := srRead(t, ada, id)
		if !slices.Equal(waiting.AvailableActions, []string{"RESPOND", "WITHDRAW"}) {
			t.Errorf("partner availableActions on a waiting claim = %v", waiting.AvailableActions)
		}
		if waiting.Status != "ACTION_REQUIRED" || waiting.ResponseDueAt == nil || !waiting.ResponseDueAt.Equal(*c.ResponseDueAt) || waiting.ReviewDueAt != nil {
			t.Errorf("the waiting claim as the partner reads it: %+v", waiting)
		}
		if got := lastStatusChange(t, waiting); deref(got.Event) != "requestInformation" || deref(got.ToStatus) != "ACTION_REQUIRED" {
			t.Errorf("last status change %+v", got)
		}
		// Another organisation cannot answer it, nor learn that it exists.
		before := takeSnapshot(t, w)
		wantHiddenClaim(t, fiona.Do(t, srRespond, map[string]any{"input": map[string]any{"claimId": id, "message": "Ours."}}),
			"respondToInformationRequest", "another organisation's answer")
		// A reviewer may not answer for the partner.
		wantGQLError(t, rita.Do(t, srRespond, map[string]any{"input": map[string]any{"claimId": id, "message": "Me."}}), "FORBIDDEN")
		// A stale answer is refused.
		p := srFire(t, ada, srRespond, "respondToInformationRequest", map[string]any{"claimId": id, "expectedVersion": waiting.Version - 1, "message": "Stale."})
		wantUserError(t, p.UserErrors, "STALE_CLAIM")
		unchanged(t, w, before, "refused answers")

		const answer = "The signed statement of work is attached."
		c = srFire(t, ada, srRespond, "respondToInformationRequest", map[string]any{"claimId": id, "expectedVersion": waiting.Version, "message": answer}).ok(t)
		if c.Status != "UNDER_REVIEW" || c.ReviewDueAt == nil || c.ResponseDueAt != nil || c.Version <= waiting.Version {
			t.Fatalf("after the answer: %+v", c)
		}
		if !c.ReviewDueAt.After(w.Clock.Now()) {
			t.Errorf("review due %s, not after now", c.ReviewDueAt)
		}
		if !slices.ContainsFunc(c.Comments.Nodes, func(cm comment) bool { return cm.Kind == "PARTNER" && cm.Body == answer }) {
			t.Errorf("the answer is not in the thread: %+v", c.Comments.Nodes)
		}
		if got := lastStatusChange(t, c); deref(got.Event) != "respond" || deref(got.FromStatus) != "ACTION_REQUIRED" || deref(got.ToStatus) != "UNDER_REVIEW" || got.Actor.ID != "ada@contoso.example" {
			t.Errorf("the answer's status change: %+v", got)
		}
		// Answering twice: the claim no longer waits.
		p = srFire(t, ada, srRespond, "respondToInformationRequest", map[string]any{"claimId": id, "message": "Again."})
		wantUserError(t, p.UserErrors, "INVALID_TRANSITION")

		// In arbitration: the demo Tailspin claims compete; Contoso's waits
		// and goes back to arbitration on the answer, still in its case.
		tail := gid(claimWithStatus(t, w, contoso, models.Arbitration))
		a := srRead(t, ada, tail)
		if a.ArbitrationCase == nil || a.ArbitrationCase.Status != "OPEN" {
			t.Fatalf("demo Tailspin claim: %+v", a.ArbitrationCase)
		}
		c = srFire(t, rita, srRequestInfo, "requestInformation", map[string]any{"claimId": tail, "message": "Your latest proof, please."}).ok(t)
		if c.Status != "ACTION_REQUIRED" || c.ReviewDueAt != nil || c.ResponseDueAt == nil || c.ArbitrationCase == nil || c.ArbitrationCase.ID != a.ArbitrationCase.ID {
			t.Fatalf("waiting in arbitration: %+v", c)
		}
		c = srFire(t, ada, srRespond, "respondToInformationRequest", map[string]any{"claimId": tail, "expectedVersion": c.Version, "message": "Attached."}).ok(t)
		if c.Status != "ARBITRATION" || c.ReviewDueAt == nil || c.ResponseDueAt != nil || c.ArbitrationCase == nil || c.ArbitrationCase.Status != "OPEN" {
			t.Fatalf("the answer in arbitration left the claim %+v", c)
		}
		if got := lastStatusChange(t, c); deref(got.Event) != "respond" || deref(got.ToStatus) != "ARBITRATION" {
			t.Errorf("the answer's status change in arbitration: %+v", got)
		}
		checkStatusInvariant(t, w)
	})
}

// TestSecondReleaseAnswerDeadline: on the world's clock, the partner is
// warned before the answer is due (a DEADLINE_WARNING in the history and a
// SYSTEM comment); without an answer the claim is rejected for no partner
// response, and a late answer is RESPONSE_OVERDUE. A claim answered in time
// is left alone.
func TestSecondReleaseAnswerDeadline(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, rita := srv.Client(t, "ada"), srv.Client(t, "rita")
		var due time.Time
		ids := map[string]string{}
		for _, name := range []string{"silent", "answered"} {
			id := gid(testkit.SubmitFreshClaim(t, w, "ada", "sr-deadline-"+name))
			srFire(t, rita, srStartReview, "startReview", map[string]any{"claimId": id}).ok(t)
			c := srFire(t, rita, srRequestInfo, "requestInformation", map[string]any{"claimId": id, "message": "Send the project plan."}).ok(t)
			due, ids[name] = *c.ResponseDueAt, id
		}
		silent, answered := ids["silent"], ids["answered"]
		before := srRead(t, ada, silent)
		if hasHistory(before, "DEADLINE_WARNING") {
			t.Fatalf("a warning before any time passed: %+v", before.History.Nodes)
		}

		// A day before the deadline: warned, still waiting.
		w.Clock.Advance(due.Sub(w.Clock.Now()) - 24*time.Hour)
		if n := w.RunDue(t); n == 0 {
			t.Fatal("nothing ran a day before the answer is due")
		}
		warned := srRead(t, ada, silent)
		if warned.Status != "ACTION_REQUIRED" || !hasHistory(warned, "DEADLINE_WARNING") {
			t.Fatalf("a day before the deadline: %s, history %+v", warned.Status, warned.History.Nodes)
		}
		if countComments(warned, "SYSTEM") <= countComments(before, "SYSTEM") {
			t.Errorf("no new SYSTEM comment with the warning: %+v", warned.Comments.Nodes)
		}
		n := 0
		for _, e := range warned.History.Nodes {
			if e.Type == "DEADLINE_WARNING" {
				n++
				if e.Actor.Kind != "SYSTEM" {
					t.Errorf("warning by %+v", e.Actor)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d warnings; want 1", n)
		}
		c := srFire(t, ada, srRespond, "respondToInformationRequest", map[string]any{"claimId": answered, "message": "Just in time."}).ok(t)
		if c.Status != "UNDER_REVIEW" || c.ReviewDueAt == nil {
			t.Fatalf("answered a day early: %+v", c)
		}

		// Past the deadline: rejected, no partner response.
		w.Clock.Advance(25 * time.Hour)
		w.RunDue(t)
		lapsed := srRead(t, ada, silent)
		if lapsed.Status != "REJECTED" || deref(lapsed.DecisionCode) != "NO_PARTNER_RESPONSE" || lapsed.DecidedAt == nil ||
			lapsed.DecisionReason == nil || *lapsed.DecisionReason == "" || len(lapsed.AvailableActions) != 0 {
			t.Fatalf("unanswered claim after its deadline: status %s code %v decided %v reason %v actions %v",
				lapsed.Status, deref(lapsed.DecisionCode), lapsed.DecidedAt, deref(lapsed.DecisionReason), lapsed.AvailableActions)
		}
		if got := lastStatusChange(t, lapsed); deref(got.Event) != "lapse" || deref(got.ToStatus) != "REJECTED" || got.Actor.Kind != "SYSTEM" {
			t.Errorf("the lapse's status change: %+v", got)
		}
		if got := srRead(t, rita, silent); deref(got.DecisionCode) != "NO_PARTNER_RESPONSE" {
			t.Errorf("the reviewer reads decisionCode %v", deref(got.DecisionCode))
		}
		snap := takeSnapshot(t, w)
		p := srFire(t, ada, srRespond, "respondToInformationRequest", map[string]any{"claimId": silent, "message": "Sorry, late."})
		wantUserError(t, p.UserErrors, "RESPONSE_OVERDUE", "input", "claimId")
		unchanged(t, w, snap, "a late answer")
		if got := srRead(t, ada, answered); got.Status != "UNDER_REVIEW" || got.DecisionCode != nil {
			t.Errorf("the claim answered in time is %s (%v)", got.Status, deref(got.DecisionCode))
		}
		checkStatusInvariant(t, w)
	})
}

// TestSecondReleaseAnswerAfterDeadlineBeforeScheduler: the deadline is the
// rule, not the scheduler's timing — an answer after responseDueAt is
// RESPONSE_OVERDUE even before the lapse has run.
func TestSecondReleaseAnswerAfterDeadlineBeforeScheduler(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, rita := srv.Client(t, "ada"), srv.Client(t, "rita")
		id := gid(testkit.SubmitFreshClaim(t, w, "ada", "sr-late"))
		srFire(t, rita, srStartReview, "startReview", map[string]any{"claimId": id}).ok(t)
		c := srFire(t, rita, srRequestInfo, "requestInformation", map[string]any{"claimId": id, "message": "Send the plan."}).ok(t)
		w.Clock.Advance(c.ResponseDueAt.Sub(w.Clock.Now()) + time.Minute)
		snap := takeSnapshot(t, w)
		p := srFire(t, ada, srRespond, "respondToInformationRequest", map[string]any{"claimId": id, "message": "Late."})
		wantUserError(t, p.UserErrors, "RESPONSE_OVERDUE")
		unchanged(t, w, snap, "an answer after the deadline")
		w.RunDue(t)
		if got := srRead(t, ada, id); got.Status != "REJECTED" || deref(got.DecisionCode) != "NO_PARTNER_RESPONSE" {
			t.Errorf("after the lapse ran: %s %v", got.Status, deref(got.DecisionCode))
		}
		checkStatusInvariant(t, w)
	})
}

// TestSecondReleaseWithdraw: the partner withdraws a draft and claims in
// every open state it can reach; a decided claim is NOT_WITHDRAWABLE; a
// reviewer and a partner user without an admin role are FORBIDDEN; another
// organisation's admin finds nothing; a stale version is STALE_CLAIM.
func TestSecondReleaseWithdraw(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, rita, carl, fiona := srv.Client(t, "ada"), srv.Client(t, "rita"), srv.Client(t, "carl"), srv.Client(t, "fiona")
		ids := formData(t, ada)
		draft := createDraft(t, ada, claimInput(ids, woodgroveTenant, woodgroveDomain, woodgroveSub))

		// Refusals first, on the draft: nothing changes.
		before := takeSnapshot(t, w)
		in := map[string]any{"claimId": draft.ID, "reason": "Not needed."}
		wantGQLError(t, rita.Do(t, srWithdraw, map[string]any{"input": in}), "FORBIDDEN")
		wantGQLError(t, carl.Do(t, srWithdraw, map[string]any{"input": in}), "FORBIDDEN")
		wantHiddenClaim(t, fiona.Do(t, srWithdraw, map[string]any{"input": in}), "withdrawClaim", "another organisation's withdrawal")
		p := srFire(t, ada, srWithdraw, "withdrawClaim", map[string]any{"claimId": draft.ID, "expectedVersion": draft.Version + 1, "reason": "Stale."})
		wantUserError(t, p.UserErrors, "STALE_CLAIM")
		unchanged(t, w, before, "refused withdrawals")

		// From DRAFT.
		const why = "We claimed the wrong subscription."
		c := srFire(t, ada, srWithdraw, "withdrawClaim", map[string]any{"claimId": draft.ID, "expectedVersion": draft.Version, "reason": why}).ok(t)
		if c.Status != "WITHDRAWN" || c.DecidedAt == nil || c.Version <= draft.Version || len(c.AvailableActions) != 0 {
			t.Fatalf("withdrawn draft: status %s decided %v version %d actions %v", c.Status, c.DecidedAt, c.Version, c.AvailableActions)
		}
		if got := lastStatusChange(t, c); deref(got.Event) != "withdraw" || deref(got.FromStatus) != "DRAFT" || deref(got.ToStatus) != "WITHDRAWN" ||
			got.Actor.ID != "ada@contoso.example" || !strings.Contains(deref(got.Reason), why) {
			t.Errorf("the withdrawal's status change: %+v", got)
		}
		// Withdrawn is decided: again is NOT_WITHDRAWABLE.
		wantUserError(t, srFire(t, ada, srWithdraw, "withdrawClaim", map[string]any{"claimId": draft.ID}).UserErrors, "NOT_WITHDRAWABLE")

		// From each open state the partner can find its claim in.
		steps := map[string][]func(id string){
			"SUBMITTED":    nil,
			"UNDER_REVIEW": {func(id string) { srFire(t, rita, srStartReview, "startReview", map[string]any{"claimId": id}).ok(t) }},
			"ACTION_REQUIRED": {
				func(id string) { srFire(t, rita, srStartReview, "startReview", map[string]any{"claimId": id}).ok(t) },
				func(id string) {
					srFire(t, rita, srRequestInfo, "requestInformation", map[string]any{"claimId": id, "message": "More, please."}).ok(t)
				},
			},
		}
		withdrawn := []string{draft.ID}
		for _, from := range []string{"SUBMITTED", "UNDER_REVIEW", "ACTION_REQUIRED"} {
			id := gid(testkit.SubmitFreshClaim(t, w, "ada", "sr-withdraw-"+strings.ReplaceAll(strings.ToLower(from), "_", "-")))
			withdrawn = append(withdrawn, id)
			for _, step := range steps[from] {
				step(id)
			}
			cur := srRead(t, ada, id)
			if cur.Status != from || !slices.Contains(cur.AvailableActions, "WITHDRAW") {
				t.Fatalf("set-up: %s with %v; want %s offering WITHDRAW", cur.Status, cur.AvailableActions, from)
			}
			// Stale first.
			wantUserError(t, srFire(t, ada, srWithdraw, "withdrawClaim", map[string]any{"claimId": id, "expectedVersion": cur.Version - 1}).UserErrors, "STALE_CLAIM")
			c := srFire(t, ada, srWithdraw, "withdrawClaim", map[string]any{"claimId": id, "expectedVersion": cur.Version, "reason": why}).ok(t)
			if c.Status != "WITHDRAWN" || c.DecidedAt == nil || c.ResponseDueAt != nil || c.Overdue {
				t.Errorf("withdrawn from %s: status %s decided %v responseDue %v overdue %v", from, c.Status, c.DecidedAt, c.ResponseDueAt, c.Overdue)
			}
			if got := lastStatusChange(t, c); deref(got.FromStatus) != from || deref(got.ToStatus) != "WITHDRAWN" {
				t.Errorf("withdrawal from %s recorded as %+v", from, got)
			}
			// The reviewer sees it withdrawn and may do nothing more with it.
			if got := srRead(t, rita, id); got.Status != "WITHDRAWN" || len(got.AvailableActions) != 0 {
				t.Errorf("the reviewer reads the withdrawn claim as %s with %v", got.Status, got.AvailableActions)
			}
		}

		// Their deadlines went with them: a withdrawn draft does not expire,
		// a withdrawn claim that waited for an answer does not lapse, and
		// neither is warned.
		w.Clock.Advance(40 * 24 * time.Hour)
		w.RunDue(t)
		for _, id := range withdrawn {
			got := srRead(t, ada, id)
			if got.Status != "WITHDRAWN" || got.DecisionCode != nil {
				t.Errorf("withdrawn claim %s forty days on: %s %v", id, got.Status, deref(got.DecisionCode))
			}
			if hasHistory(got, "DEADLINE_WARNING") {
				t.Errorf("withdrawn claim %s was warned of a deadline", id)
			}
		}

		// An approved claim cannot be withdrawn.
		approved := gid(claimWithStatus(t, w, contoso, models.Approved))
		before = takeSnapshot(t, w)
		p = srFire(t, ada, srWithdraw, "withdrawClaim", map[string]any{"claimId": approved, "reason": "Changed our mind."})
		wantUserError(t, p.UserErrors, "NOT_WITHDRAWABLE", "input", "claimId")
		unchanged(t, w, before, "withdrawing an approved claim")
		if got := srRead(t, ada, approved); got.Status != "APPROVED" || got.Association == nil || !got.Association.Active {
			t.Errorf("the approved claim after the refusal: %s %+v", got.Status, got.Association)
		}
		checkStatusInvariant(t, w)
	})
}

// TestSecondReleaseWithdrawalClosesArbitration: the demo Tailspin claims of
// Contoso and Fabrikam compete in one open case; when Contoso withdraws,
// the case closes undecided and Fabrikam's claim goes back to review.
func TestSecondReleaseWithdrawalClosesArbitration(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, fiona, rita := srv.Client(t, "ada"), srv.Client(t, "fiona"), srv.Client(t, "rita")
		mine := gid(claimWithStatus(t, w, contoso, models.Arbitration))
		theirs := gid(claimWithStatus(t, w, fabrikam, models.Arbitration))
		a, b := srRead(t, ada, mine), srRead(t, fiona, theirs)
		if a.ArbitrationCase == nil || b.ArbitrationCase == nil || a.ArbitrationCase.ID != b.ArbitrationCase.ID || a.ArbitrationCase.Status != "OPEN" {
			t.Fatalf("demo data: the Tailspin claims are not in one open case: %+v %+v", a.ArbitrationCase, b.ArbitrationCase)
		}
		if !slices.Contains(a.AvailableActions, "WITHDRAW") {
			t.Errorf("a claim in arbitration does not offer WITHDRAW: %v", a.AvailableActions)
		}
		caseID := a.ArbitrationCase.ID

		c := srFire(t, ada, srWithdraw, "withdrawClaim", map[string]any{"claimId": mine, "expectedVersion": a.Version, "reason": "Fabrikam led this one."}).ok(t)
		if c.Status != "WITHDRAWN" || c.DecidedAt == nil {
			t.Fatalf("withdrawn in arbitration: %+v", c)
		}
		if got := lastStatusChange(t, c); deref(got.FromStatus) != "ARBITRATION" || deref(got.ToStatus) != "WITHDRAWN" {
			t.Errorf("withdrawal from arbitration recorded as %+v", got)
		}
		other := srRead(t, fiona, theirs)
		if other.Status != "UNDER_REVIEW" || other.ReviewDueAt == nil {
			t.Errorf("the remaining claim is %s (review due %v); want UNDER_REVIEW", other.Status, other.ReviewDueAt)
		}
		if other.ArbitrationCase == nil || other.ArbitrationCase.ID != caseID || other.ArbitrationCase.Status != "CLOSED" {
			t.Errorf("the remaining claim's case: %+v; want %s CLOSED", other.ArbitrationCase, caseID)
		}
		if got := lastStatusChange(t, other); deref(got.Event) != "deescalate" || deref(got.FromStatus) != "ARBITRATION" || got.Actor.Kind != "SYSTEM" {
			t.Errorf("the remaining claim's last status change: %+v", got)
		}
		if countComments(other, "SYSTEM") < 1 || !slices.ContainsFunc(other.Comments.Nodes, func(cm comment) bool {
			return cm.Kind == "SYSTEM" && strings.Contains(cm.Body, "case closed")
		}) {
			t.Errorf("no system comment tells Fabrikam the case closed: %+v", other.Comments.Nodes)
		}
		// The case as the reviewer lists it.
		cases := run[struct {
			Nodes []struct {
				ID, Status string
				ResolvedAt *time.Time
				Claims     []struct{ ID, Status string }
			}
		}](t, rita, `{ arbitrationCases(first: 50) { nodes { id status resolvedAt claims { id status } } } }`, nil, "arbitrationCases")
		found := false
		for _, cs := range cases.Nodes {
			if cs.ID == caseID {
				found = true
				if cs.Status != "CLOSED" {
					t.Errorf("the case is %s; want CLOSED", cs.Status)
				}
			}
		}
		if !found {
			t.Errorf("the reviewer does not list the case %s: %+v", caseID, cases.Nodes)
		}
		// Fabrikam's claim can now be approved without arbitration.
		got := srFire(t, rita, srApprove, "approveClaim", map[string]any{"claimId": theirs, "expectedVersion": other.Version, "note": "Fine."}).ok(t)
		if got.Status != "APPROVED" || got.Association == nil || !got.Association.Active {
			t.Errorf("approving the remaining claim: %s %+v", got.Status, got.Association)
		}
		checkStatusInvariant(t, w)
	})
}

// TestSecondReleaseCustomerDecline: chloe (Northwind's customer admin)
// declines a submitted Northwind claim: rejected, CUSTOMER_DECLINED, consent
// DECLINED, her words in the decision. Consent is PENDING after submission
// and null on drafts. Another tenant's claim is not found to her; a partner
// admin may not decline.
func TestSecondReleaseCustomerDecline(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, chloe, rita := srv.Client(t, "ada"), srv.Client(t, "chloe"), srv.Client(t, "rita")
		draft := gid(draftOnNorthwind(t, w, "ada", "EXCHANGE"))
		id := submitOnNorthwind(t, w, "ada", "TEAMS")

		if d := srRead(t, ada, draft); d.Status != "DRAFT" || d.CustomerConsent != nil {
			t.Errorf("a draft's customerConsent = %v; want null", deref(d.CustomerConsent))
		}
		sub := run[*struct {
			Status           string
			CustomerConsent  *string
			AvailableActions []string
		}](t, chloe, srCustomerQuery, map[string]any{"id": id}, "claim")
		if sub == nil || sub.Status != "SUBMITTED" || deref(sub.CustomerConsent) != "PENDING" {
			t.Fatalf("the submitted claim as chloe reads it: %+v", sub)
		}
		if !slices.Contains(sub.AvailableActions, "CUSTOMER_DECLINE") {
			t.Errorf("chloe's availableActions on a submitted claim = %v", sub.AvailableActions)
		}
		if got := srRead(t, ada, id); deref(got.CustomerConsent) != "PENDING" {
			t.Errorf("the partner reads customerConsent %v", deref(got.CustomerConsent))
		}

		// Refusals: a partner admin, a reviewer; another tenant's claim; a draft.
		before := takeSnapshot(t, w)
		in := map[string]any{"claimId": id, "reason": "Not us."}
		wantGQLError(t, ada.Do(t, srCustomerDecl, map[string]any{"input": in}), "FORBIDDEN")
		wantGQLError(t, rita.Do(t, srCustomerDecl, map[string]any{"input": in}), "FORBIDDEN")
		tailspin := gid(claimWithStatus(t, w, contoso, models.Arbitration))
		wantHiddenClaim(t, chloe.Do(t, srCustomerDecl, map[string]any{"input": map[string]any{"claimId": tailspin, "reason": "Not ours."}}),
			"customerDecline", "chloe's decline of another tenant's claim")
		wantHiddenClaim(t, chloe.Do(t, srCustomerDecl, map[string]any{"input": map[string]any{"claimId": draft, "reason": "Not yet."}}),
			"customerDecline", "chloe's decline of a draft on her tenant")
		unchanged(t, w, before, "refused declines")

		const words = "We never worked with this partner on Teams."
		got := run[struct {
			Claim *struct {
				ID, Status, DecisionCode, CustomerConsent string
				DecisionReason                            string
				DecidedAt                                 *time.Time
				AvailableActions                          []string
			}
			UserErrors []userError
		}](t, chloe, `mutation($input: CustomerDeclineInput!) { customerDecline(input: $input) {
		  claim { id status decisionCode customerConsent decisionReason decidedAt availableActions } userErrors { code field message } } }`,
			map[string]any{"input": map[string]any{"claimId": id, "reason": words}}, "customerDecline")
		if len(got.UserErrors) > 0 || got.Claim == nil {
			t.Fatalf("chloe's decline: %+v", got)
		}
		if c := got.Claim; c.Status != "REJECTED" || c.DecisionCode != "CUSTOMER_DECLINED" || c.CustomerConsent != "DECLINED" ||
			!strings.Contains(c.DecisionReason, words) || c.DecidedAt == nil || len(c.AvailableActions) != 0 {
			t.Errorf("declined claim as chloe reads it: %+v", c)
		}
		partner := srRead(t, ada, id)
		if partner.Status != "REJECTED" || deref(partner.DecisionCode) != "CUSTOMER_DECLINED" || deref(partner.CustomerConsent) != "DECLINED" ||
			!strings.Contains(deref(partner.DecisionReason), words) {
			t.Errorf("declined claim as the partner reads it: %s %v %v %q", partner.Status, deref(partner.DecisionCode), deref(partner.CustomerConsent), deref(partner.DecisionReason))
		}
		if got := lastStatusChange(t, partner); deref(got.Event) != "customerDecline" || deref(got.FromStatus) != "SUBMITTED" ||
			deref(got.ToStatus) != "REJECTED" || got.Actor.ID != "chloe@northwind.example" {
			t.Errorf("the decline's status change: %+v", got)
		}
		if !slices.ContainsFunc(partner.Comments.Nodes, func(cm comment) bool { return cm.Kind == "SYSTEM" && strings.Contains(cm.Body, words) }) {
			t.Errorf("no system comment tells the partner the customer's words: %+v", partner.Comments.Nodes)
		}
		// Declined is decided: again is refused, and withdrawing too.
		again := chloe.Do(t, srCustomerDecl, map[string]any{"input": map[string]any{"claimId": id, "reason": "Again."}})
		if len(again.Errors) > 0 {
			t.Errorf("declining a decided claim: GraphQL error %+v; want a userError", again.Errors)
		} else if errs := field[srPayload](t, again, "customerDecline").UserErrors; len(errs) == 0 {
			t.Errorf("declining a decided claim twice was accepted")
		}
		wantUserError(t, srFire(t, ada, srWithdraw, "withdrawClaim", map[string]any{"claimId": id}).UserErrors, "NOT_WITHDRAWABLE")

		// Under review too: a fresh claim on her tenant, in review, declined.
		id2 := submitOnNorthwind(t, w, "fiona", "EXCHANGE")
		srFire(t, rita, srStartReview, "startReview", map[string]any{"claimId": id2}).ok(t)
		got2 := run[srPayload](t, chloe, `mutation($input: CustomerDeclineInput!) { customerDecline(input: $input) {
		  claim { id status } userErrors { code field message } } }`, map[string]any{"input": map[string]any{"claimId": id2}}, "customerDecline")
		if len(got2.UserErrors) > 0 || got2.Claim == nil || got2.Claim.Status != "REJECTED" {
			t.Errorf("declining a claim under review without words: %+v", got2)
		}
		if c := srRead(t, srv.Client(t, "fiona"), id2); deref(c.DecisionCode) != "CUSTOMER_DECLINED" || deref(c.CustomerConsent) != "DECLINED" || c.DecisionReason == nil {
			t.Errorf("declined under review: %v %v %v", deref(c.DecisionCode), deref(c.CustomerConsent), deref(c.DecisionReason))
		}
		checkStatusInvariant(t, w)
	})
}

// TestSecondReleaseEndAssociation: the owning partner admin ends its
// association on the demo Northwind claim: inactive, PARTNER_ENDED, and
// ASSOCIATION_ENDED in the claim's history; again is
// ASSOCIATION_NOT_ACTIVE; an empty reason is INVALID_INPUT; another
// organisation's admin finds nothing; a customer admin is FORBIDDEN.
func TestSecondReleaseEndAssociation(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, fiona, chloe, carl := srv.Client(t, "ada"), srv.Client(t, "fiona"), srv.Client(t, "chloe"), srv.Client(t, "carl")
		approved := gid(claimWithStatus(t, w, contoso, models.Approved))
		c := srRead(t, ada, approved)
		if c.Association == nil || !c.Association.Active {
			t.Fatalf("demo data: the approved claim has no active association: %+v", c.Association)
		}
		assoc := c.Association.ID
		const endMutation = `mutation($input: EndAssociationInput!) { endAssociation(input: $input) {
		  association { id active endedAt endReason claim { id status } } userErrors { code field message } } }`
		type endPayload struct {
			Association *struct {
				ID        string
				Active    bool
				EndedAt   *time.Time
				EndReason *string
				Claim     *struct{ ID, Status string }
			}
			UserErrors []userError
		}
		end := func(cl *apitest.Client, reason string) *apitest.Response {
			return cl.Do(t, endMutation, map[string]any{"input": map[string]any{"associationId": assoc, "reason": reason}})
		}

		before := takeSnapshot(t, w)
		for _, reason := range []string{"", "   "} {
			p := field[endPayload](t, end(ada, reason), "endAssociation")
			wantUserError(t, p.UserErrors, "INVALID_INPUT", "input", "reason")
		}
		if r := end(fiona, "Not yours."); len(r.Errors) > 0 {
			t.Errorf("another organisation's end: GraphQL errors %+v; want a NOT_FOUND userError", r.Errors)
		} else {
			p := field[endPayload](t, r, "endAssociation")
			wantUserError(t, p.UserErrors, "NOT_FOUND", "input", "associationId")
			if p.Association != nil {
				t.Errorf("another organisation's admin got the association: %+v", p.Association)
			}
		}
		wantGQLError(t, end(chloe, "Customer."), "FORBIDDEN")
		wantGQLError(t, end(carl, "No role."), "FORBIDDEN")
		unchanged(t, w, before, "refused ends")

		const why = "The customer moved to another partner for Sales."
		p := field[endPayload](t, end(ada, why), "endAssociation")
		if len(p.UserErrors) > 0 || p.Association == nil {
			t.Fatalf("endAssociation: %+v", p)
		}
		if a := p.Association; a.ID != assoc || a.Active || a.EndedAt == nil || deref(a.EndReason) != "PARTNER_ENDED" {
			t.Errorf("ended association: %+v", a)
		}
		after := srRead(t, ada, approved)
		if after.Association == nil || after.Association.Active || deref(after.Association.EndReason) != "PARTNER_ENDED" {
			t.Errorf("the claim's association after the end: %+v", after.Association)
		}
		if after.Status != "APPROVED" {
			t.Errorf("ending the association moved the claim to %s", after.Status)
		}
		i := slices.IndexFunc(after.History.Nodes, func(e historyEvent) bool { return e.Type == "ASSOCIATION_ENDED" })
		if i < 0 {
			t.Fatalf("no ASSOCIATION_ENDED in the claim's history: %+v", after.History.Nodes)
		}
		// The entry carries the end reason's code and the partner's words;
		// the thread has them too, as a SYSTEM comment the history records.
		if e := after.History.Nodes[i]; e.Actor.ID != "ada@contoso.example" || deref(e.Reason) != "PARTNER_ENDED: "+why {
			t.Errorf("ASSOCIATION_ENDED entry: %+v, reason %q", e, deref(e.Reason))
		}
		j := slices.IndexFunc(after.Comments.Nodes, func(cm comment) bool { return cm.Kind == "SYSTEM" && strings.Contains(cm.Body, why) })
		if j < 0 {
			t.Errorf("the partner's reason is nowhere in the claim's thread: %+v", after.Comments.Nodes)
		} else if !slices.ContainsFunc(after.History.Nodes, func(e historyEvent) bool {
			return e.Type == "COMMENT_ADDED" && e.Comment != nil && e.Comment.ID == after.Comments.Nodes[j].ID
		}) {
			t.Errorf("the comment with the partner's reason is not in the claim's history: %+v", after.History.Nodes)
		}
		// chloe sees it ended on her tenant.
		assocs := run[struct {
			Nodes []struct {
				ID        string
				Active    bool
				EndReason *string
			}
		}](t, chloe, `{ associations(first: 100) { nodes { id active endReason } } }`, nil, "associations")
		if !slices.ContainsFunc(assocs.Nodes, func(a struct {
			ID        string
			Active    bool
			EndReason *string
		}) bool {
			return a.ID == assoc && !a.Active && deref(a.EndReason) == "PARTNER_ENDED"
		}) {
			t.Errorf("chloe's associations: %+v", assocs.Nodes)
		}

		// Again: not active; and the customer cannot decline it either.
		before = takeSnapshot(t, w)
		wantUserError(t, field[endPayload](t, end(ada, "Again."), "endAssociation").UserErrors, "ASSOCIATION_NOT_ACTIVE")
		decl := chloe.Do(t, `mutation($input: DeclineAssociationInput!) { declineAssociation(input: $input) { association { id } userErrors { code field message } } }`,
			map[string]any{"input": map[string]any{"associationId": assoc, "reason": "Late."}})
		wantUserError(t, field[endPayload](t, decl, "declineAssociation").UserErrors, "ASSOCIATION_NOT_ACTIVE")
		unchanged(t, w, before, "ending an ended association")
		checkStatusInvariant(t, w)
	})
}

// TestSecondReleaseEdges: the review clock stays stopped while a claim
// waits (never overdue, not listed as overdue); a decline or a rejection of
// a waiting claim leaves nothing for its deadline to do; a decided claim
// cannot be declined; the new inputs' text is checked like every other.
func TestSecondReleaseEdges(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, rita, chloe := srv.Client(t, "ada"), srv.Client(t, "rita"), srv.Client(t, "chloe")
		wait := func(id string) *srClaim {
			t.Helper()
			srFire(t, rita, srStartReview, "startReview", map[string]any{"claimId": id}).ok(t)
			return srFire(t, rita, srRequestInfo, "requestInformation", map[string]any{"claimId": id, "message": "Send the plan."}).ok(t)
		}
		waiting := gid(testkit.SubmitFreshClaim(t, w, "ada", "sr-edge-waiting"))
		reviewed := gid(testkit.SubmitFreshClaim(t, w, "ada", "sr-edge-reviewed"))
		srFire(t, rita, srStartReview, "startReview", map[string]any{"claimId": reviewed}).ok(t)
		wait(waiting)
		rejected := gid(testkit.SubmitFreshClaim(t, w, "ada", "sr-edge-rejected"))
		wait(rejected)
		declined := submitOnNorthwind(t, w, "ada", "TEAMS")
		wait(declined)

		// Invalid text changes nothing.
		before := takeSnapshot(t, w)
		wantUserError(t, srFire(t, ada, srRespond, "respondToInformationRequest", map[string]any{"claimId": waiting, "message": "  "}).UserErrors, "INVALID_INPUT", "input", "message")
		wantUserError(t, srFire(t, ada, srWithdraw, "withdrawClaim", map[string]any{"claimId": waiting, "reason": "evil\u202etxt"}).UserErrors, "INVALID_INPUT", "input", "reason")
		wantUserError(t, srFire(t, chloe, srCustomerDecl, "customerDecline", map[string]any{"claimId": declined, "reason": strings.Repeat("x", 2001)}).UserErrors, "INVALID_INPUT", "input", "reason")
		unchanged(t, w, before, "invalid text")

		// Eight days on: past the review deadline the waiting claim had,
		// before its answer is due. Waiting is never overdue; the claim in
		// review is. (overdue, the field and the filter, reads the real
		// time, not the world's clock, so the claim in review has its
		// deadline moved into the real past as the demo seed does.)
		w.Clock.Advance(8 * 24 * time.Hour)
		if err := w.DB.Model(&models.Claim{}).Where("id = ?", mustParseGlobalUUID(t, reviewed)).
			Update("review_due_at", time.Now().Add(-time.Hour)).Error; err != nil {
			t.Fatal(err)
		}
		if got := srRead(t, ada, waiting); got.Overdue || got.ReviewDueAt != nil || got.Status != "ACTION_REQUIRED" {
			t.Errorf("a waiting claim eight days on: %s overdue %v review due %v", got.Status, got.Overdue, got.ReviewDueAt)
		}
		if got := srRead(t, ada, reviewed); !got.Overdue {
			t.Errorf("a claim under review eight days on is not overdue (review due %v, now %v)", got.ReviewDueAt, w.Clock.Now())
		}
		overdue := claimsOf(t, rita, map[string]any{"filter": map[string]any{"overdue": true}, "first": 100})
		notOverdue := claimsOf(t, rita, map[string]any{"filter": map[string]any{"overdue": false}, "first": 100})
		in := func(p claimsPage, id string) bool {
			return slices.ContainsFunc(p.Nodes, func(n struct {
				ID, Status, CreatedAt string
				Overdue               bool
				Organization          struct{ Name string }
			}) bool {
				return n.ID == id
			})
		}
		if in(overdue, waiting) || !in(notOverdue, waiting) {
			t.Errorf("the waiting claim: in overdue %v, in not overdue %v", in(overdue, waiting), in(notOverdue, waiting))
		}
		if !in(overdue, reviewed) || in(notOverdue, reviewed) {
			t.Errorf("the overdue claim under review: in overdue %v, in not overdue %v", in(overdue, reviewed), in(notOverdue, reviewed))
		}

		// The customer declines one waiting claim, the reviewer rejects another.
		if p := srFire(t, chloe, `mutation($input: CustomerDeclineInput!) { customerDecline(input: $input) {
		  claim { id status } userErrors { code field message } } }`, "customerDecline", map[string]any{"claimId": declined, "reason": "No."}); len(p.UserErrors) > 0 {
			t.Fatalf("declining a waiting claim: %+v", p.UserErrors)
		}
		srFire(t, rita, srMutation("rejectClaim", "RejectClaimInput"), "rejectClaim", map[string]any{"claimId": rejected, "reason": "Out of scope."}).ok(t)
		// Past every answer's deadline: only the unanswered claim lapses.
		w.Clock.Advance(10 * 24 * time.Hour)
		w.RunDue(t)
		if got := srRead(t, ada, waiting); got.Status != "REJECTED" || deref(got.DecisionCode) != "NO_PARTNER_RESPONSE" {
			t.Errorf("the unanswered claim: %s %v", got.Status, deref(got.DecisionCode))
		}
		for id, code := range map[string]string{declined: "CUSTOMER_DECLINED", rejected: "<nil>"} {
			got := srRead(t, ada, id)
			if got.Status != "REJECTED" || deref(got.DecisionCode) != code {
				t.Errorf("claim %s after its old deadline: %s %v; want REJECTED %s", id, got.Status, deref(got.DecisionCode), code)
			}
			for _, e := range got.History.Nodes {
				if e.Type == "DEADLINE_WARNING" || (e.Type == "STATUS_CHANGED" && deref(e.Event) == "lapse") {
					t.Errorf("claim %s, decided while waiting, got %s %v", id, e.Type, deref(e.Event))
				}
			}
		}

		// A decided claim on her tenant cannot be declined.
		approved := gid(claimWithStatus(t, w, contoso, models.Approved))
		ac := run[*struct{ AvailableActions []string }](t, chloe, srCustomerQuery, map[string]any{"id": approved}, "claim")
		if ac == nil || slices.Contains(ac.AvailableActions, "CUSTOMER_DECLINE") {
			t.Errorf("chloe's actions on an approved claim: %+v", ac)
		}
		before = takeSnapshot(t, w)
		r := chloe.Do(t, srCustomerDecl, map[string]any{"input": map[string]any{"claimId": approved, "reason": "Too late?"}})
		if len(r.Errors) > 0 {
			t.Errorf("declining an approved claim: GraphQL errors %+v; want a userError", r.Errors)
		} else {
			wantUserError(t, field[srPayload](t, r, "customerDecline").UserErrors, "INVALID_TRANSITION", "input", "claimId")
		}
		unchanged(t, w, before, "declining an approved claim")
		checkStatusInvariant(t, w)
	})
}
