package workflow_test

// Every error code of docs/product.md §4, produced through the domain services
// (no HTTP): the checks on draft save (claims.Service.Create and Update) and
// on submit (workflow.Service.Submit), and the access, state and concurrency
// failures of every other call. Each case asserts the code, the field and a
// message, and that the refused call changed nothing.
//
// This file also holds the fixture (fx) that machine_test.go and
// arbitration_test.go share.

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/auth"
	"cpor/catalog"
	"cpor/claims"
	"cpor/demo"
	"cpor/models"
	"cpor/relay"
	"cpor/scheduler"
	"cpor/storage"
	"cpor/storage/storagetest"
	"cpor/testkit"
	"cpor/workflow"
)

// ---------------------------------------------------------------- fixture

// fx is a seeded world with the shortcuts these tests share. Its t is the
// test that uses it: a subtest takes its own copy with at.
type fx struct {
	t *testing.T
	w *testkit.World
}

// onEachDialect runs fn on a freshly seeded world of every dialect.
func onEachDialect(t *testing.T, fn func(t *testing.T, f *fx)) {
	for _, d := range storagetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			fn(t, &fx{t: t, w: testkit.New(t, d)})
		})
	}
}

// at returns the fixture for the subtest t.
func (f *fx) at(t *testing.T) *fx { c := *f; c.t = t; return &c }

// customerOfClaim is the "handle" of an admin of the claim's own customer
// tenant (the demo's chloe administers Northwind only).
const customerOfClaim = "(customer of the claim)"

// anonymous is the "handle" of a caller without identity.
const anonymous = "(anonymous)"

// ctx returns the demo user's context, or one without identity.
func ctxOf(handle string) context.Context {
	if handle == anonymous {
		return context.Background()
	}
	return testkit.As(handle)
}

func (f *fx) product(code string) uuid.UUID { return testkit.ProductID(f.t, f.w, code) }

// mpn finds an MPN by its partner location ID.
func (f *fx) mpn(partnerLocationID int64) uuid.UUID {
	f.t.Helper()
	var m models.Mpn
	if err := f.w.DB.Where("partner_location_id = ?", partnerLocationID).Take(&m).Error; err != nil {
		f.t.Fatalf("MPN %d: %v", partnerLocationID, err)
	}
	return m.ID
}

// spec is a claim form.
type spec struct {
	area     models.SolutionArea
	activity models.Activity
	tenant   string
	domain   string
	product  *uuid.UUID
	sub      string
	mpn      *uuid.UUID
	customer *claims.ContactInput
	partner  *claims.ContactInput
	notes    string
}

func ptr[T any](v T) *T { return &v }

// woodgrove is a valid Business Applications form on Woodgrove Bank's
// Dynamics 365 Sales subscription, which no demo claim touches.
func (f *fx) woodgrove() spec {
	return spec{
		area: models.BusinessApplications, activity: models.Usage,
		tenant: demo.Woodgrove.String(), domain: "woodgrovebank.com",
		product: ptr(f.product("D365_SALES")), sub: "5a1e0000-0000-4000-8000-000000000041",
		mpn:      ptr(f.mpn(4000001)),
		customer: &claims.ContactInput{Name: "Dana Customer", Title: "CIO", Email: "dana@woodgrovebank.com"},
		partner:  &claims.ContactInput{Name: "Sam Partner", Email: "sam@contoso.example"},
	}
}

// fresh creates a new customer tenant named name (domain
// name.onmicrosoft.com) with an active Dynamics 365 Sales subscription and
// returns a valid Contoso form for it.
func (f *fx) fresh(name string) spec {
	f.t.Helper()
	tenant, sub := testkit.FreshTarget(f.t, f.w, name)
	s := f.woodgrove()
	s.tenant, s.domain, s.sub = tenant.String(), name+".onmicrosoft.com", sub.String()
	s.customer = &claims.ContactInput{Name: "Dana Customer", Title: "CIO", Email: "dana@" + s.domain}
	return s
}

// input turns a form into the service's input. On update a missing
// subscription is sent as "" (cleared), not as nil (unchanged).
func (s spec) input(forUpdate bool) claims.DraftInput {
	in := claims.DraftInput{
		CustomerTenantID: ptr(s.tenant), CustomerDomain: ptr(s.domain),
		ProductID: s.product, MpnID: s.mpn, CustomerContact: s.customer, PartnerContact: s.partner,
	}
	if s.area != "" {
		in.SolutionArea = ptr(s.area)
	}
	if s.activity != "" {
		in.Activity = ptr(s.activity)
	}
	if s.sub != "" || forUpdate {
		in.SubscriptionID = ptr(s.sub)
	}
	if s.notes != "" {
		in.Notes = ptr(s.notes)
	}
	return in
}

// create saves a draft as the user, failing the test on error.
func (f *fx) create(handle string, s spec) *models.Claim {
	f.t.Helper()
	c, err := f.w.Claims.Create(testkit.As(handle), s.input(false))
	if err != nil {
		f.t.Fatalf("create draft as %s: %v", handle, err)
	}
	return c
}

// attach adds a PDF proof of execution as the user.
func (f *fx) attach(handle string, id uuid.UUID) *models.Document {
	f.t.Helper()
	d, err := f.w.Claims.Attach(testkit.As(handle), id, claims.Upload{FileName: "proof.pdf", Content: bytes.NewReader(testkit.PDF)})
	if err != nil {
		f.t.Fatalf("attach as %s: %v", handle, err)
	}
	return d.Document
}

// submitted creates, proves and submits a claim as the user.
func (f *fx) submitted(handle string, s spec) *models.Claim {
	f.t.Helper()
	c := f.create(handle, s)
	f.attach(handle, c.ID)
	out, err := f.w.Workflow.Submit(testkit.As(handle), workflow.Request{ClaimID: c.ID})
	if err != nil {
		f.t.Fatalf("submit as %s: %v", handle, err)
	}
	return out
}

// ok returns a check that fails the test unless the transition succeeded:
// f.ok("submit")(f.w.Workflow.Submit(ctx, req)).
func (f *fx) ok(what string) func(*models.Claim, error) *models.Claim {
	return func(c *models.Claim, err error) *models.Claim {
		f.t.Helper()
		if err != nil {
			f.t.Fatalf("%s: %v", what, err)
		}
		return c
	}
}

