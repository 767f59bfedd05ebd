package workflow_test

// Arbitration (docs/product.md §6): competing claims of two organisations form
// one case, resolving it approves one claim and rejects the others in one
// transaction, a losing holder's association ends, and at no moment are
// there two active associations for one customer, product and activity.
// Also the customer's right to decline an association.

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/catalog"
	"cpor/claims"
	"cpor/demo"
	"cpor/models"
	"cpor/storage"
	"cpor/testkit"
	"cpor/workflow"
)

// woodgroveSub is Woodgrove Bank's Dynamics 365 Sales subscription, which
// no demo claim touches.
const woodgroveSub = "5a1e0000-0000-4000-8000-000000000041"

// woodgroveFor is the PRESALES form of the organisation's demo admin on the
// Woodgrove subscription, with the organisation's MPN.
func (f *fx) woodgroveFor(handle string) spec {
	s := f.woodgrove()
	s.activity, s.sub = models.Presales, woodgroveSub
	s.product = ptr(f.product("D365_SALES"))
	if handle == "fiona" {
		s.mpn, s.domain = ptr(f.mpn(5000001)), "woodgrove.onmicrosoft.com"
		s.partner.Email = "sam@fabrikam.example"
	} else {
		s.mpn = ptr(f.mpn(4000001))
	}
	return s
}

// activeAssociations lists the active associations on a competition key.
func (f *fx) activeAssociations(tenant, product uuid.UUID, act models.Activity) []models.Association {
	f.t.Helper()
	var out []models.Association
	if err := f.w.DB.Where("customer_tenant_id = ? AND product_id = ? AND activity = ? AND ended_at IS NULL",
		tenant, product, act).Find(&out).Error; err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *fx) arbitrationCase(id uuid.UUID) models.ArbitrationCase {
	f.t.Helper()
	var cs models.ArbitrationCase
	if err := f.w.DB.Where("id = ?", id).Take(&cs).Error; err != nil {
		f.t.Fatal(err)
	}
	return cs
}

