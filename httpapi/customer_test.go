package httpapi_test

// A customer admin over HTTP and websockets, with real tokens: its tenant's
// submitted claims, without their detail; nothing of other tenants.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/auth"

	"cpor/demo"
	"cpor/models"
	"cpor/relay"
	"cpor/testkit"
	"cpor/testkit/apitest"
	"cpor/workflow"
)

// customerClaimFields are what a customer admin may ask of a claim.
const customerClaimFields = `id status activity solutionArea customerTenantId submittedAt decidedAt decisionReason
  createdAt updatedAt organization { name } product { code } customerTenant { displayName }`

type customerClaim struct {
	ID, Status, Activity, CustomerTenantID string
	SubmittedAt                            *string
	Organization                           struct{ Name string }
}

// northwindClaims are the claims chloe may see: Northwind's submitted ones.
func northwindClaims(t *testing.T, w *testkit.World) map[string]models.Claim {
	t.Helper()
	var cs []models.Claim
	if err := w.DB.Where("customer_tenant_id = ? AND submitted_at IS NOT NULL", demo.Northwind).Find(&cs).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]models.Claim{}
	for _, c := range cs {
		out[gid(c.ID)] = c
	}
	return out
}

func TestCustomerAdminReadsItsTenantsSubmittedClaims(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		chloe := srv.Client(t, "chloe")
		// A Northwind draft: not shown until submitted.
		draft := createDraft(t, srv.Client(t, "ada"), map[string]any{"solutionArea": "BUSINESS_APPLICATIONS", "activity": "USAGE",
			"customerTenantId": demo.Northwind.String(), "customerDomain": "northwindtraders.com"})
		want := northwindClaims(t, w)
		if len(want) < 2 {
			t.Fatalf("demo data: %d submitted Northwind claims", len(want))
		}
		list := run[struct {
			TotalCount int
			Nodes      []customerClaim
		}](t, chloe, `{ claims(first: 100) { totalCount nodes { `+customerClaimFields+` } } }`, nil, "claims")
		if list.TotalCount != len(want) || len(list.Nodes) != len(want) {
			t.Fatalf("chloe lists %d (total %d); want %d", len(list.Nodes), list.TotalCount, len(want))
		}
		for _, c := range list.Nodes {
			if _, ok := want[c.ID]; !ok || c.SubmittedAt == nil || c.CustomerTenantID != demo.Northwind.String() || c.Organization.Name == "" {
				t.Errorf("chloe sees %+v", c)
			}
		}
		// Filters apply within what she may see.
		rejected := run[struct{ TotalCount int }](t, chloe, `{ claims(filter: {status: [REJECTED]}) { totalCount } }`, nil, "claims")
		if rejected.TotalCount != 2 { // a reviewer's rejection and her own refusal
			t.Errorf("chloe's rejected claims: %d", rejected.TotalCount)
		}
		// One claim, and node, for her tenant's; null for the draft and
		// another tenant's (NOT_FOUND inside: existence is not revealed).
		var tailspin models.Claim
		if err := w.DB.Where("customer_tenant_id = ?", demo.Tailspin).Take(&tailspin).Error; err != nil {
			t.Fatal(err)
		}
		for id := range want {
			for _, q := range []string{`query($id: ID!) { claim(id: $id) { id } }`, `query($id: ID!) { node(id: $id) { id } }`} {
				r := chloe.Do(t, q, map[string]any{"id": id})
				if len(r.Errors) > 0 || string(r.Data) == `{"claim":null}` || string(r.Data) == `{"node":null}` {
					t.Errorf("%s as chloe: %s %+v", id, r.Data, r.Errors)
				}
			}
		}
		for _, id := range []string{draft.ID, gid(tailspin.ID), gid(uuid.New())} {
			if r := chloe.Do(t, `query($id: ID!) { claim(id: $id) { id } }`, map[string]any{"id": id}); string(r.Data) != `{"claim":null}` {
				t.Errorf("claim(%s) for chloe: %s %+v", id, r.Data, r.Errors)
			}
			if r := chloe.Do(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}); string(r.Data) != `{"node":null}` {
				t.Errorf("node(%s) for chloe: %s %+v", id, r.Data, r.Errors)
			}
		}
		// Her tenant's associations now show the approved claim.
		assocs := run[struct {
			Nodes []struct{ Claim *struct{ ID string } }
		}](t, chloe,
			`{ associations(first: 100) { nodes { claim { id status } } } }`, nil, "associations")
		for _, a := range assocs.Nodes {
			if a.Claim == nil {
				t.Errorf("an association on her tenant hides its claim")
			} else if _, ok := want[a.Claim.ID]; !ok {
				t.Errorf("association claim %s is not one of hers", a.Claim.ID)
			}
		}
	})
}