// claimIn returns a Contoso claim, on a fresh target named name, in the
// state: a draft with proof, or one moved there by the usual events.
func (f *fx) claimIn(state workflow.State, name string) uuid.UUID {
	f.t.Helper()
	c := f.create("ada", f.fresh(name))
	f.attach("ada", c.ID)
	steps := map[workflow.State][]workflow.Event{
		workflow.Submitted:            {workflow.Submit},
		workflow.UnderReview:          {workflow.Submit, workflow.StartReview},
		workflow.WaitingInReview:      {workflow.Submit, workflow.StartReview, workflow.RequestInformation},
		workflow.Arbitration:          {workflow.Submit, workflow.StartReview, workflow.Escalate},
		workflow.WaitingInArbitration: {workflow.Submit, workflow.StartReview, workflow.Escalate, workflow.RequestInformation},
		workflow.Approved:             {workflow.Submit, workflow.StartReview, workflow.Approve},
		workflow.Rejected:             {workflow.Submit, workflow.Reject},
		workflow.Withdrawn:            {workflow.Submit, workflow.Withdraw},
	}
	reasons := map[workflow.Event]string{
		workflow.RequestInformation: "Send the signed statement of work.",
		workflow.Reject:             "Not enough proof.",
	}
	for _, ev := range steps[state] {
		step := fire(handleFor(ev), ev, func(_ *fx, id uuid.UUID) workflow.Request { return withReason(id, reasons[ev]) })
		if err := step(f, c.ID); err != nil {
			f.t.Fatalf("claimIn(%s): %s: %v", state, ev, err)
		}
	}
	if state == workflow.Expired {
		f.due(workflow.JobExpire, c.ID, f.w.Clock.Now().Add(31*24*time.Hour))
	}
	cl := f.claim(c.ID)
	if got := workflow.StateOf(&cl); got != state {
		f.t.Fatalf("claimIn(%s) made a %s claim", state, got)
	}
	return c.ID
}

// due runs the workflow's due work of the kind on one claim as the
// scheduler would at the moment at, without moving the world's clock, and
// returns what became of it.
func (f *fx) due(kind string, id uuid.UUID, at time.Time) scheduler.Outcome {
	f.t.Helper()
	var out scheduler.Outcome
	err := storage.InTx(context.Background(), f.w.DB, func(tx *storage.Tx) error {
		var err error
		out, err = f.w.Workflow.DueWork()[kind](context.Background(), tx, scheduler.Job{Kind: kind, Subject: id}, at)
		return err
	})
	if err != nil {
		f.t.Fatalf("%s on %s: %v", kind, id, err)
	}
	return out
}

// lapsed is a claim whose information request went unanswered past its
// deadline, rejected by the scheduler's lapse.
func lapsed(f *fx) uuid.UUID {
	id := f.claimIn(workflow.WaitingInReview, "lapsed")
	f.due(workflow.JobLapse, id, f.claim(id).ResponseDueAt.Add(time.Minute))
	return id
}

// endedAssociation is an approved claim whose association its partner ended.
func endedAssociation(f *fx) uuid.UUID {
	id := f.claimIn(workflow.Approved, "ended-association")
	if _, err := f.w.Workflow.EndAssociation(testkit.As("ada"), f.associationOf(id).ID, "The customer moved to another partner."); err != nil {
		f.t.Fatalf("end association: %v", err)
	}
	return id
}

// oldProof is a draft whose only proof was executed 13 months ago.
func oldProof(f *fx) uuid.UUID {
	c := f.create("ada", f.fresh("old-proof"))
	old := models.DateOf(time.Now().AddDate(0, -13, 0))
	if _, err := f.w.Claims.Attach(testkit.As("ada"), c.ID, claims.Upload{FileName: "proof.pdf",
		Content: bytes.NewReader(testkit.PDF), ExecutedOn: &old}); err != nil {
		f.t.Fatalf("attach old proof: %v", err)
	}
	return c.ID
}

// associationOf is the association the claim's approval created.
func (f *fx) associationOf(claimID uuid.UUID) models.Association {
	f.t.Helper()
	var a models.Association
	if err := f.w.DB.Where("claim_id = ?", claimID).Take(&a).Error; err != nil {
		f.t.Fatalf("association of %s: %v", claimID, err)
	}
	return a
}

// claim reads a claim's row directly.
func (f *fx) claim(id uuid.UUID) models.Claim {
	f.t.Helper()
	var c models.Claim
	if err := f.w.DB.Where("id = ?", id).Take(&c).Error; err != nil {
		f.t.Fatalf("load claim %s: %v", id, err)
	}
	return c
}

// demoClaim finds the demo claim of the organisation in the state.
func (f *fx) demoClaim(org uuid.UUID, status models.ClaimStatus) uuid.UUID {
	f.t.Helper()
	var c models.Claim
	if err := f.w.DB.Where("organization_id = ? AND status = ?", org, status).Order("created_at").Take(&c).Error; err != nil {
		f.t.Fatalf("demo claim %s %s: %v", org, status, err)
	}
	return c.ID
}

// events is a claim's history, in order.
func (f *fx) events(id uuid.UUID) []models.ClaimEvent {
	f.t.Helper()
	var evs []models.ClaimEvent
	if err := f.w.DB.Where("claim_id = ?", id).Order("seq").Find(&evs).Error; err != nil {
		f.t.Fatal(err)
	}
	return evs
}

// statusEvents are a claim's STATUS_CHANGED events, in order.
func (f *fx) statusEvents(id uuid.UUID) []models.ClaimEvent {
	var out []models.ClaimEvent
	for _, e := range f.events(id) {
		if e.Type == models.EventStatusChanged {
			out = append(out, e)
		}
	}
	return out
}

// comments are a claim's comments of the kind.
func (f *fx) comments(id uuid.UUID, kind models.CommentKind) []models.Comment {
	f.t.Helper()
	var out []models.Comment
	if err := f.w.DB.Where("claim_id = ? AND kind = ?", id, kind).Order("created_at, id").Find(&out).Error; err != nil {
		f.t.Fatal(err)
	}
	return out
}

// count counts the model's rows matching the condition (all when empty).
func (f *fx) count(model any, where string, args ...any) int64 {
	f.t.Helper()
	q := f.w.DB.Model(model)
	if where != "" {
		q = q.Where(where, args...)
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		f.t.Fatal(err)
	}
	return n
}

// snapshot is everything a refused call must leave as it was: the claim's
// row (as JSON, for a readable diff) and how many rows hang off it.
type snapshot struct {
	row                          string
	events, comments, docs, asso int64
}

func (f *fx) snap(id uuid.UUID) snapshot {
	f.t.Helper()
	if id == uuid.Nil {
		return snapshot{}
	}
	c := f.claim(id)
	b, err := json.Marshal(c)
	if err != nil {
		f.t.Fatal(err)
	}
	return snapshot{
		row:      string(b),
		events:   f.count(&models.ClaimEvent{}, "claim_id = ?", id),
		comments: f.count(&models.Comment{}, "claim_id = ?", id),
		docs:     f.count(&models.Document{}, "claim_id = ?", id),
		asso:     f.count(&models.Association{}, "claim_id = ?", id),
	}
}

