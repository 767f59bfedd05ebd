package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"cpor/auth"
	"cpor/demo"
	"cpor/models"
	"cpor/relay"
	"cpor/testkit"
	"cpor/testkit/apitest"
	"cpor/workflow"
)

// partnerClaim is a claim one organisation made over the API, with its
// proof and a comment, for the other organisation to try to reach.
type partnerClaim struct {
	org                 string // the organisation's name
	claimID, docID      string
	commentID, download string
	tenant              string
	decidedClaim        string // a decided claim of the organisation (from the demo data)
}

// makePartnerClaim has the user create, on a fresh target, a draft with a
// proof and a comment.
func makePartnerClaim(t *testing.T, w *testkit.World, c *apitest.Client, name, org string, decided models.ClaimStatus) partnerClaim {
	t.Helper()
	ids := formData(t, c)
	tenant, sub := testkit.FreshTarget(t, w, name)
	cl := createDraft(t, c, claimInput(ids, tenant.String(), name+".onmicrosoft.com", sub.String()))
	doc := attach(t, c, cl.ID, name+".pdf", testkit.PDF).ProofOfExecution
	cm := mutate(t, c, addCommentMutation, map[string]any{"claimId": cl.ID, "body": "note from " + org}, "addComment").Comment
	if doc == nil || cm == nil {
		t.Fatal("attach or comment failed")
	}
	var decidedClaim models.Claim
	orgID := demo.Contoso
	if org == "Fabrikam Solutions" {
		orgID = demo.Fabrikam
	}
	if err := w.DB.Where("organization_id = ? AND status = ?", orgID, decided).Take(&decidedClaim).Error; err != nil {
		t.Fatalf("no %s claim of %s: %v", decided, org, err)
	}
	return partnerClaim{
		org: org, claimID: cl.ID, docID: doc.ID, commentID: cm.ID, download: doc.DownloadURL, tenant: tenant.String(),
		decidedClaim: relay.UUIDGlobalID(relay.TypeClaim, decidedClaim.ID),
	}
}