// TestCustomerAdminIsRefusedEveryDetailField: each field of a claim's
// detail is a FORBIDDEN error at that field, in one claim and in the list;
// the partner still reads them all.
func TestCustomerAdminIsRefusedEveryDetailField(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		chloe, ada := srv.Client(t, "chloe"), srv.Client(t, "ada")
		approved := gid(claimWithStatus(t, w, demo.Contoso, models.Approved)) // on Northwind
		if _, ok := northwindClaims(t, w)[approved]; !ok {
			t.Fatal("demo data: Contoso's approved claim is not on Northwind")
		}
		for _, f := range []struct{ name, selection string }{
			{"mpn", "mpn { id }"},
			{"customerContact", "customerContact { name }"},
			{"partnerContact", "partnerContact { email }"},
			{"notes", "notes"},
			{"proofOfExecution", "proofOfExecution { totalCount }"},
			{"comments", "comments { totalCount }"},
			{"history", "history { totalCount }"},
		} {
			t.Run(f.name, func(t *testing.T) {
				one := fmt.Sprintf(`query($id: ID!) { claim(id: $id) { id %s } }`, f.selection)
				list := fmt.Sprintf(`{ claims(first: 5) { nodes { id %s } } }`, f.selection)
				for _, q := range []string{one, list} {
					r := chloe.Do(t, q, map[string]any{"id": approved})
					wantGQLError(t, r, "FORBIDDEN")
					e := r.Errors[0]
					if last := fmt.Sprint(e.Path[len(e.Path)-1]); last != f.name || e.Message == "" {
						t.Errorf("error at %v: %q", e.Path, e.Message)
					}
				}
				if r := ada.Do(t, one, map[string]any{"id": approved}); len(r.Errors) > 0 {
					t.Errorf("the partner is refused %s: %+v", f.name, r.Errors)
				}
			})
		}
	})
}

// TestCustomerAdminCannotReachDetailByIDOrDownload: comments, documents and
// history entries by node ID, document downloads and commenting are refused.
func TestCustomerAdminCannotReachDetailByIDOrDownload(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		chloe, ada := srv.Client(t, "chloe"), srv.Client(t, "ada")
		approved := gid(claimWithStatus(t, w, demo.Contoso, models.Approved))
		doc := attach(t, ada, approved, "follow-up.pdf", testkit.PDF).ProofOfExecution
		cm := mutate(t, ada, addCommentMutation, map[string]any{"claimId": approved, "body": "For the reviewer."}, "addComment").Comment
		var ev models.ClaimEvent
		if err := w.DB.Where("claim_id = ?", mustParseGlobalUUID(t, approved)).Order("seq").Take(&ev).Error; err != nil {
			t.Fatal(err)
		}
		before := takeSnapshot(t, w)
		for _, id := range []string{doc.ID, cm.ID, relay.GlobalID(relay.TypeClaimEvent, strconv.FormatInt(ev.Seq, 10))} {
			wantGQLError(t, chloe.Do(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}), "FORBIDDEN")
		}
		wantGQLError(t, chloe.Do(t, addCommentMutation, map[string]any{"claimId": approved, "body": "Hello."}), "FORBIDDEN")
		resp := chloe.Get(t, doc.DownloadURL)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("download as chloe: HTTP %d", resp.StatusCode)
		}
		unchanged(t, w, before, "a customer's refused reads and comment")
		if resp := ada.Get(t, doc.DownloadURL); resp.StatusCode != http.StatusOK {
			t.Errorf("download as the partner: HTTP %d", resp.StatusCode)
		}
	})
}