// unchanged fails the test if the claim differs from the snapshot.
func (f *fx) unchanged(id uuid.UUID, before snapshot) {
	f.t.Helper()
	if id == uuid.Nil {
		return
	}
	after := f.snap(id)
	if after.row != before.row {
		f.t.Errorf("refused call changed the claim:\nbefore %s\nafter  %s", before.row, after.row)
	}
	if after != before {
		f.t.Errorf("refused call changed rows of the claim: before %+v, after %+v", before, after)
	}
}

// expectError asserts that err carries code on field with a message, and
// that every other error it carries has one of the codes in also (or code).
func expectError(t *testing.T, err error, code apperr.Code, field string, also ...apperr.Code) *apperr.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error; want %s on %q", code, field)
	}
	list, ok := apperr.All(err)
	if !ok || len(list) == 0 {
		t.Fatalf("got uncoded error %v; want %s on %q", err, code, field)
	}
	var found *apperr.Error
	for _, e := range list {
		if e.Code == code && e.Field == field && found == nil {
			found = e
		}
		if strings.TrimSpace(e.Message) == "" {
			t.Errorf("error %s on %q has no message", e.Code, e.Field)
		}
		if e.Code != code && !slices.Contains(also, e.Code) {
			t.Errorf("unexpected error %v (want %s on %q)", e, code, field)
		}
	}
	if found == nil {
		t.Fatalf("got %v; want %s on %q", err, code, field)
	}
	return found
}

// ---------------------------------------------------------------- draft save

// draftCase is a claim form the draft checks refuse.
type draftCase struct {
	name  string
	code  apperr.Code
	field string
	also  []apperr.Code
	as    string // the caller; ada when empty
	edit  func(f *fx, s *spec)
	// update: an existing draft changed to this form is refused the same way.
	update bool
}

func draftCases() []draftCase {
	northwind := func(s *spec) {
		s.tenant, s.domain = demo.Northwind.String(), "northwindtraders.com"
	}
	return []draftCase{
		{name: "domain of another tenant", code: apperr.DomainTenantMismatch, field: "customerDomain", update: true,
			edit: func(f *fx, s *spec) { s.domain = "northwindtraders.com" }},
		{name: "unknown tenant", code: apperr.TenantNotFound, field: "customerTenantId", update: true,
			edit: func(f *fx, s *spec) { s.tenant, s.sub = "0f0e0d0c-0b0a-4000-8000-123456789abc", "" }},
		{name: "subscription ID not a GUID", code: apperr.InvalidSubscriptionID, field: "subscriptionId", update: true,
			edit: func(f *fx, s *spec) { s.sub = "SUB-12345" }},
		{name: "subscription ID is a tenant ID", code: apperr.InvalidSubscriptionID, field: "subscriptionId", update: true,
			edit: func(f *fx, s *spec) { s.sub = demo.Woodgrove.String() }},
		{name: "subscription ID is an order ID", code: apperr.InvalidSubscriptionID, field: "subscriptionId", update: true,
			edit: func(f *fx, s *spec) { northwind(s); s.sub = demo.OrderOfSubActive.String() }},
		{name: "subscription of another tenant", code: apperr.SubscriptionNotFoundOnTenant, field: "subscriptionId", update: true,
			edit: func(f *fx, s *spec) { s.sub = demo.SubActive.String() }},
		{name: "unknown subscription", code: apperr.SubscriptionNotFoundOnTenant, field: "subscriptionId", update: true,
			edit: func(f *fx, s *spec) { s.sub = "5a1e0000-0000-4000-8000-0000000009ff" }},
		{name: "Dynamics product not on tenant", code: apperr.ProductNotOnTenant, field: "productId", update: true,
			edit: func(f *fx, s *spec) { s.product, s.sub = ptr(f.product("D365_FINANCE")), "" }},
		{name: "workload not on tenant", code: apperr.ProductNotOnTenant, field: "productId", update: true,
			edit: func(f *fx, s *spec) {
				s.area, s.tenant, s.domain = models.Microsoft365, demo.Wingtip.String(), "wingtiptoys.com"
				s.product, s.sub = ptr(f.product("TEAMS")), ""
			}},
		{name: "subscription not for Dynamics", code: apperr.SubscriptionNotDynamics, field: "subscriptionId", update: true,
			edit: func(f *fx, s *spec) { northwind(s); s.product, s.sub = nil, demo.SubNotDynamics.String() }},
		{name: "CSP subscription", code: apperr.SubscriptionIsCSP, field: "subscriptionId", update: true,
			edit: func(f *fx, s *spec) {
				northwind(s)
				s.product, s.sub = ptr(f.product("D365_BUSINESS_CENTRAL")), demo.SubCSP.String()
			}},
		{name: "subscription not provisioned", code: apperr.SubscriptionNotProvisioned, field: "subscriptionId", update: true,
			edit: func(f *fx, s *spec) {
				northwind(s)
				s.product, s.sub = ptr(f.product("D365_FINANCE")), demo.SubNotProvisioned.String()
			}},
		{name: "expired subscription", code: apperr.SubscriptionNotActive, field: "subscriptionId", update: true,
			edit: func(f *fx, s *spec) {
				northwind(s)
				s.product, s.sub = ptr(f.product("D365_FIELD_SERVICE")), demo.SubExpired.String()
			}},
		{name: "subscription already claimed by the organisation", code: apperr.SubscriptionAlreadyClaimed, field: "subscriptionId", update: true,
			edit: func(f *fx, s *spec) { northwind(s); s.activity, s.sub = models.Presales, demo.SubActive.String() }},
		{name: "already claimed, seen by another admin of the organisation", code: apperr.SubscriptionAlreadyClaimed, field: "subscriptionId", as: "ben",
			edit: func(f *fx, s *spec) { northwind(s); s.activity, s.sub = models.Presales, demo.SubActive.String() }},
		{name: "Microsoft 365 pre-sales", code: apperr.ActivityNotAllowed, field: "activity", update: true,
			edit: func(f *fx, s *spec) {
				s.area, s.activity, s.product, s.sub = models.Microsoft365, models.Presales, ptr(f.product("TEAMS")), ""
			}},
		{name: "Microsoft 365 revenue association", code: apperr.ActivityNotAllowed, field: "activity",
			edit: func(f *fx, s *spec) {
				s.area, s.activity, s.product, s.sub = models.Microsoft365, models.RevenueAssociation, ptr(f.product("TEAMS")), ""
			}},
		{name: "MPN not enrolled", code: apperr.MpnNotEnrolled, field: "mpnId", update: true,
			edit: func(f *fx, s *spec) { s.mpn = ptr(f.mpn(4000002)) }},
		{name: "MPN of another organisation", code: apperr.MpnNotFound, field: "mpnId", update: true,
			edit: func(f *fx, s *spec) { s.mpn = ptr(f.mpn(5000001)) }},
		{name: "unknown MPN", code: apperr.MpnNotFound, field: "mpnId", update: true,
			edit: func(f *fx, s *spec) { s.mpn = ptr(uuid.New()) }},
		{name: "unknown product", code: apperr.NotFound, field: "productId", update: true,
			edit: func(f *fx, s *spec) { s.product = ptr(uuid.New()) }},
		{name: "bad customer e-mail", code: apperr.InvalidInput, field: "customerContact.email", update: true,
			edit: func(f *fx, s *spec) {
				s.customer = &claims.ContactInput{Name: "Dana", Title: "CIO", Email: "dana(at)woodgrovebank.com"}
			}},
		{name: "bad partner e-mail", code: apperr.InvalidInput, field: "partnerContact.email", update: true,
			edit: func(f *fx, s *spec) {
				s.partner = &claims.ContactInput{Name: "Sam", Email: "Sam <sam@contoso.example>"}
			}},
		{name: "tenant ID not a GUID", code: apperr.InvalidInput, field: "customerTenantId", update: true,
			edit: func(f *fx, s *spec) { s.tenant = "woodgrovebank.com" }},
		{name: "domain not a domain name", code: apperr.InvalidInput, field: "customerDomain", update: true,
			edit: func(f *fx, s *spec) { s.domain = "woodgrove bank" }},
		{name: "unknown activity", code: apperr.InvalidInput, field: "activity", update: true,
			edit: func(f *fx, s *spec) { s.activity = "CONSULTING" }},
		{name: "unknown solution area", code: apperr.InvalidInput, field: "solutionArea", update: true,
			edit: func(f *fx, s *spec) { s.area = "AZURE" }},
		{name: "missing solution area", code: apperr.InvalidInput, field: "solutionArea",
			edit: func(f *fx, s *spec) { s.area = "" }},
		{name: "missing activity", code: apperr.InvalidInput, field: "activity",
			edit: func(f *fx, s *spec) { s.activity = "" }},
		{name: "Microsoft 365 claim naming a subscription", code: apperr.InvalidInput, field: "subscriptionId", update: true,
			edit: func(f *fx, s *spec) { s.area, s.product = models.Microsoft365, ptr(f.product("TEAMS")) }},
		{name: "subscription of another product", code: apperr.InvalidInput, field: "subscriptionId", update: true,
			edit: func(f *fx, s *spec) { northwind(s); s.sub = demo.SubInGrace.String() }},
		{name: "Microsoft 365 product as a Dynamics product", code: apperr.InvalidInput, field: "productId", update: true,
			edit: func(f *fx, s *spec) { s.product, s.sub = ptr(f.product("TEAMS")), "" }},
		{name: "notes too long", code: apperr.InvalidInput, field: "notes", update: true,
			edit: func(f *fx, s *spec) { s.notes = strings.Repeat("n", 4001) }},
		{name: "partner user without an admin role", code: apperr.Forbidden, field: "", as: "carl"},
		{name: "reviewer", code: apperr.Forbidden, field: "", as: "rita"},
		{name: "customer admin", code: apperr.Forbidden, field: "", as: "chloe"},
		{name: "operator", code: apperr.Forbidden, field: "", as: "oscar"},
		{name: "no identity", code: apperr.Unauthenticated, field: "", as: anonymous},
	}
}