// claimIDs lists the IDs of claims.
func claimIDs(cs []models.Claim) []uuid.UUID {
	out := make([]uuid.UUID, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// caseClaimsAs lists the case's claims as the user sees them.
func (f *fx) caseClaimsAs(handle string, cs *models.ArbitrationCase) []uuid.UUID {
	f.t.Helper()
	list, err := f.w.Workflow.CaseClaims(testkit.As(handle), cs)
	if err != nil {
		f.t.Fatalf("case claims as %s: %v", handle, err)
	}
	return claimIDs(list)
}

// hasArbitrationNotice reports whether the claim got the system comment
// that explains arbitration.
func (f *fx) hasArbitrationNotice(id uuid.UUID) bool {
	for _, c := range f.comments(id, models.CommentSystem) {
		if c.AuthorID == "system" && strings.Contains(c.Body, "arbitration") {
			return true
		}
	}
	return false
}

func sameIDs(got []uuid.UUID, want ...uuid.UUID) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// TestArbitrationBetweenTwoOrganisations: Contoso and Fabrikam claim the
// same Woodgrove subscription and activity; both go to one case; the
// reviewer resolves it for one.
func TestArbitrationBetweenTwoOrganisations(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		rita := testkit.As("rita")
		sales := f.product("D365_SALES")
		a := f.submitted("ada", f.woodgroveFor("ada"))
		b := f.submitted("fiona", f.woodgroveFor("fiona"))

		// The first review meets the competitor and escalates at once.
		ca := f.ok("start review A")(f.w.Workflow.StartReview(rita, req(a.ID)))
		if ca.Status != models.Arbitration || ca.ArbitrationCaseID == nil {
			t.Fatalf("claim A after start review: %s, case %v", ca.Status, ca.ArbitrationCaseID)
		}
		evs := f.statusEvents(a.ID)
		if n := len(evs); n < 3 || evs[n-2].Event != string(workflow.StartReview) || evs[n-1].Event != string(workflow.Escalate) ||
			evs[n-1].ActorKind != models.ActorSystem || *evs[n-1].FromStatus != models.UnderReview || *evs[n-1].ToStatus != models.Arbitration {
			t.Errorf("claim A's history does not show review then automatic escalation: %+v", evs)
		}
		if got := f.claim(b.ID).Status; got != models.Submitted {
			t.Errorf("claim B is %s before its review starts; want SUBMITTED", got)
		}
		cb := f.ok("start review B")(f.w.Workflow.StartReview(rita, req(b.ID)))
		if cb.Status != models.Arbitration || cb.ArbitrationCaseID == nil || *cb.ArbitrationCaseID != *ca.ArbitrationCaseID {
			t.Fatalf("claim B after start review: %s, case %v; want ARBITRATION in case %s", cb.Status, cb.ArbitrationCaseID, *ca.ArbitrationCaseID)
		}
		caseID := *ca.ArbitrationCaseID
		if n := f.count(&models.ArbitrationCase{}, "customer_tenant_id = ? AND product_id = ? AND activity = ?",
			demo.Woodgrove, sales, models.Presales); n != 1 {
			t.Fatalf("%d arbitration cases for the key; want one", n)
		}
		if n := f.count(&models.Claim{}, "arbitration_case_id = ?", caseID); n != 2 {
			t.Errorf("the case holds %d claims; want 2", n)
		}
		cs := f.arbitrationCase(caseID)
		if cs.Status != models.ArbitrationOpen || cs.HolderAssociationID != nil || cs.ResolvedAt != nil {
			t.Errorf("new case: %+v", cs)
		}
		for _, id := range []uuid.UUID{a.ID, b.ID} {
			if !f.hasArbitrationNotice(id) {
				t.Errorf("claim %s got no system comment explaining arbitration", id)
			}
		}

		// Each partner sees only its own organisation's claims of the case.
		if got := f.caseClaimsAs("ada", &cs); !sameIDs(got, a.ID) {
			t.Errorf("Contoso sees %v of the case; want only %s", got, a.ID)
		}
		if got := f.caseClaimsAs("ben", &cs); !sameIDs(got, a.ID) {
			t.Errorf("another Contoso admin sees %v of the case; want only %s", got, a.ID)
		}
		if got := f.caseClaimsAs("fiona", &cs); !sameIDs(got, b.ID) {
			t.Errorf("Fabrikam sees %v of the case; want only %s", got, b.ID)
		}
		if got := f.caseClaimsAs("rita", &cs); !sameIDs(got, a.ID, b.ID) {
			t.Errorf("the reviewer sees %v of the case; want both claims in submission order", got)
		}
		for _, h := range []string{"ada", "fiona", "rita"} {
			if _, err := f.w.Workflow.Case(testkit.As(h), caseID); err != nil {
				t.Errorf("%s cannot see the case: %v", h, err)
			}
		}
		for _, h := range []string{"carl", "chloe"} {
			_, err := f.w.Workflow.Case(testkit.As(h), caseID)
			expectError(t, err, apperr.Forbidden, "")
		}
		// Neither partner can read the other's claim through the case.
		_, err := f.w.Claims.Get(testkit.As("ada"), b.ID)
		expectError(t, err, apperr.NotFound, "claimId")

		// The reviewer asks both for more; each waits for its partner's
		// answer, still in the case, and goes back to arbitration on it.
		for _, tc := range []struct {
			id      uuid.UUID
			partner string
		}{{a.ID, "ada"}, {b.ID, "fiona"}} {
			c := f.ok("request information")(f.w.Workflow.RequestInformation(rita, withReason(tc.id, "Send your latest proof.")))
			if workflow.StateOf(c) != workflow.WaitingInArbitration || c.ResponseDueAt == nil || c.ReviewDueAt != nil ||
				*c.ArbitrationCaseID != caseID {
				t.Errorf("information request left the claim %s (response due %v, review due %v)", workflow.StateOf(c), c.ResponseDueAt, c.ReviewDueAt)
			}
			if n := len(f.comments(tc.id, models.CommentInformationRequest)); n != 1 {
				t.Errorf("claim %s has %d information requests", tc.id, n)
			}
			if tc.id == b.ID {
				_, err := f.w.Workflow.ResolveArbitration(rita, caseID, b.ID, "")
				expectError(t, err, apperr.InvalidTransition, "winningClaimId")
			}
			c = f.ok("respond")(f.w.Workflow.Respond(testkit.As(tc.partner), withReason(tc.id, "Here is the signed statement of work.")))
			if c.Status != models.Arbitration || c.ReviewDueAt == nil || c.ResponseDueAt != nil {
				t.Errorf("the answer left the claim %s (review due %v)", c.Status, c.ReviewDueAt)
			}
		}
		// Approving in arbitration is possible only through the case, and
		// resolving for a claim outside it is refused.
		_, err = f.w.Workflow.ResolveArbitration(rita, caseID, f.demoClaim(demo.Contoso, models.Approved), "")
		expectError(t, err, apperr.InvalidInput, "winningClaimId")

		before := f.claim(b.ID)
		resolved, err := f.w.Workflow.ResolveArbitration(rita, caseID, b.ID, "Fabrikam's proof is the most recent.")
		if err != nil {
			t.Fatalf("resolve: %v", err)
		}
		if resolved.Status != models.ArbitrationResolved || resolved.WinningClaimID == nil || *resolved.WinningClaimID != b.ID ||
			resolved.ResolvedAt == nil || resolved.ResolvedBy != "rita@microsoft.example" {
			t.Errorf("resolved case: %+v", resolved)
		}
		win, lose := f.claim(b.ID), f.claim(a.ID)
		if win.Status != models.Approved || win.Version != before.Version+1 || win.DecidedAt == nil {
			t.Errorf("winner: %s v%d", win.Status, win.Version)
		}
		if lose.Status != models.Rejected || lose.DecidedAt == nil || !strings.Contains(lose.DecisionReason, "Fabrikam's proof is the most recent.") {
			t.Errorf("loser: %s, reason %q", lose.Status, lose.DecisionReason)
		}
		f.checkStatusEvent(&win, workflow.Approve, models.Arbitration, models.Approved, "rita")
		f.checkStatusEvent(&lose, workflow.Reject, models.Arbitration, models.Rejected, "rita")
		if n := len(f.comments(a.ID, models.CommentSystem)); n < 3 {
			t.Errorf("the losing claim got %d system comments; want the submit, arbitration and decision notices", n)
		}
		if n := f.count(&models.Claim{}, "arbitration_case_id = ? AND status = ?", caseID, models.Approved); n != 1 {
			t.Errorf("%d approved claims in the case; want exactly one", n)
		}
		active := f.activeAssociations(demo.Woodgrove, sales, models.Presales)
		if len(active) != 1 || active[0].ClaimID != b.ID || active[0].OrganizationID != demo.Fabrikam {
			t.Errorf("active associations after resolution: %+v; want Fabrikam's only", active)
		}
		// A resolved case cannot be resolved again, for either claim.
		for _, id := range []uuid.UUID{a.ID, b.ID} {
			beforeCase := f.arbitrationCase(caseID)
			_, err = f.w.Workflow.ResolveArbitration(rita, caseID, id, "Again.")
			expectError(t, err, apperr.InvalidTransition, "caseId")
			if after := f.arbitrationCase(caseID); *after.WinningClaimID != *beforeCase.WinningClaimID || after.Resolution != beforeCase.Resolution {
				t.Errorf("second resolution changed the case: %+v", after)
			}
		}
		if got := f.claim(a.ID).Status; got != models.Rejected {
			t.Errorf("second resolution moved the loser to %s", got)
		}
	})
}