// TestCustomerAdminFollowsItsTenantsStatusChanges: claimStatusChanged, for
// all its claims or one, reaches a customer admin for its tenant's claims
// only; commentAdded is refused.
func TestCustomerAdminFollowsItsTenantsStatusChanges(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		mine := testkit.SubmitFreshClaim(t, w, "ada", "live-mine")
		theirs := testkit.SubmitFreshClaim(t, w, "fiona", "live-theirs")
		var c models.Claim
		if err := w.DB.Where("id = ?", mine).Take(&c).Error; err != nil {
			t.Fatal(err)
		}
		admin := auth.Identity{UserID: "admin@live-mine", Name: "Live Admin", TenantID: c.CustomerTenantID, Roles: []auth.Role{auth.CustomerAdmin}}
		ws := srv.DialWS(t, "graphql-transport-ws", nil)
		ws.Init(apitest.TokenFor(t, admin, time.Hour))
		ws.Subscribe("all", statusSubscription, nil)
		ws.Subscribe("one", statusSubscription, map[string]any{"id": gid(mine)})
		ws.Subscribe("other", statusSubscription, map[string]any{"id": gid(theirs)})
		ws.Subscribe("comments", commentSubscription, map[string]any{"id": gid(mine)})
		for _, id := range []string{"other", "comments"} {
			// gqlgen refuses a subscription with a "next" carrying errors.
			m := ws.NextFor(id, 10*time.Second)
			var body struct{ Errors []apitest.GQLError }
			if err := json.Unmarshal(m.Payload, &body); err != nil || len(body.Errors) == 0 {
				t.Fatalf("%s: %s %s", id, m.Type, m.Payload)
			}
			if want := map[string]string{"other": "NOT_FOUND", "comments": "FORBIDDEN"}[id]; body.Errors[0].Code() != want {
				t.Errorf("%s refused with %s; want %s", id, body.Errors[0].Code(), want)
			}
			if m := ws.NextFor(id, 10*time.Second); m.Type != "complete" {
				t.Errorf("%s then %s %s", id, m.Type, m.Payload)
			}
		}
		waitSubscribers(t, w.Live, 2)

		rita := testkit.As("rita")
		for _, id := range []uuid.UUID{theirs, mine} {
			if _, err := w.Workflow.StartReview(rita, workflow.Request{ClaimID: id}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Claims.AddComment(testkit.As("ada"), mine, "Not for the customer."); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"all", "one"} {
			var ev statusEvent
			next(t, ws, id, "claimStatusChanged", &ev)
			if ev.Claim.ID != gid(mine) || ev.Status != "UNDER_REVIEW" || ev.Claim.Organization.Name != "Contoso Partners" {
				t.Errorf("%s: %+v", id, ev)
			}
		}
		quiet(t, ws)
	})
}

// TestCustomerAdminExportsItsTenantsSubmittedClaims: the CSV export starts
// from the claims list's scope, so a customer admin exports exactly the
// claims the claims query shows it, and none of their detail (the export
// has no detail column).
func TestCustomerAdminExportsItsTenantsSubmittedClaims(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		createDraft(t, srv.Client(t, "ada"), map[string]any{"solutionArea": "BUSINESS_APPLICATIONS", "activity": "USAGE",
			"customerTenantId": demo.Northwind.String(), "customerDomain": "northwindtraders.com"})
		want := northwindClaims(t, w)
		rows := exportRows(t, exportGet(t, srv, "chloe", nil))
		if len(rows) != len(want) {
			t.Fatalf("chloe exported %d claims; want %d", len(rows), len(want))
		}
		for _, id := range column(rows, 0) { // global IDs, as the claims query gives
			if _, ok := want[id]; !ok {
				t.Errorf("chloe exported claim %s", id)
			}
		}
	})
}