// TestDraftSaveRefusals: every check a draft's data allows runs when the
// draft is created and when it is updated; a refused draft saves nothing.
func TestDraftSaveRefusals(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		// The base form is valid: each case's error comes from its edit.
		base := f.create("ada", f.woodgrove())
		if base.Status != models.Draft || base.Version != 1 {
			t.Fatalf("new draft is %s v%d", base.Status, base.Version)
		}
		for _, c := range draftCases() {
			t.Run("create/"+c.name, func(t *testing.T) {
				f := f.at(t)
				s := f.woodgrove()
				if c.edit != nil {
					c.edit(f, &s)
				}
				as := c.as
				if as == "" {
					as = "ada"
				}
				claimsBefore, eventsBefore := f.count(&models.Claim{}, ""), f.count(&models.ClaimEvent{}, "")
				got, err := f.w.Claims.Create(ctxOf(as), s.input(false))
				expectError(t, err, c.code, c.field, c.also...)
				if got != nil {
					t.Errorf("refused create returned a claim: %+v", got)
				}
				if n := f.count(&models.Claim{}, ""); n != claimsBefore {
					t.Errorf("refused draft saved a claim: %d claims before, %d after", claimsBefore, n)
				}
				if n := f.count(&models.ClaimEvent{}, ""); n != eventsBefore {
					t.Errorf("refused draft wrote events: %d before, %d after", eventsBefore, n)
				}
			})
			if !c.update {
				continue
			}
			t.Run("update/"+c.name, func(t *testing.T) {
				f := f.at(t)
				s := f.woodgrove()
				c.edit(f, &s)
				before := f.snap(base.ID)
				_, err := f.w.Claims.Update(testkit.As("ada"), base.ID, ptr(base.Version), s.input(true))
				expectError(t, err, c.code, c.field, c.also...)
				f.unchanged(base.ID, before)
			})
		}
		// The base draft still updates: the refusals left it as it was.
		if _, err := f.w.Claims.Update(testkit.As("ada"), base.ID, ptr(base.Version), f.woodgrove().input(true)); err != nil {
			t.Fatalf("update of the base draft: %v", err)
		}
	})
}

// ---------------------------------------------------------------- submit

// submitCase is a draft that was valid when saved and that submit refuses,
// because the catalog changed since or because it is incomplete.
type submitCase struct {
	name  string
	code  apperr.Code
	field string
	also  []apperr.Code
	// prepare saves the draft (named slug on a fresh target), then changes
	// the world; it returns the draft to submit.
	prepare func(f *fx, slug string) uuid.UUID
}

// upsertSub changes a subscription as the operator.
func (f *fx) upsertSub(id string, edit func(in *catalog.SubscriptionInput)) {
	f.t.Helper()
	var s models.Subscription
	if err := f.w.DB.Where("id = ?", id).Take(&s).Error; err != nil {
		f.t.Fatal(err)
	}
	in := catalog.SubscriptionInput{ID: s.ID, TenantID: s.TenantID, ProductID: s.ProductID, OrderID: s.OrderID,
		Channel: s.Channel, ProvisioningState: s.ProvisioningState, Status: s.Status, StartsAt: s.StartsAt, EndsAt: s.EndsAt}
	edit(&in)
	if _, err := f.w.Catalog.UpsertSubscription(testkit.As("oscar"), in); err != nil {
		f.t.Fatalf("upsert subscription: %v", err)
	}
}