func TestOrganisationsCannotReachEachOthersClaims(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, fiona := srv.Client(t, "ada"), srv.Client(t, "fiona")
		contoso := makePartnerClaim(t, w, ada, "contosotarget", "Contoso Partners", models.Approved)
		fabrikam := makePartnerClaim(t, w, fiona, "fabrikamtarget", "Fabrikam Solutions", models.Rejected)

		for _, tc := range []struct {
			name     string
			attacker *apitest.Client
			ownOrg   string
			ownOrgID any
			victim   partnerClaim
		}{
			{"ada on Fabrikam", ada, "Contoso Partners", demo.Contoso, fabrikam},
			{"fiona on Contoso", fiona, "Fabrikam Solutions", demo.Fabrikam, contoso},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c, v := tc.attacker, tc.victim
				before := takeSnapshot(t, w)

				// Read: null, as for a claim that does not exist.
				for _, id := range []string{v.claimID, v.decidedClaim} {
					r := c.Do(t, claimQuery, map[string]any{"id": id})
					if len(r.Errors) > 0 || string(r.Data) != `{"claim":null}` {
						t.Errorf("claim(%s) of %s: %s %+v", id, v.org, r.Data, r.Errors)
					}
				}
				for _, id := range []string{v.claimID, v.docID, v.commentID, v.decidedClaim} {
					r := c.Do(t, `query($id: ID!) { node(id: $id) { id __typename } }`, map[string]any{"id": id})
					if len(r.Errors) > 0 || string(r.Data) != `{"node":null}` {
						t.Errorf("node(%s) of %s: %s %+v", id, v.org, r.Data, r.Errors)
					}
				}

				// List: only their own, with a totalCount of their own.
				var own int64
				w.DB.Model(&models.Claim{}).Where("organization_id = ?", tc.ownOrgID).Count(&own)
				p := claimsOf(t, c, map[string]any{"first": 100})
				if p.TotalCount != int(own) || len(p.Nodes) != int(own) {
					t.Errorf("totalCount %d, %d nodes; own claims %d", p.TotalCount, len(p.Nodes), own)
				}
				for _, n := range p.Nodes {
					if n.ID == v.claimID || n.ID == v.decidedClaim || n.Organization.Name != tc.ownOrg {
						t.Errorf("claims lists %s of %s", n.ID, n.Organization.Name)
					}
				}
				p = claimsOf(t, c, map[string]any{"filter": map[string]any{"customerTenantId": v.tenant}, "first": 100})
				if p.TotalCount != 0 {
					t.Errorf("claims on the other organisation's customer: %d", p.TotalCount)
				}
				// Associations: only their own.
				assocs := run[struct {
					Nodes []struct {
						PartnerName string
						Claim       *struct{ ID string }
					}
				}](t, c, `{ associations(first: 100) { nodes { partnerName claim { id } } } }`, nil, "associations")
				for _, a := range assocs.Nodes {
					if a.PartnerName != tc.ownOrg {
						t.Errorf("associations lists one of %s", a.PartnerName)
					}
				}

				// Download: 404, as for a document that does not exist.
				resp, body := download(t, c, v.download)
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("download of %s's document: HTTP %d %s", v.org, resp.StatusCode, body)
				}
				var errBody apitest.Response
				if err := json.Unmarshal(body, &errBody); err != nil || len(errBody.Errors) == 0 || errBody.Errors[0].Code() != "NOT_FOUND" {
					t.Errorf("download error body: %s", body)
				}
				if strings.Contains(string(body), "PDF") {
					t.Error("the refused download leaks content")
				}

				// Comment, change, submit, reclaim, attach: NOT_FOUND.
				pl := mutate(t, c, addCommentMutation, map[string]any{"claimId": v.claimID, "body": "hello"}, "addComment")
				wantUserError(t, pl.UserErrors, "NOT_FOUND")
				if pl.Comment != nil || pl.Claim != nil {
					t.Errorf("addComment on another organisation's claim returned %+v", pl)
				}
				pl = mutate(t, c, updateClaimMutation, map[string]any{"input": map[string]any{"claimId": v.claimID, "notes": "mine now"}}, "updateClaim")
				wantUserError(t, pl.UserErrors, "NOT_FOUND")
				pl = fire(t, c, submitMutation, "submitClaim", map[string]any{"claimId": v.claimID})
				wantUserError(t, pl.UserErrors, "NOT_FOUND")
				if pl.Claim != nil {
					t.Errorf("submitClaim returned the other organisation's claim: %+v", pl.Claim)
				}
				for _, id := range []string{v.claimID, v.decidedClaim} {
					wantUserError(t, fire(t, c, reclaimMutation, "reclaim", map[string]any{"claimId": id}).UserErrors, "NOT_FOUND")
				}
				pl = attach(t, c, v.claimID, "intruder.pdf", testkit.PDF)
				wantUserError(t, pl.UserErrors, "NOT_FOUND")
				if pl.ProofOfExecution != nil {
					t.Errorf("attach to another organisation's claim stored %+v", pl.ProofOfExecution)
				}

				unchanged(t, w, before, "another organisation's attempts")
			})
		}

		// An arbitration between both shows each partner only its own claim.
		for _, c := range []*apitest.Client{ada, fiona} {
			p := run[struct {
				Nodes []struct {
					ID              string
					Organization    struct{ Name string }
					ArbitrationCase *struct {
						Claims []struct {
							ID           string
							Organization struct{ Name string }
						}
						WinningClaim *struct{ ID string }
					}
				}
			}](t, c, `{ claims(filter: {status: [ARBITRATION]}) { nodes { id organization { name }
			  arbitrationCase { claims { id organization { name } } winningClaim { id } } } } }`, nil, "claims")
			if len(p.Nodes) != 1 || p.Nodes[0].ArbitrationCase == nil {
				t.Fatalf("claims in arbitration: %+v", p.Nodes)
			}
			n := p.Nodes[0]
			if cs := n.ArbitrationCase.Claims; len(cs) != 1 || cs[0].ID != n.ID || cs[0].Organization.Name != n.Organization.Name {
				t.Errorf("%s sees the case's claims %+v", n.Organization.Name, cs)
			}
		}
		// Listing the cases is for reviewers; a case read by its ID shows a
		// partner only its own claim too.
		wantGQLError(t, ada.Do(t, `{ arbitrationCases { totalCount } }`, nil), "FORBIDDEN")
		var kase models.ArbitrationCase
		if err := w.DB.Take(&kase).Error; err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			c   *apitest.Client
			org string
		}{{ada, "Contoso Partners"}, {fiona, "Fabrikam Solutions"}} {
			n := run[*struct {
				Claims []struct {
					ID           string
					Organization struct{ Name string }
				}
			}](t, tc.c, `query($id: ID!) { node(id: $id) { ... on ArbitrationCase { claims { id organization { name } } } } }`,
				map[string]any{"id": relay.UUIDGlobalID(relay.TypeArbitrationCase, kase.ID)}, "node")
			if n == nil || len(n.Claims) != 1 {
				t.Fatalf("%s reads the case as %+v, want its own claim only", tc.org, n)
			}
			for _, c := range n.Claims {
				if c.Organization.Name != tc.org {
					t.Errorf("%s reads a claim of %s through the case", tc.org, c.Organization.Name)
				}
			}
		}
	})
}

