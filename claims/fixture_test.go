package claims_test

// The seeded world (kit) and the assertions the claims tests share.

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/claims"
	"cpor/demo"
	"cpor/models"
	"cpor/testkit"
)

// kit is a seeded world for one (sub)test.
type kit struct {
	t *testing.T
	w *testkit.World
}

func eachWorld(t *testing.T, fn func(t *testing.T, k kit)) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) { fn(t, kit{t: t, w: w}) })
}

func (k kit) at(t *testing.T) kit { k.t = t; return k }

func p[T any](v T) *T { return &v }

func (k kit) product(code string) *uuid.UUID { return p(testkit.ProductID(k.t, k.w, code)) }

func (k kit) mpn(partnerLocationID int64) *uuid.UUID {
	k.t.Helper()
	var m models.Mpn
	if err := k.w.DB.Where("partner_location_id = ?", partnerLocationID).Take(&m).Error; err != nil {
		k.t.Fatal(err)
	}
	return &m.ID
}

// woodgrove is a valid Contoso form on Woodgrove Bank's Dynamics 365 Sales
// subscription, typed the way people type (case, spaces).
func (k kit) woodgrove() claims.DraftInput {
	return claims.DraftInput{
		SolutionArea: p(models.BusinessApplications), Activity: p(models.Usage),
		CustomerTenantID: p(" " + strings.ToUpper(demo.Woodgrove.String()) + " "), CustomerDomain: p("WoodgroveBank.com."),
		ProductID: k.product("D365_SALES"), SubscriptionID: p("{5a1e0000-0000-4000-8000-000000000041}"), MpnID: k.mpn(4000001),
		CustomerContact: &claims.ContactInput{Name: " Dana Customer ", Title: "CIO", Email: "Dana@WoodgroveBank.COM"},
		PartnerContact:  &claims.ContactInput{Name: "Sam Partner", Email: "sam@contoso.example"},
		Notes:           p("  Ran the pre-sales workshop.  "),
	}
}

func (k kit) create(handle string, in claims.DraftInput) *models.Claim {
	k.t.Helper()
	c, err := k.w.Claims.Create(testkit.As(handle), in)
	if err != nil {
		k.t.Fatalf("create as %s: %v", handle, err)
	}
	return c
}

func (k kit) claim(id uuid.UUID) models.Claim {
	k.t.Helper()
	var c models.Claim
	if err := k.w.DB.Where("id = ?", id).Take(&c).Error; err != nil {
		k.t.Fatal(err)
	}
	return c
}

func (k kit) demoClaim(org uuid.UUID, status models.ClaimStatus) models.Claim {
	k.t.Helper()
	var c models.Claim
	if err := k.w.DB.Where("organization_id = ? AND status = ?", org, status).Order("created_at").Take(&c).Error; err != nil {
		k.t.Fatal(err)
	}
	return c
}

func (k kit) count(model any, where string, args ...any) int64 {
	k.t.Helper()
	q := k.w.DB.Model(model)
	if where != "" {
		q = q.Where(where, args...)
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		k.t.Fatal(err)
	}
	return n
}

func (k kit) events(id uuid.UUID) []models.ClaimEvent {
	k.t.Helper()
	var out []models.ClaimEvent
	if err := k.w.DB.Where("claim_id = ?", id).Order("seq").Find(&out).Error; err != nil {
		k.t.Fatal(err)
	}
	return out
}

// row is the claim's row as JSON, to compare before and after.
func (k kit) row(id uuid.UUID) string {
	k.t.Helper()
	b, err := json.Marshal(k.claim(id))
	if err != nil {
		k.t.Fatal(err)
	}
	return string(b)
}

// wantCode asserts err carries code on field with a message.
func wantCode(t *testing.T, err error, code apperr.Code, field string) {
	t.Helper()
	list, ok := apperr.All(err)
	if !ok {
		t.Fatalf("got %v; want %s on %q", err, code, field)
	}
	for _, e := range list {
		if e.Code == code && e.Field == field {
			if strings.TrimSpace(e.Message) == "" {
				t.Errorf("%s on %q has no message", code, field)
			}
			return
		}
	}
	t.Fatalf("got %v; want %s on %q", err, code, field)
}