// newMpn inserts an enrolled MPN of Contoso, as partner onboarding would.
func (f *fx) newMpn(partnerLocationID int64) uuid.UUID {
	f.t.Helper()
	now := time.Now().UTC()
	m := models.Mpn{ID: uuid.New(), OrganizationID: demo.Contoso, PartnerLocationID: partnerLocationID,
		Name: "Contoso Partners test", EnrolledAt: &now, EnrolledBy: "ada@contoso.example", CreatedAt: now}
	if err := f.w.DB.Create(&m).Error; err != nil {
		f.t.Fatal(err)
	}
	return m.ID
}

func (f *fx) exec(sql string, args ...any) {
	f.t.Helper()
	if err := f.w.DB.Exec(sql, args...).Error; err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

func submitCases() []submitCase {
	// proven saves the fresh target's draft (edited) with a proof.
	proven := func(f *fx, slug string, edit func(s *spec)) (uuid.UUID, spec) {
		s := f.fresh(slug)
		if edit != nil {
			edit(&s)
		}
		c := f.create("ada", s)
		f.attach("ada", c.ID)
		return c.ID, s
	}
	subChange := func(edit func(in *catalog.SubscriptionInput)) func(f *fx, slug string) uuid.UUID {
		return func(f *fx, slug string) uuid.UUID {
			id, s := proven(f, slug, nil)
			f.upsertSub(s.sub, edit)
			return id
		}
	}
	return []submitCase{
		{name: "domain removed from the tenant", code: apperr.DomainTenantMismatch, field: "customerDomain",
			prepare: func(f *fx, slug string) uuid.UUID {
				id, s := proven(f, slug, func(s *spec) {})
				tenant := uuid.MustParse(s.tenant)
				custom := slug + ".example"
				ops := testkit.As("oscar")
				if _, err := f.w.Catalog.UpsertTenant(ops, catalog.TenantInput{TenantID: tenant, DisplayName: slug,
					Domains: []string{s.domain, custom}}); err != nil {
					f.t.Fatal(err)
				}
				if _, err := f.w.Claims.Update(testkit.As("ada"), id, nil, claims.DraftInput{CustomerDomain: &custom}); err != nil {
					f.t.Fatalf("claim the custom domain: %v", err)
				}
				if _, err := f.w.Catalog.UpsertTenant(ops, catalog.TenantInput{TenantID: tenant, DisplayName: slug,
					Domains: []string{s.domain}}); err != nil {
					f.t.Fatal(err)
				}
				return id
			}},
		{name: "subscription moved to another tenant", code: apperr.SubscriptionNotFoundOnTenant, field: "subscriptionId",
			also: []apperr.Code{apperr.ProductNotOnTenant},
			prepare: func(f *fx, slug string) uuid.UUID {
				id, s := proven(f, slug, nil)
				other, _ := testkit.FreshTarget(f.t, f.w, slug+"-other")
				f.upsertSub(s.sub, func(in *catalog.SubscriptionInput) { in.TenantID = other })
				return id
			}},
		{name: "workload no longer on the tenant", code: apperr.ProductNotOnTenant, field: "productId",
			prepare: func(f *fx, slug string) uuid.UUID {
				tenant, teams, ops := uuid.New(), f.product("TEAMS"), testkit.As("oscar")
				in := catalog.TenantInput{TenantID: tenant, DisplayName: slug, Domains: []string{slug + ".onmicrosoft.com"},
					WorkloadIDs: []uuid.UUID{teams}}
				if _, err := f.w.Catalog.UpsertTenant(ops, in); err != nil {
					f.t.Fatal(err)
				}
				s := f.woodgrove()
				s.area, s.tenant, s.domain, s.product, s.sub = models.Microsoft365, tenant.String(), slug+".onmicrosoft.com", &teams, ""
				c := f.create("ada", s)
				f.attach("ada", c.ID)
				in.WorkloadIDs = []uuid.UUID{}
				if _, err := f.w.Catalog.UpsertTenant(ops, in); err != nil {
					f.t.Fatal(err)
				}
				return c.ID
			}},
		{name: "subscription now for a non-Dynamics product", code: apperr.SubscriptionNotDynamics, field: "subscriptionId",
			also: []apperr.Code{apperr.ProductNotOnTenant},
			prepare: func(f *fx, slug string) uuid.UUID {
				m365 := f.product("M365_E3")
				return subChange(func(in *catalog.SubscriptionInput) { in.ProductID = m365 })(f, slug)
			}},
		{name: "subscription now bought through CSP", code: apperr.SubscriptionIsCSP, field: "subscriptionId",
			prepare: subChange(func(in *catalog.SubscriptionInput) { in.Channel = models.CSP })},
		{name: "subscription back to pending provisioning", code: apperr.SubscriptionNotProvisioned, field: "subscriptionId",
			prepare: subChange(func(in *catalog.SubscriptionInput) { in.ProvisioningState = models.ProvisioningPending })},
		{name: "subscription expired", code: apperr.SubscriptionNotActive, field: "subscriptionId",
			prepare: subChange(func(in *catalog.SubscriptionInput) {
				in.Status, in.EndsAt = models.SubscriptionExpired, ptr(time.Now().UTC())
			})},
		{name: "subscription suspended", code: apperr.SubscriptionNotActive, field: "subscriptionId",
			prepare: subChange(func(in *catalog.SubscriptionInput) { in.Status = models.SubscriptionSuspended })},
		{name: "another draft of the organisation was submitted first", code: apperr.SubscriptionAlreadyClaimed, field: "subscriptionId",
			prepare: func(f *fx, slug string) uuid.UUID {
				first, s := proven(f, slug, nil)
				second := f.create("ben", s) // drafts do not hold a subscription
				f.attach("ben", second.ID)
				f.ok("submit the first")(f.w.Workflow.Submit(testkit.As("ada"), workflow.Request{ClaimID: first}))
				return second.ID
			}},
		{name: "MPN no longer enrolled", code: apperr.MpnNotEnrolled, field: "mpnId",
			prepare: func(f *fx, slug string) uuid.UUID {
				m := f.newMpn(4000101)
				id, _ := proven(f, slug, func(s *spec) { s.mpn = &m })
				f.exec("UPDATE mpns SET enrolled_at = NULL WHERE id = ?", m)
				return id
			}},
		{name: "MPN moved to another organisation", code: apperr.MpnNotFound, field: "mpnId",
			prepare: func(f *fx, slug string) uuid.UUID {
				m := f.newMpn(4000102)
				id, _ := proven(f, slug, func(s *spec) { s.mpn = &m })
				f.exec("UPDATE mpns SET organization_id = ? WHERE id = ?", demo.Fabrikam, m)
				return id
			}},
		{name: "no proof of execution", code: apperr.ProofOfExecutionRequired, field: "proofOfExecution",
			prepare: func(f *fx, slug string) uuid.UUID { return f.create("ada", f.fresh(slug)).ID }},
		{name: "no customer contact", code: apperr.InvalidInput, field: "customerContact.email",
			prepare: func(f *fx, slug string) uuid.UUID {
				id, _ := proven(f, slug, func(s *spec) { s.customer = nil })
				return id
			}},
		{name: "no subscription on a Business Applications claim", code: apperr.InvalidInput, field: "subscriptionId",
			prepare: func(f *fx, slug string) uuid.UUID {
				id, _ := proven(f, slug, func(s *spec) { s.sub = "" })
				return id
			}},
		{name: "no MPN", code: apperr.InvalidInput, field: "mpnId",
			prepare: func(f *fx, slug string) uuid.UUID {
				id, _ := proven(f, slug, func(s *spec) { s.mpn = nil })
				return id
			}},
	}
}

// TestSubmitRefusals: submit runs every check again on the claim as it is
// now, and refuses an incomplete or unproven claim; a refused submit leaves
// the draft as it was, with no status change, comment or notification.
func TestSubmitRefusals(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		for i, c := range submitCases() {
			t.Run(c.name, func(t *testing.T) {
				f := f.at(t)
				id := c.prepare(f, "submit-"+string(rune('a'+i)))
				before := f.snap(id)
				got, err := f.w.Workflow.Submit(testkit.As("ada"), workflow.Request{ClaimID: id})
				expectError(t, err, c.code, c.field, c.also...)
				if got != nil {
					t.Errorf("refused submit returned a claim")
				}
				f.unchanged(id, before)
				if evs := f.statusEvents(id); len(evs) != 0 {
					t.Errorf("refused submit left status events: %+v", evs)
				}
			})
		}
	})
}