// challenge sets up a holder and a challenger on a fresh target: Contoso's
// claim approved (the holder association), then Fabrikam's claim on the same
// subscription, escalated when its review starts.
func (f *fx) challenge(name string) (holder, challenger models.Claim, cs models.ArbitrationCase, holderAssoc models.Association) {
	f.t.Helper()
	rita := testkit.As("rita")
	s := f.fresh(name)
	h := f.submitted("ada", s)
	f.ok("start review holder")(f.w.Workflow.StartReview(rita, req(h.ID)))
	f.ok("approve holder")(f.w.Workflow.Approve(rita, req(h.ID)))
	if err := f.w.DB.Where("claim_id = ? AND ended_at IS NULL", h.ID).Take(&holderAssoc).Error; err != nil {
		f.t.Fatalf("holder association: %v", err)
	}
	fs := s
	fs.mpn, fs.partner = ptr(f.mpn(5000001)), ptr(*s.partner)
	c := f.submitted("fiona", fs)
	c = f.ok("start review challenger")(f.w.Workflow.StartReview(rita, req(c.ID)))
	if c.Status != models.Arbitration || c.ArbitrationCaseID == nil {
		f.t.Fatalf("challenger after start review: %s", c.Status)
	}
	cs = f.arbitrationCase(*c.ArbitrationCaseID)
	if cs.HolderAssociationID == nil || *cs.HolderAssociationID != holderAssoc.ID {
		f.t.Fatalf("case %+v does not record the holder association %s", cs, holderAssoc.ID)
	}
	if !f.hasArbitrationNotice(c.ID) {
		f.t.Errorf("challenger got no arbitration notice")
	}
	return f.claim(h.ID), f.claim(c.ID), cs, holderAssoc
}