func TestRolesAreEnforcedOverHTTP(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, carl, rita, oscar := srv.Client(t, "ada"), srv.Client(t, "carl"), srv.Client(t, "rita"), srv.Client(t, "oscar")
		ids := formData(t, ada)
		draft := createDraft(t, ada, claimInput(ids, woodgroveTenant, woodgroveDomain, woodgroveSub))
		submitted := relay.UUIDGlobalID(relay.TypeClaim, claimWithStatus(t, w, demo.Contoso, models.Submitted))
		underReview := relay.UUIDGlobalID(relay.TypeClaim, claimWithStatus(t, w, demo.Contoso, models.UnderReview))
		var kase models.ArbitrationCase
		if err := w.DB.Take(&kase).Error; err != nil {
			t.Fatal(err)
		}
		var arb models.Claim
		w.DB.Where("arbitration_case_id = ? AND organization_id = ?", kase.ID, demo.Contoso).Take(&arb)
		before := takeSnapshot(t, w)

		forbidden := func(c *apitest.Client, what, query string, vars map[string]any) {
			t.Helper()
			r := c.Do(t, query, vars)
			wantGQLError(t, r, "FORBIDDEN")
			for _, e := range r.Errors {
				if e.Message == "" {
					t.Errorf("%s: FORBIDDEN without a message", what)
				}
			}
		}

		// A partner user without an admin role.
		forbidden(carl, "claims", `{ claims { totalCount } }`, nil)
		forbidden(carl, "claim", claimQuery, map[string]any{"id": draft.ID})
		forbidden(carl, "createClaim", createClaimMutation, map[string]any{"input": claimInput(ids, woodgroveTenant, woodgroveDomain, woodgroveSub)})
		forbidden(carl, "mpns", `{ mpns { id enrolled } }`, nil)
		forbidden(carl, "addComment", addCommentMutation, map[string]any{"claimId": draft.ID, "body": "hi"})
		forbidden(carl, "submitClaim", submitMutation, map[string]any{"input": map[string]any{"claimId": draft.ID}})
		wantGQLError(t, carl.Upload(t, attachMutation, map[string]any{"claimId": draft.ID}, "file", "p.pdf", testkit.PDF), "FORBIDDEN")
		forbidden(carl, "enrollMpn", `mutation($id: ID!) { enrollMpn(input: {mpnId: $id}) { mpn { id } } }`, map[string]any{"id": ids.enrolledMpn})

		// Partners cannot fire reviewer events, even on their own claims.
		reviewerOps := []struct {
			name, query string
			input       map[string]any
		}{
			{"startReview", startReviewMutation, map[string]any{"claimId": submitted}},
			{"requestInformation", requestInfoMutation, map[string]any{"claimId": underReview, "message": "more please"}},
			{"escalateClaim", escalateMutation, map[string]any{"claimId": underReview}},
			{"approveClaim", approveMutation, map[string]any{"claimId": underReview}},
			{"rejectClaim", rejectMutation, map[string]any{"claimId": submitted, "reason": "no"}},
			{"resolveArbitration", `mutation($input: ResolveArbitrationInput!) { resolveArbitration(input: $input) { arbitrationCase { id } } }`,
				map[string]any{"caseId": relay.UUIDGlobalID(relay.TypeArbitrationCase, kase.ID), "winningClaimId": relay.UUIDGlobalID(relay.TypeClaim, arb.ID)}},
		}
		for _, who := range []string{"ada", "ben", "fiona", "oscar", "chloe"} {
			c := srv.Client(t, who)
			for _, op := range reviewerOps {
				forbidden(c, who+" "+op.name, op.query, map[string]any{"input": op.input})
			}
		}

		// Only operators load the catalog.
		operatorOps := []struct{ name, query string }{
			{"upsertCustomerTenant", `mutation { upsertCustomerTenant(input: {tenantId: "7f3c2a10-5b8e-4d21-9c3a-0000000000ff", displayName: "Evil",
			  domains: ["evil.onmicrosoft.com"]}) { customerTenant { id } } }`},
			{"upsertSubscription", `mutation { upsertSubscription(input: {subscriptionId: "5a1e0000-0000-4000-8000-0000000000ff", tenantId: "` + woodgroveTenant + `",
			  productId: "` + ids.salesProduct + `", channel: WEB_DIRECT, provisioningState: PROVISIONED, status: ACTIVE, startsAt: "2026-01-01T00:00:00Z"}) { subscription { id } } }`},
			{"upsertProduct", `mutation { upsertProduct(input: {code: "D365_SALES", name: "Renamed", solutionArea: BUSINESS_APPLICATIONS, kind: PRODUCT, dynamics: true}) { product { id } } }`},
		}
		for _, who := range []string{"ada", "carl", "fiona", "rita", "chloe"} {
			for _, op := range operatorOps {
				forbidden(srv.Client(t, who), who+" "+op.name, op.query, nil)
			}
		}
		// Reviewers, operators and customers do not make claims (customers
		// read their tenant's: customer_test.go).
		for _, who := range []string{"rita", "oscar", "chloe"} {
			forbidden(srv.Client(t, who), who+" createClaim", createClaimMutation,
				map[string]any{"input": claimInput(ids, woodgroveTenant, woodgroveDomain, woodgroveSub)})
		}
		forbidden(oscar, "oscar claims", `{ claims { totalCount } }`, nil)
		forbidden(rita, "rita declineAssociation", `mutation($id: ID!) { declineAssociation(input: {associationId: $id}) { association { id } } }`,
			map[string]any{"id": relay.UUIDGlobalID(relay.TypeAssociation, firstAssociation(t, w).ID)})
		unchanged(t, w, before, "refused roles")

		// The operator can (the check above is not vacuous).
		r := oscar.Do(t, operatorOps[0].query, nil)
		if len(r.Errors) > 0 {
			t.Errorf("operator upsertCustomerTenant: %+v", r.Errors)
		}
	})
}

