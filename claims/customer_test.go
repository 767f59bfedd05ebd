package claims_test

// What a customer admin sees of claims: its tenant's submitted claims, by
// every reader (list, one claim, node, live follow), and none of their
// detail (comments, proof, history); other tenants' claims do not exist for
// it. Both databases.

import (
	"bytes"
	"testing"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/auth"
	"cpor/claims"
	"cpor/demo"
	"cpor/models"
	"cpor/relay"
	"cpor/testkit"
)

// customerAdmin is a customer admin of the tenant.
func customerAdmin(tenant uuid.UUID) auth.Identity {
	return auth.Identity{UserID: "admin@" + tenant.String(), Name: "Customer Admin", TenantID: tenant, Roles: []auth.Role{auth.CustomerAdmin}}
}

// northwindDraft is a draft on Northwind: the customer is not told of it
// until it is submitted.
func (k kit) northwindDraft() *models.Claim {
	return k.create("ada", claims.DraftInput{
		SolutionArea: p(models.BusinessApplications), Activity: p(models.Usage),
		CustomerTenantID: p(demo.Northwind.String()), CustomerDomain: p("northwindtraders.com"),
	})
}

// TestCustomerVisibilityIsOneRule: for every claim and every kind of
// reader, List (and so every reader built on its scope) shows exactly the
// claims CanRead allows, and Get agrees with it.
func TestCustomerVisibilityIsOneRule(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		k.northwindDraft()
		var all []models.Claim
		if err := k.w.DB.Find(&all).Error; err != nil {
			t.Fatal(err)
		}
		identities := map[string]auth.Identity{
			"chloe (Northwind)": testkit.Identity("chloe"),
			"Tailspin admin":    customerAdmin(demo.Tailspin),
			"no-claims tenant":  customerAdmin(uuid.New()),
			"ada":               testkit.Identity("ada"),
			"fiona":             testkit.Identity("fiona"),
			"rita":              testkit.Identity("rita"),
			"partner and customer admin": {UserID: "both", OrganizationID: demo.Fabrikam, TenantID: demo.Tailspin,
				Roles: []auth.Role{auth.GlobalAdmin, auth.CustomerAdmin}},
		}
		for name, id := range identities {
			t.Run(name, func(t *testing.T) {
				ctx := testkit.AsIdentity(id)
				conn, err := k.w.Claims.List(ctx, claims.Filter{}, claims.Order{}, relay.Args{First: p(100)})
				if err != nil {
					t.Fatalf("list: %v", err)
				}
				listed := map[uuid.UUID]bool{}
				for _, c := range conn.Items {
					listed[c.ID] = true
				}
				if n, _ := conn.TotalCount(); n != len(conn.Items) {
					t.Errorf("totalCount %d, listed %d", n, len(conn.Items))
				}
				for _, c := range all {
					want := claims.CanRead(&id, &c)
					if listed[c.ID] != want {
						t.Errorf("claim %s (%s, tenant %s): listed %v, CanRead %v", c.ID, c.Status, c.CustomerTenantID, listed[c.ID], want)
					}
					_, err := k.w.Claims.Get(ctx, c.ID)
					if want && err != nil {
						t.Errorf("get %s: %v", c.ID, err)
					}
					if !want && !apperr.Is(err, apperr.NotFound) {
						t.Errorf("get %s that it may not read: %v; want NOT_FOUND", c.ID, err)
					}
					if _, err := k.w.Claims.Find(ctx, c.ID); (err == nil) != want {
						t.Errorf("find %s: %v; want readable %v", c.ID, err, want)
					}
				}
			})
		}
	})
}