// TestArbitrationAgainstAHolder: a challenger against an approved claim's
// association; the case records the holder; resolving for the challenger
// ends the holder's association, resolving for the holder keeps it.
func TestArbitrationAgainstAHolder(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		rita := testkit.As("rita")
		sales := f.product("D365_SALES")

		t.Run("challenger wins", func(t *testing.T) {
			f := f.at(t)
			holder, challenger, cs, assoc := f.challenge("holder-loses")
			if holder.Status != models.Approved || holder.ArbitrationCaseID != nil {
				t.Errorf("the holder's claim is %s in case %v; it stays approved outside the case", holder.Status, holder.ArbitrationCaseID)
			}
			// The holder is a party: it sees its own claim, not the challenger's.
			if got := f.caseClaimsAs("ada", &cs); !sameIDs(got, holder.ID) {
				t.Errorf("the holder sees %v of the case; want only its claim", got)
			}
			if got := f.caseClaimsAs("fiona", &cs); !sameIDs(got, challenger.ID) {
				t.Errorf("the challenger sees %v of the case; want only its claim", got)
			}
			if got := f.caseClaimsAs("rita", &cs); !sameIDs(got, holder.ID, challenger.ID) {
				t.Errorf("the reviewer sees %v; want the holder's claim first, then the challenger's", got)
			}
			if _, err := f.w.Workflow.Case(testkit.As("ada"), cs.ID); err != nil {
				t.Errorf("the holder cannot see the case: %v", err)
			}
			holderBefore := f.snap(holder.ID)

			resolved, err := f.w.Workflow.ResolveArbitration(rita, cs.ID, challenger.ID, "The challenger drove the purchase.")
			if err != nil {
				t.Fatalf("resolve for the challenger: %v", err)
			}
			if resolved.Status != models.ArbitrationResolved || *resolved.WinningClaimID != challenger.ID {
				t.Errorf("case: %+v", resolved)
			}
			if got := f.claim(challenger.ID).Status; got != models.Approved {
				t.Errorf("challenger is %s; want APPROVED", got)
			}
			var ended models.Association
			if err := f.w.DB.Where("id = ?", assoc.ID).Take(&ended).Error; err != nil {
				t.Fatal(err)
			}
			if ended.Active() || ended.EndReason == nil || *ended.EndReason != models.EndArbitrationLost {
				t.Errorf("holder association after losing: %+v; want ended with ARBITRATION_LOST", ended)
			}
			// The holder's claim stays approved; its history records the end.
			h := f.claim(holder.ID)
			if h.Status != models.Approved || h.Version != holder.Version {
				t.Errorf("the losing holder's claim changed: %s v%d", h.Status, h.Version)
			}
			var endEvents []models.ClaimEvent
			for _, e := range f.events(holder.ID) {
				if e.Type == models.EventAssociationEnded {
					endEvents = append(endEvents, e)
				}
			}
			if len(endEvents) != 1 || endEvents[0].Reason != string(models.EndArbitrationLost) || endEvents[0].ActorID != "rita@microsoft.example" {
				t.Errorf("ASSOCIATION_ENDED events of the holder: %+v", endEvents)
			}
			if after := f.snap(holder.ID); after.events != holderBefore.events+2 || after.comments != holderBefore.comments+1 {
				t.Errorf("the holder's history gained %d events and %d comments; want the end event (and its comment's) and one notice",
					after.events-holderBefore.events, after.comments-holderBefore.comments)
			}
			active := f.activeAssociations(challenger.CustomerTenantID, sales, models.Usage)
			if len(active) != 1 || active[0].ClaimID != challenger.ID {
				t.Errorf("active associations: %+v; want the challenger's only", active)
			}
		})

		t.Run("holder wins", func(t *testing.T) {
			f := f.at(t)
			holder, challenger, cs, assoc := f.challenge("holder-keeps")
			resolved, err := f.w.Workflow.ResolveArbitration(rita, cs.ID, holder.ID, "The holder's proof stands.")
			if err != nil {
				t.Fatalf("resolve for the holder: %v", err)
			}
			if resolved.Status != models.ArbitrationResolved || *resolved.WinningClaimID != holder.ID {
				t.Errorf("case: %+v", resolved)
			}
			c := f.claim(challenger.ID)
			if c.Status != models.Rejected || !strings.Contains(c.DecisionReason, "The holder's proof stands.") {
				t.Errorf("challenger: %s, %q; want REJECTED with the reason", c.Status, c.DecisionReason)
			}
			active := f.activeAssociations(holder.CustomerTenantID, sales, models.Usage)
			if len(active) != 1 || active[0].ID != assoc.ID {
				t.Errorf("active associations: %+v; want the holder's, unchanged", active)
			}
			if h := f.claim(holder.ID); h.Status != models.Approved || h.Version != holder.Version {
				t.Errorf("the winning holder's claim changed: %s v%d", h.Status, h.Version)
			}
			if n := f.count(&models.Association{}, "claim_id = ?", challenger.ID); n != 0 {
				t.Errorf("the rejected challenger has %d associations", n)
			}
		})

		t.Run("rejecting every challenger keeps the holder", func(t *testing.T) {
			f := f.at(t)
			holder, challenger, cs, assoc := f.challenge("holder-stays")
			f.ok("reject challenger")(f.w.Workflow.Reject(rita, withReason(challenger.ID, "No proof of influence.")))
			after := f.arbitrationCase(cs.ID)
			if after.Status != models.ArbitrationResolved || after.WinningClaimID == nil || *after.WinningClaimID != holder.ID {
				t.Errorf("case after its only challenger was rejected: %+v; want resolved for the holder", after)
			}
			if active := f.activeAssociations(holder.CustomerTenantID, sales, models.Usage); len(active) != 1 || active[0].ID != assoc.ID {
				t.Errorf("active associations: %+v", active)
			}
		})
	})
}