func firstAssociation(t testing.TB, w *testkit.World) models.Association {
	t.Helper()
	var a models.Association
	if err := w.DB.Where("customer_tenant_id = ?", demo.Northwind).Take(&a).Error; err != nil {
		t.Fatal(err)
	}
	return a
}

func TestMissingTokenIsUnauthenticated(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		anon := srv.Client(t, "")
		before := takeSnapshot(t, w)
		for name, q := range map[string]string{
			"viewer":      `{ viewer { userId } }`,
			"claims":      `{ claims { totalCount } }`,
			"mpns":        `{ mpns { id } }`,
			"createClaim": `mutation { createClaim(input: {solutionArea: BUSINESS_APPLICATIONS, activity: USAGE, customerTenantId: "` + woodgroveTenant + `", customerDomain: "` + woodgroveDomain + `"}) { claim { id } } }`,
		} {
			r := anon.Do(t, q, nil)
			wantGQLError(t, r, "UNAUTHENTICATED")
			if len(r.Data) > 0 && string(r.Data) != "null" {
				t.Errorf("%s without a token answered data %s", name, r.Data)
			}
		}
		unchanged(t, w, before, "anonymous requests")
	})
}

// rawRequest sends a request with the Authorization header as given.
func rawRequest(t *testing.T, method, url, authorization, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, raw
}

