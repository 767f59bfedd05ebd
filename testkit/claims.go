package testkit

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/google/uuid"

	"cpor/catalog"
	"cpor/claims"
	"cpor/demo"
	"cpor/models"
	"cpor/workflow"
)

// PDF is a small valid PDF for proof-of-execution uploads.
var PDF = demo.SamplePDF

// FreshTarget creates, as the demo operator, a new customer tenant named
// name with an active, provisioned Dynamics 365 Sales subscription, and
// returns the tenant and subscription IDs.
func FreshTarget(t testing.TB, w *World, name string) (tenant, subscription uuid.UUID) {
	t.Helper()
	ops := As("oscar")
	tenant = nameUUID("tenant:" + name)
	subscription = nameUUID("subscription:" + name)
	if _, err := w.Catalog.UpsertTenant(ops, catalog.TenantInput{
		TenantID: tenant, DisplayName: name, Domains: []string{name + ".onmicrosoft.com"},
	}); err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	if _, err := w.Catalog.UpsertSubscription(ops, catalog.SubscriptionInput{
		ID: subscription, TenantID: tenant, ProductID: ProductID(t, w, "D365_SALES"), Channel: models.WebDirect,
		ProvisioningState: models.Provisioned, Status: models.SubscriptionActive, StartsAt: time.Now().AddDate(0, -1, 0),
	}); err != nil {
		t.Fatalf("create subscription: %v", err)
	}
	return tenant, subscription
}

// SubmitFreshClaim creates a fresh target and has the demo partner with the
// handle claim it (USAGE), attach proof and submit; it returns the claim.
func SubmitFreshClaim(t testing.TB, w *World, handle, name string) uuid.UUID {
	t.Helper()
	tenant, sub := FreshTarget(t, w, name)
	ctx := As(handle)
	area, act := models.BusinessApplications, models.Usage
	tenantID, domain, subID := tenant.String(), name+".onmicrosoft.com", sub.String()
	product, mpn := ProductID(t, w, "D365_SALES"), EnrolledMpn(t, w, Identity(handle).OrganizationID)
	c, err := w.Claims.Create(ctx, claims.DraftInput{
		SolutionArea: &area, Activity: &act, CustomerTenantID: &tenantID, CustomerDomain: &domain,
		ProductID: &product, SubscriptionID: &subID, MpnID: &mpn,
		CustomerContact: &claims.ContactInput{Name: "Dana", Title: "CIO", Email: "dana@" + domain},
		PartnerContact:  &claims.ContactInput{Name: "Sam", Email: "sam@partner.example"},
	})
	if err != nil {
		t.Fatalf("create claim: %v", err)
	}
	if _, err := w.Claims.Attach(ctx, c.ID, claims.Upload{FileName: "proof.pdf", Content: bytes.NewReader(PDF)}); err != nil {
		t.Fatalf("attach: %v", err)
	}
	if _, err := w.Workflow.Submit(ctx, workflow.Request{ClaimID: c.ID}); err != nil {
		t.Fatalf("submit: %v", err)
	}
	return c.ID
}

// ProductID finds a product by its code.
func ProductID(t testing.TB, w *World, code string) uuid.UUID {
	t.Helper()
	var p models.Product
	if err := w.DB.Where("code = ?", code).Take(&p).Error; err != nil {
		t.Fatalf("product %s: %v", code, err)
	}
	return p.ID
}

// EnrolledMpn finds an enrolled MPN of the organisation.
func EnrolledMpn(t testing.TB, w *World, org uuid.UUID) uuid.UUID {
	t.Helper()
	var m models.Mpn
	if err := w.DB.Where("organization_id = ? AND enrolled_at IS NOT NULL", org).Order("partner_location_id").Take(&m).Error; err != nil {
		t.Fatalf("enrolled MPN: %v", err)
	}
	return m.ID
}

// nameUUID derives a stable UUID from a name, so a name means one target.
func nameUUID(name string) uuid.UUID {
	sum := sha256.Sum256([]byte(name))
	u, _ := uuid.FromBytes(sum[:16])
	u[6] = (u[6] & 0x0f) | 0x40
	u[8] = (u[8] & 0x3f) | 0x80
	return u
}