// TestCompetitionBlocksPlainApproval: a claim under review that another
// organisation's open claim competes with cannot be approved outright; it
// goes to arbitration, where approving it settles the case.
func TestCompetitionBlocksPlainApproval(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		rita := testkit.As("rita")
		s := f.fresh("contested")
		a := f.submitted("ada", s)
		a = f.ok("start review")(f.w.Workflow.StartReview(rita, req(a.ID)))
		if a.Status != models.UnderReview {
			t.Fatalf("uncontested claim went to %s", a.Status)
		}
		fs := s
		fs.mpn = ptr(f.mpn(5000001))
		b := f.submitted("fiona", fs)

		before := f.snap(a.ID)
		_, err := f.w.Workflow.Approve(rita, withReason(a.ID, "Looks good."))
		expectError(t, err, apperr.InvalidTransition, "claimId")
		f.unchanged(a.ID, before)
		if n := f.count(&models.Association{}, "customer_tenant_id = ?", a.CustomerTenantID); n != 0 {
			t.Fatalf("refused approval left %d associations", n)
		}

		// The reviewer escalates; the competitor joins when its review starts.
		a = f.ok("escalate")(f.w.Workflow.Escalate(rita, withReason(a.ID, "Fabrikam claims the same subscription.")))
		if a.Status != models.Arbitration {
			t.Fatalf("escalated claim is %s", a.Status)
		}
		f.checkStatusEvent(a, workflow.Escalate, models.UnderReview, models.Arbitration, "rita")
		b = f.ok("start review B")(f.w.Workflow.StartReview(rita, req(b.ID)))
		if b.Status != models.Arbitration || *b.ArbitrationCaseID != *a.ArbitrationCaseID {
			t.Fatalf("competitor is %s in case %v; want ARBITRATION in %s", b.Status, b.ArbitrationCaseID, *a.ArbitrationCaseID)
		}
		// Approving one claim in arbitration decides the whole case.
		f.ok("approve in arbitration")(f.w.Workflow.Approve(rita, withReason(b.ID, "Fabrikam wins.")))
		if got := f.claim(a.ID).Status; got != models.Rejected {
			t.Errorf("competitor of the approved claim is %s; want REJECTED", got)
		}
		cs := f.arbitrationCase(*a.ArbitrationCaseID)
		if cs.Status != models.ArbitrationResolved || *cs.WinningClaimID != b.ID {
			t.Errorf("case: %+v", cs)
		}
		sales := f.product("D365_SALES")
		if active := f.activeAssociations(a.CustomerTenantID, sales, models.Usage); len(active) != 1 || active[0].ClaimID != b.ID {
			t.Errorf("active associations: %+v", active)
		}
	})
}