// algNoneToken is an unsigned token ("alg": "none") with valid claims for
// the identity.
func algNoneToken(t *testing.T, id auth.Identity) string {
	t.Helper()
	valid := apitest.TokenFor(t, id, time.Hour)
	parts := strings.Split(valid, ".")
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	return header + "." + parts[1] + "."
}

func TestBadTokensAreRefusedWith401(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada := testkit.Identity("ada")
		otherSecret, err := auth.Mint([]byte("another-secret-of-at-least-32-bytes!!"), ada, "cpor", "", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		wrongIssuer, err := auth.Mint(apitest.Secret, ada, "someone-else", "", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		noSubject := ada
		noSubject.UserID = ""
		valid := apitest.TokenFor(t, ada, time.Hour)
		tampered := strings.Split(valid, ".")
		claims, _ := base64.RawURLEncoding.DecodeString(tampered[1])
		claims = []byte(strings.Replace(string(claims), demo.Contoso.String(), demo.Fabrikam.String(), 1))
		tampered[1] = base64.RawURLEncoding.EncodeToString(claims)

		cases := map[string]string{
			"expired":          "Bearer " + apitest.TokenFor(t, ada, -time.Hour),
			"another secret":   "Bearer " + otherSecret,
			"alg none":         "Bearer " + algNoneToken(t, ada),
			"garbage":          "Bearer garbage",
			"three garbage":    "Bearer abc.def.ghi",
			"wrong issuer":     "Bearer " + wrongIssuer,
			"no subject":       "Bearer " + apitest.TokenFor(t, noSubject, time.Hour),
			"tampered payload": "Bearer " + strings.Join(tampered, "."),
			"basic scheme":     "Basic YWRhOnNlY3JldA==",
			"bearer, no token": "Bearer ",
			"token, no scheme": valid,
		}
		before := takeSnapshot(t, w)
		for name, authz := range cases {
			for _, target := range []struct{ method, path, body string }{
				{http.MethodPost, "/graphql", `{"query":"{ viewer { userId } }"}`},
				{http.MethodPost, "/graphql", `{"query":"mutation { addComment(input: {claimId: \"x\", body: \"y\"}) { comment { id } } }"}`},
				{http.MethodGet, "/graphql?query=%7Bviewer%7BuserId%7D%7D", ""},
				{http.MethodGet, "/documents/UHJvb2ZPZkV4ZWN1dGlvbjpub25l", ""},
			} {
				resp, body := rawRequest(t, target.method, srv.URL+target.path, authz, target.body)
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s on %s %s: HTTP %d %s", name, target.method, target.path, resp.StatusCode, body)
					continue
				}
				if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%s: WWW-Authenticate %q", name, resp.Header.Get("WWW-Authenticate"))
				}
				var r apitest.Response
				if err := json.Unmarshal(body, &r); err != nil || len(r.Errors) != 1 || r.Errors[0].Code() != "UNAUTHENTICATED" || r.Errors[0].Message == "" {
					t.Errorf("%s: body %s", name, body)
				}
				if strings.Contains(string(body), "ada@contoso.example") {
					t.Errorf("%s: the refusal leaks the identity: %s", name, body)
				}
			}
		}
		unchanged(t, w, before, "bad tokens")

		// The valid token works (the cases above are not refused for another reason).
		resp, body := rawRequest(t, http.MethodPost, srv.URL+"/graphql", "Bearer "+valid, `{"query":"{ viewer { userId } }"}`)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "ada@contoso.example") {
			t.Errorf("valid token: HTTP %d %s", resp.StatusCode, body)
		}
	})
}