// ---------------------------------------------------------------- other calls

// actionCase is any other call that must fail.
type actionCase struct {
	name  string
	code  apperr.Code
	field string
	// target returns the claim the call concerns, which must not change
	// (uuid.Nil when there is none).
	target func(f *fx) uuid.UUID
	call   func(f *fx, id uuid.UUID) error
}

func req(id uuid.UUID) workflow.Request { return workflow.Request{ClaimID: id} }

func withReason(id uuid.UUID, reason string) workflow.Request {
	return workflow.Request{ClaimID: id, Reason: reason}
}

func atVersion(id uuid.UUID, v int) workflow.Request {
	return workflow.Request{ClaimID: id, ExpectedVersion: &v, Reason: "A reason."}
}

// fire returns a call of a transition as the user.
func fire(handle string, event workflow.Event, r func(f *fx, id uuid.UUID) workflow.Request) func(f *fx, id uuid.UUID) error {
	return func(f *fx, id uuid.UUID) error {
		wf, rq := f.w.Workflow, r(f, id)
		var ctx context.Context
		if handle == customerOfClaim {
			ctx = testkit.AsIdentity(auth.Identity{UserID: "cora@customer.example", Name: "Cora Customer",
				Roles: []auth.Role{auth.CustomerAdmin}, TenantID: f.claim(id).CustomerTenantID})
		} else {
			ctx = ctxOf(handle)
		}
		var err error
		switch event {
		case workflow.Submit:
			_, err = wf.Submit(ctx, rq)
		case workflow.StartReview:
			_, err = wf.StartReview(ctx, rq)
		case workflow.RequestInformation:
			_, err = wf.RequestInformation(ctx, rq)
		case workflow.Escalate:
			_, err = wf.Escalate(ctx, rq)
		case workflow.Approve:
			_, err = wf.Approve(ctx, rq)
		case workflow.Reject:
			_, err = wf.Reject(ctx, rq)
		case workflow.Respond:
			_, err = wf.Respond(ctx, rq)
		case workflow.Withdraw:
			_, err = wf.Withdraw(ctx, rq)
		case workflow.CustomerDecline:
			_, err = wf.CustomerDecline(ctx, rq)
		default:
			f.t.Fatalf("no event %s", event)
		}
		return err
	}
}

func plain(f *fx, id uuid.UUID) workflow.Request { return withReason(id, "A reason.") }

func noReason(f *fx, id uuid.UUID) workflow.Request { return req(id) }

// stale sends a version the claim is not at.
func stale(f *fx, id uuid.UUID) workflow.Request { return atVersion(id, f.claim(id).Version-1) }

func demoTarget(org uuid.UUID, status models.ClaimStatus) func(f *fx) uuid.UUID {
	return func(f *fx) uuid.UUID { return f.demoClaim(org, status) }
}

func noTarget(*fx) uuid.UUID { return uuid.Nil }

// tailspinCase is the demo's open arbitration case.
func (f *fx) tailspinCase() uuid.UUID {
	c := f.claim(f.demoClaim(demo.Contoso, models.Arbitration))
	return *c.ArbitrationCaseID
}