// TestOneActiveAssociationIsEnforcedByTheDatabase: even a write that skips
// the service cannot add a second active association for a key.
func TestOneActiveAssociationIsEnforcedByTheDatabase(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		var held models.Association
		if err := f.w.DB.Where("customer_tenant_id = ? AND ended_at IS NULL", demo.Northwind).Take(&held).Error; err != nil {
			t.Fatal(err)
		}
		other := f.demoClaim(demo.Fabrikam, models.Rejected)
		dup := held
		dup.ID, dup.ClaimID, dup.OrganizationID = uuid.New(), other, demo.Fabrikam
		err := f.w.DB.Create(&dup).Error
		if err == nil || !storage.IsUniqueViolation(err, "") {
			t.Fatalf("second active association: %v; want a unique violation", err)
		}
		if n := len(f.activeAssociations(held.CustomerTenantID, held.ProductID, held.Activity)); n != 1 {
			t.Errorf("%d active associations", n)
		}
		// An ended one may sit beside it.
		now := storage.Now()
		reason := models.EndSuperseded
		dup.EndedAt, dup.EndReason = &now, &reason
		if err := f.w.DB.Create(&dup).Error; err != nil {
			t.Errorf("ended association beside the active one: %v", err)
		}
	})
}

// TestDeclineAssociation: Northwind's admin declines Contoso's association
// on Northwind; it ends with CUSTOMER_DECLINED and the claim's history
// records it.
func TestDeclineAssociation(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		chloe := testkit.As("chloe")
		claimID := f.demoClaim(demo.Contoso, models.Approved)
		var a models.Association
		if err := f.w.DB.Where("claim_id = ?", claimID).Take(&a).Error; err != nil {
			t.Fatal(err)
		}
		// Someone else's association is not hers to decline.
		other := f.claimIn(workflow.Approved, "not-northwind")
		var oa models.Association
		if err := f.w.DB.Where("claim_id = ?", other).Take(&oa).Error; err != nil {
			t.Fatal(err)
		}
		_, err := f.w.Workflow.DeclineAssociation(chloe, oa.ID, "Not ours.")
		expectError(t, err, apperr.NotFound, "associationId")
		for _, h := range []string{"ada", "rita", "oscar", "carl"} {
			_, err := f.w.Workflow.DeclineAssociation(testkit.As(h), a.ID, "")
			expectError(t, err, apperr.Forbidden, "")
		}
		_, err = f.w.Workflow.DeclineAssociation(ctxOf(anonymous), a.ID, "")
		expectError(t, err, apperr.Unauthenticated, "")

		before := f.claim(claimID)
		got, err := f.w.Workflow.DeclineAssociation(chloe, a.ID, "  We no longer work with this partner. ")
		if err != nil {
			t.Fatalf("decline: %v", err)
		}
		if got.Active() || got.EndReason == nil || *got.EndReason != models.EndCustomerDecline || got.ID != a.ID {
			t.Fatalf("declined association: %+v", got)
		}
		if n := len(f.activeAssociations(a.CustomerTenantID, a.ProductID, a.Activity)); n != 0 {
			t.Errorf("%d active associations after the decline", n)
		}
		c := f.claim(claimID)
		if c.Status != models.Approved || c.Version != before.Version {
			t.Errorf("the claim changed: %s v%d; its history records the decline instead", c.Status, c.Version)
		}
		var ended []models.ClaimEvent
		for _, e := range f.events(claimID) {
			if e.Type == models.EventAssociationEnded {
				ended = append(ended, e)
			}
		}
		if len(ended) != 1 || ended[0].Reason != string(models.EndCustomerDecline)+": We no longer work with this partner." ||
			ended[0].ActorID != "chloe@northwind.example" || ended[0].ActorKind != models.ActorCustomer {
			t.Errorf("ASSOCIATION_ENDED events: %+v", ended)
		}
		found := false
		for _, cm := range f.comments(claimID, models.CommentSystem) {
			found = found || strings.Contains(cm.Body, "We no longer work with this partner.")
		}
		if !found {
			t.Errorf("no system comment tells the partner of the decline and its reason")
		}
		// Once ended, it cannot be declined again.
		_, err = f.w.Workflow.DeclineAssociation(chloe, a.ID, "")
		expectError(t, err, apperr.AssociationNotActive, "associationId")
		// The customer sees it, ended, among its tenant's associations.
		if _, err := f.w.Workflow.Association(chloe, a.ID); err != nil {
			t.Errorf("the customer cannot see the declined association: %v", err)
		}
		if _, err := f.w.Workflow.Association(chloe, oa.ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("the customer sees another tenant's association: %v", err)
		}
	})
}