func TestCustomerAdminSeesAndDeclinesOnlyItsAssociations(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		chloe, ada, rita := srv.Client(t, "chloe"), srv.Client(t, "ada"), srv.Client(t, "rita")
		// An association on another customer's tenant.
		other := testkit.SubmitFreshClaim(t, w, "ada", "othercustomer")
		if _, err := w.Workflow.StartReview(testkit.As("rita"), workflow.Request{ClaimID: other}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Workflow.Approve(testkit.As("rita"), workflow.Request{ClaimID: other, Reason: "ok"}); err != nil {
			t.Fatal(err)
		}
		var otherAssoc models.Association
		if err := w.DB.Where("claim_id = ?", other).Take(&otherAssoc).Error; err != nil {
			t.Fatal(err)
		}

		type assoc struct {
			ID, PartnerName, CustomerTenantID string
			Active                            bool
			EndedAt                           *time.Time
			EndReason                         *string
			Claim                             *struct{ ID string }
			Product                           struct{ Code string }
		}
		const q = `{ associations(first: 100) { totalCount nodes { id partnerName customerTenantId active endedAt endReason claim { id } product { code } } } }`
		list := run[struct {
			TotalCount int
			Nodes      []assoc
		}](t, chloe, q, nil, "associations")
		var northwind int64
		w.DB.Model(&models.Association{}).Where("customer_tenant_id = ?", demo.Northwind).Count(&northwind)
		if list.TotalCount != int(northwind) || len(list.Nodes) == 0 {
			t.Fatalf("chloe's associations: %d, want %d", list.TotalCount, northwind)
		}
		for _, a := range list.Nodes {
			if a.CustomerTenantID != demo.Northwind.String() {
				t.Errorf("chloe sees an association on %s", a.CustomerTenantID)
			}
			// Her tenant's approved claim, as customer admins see claims.
			if a.Claim == nil {
				t.Errorf("chloe does not see the claim of association %s", a.ID)
			}
		}
		// She cannot reach the other tenant's association.
		otherID := relay.UUIDGlobalID(relay.TypeAssociation, otherAssoc.ID)
		if r := chloe.Do(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": otherID}); string(r.Data) != `{"node":null}` {
			t.Errorf("node(other association) for chloe: %s %+v", r.Data, r.Errors)
		}
		const decline = `mutation($id: ID!, $reason: String) { declineAssociation(input: {associationId: $id, reason: $reason}) {
		  association { id active endedAt endReason } userErrors { code field message } } }`
		type declined struct {
			Association *assoc
			UserErrors  []userError
		}
		before := takeSnapshot(t, w)
		d := run[declined](t, chloe, decline, map[string]any{"id": otherID}, "declineAssociation")
		wantUserError(t, d.UserErrors, "NOT_FOUND")
		// Partners cannot decline.
		wantGQLError(t, ada.Do(t, decline, map[string]any{"id": list.Nodes[0].ID}), "FORBIDDEN")
		unchanged(t, w, before, "refused declines")

		// She declines her own.
		target := list.Nodes[0]
		d = run[declined](t, chloe, decline, map[string]any{"id": target.ID, "reason": "We never worked with this partner."}, "declineAssociation")
		if len(d.UserErrors) > 0 || d.Association == nil || d.Association.Active || d.Association.EndedAt == nil || deref(d.Association.EndReason) != "CUSTOMER_DECLINED" {
			t.Fatalf("declineAssociation: %+v", d)
		}
		// Once.
		d = run[declined](t, chloe, decline, map[string]any{"id": target.ID}, "declineAssociation")
		if len(d.UserErrors) == 0 {
			t.Error("a second decline succeeded")
		}

		// The partner's claim shows it and its history records it.
		var a models.Association
		w.DB.Where("id = ?", mustParseGlobalUUID(t, target.ID)).Take(&a)
		claimID := relay.UUIDGlobalID(relay.TypeClaim, a.ClaimID)
		for _, c := range []*apitest.Client{ada, rita} {
			cl := readClaim(t, c, claimID)
			if cl == nil || cl.Association == nil || cl.Association.Active || deref(cl.Association.EndReason) != "CUSTOMER_DECLINED" {
				t.Fatalf("the declined claim: %+v", cl)
			}
			found := false
			for _, e := range cl.History.Nodes {
				found = found || e.Type == "ASSOCIATION_ENDED"
			}
			if !found {
				t.Errorf("no ASSOCIATION_ENDED in the claim's history: %+v", cl.History.Nodes)
			}
		}
		// The other tenant's association is untouched.
		var still models.Association
		w.DB.Where("id = ?", otherAssoc.ID).Take(&still)
		if !still.Active() {
			t.Error("the other tenant's association ended")
		}
	})
}