func actionCases() []actionCase {
	var (
		draft       = demoTarget(demo.Contoso, models.Draft)
		submitted   = demoTarget(demo.Contoso, models.Submitted)
		underReview = demoTarget(demo.Contoso, models.UnderReview)
		arbitrated  = demoTarget(demo.Contoso, models.Arbitration)
		approved    = demoTarget(demo.Contoso, models.Approved)
		rejected    = demoTarget(demo.Fabrikam, models.Rejected)
	)
	update := func(handle string, version func(f *fx, id uuid.UUID) *int) func(f *fx, id uuid.UUID) error {
		return func(f *fx, id uuid.UUID) error {
			_, err := f.w.Claims.Update(ctxOf(handle), id, version(f, id), claims.DraftInput{Notes: ptr("changed")})
			return err
		}
	}
	current := func(f *fx, id uuid.UUID) *int { return ptr(f.claim(id).Version) }
	attach := func(handle string) func(f *fx, id uuid.UUID) error {
		return func(f *fx, id uuid.UUID) error {
			_, err := f.w.Claims.Attach(ctxOf(handle), id, claims.Upload{FileName: "p.pdf", Content: bytes.NewReader(testkit.PDF)})
			return err
		}
	}
	comment := func(handle, body string) func(f *fx, id uuid.UUID) error {
		return func(f *fx, id uuid.UUID) error {
			_, err := f.w.Claims.AddComment(ctxOf(handle), id, body)
			return err
		}
	}
	get := func(handle string) func(f *fx, id uuid.UUID) error {
		return func(f *fx, id uuid.UUID) error {
			_, err := f.w.Claims.Get(ctxOf(handle), id)
			return err
		}
	}
	reclaim := func(handle string) func(f *fx, id uuid.UUID) error {
		return func(f *fx, id uuid.UUID) error {
			_, err := f.w.Claims.Reclaim(ctxOf(handle), id, ptr(models.Usage), nil)
			return err
		}
	}
	resolve := func(handle string, winner func(f *fx) uuid.UUID) func(f *fx, id uuid.UUID) error {
		return func(f *fx, id uuid.UUID) error {
			_, err := f.w.Workflow.ResolveArbitration(ctxOf(handle), f.tailspinCase(), winner(f), "Decided.")
			return err
		}
	}
	decline := func(handle string) func(f *fx, id uuid.UUID) error {
		return func(f *fx, id uuid.UUID) error {
			var a models.Association
			if err := f.w.DB.Where("claim_id = ?", id).Take(&a).Error; err != nil {
				f.t.Fatal(err)
			}
			_, err := f.w.Workflow.DeclineAssociation(ctxOf(handle), a.ID, "No.")
			return err
		}
	}
	list := func(handle string) func(f *fx, id uuid.UUID) error {
		return func(f *fx, id uuid.UUID) error {
			_, err := f.w.Claims.List(ctxOf(handle), claims.Filter{}, claims.Order{}, relay.Args{})
			return err
		}
	}
	unknown := func(*fx) uuid.UUID { return uuid.MustParse("c1a10000-0000-4000-8000-00000000dead") }
	const (
		it  = apperr.InvalidTransition
		sc  = apperr.StaleClaim
		fb  = apperr.Forbidden
		ua  = apperr.Unauthenticated
		nf  = apperr.NotFound
		inv = apperr.InvalidInput
	)
	return []actionCase{
		// The event does not apply in the claim's state.
		{"submit a submitted claim", it, "claimId", submitted, fire("ada", workflow.Submit, noReason)},
		{"submit an approved claim", it, "claimId", approved, fire("ada", workflow.Submit, noReason)},
		{"start review of a draft", it, "claimId", draft, fire("rita", workflow.StartReview, noReason)},
		{"start review of a claim in arbitration", it, "claimId", arbitrated, fire("rita", workflow.StartReview, noReason)},
		{"request information on a submitted claim", it, "claimId", submitted, fire("rita", workflow.RequestInformation, plain)},
		{"escalate a submitted claim", it, "claimId", submitted, fire("rita", workflow.Escalate, plain)},
		{"approve a draft", it, "claimId", draft, fire("rita", workflow.Approve, plain)},
		{"approve a submitted claim", it, "claimId", submitted, fire("rita", workflow.Approve, plain)},
		{"approve an approved claim", it, "claimId", approved, fire("rita", workflow.Approve, plain)},
		{"reject a draft", it, "claimId", draft, fire("rita", workflow.Reject, plain)},
		{"reject an approved claim", it, "claimId", approved, fire("rita", workflow.Reject, plain)},
		{"reject a rejected claim", it, "claimId", rejected, fire("rita", workflow.Reject, plain)},
		{"edit a submitted claim", it, "claimId", submitted, update("ada", current)},
		{"reclaim a draft", it, "claimId", draft, reclaim("ada")},
		{"attach proof to a rejected claim", it, "claimId", rejected, attach("fiona")},
		// The client read an older version.
		{"submit a stale draft", sc, "expectedVersion", draft, fire("ada", workflow.Submit, stale)},
		{"start review of a stale claim", sc, "expectedVersion", submitted, fire("rita", workflow.StartReview, stale)},
		{"approve a stale claim", sc, "expectedVersion", underReview, fire("rita", workflow.Approve, stale)},
		{"reject a stale claim", sc, "expectedVersion", underReview, fire("rita", workflow.Reject, stale)},
		{"request information on a stale claim", sc, "expectedVersion", underReview, fire("rita", workflow.RequestInformation, stale)},
		{"escalate a stale claim", sc, "expectedVersion", underReview, fire("rita", workflow.Escalate, stale)},
		{"edit a stale draft", sc, "expectedVersion", draft, update("ada", func(f *fx, id uuid.UUID) *int { return ptr(f.claim(id).Version + 1) })},
		// The caller's role may not do it.
		{"partner user without admin role edits", fb, "", draft, update("carl", current)},
		{"partner user without admin role submits", fb, "", draft, fire("carl", workflow.Submit, noReason)},
		{"partner user without admin role reads", fb, "", draft, get("carl")},
		{"partner user without admin role attaches", fb, "", draft, attach("carl")},
		{"partner user without admin role comments", fb, "", draft, comment("carl", "Hello.")},
		{"partner user without admin role lists", fb, "", noTarget, list("carl")},
		{"partner user without admin role reclaims", fb, "", approved, reclaim("carl")},
		{"partner starts a review", fb, "", submitted, fire("ada", workflow.StartReview, noReason)},
		{"partner requests information", fb, "", underReview, fire("ada", workflow.RequestInformation, plain)},
		{"partner escalates", fb, "", underReview, fire("ada", workflow.Escalate, plain)},
		{"partner approves its own claim", fb, "", underReview, fire("ben", workflow.Approve, plain)},
		{"other partner approves", fb, "", underReview, fire("fiona", workflow.Approve, plain)},
		{"partner rejects", fb, "", submitted, fire("ada", workflow.Reject, plain)},
		{"partner rejects without a reason", fb, "", submitted, fire("ada", workflow.Reject, noReason)},
		{"partner requests information without a message", fb, "", underReview, fire("ada", workflow.RequestInformation, noReason)},
		{"partner resolves arbitration", fb, "", arbitrated, resolve("ada", arbitrated)},
		{"partner declines an association", fb, "", approved, decline("ada")},
		{"reviewer declines an association", fb, "", approved, decline("rita")},
		{"reviewer submits", fb, "", draft, fire("rita", workflow.Submit, noReason)},
		{"reviewer attaches proof", fb, "", approved, attach("rita")},
		{"reviewer reclaims", fb, "", rejected, reclaim("rita")},
		{"customer admin submits", fb, "", draft, fire("chloe", workflow.Submit, noReason)},
		{"customer admin approves", fb, "", underReview, fire("chloe", workflow.Approve, plain)},
		{"customer admin reads another tenant's claim", nf, "claimId", underReview, get("chloe")},
		{"operator approves", fb, "", underReview, fire("oscar", workflow.Approve, plain)},
		// No identity at all.
		{"anonymous edit", ua, "", draft, update(anonymous, current)},
		{"anonymous submit", ua, "", draft, fire(anonymous, workflow.Submit, noReason)},
		{"anonymous start review", ua, "", submitted, fire(anonymous, workflow.StartReview, noReason)},
		{"anonymous information request", ua, "", underReview, fire(anonymous, workflow.RequestInformation, plain)},
		{"anonymous information request without a message", ua, "", underReview, fire(anonymous, workflow.RequestInformation, noReason)},
		{"anonymous escalation", ua, "", underReview, fire(anonymous, workflow.Escalate, plain)},
		{"anonymous approval", ua, "", underReview, fire(anonymous, workflow.Approve, plain)},
		{"anonymous rejection", ua, "", submitted, fire(anonymous, workflow.Reject, plain)},
		{"anonymous rejection without a reason", ua, "", submitted, fire(anonymous, workflow.Reject, noReason)},
		{"anonymous resolution", ua, "", arbitrated, resolve(anonymous, arbitrated)},
		{"anonymous read", ua, "", approved, get(anonymous)},
		{"anonymous list", ua, "", noTarget, list(anonymous)},
		{"anonymous attach", ua, "", approved, attach(anonymous)},
		{"anonymous comment", ua, "", approved, comment(anonymous, "Hello.")},
		{"anonymous reclaim", ua, "", rejected, reclaim(anonymous)},
		{"anonymous decline", ua, "", approved, decline(anonymous)},
		// Another organisation's claim, or no such claim.
		{"read another organisation's claim", nf, "claimId", approved, get("fiona")},
		{"submit another organisation's draft", nf, "claimId", draft, fire("fiona", workflow.Submit, noReason)},
		{"edit another organisation's draft", nf, "claimId", draft, update("fiona", current)},
		{"attach to another organisation's claim", nf, "claimId", approved, attach("fiona")},
		{"comment on another organisation's claim", nf, "claimId", approved, comment("fiona", "Mine.")},
		{"reclaim another organisation's claim", nf, "claimId", rejected, reclaim("ada")},
		{"read an unknown claim", nf, "claimId", noTarget, func(f *fx, _ uuid.UUID) error { return get("ada")(f, unknown(f)) }},
		{"review an unknown claim", nf, "claimId", noTarget, func(f *fx, _ uuid.UUID) error {
			return fire("rita", workflow.StartReview, noReason)(f, unknown(f))
		}},
		{"resolve an unknown case", nf, "caseId", noTarget, func(f *fx, _ uuid.UUID) error {
			_, err := f.w.Workflow.ResolveArbitration(testkit.As("rita"), uuid.New(), f.demoClaim(demo.Contoso, models.Arbitration), "x")
			return err
		}},
		{"decline an unknown association", nf, "associationId", noTarget, func(f *fx, _ uuid.UUID) error {
			_, err := f.w.Workflow.DeclineAssociation(testkit.As("chloe"), uuid.New(), "")
			return err
		}},
		{"decline an association on another tenant", nf, "associationId", noTarget, func(f *fx, _ uuid.UUID) error {
			var a models.Association
			if err := f.w.DB.Where("customer_tenant_id = ?", demo.Northwind).Take(&a).Error; err != nil {
				f.t.Fatal(err)
			}
			id := testkit.Identity("chloe")
			id.TenantID = demo.Woodgrove // Woodgrove's admin
			_, err := f.w.Workflow.DeclineAssociation(testkit.AsIdentity(id), a.ID, "")
			return err
		}},
		// The second release's refusals.
		{"withdraw an approved claim", apperr.NotWithdrawable, "claimId", approved, fire("ada", workflow.Withdraw, plain)},
		{"answer after the request lapsed", apperr.ResponseOverdue, "claimId", lapsed, fire("ada", workflow.Respond, plain)},
		{"end an ended association", apperr.AssociationNotActive, "associationId", endedAssociation, func(f *fx, id uuid.UUID) error {
			_, err := f.w.Workflow.EndAssociation(testkit.As("ada"), f.associationOf(id).ID, "Ended twice.")
			return err
		}},
		{"submit with only old proof", apperr.ProofOfExecutionTooOld, "proofOfExecution", oldProof, fire("ada", workflow.Submit, noReason)},
		// Malformed input.
		{"end an association without a reason", inv, "reason", approved, func(f *fx, id uuid.UUID) error {
			_, err := f.w.Workflow.EndAssociation(testkit.As("ada"), f.associationOf(id).ID, " ")
			return err
		}},
		{"reject without a reason", inv, "reason", submitted, fire("rita", workflow.Reject, noReason)},
		{"reject with a blank reason", inv, "reason", submitted, fire("rita", workflow.Reject,
			func(f *fx, id uuid.UUID) workflow.Request { return withReason(id, " \n\t ") })},
		{"request information without a message", inv, "message", underReview, fire("rita", workflow.RequestInformation, noReason)},
		{"empty comment", inv, "body", approved, comment("ada", "   ")},
		{"overlong comment", inv, "body", approved, comment("ada", strings.Repeat("x", 10001))},
		{"resolve a case for a claim outside it", inv, "winningClaimId", arbitrated, resolve("rita", approved)},
	}
}