// TestWhatCompetes: competition is another organisation's open claim, or
// active association, on the same customer, product or workload, and
// activity; nothing else sends a claim to arbitration.
func TestWhatCompetes(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		rita := testkit.As("rita")

		t.Run("another activity does not compete", func(t *testing.T) {
			f := f.at(t)
			s := f.fresh("other-activity")
			a := f.submitted("ada", s)
			fs := f.fabrikam(s)
			fs.activity = models.Presales
			f.submitted("fiona", fs)
			if got := f.reviewed(a); got != models.UnderReview {
				t.Errorf("claim with a competitor on another activity went to %s", got)
			}
			f.ok("approve")(f.w.Workflow.Approve(rita, req(a.ID)))
		})

		t.Run("drafts and decided claims do not compete", func(t *testing.T) {
			f := f.at(t)
			s := f.fresh("no-rivals")
			rejected := f.submitted("fiona", f.fabrikam(s))
			f.ok("reject")(f.w.Workflow.Reject(rita, withReason(rejected.ID, "No proof.")))
			f.create("fiona", f.fabrikam(s)) // a draft again
			a := f.submitted("ada", s)
			if got := f.reviewed(a); got != models.UnderReview {
				t.Errorf("claim went to %s; a draft or a rejected claim is no competition", got)
			}
			f.ok("approve")(f.w.Workflow.Approve(rita, req(a.ID)))
		})

		t.Run("an uncontested claim under review joins the case", func(t *testing.T) {
			f := f.at(t)
			s := f.fresh("joins-later")
			b := f.submitted("fiona", f.fabrikam(s))
			if got := f.reviewed(b); got != models.UnderReview {
				t.Fatalf("first claim went to %s", got)
			}
			a := f.submitted("ada", s)
			if got := f.reviewed(a); got != models.Arbitration {
				t.Fatalf("second claim went to %s; want ARBITRATION", got)
			}
			ca, cb := f.claim(a.ID), f.claim(b.ID)
			if cb.Status != models.Arbitration || cb.ArbitrationCaseID == nil || *cb.ArbitrationCaseID != *ca.ArbitrationCaseID {
				t.Fatalf("the claim already under review is %s in case %v; want it in case %s", cb.Status, cb.ArbitrationCaseID, *ca.ArbitrationCaseID)
			}
			evs := f.statusEvents(b.ID)
			if last := evs[len(evs)-1]; last.Event != string(workflow.Escalate) || last.ActorKind != models.ActorSystem || last.Version != cb.Version {
				t.Errorf("the joining claim's escalation: %+v", last)
			}
			if !f.hasArbitrationNotice(b.ID) || !f.hasArbitrationNotice(a.ID) {
				t.Errorf("arbitration notices missing")
			}
		})

		t.Run("Microsoft 365 claims compete per workload", func(t *testing.T) {
			f := f.at(t)
			m365 := func(handle string, code string) *models.Claim {
				s := f.woodgrove()
				s.area, s.product, s.sub = models.Microsoft365, ptr(f.product(code)), ""
				if handle == "fiona" {
					s = f.fabrikam(s)
				}
				return f.submitted(handle, s)
			}
			a, b := m365("ada", "TEAMS"), m365("fiona", "TEAMS")
			other := m365("fiona", "EXCHANGE")
			if got := f.reviewed(a); got != models.Arbitration {
				t.Errorf("Teams claim with a Teams competitor went to %s", got)
			}
			if got := f.reviewed(b); got != models.Arbitration {
				t.Errorf("competing Teams claim went to %s", got)
			}
			if got := f.reviewed(other); got != models.UnderReview {
				t.Errorf("Exchange claim went to %s; Teams claims do not compete with it", got)
			}
			if *f.claim(a.ID).ArbitrationCaseID != *f.claim(b.ID).ArbitrationCaseID {
				t.Errorf("the Teams claims are in different cases")
			}
		})

		t.Run("a partner outside the case cannot see it", func(t *testing.T) {
			f := f.at(t)
			caseID := f.tailspinCase()
			outsider := testkit.Identity("ada")
			outsider.OrganizationID, outsider.UserID = uuid.New(), "eve@elsewhere.example"
			_, err := f.w.Workflow.Case(testkit.AsIdentity(outsider), caseID)
			expectError(t, err, apperr.NotFound, "caseId")
			cs := f.arbitrationCase(caseID)
			list, err := f.w.Workflow.CaseClaims(testkit.AsIdentity(outsider), &cs)
			if err != nil || len(list) != 0 {
				t.Errorf("an outsider sees %d claims of the case (%v)", len(list), err)
			}
		})
	})
}