func TestMpnPartnerTypeIsNeverExposed(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, rita := srv.Client(t, "ada"), srv.Client(t, "rita")
		// The schema has no such field.
		typ := run[struct {
			Name   string
			Fields []struct{ Name string }
		}](t, ada, `{ __type(name: "Mpn") { name fields { name } } }`, nil, "__type")
		if typ.Name != "Mpn" || len(typ.Fields) == 0 {
			t.Fatalf("introspection of Mpn: %+v", typ)
		}
		for _, f := range typ.Fields {
			if strings.Contains(strings.ToLower(f.Name), "type") {
				t.Errorf("Mpn has a field %q", f.Name)
			}
		}
		r := ada.Do(t, `{ mpns { partnerType } }`, nil)
		if r.Status != http.StatusBadRequest {
			t.Errorf("mpns { partnerType }: HTTP %d", r.Status)
		}
		wantGQLError(t, r, "GRAPHQL_VALIDATION_FAILED")

		// Contoso's APAC MPN is an FRP FastTrack partner: no response shows it.
		for _, tc := range []struct {
			c     *apitest.Client
			query string
		}{
			{ada, `{ mpns { id mpnId name location enrolled enrolledAt } }`},
			{ada, `{ viewer { organization { mpns { id mpnId name location enrolled enrolledAt } } } }`},
			{ada, `{ claims(first: 100) { nodes { mpn { id mpnId name location enrolled enrolledAt } } } }`},
			{rita, `{ claims(first: 100) { nodes { organization { mpns { id mpnId name location enrolled enrolledAt } } mpn { id mpnId name location enrolled } } } }`},
		} {
			r := tc.c.Do(t, tc.query, nil)
			if len(r.Errors) > 0 {
				t.Fatalf("%s: %+v", tc.query, r.Errors)
			}
			if !strings.Contains(string(r.Data), "4000003") {
				t.Fatalf("%s does not include the FRP MPN, so checking it proves nothing: %s", tc.query, r.Data)
			}
			for _, leak := range []string{"FRP", "FastTrack"} {
				if strings.Contains(string(r.Data), leak) {
					t.Errorf("%s exposes %q: %s", tc.query, leak, r.Data)
				}
			}
		}
		// The MPN list shows enrollment.
		mpns := run[[]struct {
			MpnID    string
			Enrolled bool
		}](t, ada, `{ mpns { mpnId enrolled } }`, nil, "mpns")
		enrolled := map[string]bool{}
		for _, m := range mpns {
			enrolled[m.MpnID] = m.Enrolled
		}
		if len(enrolled) != 3 || !enrolled["4000001"] || enrolled["4000002"] || !enrolled["4000003"] {
			t.Errorf("Contoso's MPNs: %+v", mpns)
		}
		// Fabrikam's MPN is not in Contoso's list.
		if _, ok := enrolled["5000001"]; ok {
			t.Error("ada sees Fabrikam's MPN")
		}
	})
}