// TestCallRefusals: transitions from the wrong state, stale versions, the
// wrong role, no identity, claims of other organisations and malformed
// input; each refused call leaves its claim exactly as it was.
func TestCallRefusals(t *testing.T) {
	onEachDialect(t, func(t *testing.T, f *fx) {
		for _, c := range actionCases() {
			t.Run(c.name, func(t *testing.T) {
				f := f.at(t)
				id := c.target(f)
				before := f.snap(id)
				expectError(t, c.call(f, id), c.code, c.field)
				f.unchanged(id, before)
			})
		}
	})
}

// TestEveryErrorCodeIsCovered: the tables above produce every code of
// apperr.Codes (docs/product.md §4), so a new code cannot go untested.
func TestEveryErrorCodeIsCovered(t *testing.T) {
	seen := map[apperr.Code]bool{}
	for _, c := range draftCases() {
		seen[c.code] = true
	}
	for _, c := range submitCases() {
		seen[c.code] = true
	}
	for _, c := range actionCases() {
		seen[c.code] = true
	}
	// Codes of other domains are tested by theirs.
	seen[apperr.WebhookURLInvalid] = true // webhooks/urlcheck_test.go
	for _, code := range apperr.Codes {
		if !seen[code] {
			t.Errorf("no test case produces %s", code)
		}
	}
	// The checks that need data a draft can already state run on both
	// draft save and submit; the rest cannot be reached on submit, as the
	// schema keeps a saved claim from naming an unknown tenant, a
	// non-subscription or a Microsoft 365 activity other than usage.
	onSave, onSubmit := map[apperr.Code]bool{}, map[apperr.Code]bool{}
	for _, c := range draftCases() {
		onSave[c.code] = true
	}
	for _, c := range submitCases() {
		onSubmit[c.code] = true
	}
	unreachableOnSubmit := []apperr.Code{apperr.TenantNotFound, apperr.InvalidSubscriptionID, apperr.ActivityNotAllowed}
	for _, code := range apperr.Codes[:slices.Index(apperr.Codes, apperr.ProofOfExecutionRequired)] {
		if !onSave[code] {
			t.Errorf("%s is not tested on draft save", code)
		}
		if !onSubmit[code] && !slices.Contains(unreachableOnSubmit, code) {
			t.Errorf("%s is not tested on submit", code)
		}
	}
}