// reviewed starts the claim's review and returns where it went.
func (f *fx) reviewed(c *models.Claim) models.ClaimStatus {
	f.t.Helper()
	return f.ok("start review")(f.w.Workflow.StartReview(testkit.As("rita"), req(c.ID))).Status
}

// fabrikam turns a Contoso form into Fabrikam's.
func (f *fx) fabrikam(s spec) spec {
	s.mpn = ptr(f.mpn(5000001))
	s.partner = &claims.ContactInput{Name: "Sam Partner", Email: "sam@fabrikam.example"}
	return s
}

// TestNewSubscriptionSupersedesOwnAssociation: an organisation's approved
// claim on a new subscription of the same product supersedes its earlier
// association; the earlier claim keeps its history.
func TestNewSubscriptionSupersedesOwnAssociation(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		rita := testkit.As("rita")
		sales := f.product("D365_SALES")
		var old models.Association
		if err := f.w.DB.Where("customer_tenant_id = ? AND product_id = ? AND activity = ? AND ended_at IS NULL",
			demo.Northwind, sales, models.Presales).Take(&old).Error; err != nil {
			t.Fatal(err)
		}
		renewal := uuid.MustParse("5a1e0000-0000-4000-8000-0000000000a1")
		f.upsertSub(demo.SubActive.String(), func(in *catalog.SubscriptionInput) {
			in.ID, in.OrderID = renewal, nil
		})
		s := f.woodgrove()
		s.tenant, s.domain, s.activity, s.sub = demo.Northwind.String(), "northwindtraders.com", models.Presales, renewal.String()
		c := f.submitted("ada", s)
		if got := f.ok("start review")(f.w.Workflow.StartReview(rita, req(c.ID))).Status; got != models.UnderReview {
			t.Fatalf("the organisation's own association sent its claim to %s", got)
		}
		f.ok("approve")(f.w.Workflow.Approve(rita, req(c.ID)))
		active := f.activeAssociations(demo.Northwind, sales, models.Presales)
		if len(active) != 1 || active[0].ClaimID != c.ID || *active[0].SubscriptionID != renewal {
			t.Fatalf("active associations: %+v; want the renewal's only", active)
		}
		var ended models.Association
		if err := f.w.DB.Where("id = ?", old.ID).Take(&ended).Error; err != nil {
			t.Fatal(err)
		}
		if ended.Active() || *ended.EndReason != models.EndSuperseded {
			t.Errorf("earlier association: %+v; want ended as SUPERSEDED", ended)
		}
		if got := f.claim(old.ClaimID).Status; got != models.Approved {
			t.Errorf("the earlier claim is %s; its history stays", got)
		}
	})
}