// TestCustomerSeesSubmittedClaimsOfItsTenant: the rule's cases, one by one.
func TestCustomerSeesSubmittedClaimsOfItsTenant(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		draft := k.northwindDraft()
		approved := k.demoClaim(demo.Contoso, models.Approved)  // on Northwind
		rejected := k.demoClaim(demo.Fabrikam, models.Rejected) // on Northwind, another partner
		var tailspin models.Claim
		if err := k.w.DB.Where("customer_tenant_id = ?", demo.Tailspin).Take(&tailspin).Error; err != nil {
			t.Fatal(err)
		}
		chloe := testkit.Identity("chloe")
		for _, r := range []struct {
			name  string
			claim *models.Claim
			see   bool
		}{
			{"its tenant's approved claim", &approved, true},
			{"its tenant's rejected claim of another partner", &rejected, true},
			{"its tenant's draft", draft, false},
			{"another tenant's submitted claim", &tailspin, false},
		} {
			t.Run(r.name, func(t *testing.T) {
				if got := claims.CanRead(&chloe, r.claim); got != r.see {
					t.Errorf("CanRead = %v; want %v", got, r.see)
				}
				_, err := k.w.Claims.Get(testkit.As("chloe"), r.claim.ID)
				if r.see && err != nil {
					t.Errorf("get: %v", err)
				}
				if !r.see {
					wantCode(t, err, apperr.NotFound, "claimId")
				}
				filtered, err := k.w.Claims.List(testkit.As("chloe"), claims.Filter{Statuses: []models.ClaimStatus{r.claim.Status}}, claims.Order{}, relay.Args{})
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, c := range filtered.Items {
					found = found || c.ID == r.claim.ID
				}
				if found != r.see {
					t.Errorf("filtered list shows it: %v; want %v", found, r.see)
				}
			})
		}
		// Another tenant's claim never reveals that it exists.
		if _, err := k.w.Claims.Get(testkit.As("chloe"), uuid.New()); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("unknown claim: %v", err)
		}
	})
}

// TestCustomerSeesNoDetail: a customer admin may read the claim but not its
// comments, documents or history, by list, by ID or by download, may not
// comment, and may follow status changes but not comments.
func TestCustomerSeesNoDetail(t *testing.T) {
	eachWorld(t, func(t *testing.T, k kit) {
		approved := k.demoClaim(demo.Contoso, models.Approved) // on Northwind
		var tailspin models.Claim
		if err := k.w.DB.Where("customer_tenant_id = ?", demo.Tailspin).Take(&tailspin).Error; err != nil {
			t.Fatal(err)
		}
		ada, chloe := testkit.As("ada"), testkit.As("chloe")
		doc, err := k.w.Claims.Attach(ada, approved.ID, claims.Upload{FileName: "more.pdf", Content: bytes.NewReader(testkit.PDF)})
		if err != nil {
			t.Fatal(err)
		}
		posted, err := k.w.Claims.AddComment(ada, approved.ID, "Internal note for the reviewer.")
		if err != nil {
			t.Fatal(err)
		}
		ev := k.events(approved.ID)[0]
		chloeID := testkit.Identity("chloe")
		forbidden := func(name string, err error) {
			t.Helper()
			if !apperr.Is(err, apperr.Forbidden) {
				t.Errorf("%s: %v; want FORBIDDEN", name, err)
			}
		}
		_, err = k.w.Claims.Comment(chloe, posted.Comment.ID)
		forbidden("comment by ID", err)
		_, err = k.w.Claims.Document(chloe, doc.ID)
		forbidden("document by ID", err)
		_, _, err = k.w.Claims.OpenDocument(chloe, doc.ID)
		forbidden("download", err)
		_, err = k.w.Claims.Event(chloe, ev.Seq)
		forbidden("history entry by ID", err)
		forbidden("child lists", claims.RequireReadable(chloe, &approved))
		forbidden("detail", claims.RequireDetail(&chloeID, &approved))
		_, err = k.w.Claims.AddComment(chloe, approved.ID, "Hello.")
		forbidden("comment", err)
		_, err = k.w.Claims.AuthorizeFollow(chloe, &approved.ID, claims.FollowComments)
		forbidden("follow comments", err)
		if _, err := k.w.Claims.AuthorizeFollow(chloe, &approved.ID, claims.FollowStatus); err != nil {
			t.Errorf("follow its tenant's claim's status: %v", err)
		}
		if _, err := k.w.Claims.AuthorizeFollow(chloe, nil, claims.FollowStatus); err != nil {
			t.Errorf("follow its tenant's claims' status: %v", err)
		}
		// Another tenant's claim does not exist for it, detail or not.
		for name, err := range map[string]error{
			"detail of another tenant's claim":   claims.RequireDetail(&chloeID, &tailspin),
			"follow another tenant's claim":      second(k.w.Claims.AuthorizeFollow(chloe, &tailspin.ID, claims.FollowStatus)),
			"comments of another tenant's claim": second(k.w.Claims.AuthorizeFollow(chloe, &tailspin.ID, claims.FollowComments)),
		} {
			if !apperr.Is(err, apperr.NotFound) {
				t.Errorf("%s: %v; want NOT_FOUND", name, err)
			}
		}
		// The partner and the reviewer still see everything.
		for _, h := range []string{"ada", "rita"} {
			if _, err := k.w.Claims.Comment(testkit.As(h), posted.Comment.ID); err != nil {
				t.Errorf("%s reads the comment: %v", h, err)
			}
		}
	})
}

func second[T any](_ T, err error) error { return err }
