package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/apperr"
	"cpor/models"
)

// Facts is what a claim states, as far as it is known. Nil pointers are not
// known yet (a draft in progress) and their checks are skipped.
type Facts struct {
	ClaimID        uuid.UUID // the claim being checked, uuid.Nil for a new one
	OrganizationID uuid.UUID
	SolutionArea   models.SolutionArea
	Activity       models.Activity
	TenantID       uuid.UUID
	Domain         string
	ProductID      *uuid.UUID
	SubscriptionID *uuid.UUID
	MpnID          *uuid.UUID
}

// Check runs every rule of docs/product.md §4 that the facts allow and returns
// all violations together, each with the input field it concerns. A rule
// that depends on a failed one is skipped (no subscription checks on an
// unknown tenant). The error is for database failures only.
func Check(ctx context.Context, db *gorm.DB, f Facts) (apperr.List, error) {
	r, err := Inspect(ctx, db, f)
	if err != nil {
		return nil, err
	}
	return r.Problems, nil
}

// Report is what Inspect found: the violations, and the customer tenant
// when it exists (without its domains), for callers that go on to name it.
type Report struct {
	Problems apperr.List
	Tenant   *models.CustomerTenant
}

// Inspect is Check that also returns the tenant it read. Everything the
// rules need is read in one statement (see lookup): they ran eight before,
// one round trip each, and submitting ran them twice.
func Inspect(ctx context.Context, db *gorm.DB, f Facts) (Report, error) {
	k, err := lookup(db.WithContext(ctx), f)
	if err != nil {
		return Report{}, err
	}
	c := &checker{f: f, k: k}
	for _, step := range []func(){c.activity, c.mpn, c.tenant, c.product, c.subscription, c.alreadyClaimed} {
		step()
	}
	r := Report{Problems: c.problems}
	if k.TenantFound == 1 {
		r.Tenant = &models.CustomerTenant{ID: f.TenantID, DisplayName: k.TenantName}
	}
	return r, nil
}

// known is what the database holds about a claim's facts. Flags are 0 or 1
// (SQLite has no booleans); the columns of a row that does not exist are
// empty.
type known struct {
	MpnFound, MpnEnrolled int
	MpnLocation           int64
	TenantFound           int
	TenantName            string
	DomainOnTenant        int

	ProductFound, ProductOnTenant int
	ProductID                     *uuid.UUID
	ProductName, ProductArea      string
	ProductKind                   string

	SubFound                                    int
	SubTenantID, SubProductID                   *uuid.UUID
	SubChannel, SubProvisioning, SubStatus      string
	SubProductName                              string
	SubProductDynamics, SubIsTenant, SubIsOrder int

	HoldingStatus *string
}

// lookup reads everything the rules need in one statement: the MPN, tenant,
// product, subscription and its product by their keys (outer joins on a
// single row, so a missing one leaves its columns empty), and by
// subqueries whether the domain is the tenant's, whether the product is on
// the tenant, what an unknown subscription ID names instead, and the
// organisation's claim already holding the subscription or workload.
func lookup(db *gorm.DB, f Facts) (known, error) {
	var k known
	holding, holdingArgs := holdingClaim(f)
	sql := `SELECT
	CASE WHEN m.id IS NULL THEN 0 ELSE 1 END AS mpn_found,
	CASE WHEN m.enrolled_at IS NULL THEN 0 ELSE 1 END AS mpn_enrolled,
	COALESCE(m.partner_location_id, 0) AS mpn_location,
	CASE WHEN t.id IS NULL THEN 0 ELSE 1 END AS tenant_found,
	COALESCE(t.display_name, '') AS tenant_name,
	CASE WHEN EXISTS (SELECT 1 FROM tenant_domains d WHERE d.tenant_id = ? AND d.domain = ?) THEN 1 ELSE 0 END AS domain_on_tenant,
	CASE WHEN p.id IS NULL THEN 0 ELSE 1 END AS product_found,
	p.id AS product_id, COALESCE(p.name, '') AS product_name,
	COALESCE(p.solution_area, '') AS product_area, COALESCE(p.kind, '') AS product_kind,
	CASE WHEN p.kind = ?
		THEN CASE WHEN EXISTS (SELECT 1 FROM tenant_workloads w WHERE w.tenant_id = ? AND w.product_id = p.id) THEN 1 ELSE 0 END
		ELSE CASE WHEN EXISTS (SELECT 1 FROM subscriptions x WHERE x.tenant_id = ? AND x.product_id = p.id) THEN 1 ELSE 0 END
	END AS product_on_tenant,
	CASE WHEN s.id IS NULL THEN 0 ELSE 1 END AS sub_found,
	s.tenant_id AS sub_tenant_id, s.product_id AS sub_product_id,
	COALESCE(s.channel, '') AS sub_channel, COALESCE(s.provisioning_state, '') AS sub_provisioning,
	COALESCE(s.status, '') AS sub_status,
	COALESCE(sp.name, '') AS sub_product_name,
	CASE WHEN sp.dynamics THEN 1 ELSE 0 END AS sub_product_dynamics,
	CASE WHEN s.id IS NULL
		THEN (SELECT count(*) FROM customer_tenants ct WHERE ct.id = ?) ELSE 0 END AS sub_is_tenant,
	CASE WHEN s.id IS NULL
		THEN (SELECT count(*) FROM subscriptions o WHERE o.order_id = ?) ELSE 0 END AS sub_is_order,
	` + holding + ` AS holding_status
FROM (SELECT 1 AS one) q
LEFT JOIN mpns m ON m.id = ? AND m.organization_id = ?
LEFT JOIN customer_tenants t ON t.id = ?
LEFT JOIN products p ON p.id = ?
LEFT JOIN subscriptions s ON s.id = ?
LEFT JOIN products sp ON sp.id = s.product_id`
	args := []any{
		f.TenantID, f.Domain,
		models.KindWorkload, f.TenantID, f.TenantID,
		f.SubscriptionID, f.SubscriptionID,
	}
	args = append(args, holdingArgs...)
	args = append(args, f.MpnID, f.OrganizationID, f.TenantID, f.ProductID, f.SubscriptionID)
	if err := db.Raw(sql, args...).Scan(&k).Error; err != nil {
		return k, fmt.Errorf("look up claim facts: %w", err)
	}
	return k, nil
}

// holdingClaim is the subquery for the status of the organisation's claim
// that already holds what the facts claim (docs/product.md §4.4): the
// subscription of a Business Applications claim, the workload on the tenant
// of a Microsoft 365 claim. The rule uses it only once the subscription or
// product is known to be valid (see alreadyClaimed).
func holdingClaim(f Facts) (string, []any) {
	base := `(SELECT h.status FROM claims h WHERE h.organization_id = ? AND h.activity = ? AND h.status IN ` + holdingStatusList +
		` AND h.id <> ? AND `
	args := []any{f.OrganizationID, f.Activity, f.ClaimID}
	switch {
	case f.SolutionArea == models.BusinessApplications && f.SubscriptionID != nil:
		return base + `h.subscription_id = ? ORDER BY h.created_at LIMIT 1)`, append(args, *f.SubscriptionID)
	case f.SolutionArea == models.Microsoft365 && f.ProductID != nil:
		return base + `h.subscription_id IS NULL AND h.customer_tenant_id = ? AND h.product_id = ? ORDER BY h.created_at LIMIT 1)`,
			append(args, f.TenantID, *f.ProductID)
	}
	return "NULL", nil
}

// holdingStatusList is models.HoldingStatuses as SQL literals, not
// parameters: the partial unique indexes that find a holding claim
// (claims_one_holding_per_subscription, …_per_workload) are defined on
// those statuses, and a prepared statement's generic plan can use them only
// when the query names the statuses itself. With parameters it scanned every
// claim of the organisation.
var holdingStatusList = func() string {
	quoted := make([]string, len(models.HoldingStatuses))
	for i, st := range models.HoldingStatuses {
		quoted[i] = "'" + string(st) + "'"
	}
	return "(" + strings.Join(quoted, ", ") + ")"
}()

// checker applies the rules to what lookup read.
type checker struct {
	f        Facts
	k        known
	problems apperr.List

	tenantFound bool
	prod        *models.Product
	sub         *models.Subscription
}

func (c *checker) add(code apperr.Code, field, format string, args ...any) {
	c.problems = append(c.problems, apperr.New(code, field, format, args...))
}

func (c *checker) activity() {
	if _, ok := LookupActivity(c.f.SolutionArea, c.f.Activity); !ok {
		c.add(apperr.ActivityNotAllowed, "activity",
			"%s does not apply to %s claims; choose one of: %s.", c.f.Activity, areaName(c.f.SolutionArea), activityNames(c.f.SolutionArea))
	}
}

func (c *checker) mpn() {
	switch {
	case c.f.MpnID == nil:
	case c.k.MpnFound == 0:
		c.add(apperr.MpnNotFound, "mpnId", "That MPN is not one of your organisation's MPNs; choose one from your MPN list.")
	case c.k.MpnEnrolled == 0:
		c.add(apperr.MpnNotEnrolled, "mpnId",
			"MPN %d is not enrolled in an incentive program; enroll the MPN in the Incentives overview, then claim with it.", c.k.MpnLocation)
	}
}

func (c *checker) tenant() {
	if c.k.TenantFound == 0 {
		c.add(apperr.TenantNotFound, "customerTenantId",
			"No customer tenant has the ID %s; contact your customer to confirm the tenant ID.", c.f.TenantID)
		return
	}
	c.tenantFound = true
	if c.f.Domain == "" || c.k.DomainOnTenant == 1 {
		return
	}
	c.add(apperr.DomainTenantMismatch, "customerDomain",
		"The domain %s is not a domain of tenant %s; contact your customer to make sure you have the correct tenant ID and domain.", c.f.Domain, c.f.TenantID)
}

func (c *checker) product() {
	if c.f.ProductID == nil {
		return
	}
	if c.k.ProductFound == 0 {
		c.add(apperr.NotFound, "productId", "No such product; choose one from the products list.")
		return
	}
	p := models.Product{ID: *c.f.ProductID, Name: c.k.ProductName,
		SolutionArea: models.SolutionArea(c.k.ProductArea), Kind: models.ProductKind(c.k.ProductKind)}
	c.prod = &p
	if p.SolutionArea != c.f.SolutionArea {
		c.add(apperr.InvalidInput, "productId",
			"%s is a %s product; choose a %s product or workload.", p.Name, areaName(p.SolutionArea), areaName(c.f.SolutionArea))
		return
	}
	// A Business Applications product is on a tenant when the tenant has a
	// subscription for it; a Microsoft 365 workload when the tenant uses it.
	if c.tenantFound && c.k.ProductOnTenant == 0 {
		c.add(apperr.ProductNotOnTenant, "productId",
			"%s does not exist on the customer's tenant; choose a product the customer has, or confirm the tenant ID with your customer.", p.Name)
	}
}

func (c *checker) subscription() {
	if c.f.SolutionArea != models.BusinessApplications {
		if c.f.SubscriptionID != nil {
			c.add(apperr.InvalidInput, "subscriptionId", "Microsoft 365 claims name a workload, not a subscription; leave the subscription ID empty.")
		}
		return
	}
	if c.f.SubscriptionID == nil || !c.tenantFound {
		return
	}
	id := *c.f.SubscriptionID
	if c.k.SubFound == 0 {
		c.unknownSubscription(id)
		return
	}
	const field = "subscriptionId"
	if *c.k.SubTenantID != c.f.TenantID {
		c.add(apperr.SubscriptionNotFoundOnTenant, field,
			"Subscription %s does not belong to tenant %s; work with your customer to make sure the subscription is correct and that you're using the correct tenant ID.", id, c.f.TenantID)
		return
	}
	s := models.Subscription{ID: id, TenantID: *c.k.SubTenantID, ProductID: *c.k.SubProductID,
		Channel: models.PurchaseChannel(c.k.SubChannel), ProvisioningState: models.ProvisioningState(c.k.SubProvisioning),
		Status: models.SubscriptionStatus(c.k.SubStatus)}
	c.sub = &s
	if c.k.SubProductDynamics == 0 {
		c.add(apperr.SubscriptionNotDynamics, field,
			"Subscription %s is for %s, which is not a Dynamics 365 product; Business Applications claims need a Dynamics 365 subscription.", id, c.k.SubProductName)
		return
	}
	if c.prod != nil && c.prod.ID != s.ProductID && c.prod.SolutionArea == models.BusinessApplications {
		c.add(apperr.InvalidInput, field,
			"Subscription %s is for %s, not %s; choose the subscription's product or the subscription of the product you claim.", id, c.k.SubProductName, c.prod.Name)
	}
	if s.Channel == models.CSP {
		c.add(apperr.SubscriptionIsCSP, field,
			"Subscription %s was bought through the Cloud Solution Provider (CSP) program, which these claims do not cover; claim a Volume Licensing or Web Direct subscription.", id)
	}
	if s.ProvisioningState != models.Provisioned {
		c.add(apperr.SubscriptionNotProvisioned, field,
			"The customer has not yet activated the products of subscription %s; ask the customer to provision the subscription, then try again.", id)
	}
	if !s.InService() {
		c.add(apperr.SubscriptionNotActive, field,
			"Subscription %s is %s; only active or in-grace subscriptions can be claimed. If the customer has a new subscription, claim it in a new claim.", id, s.Status)
	}
}

// unknownSubscription tells a GUID that names something else (a tenant or
// an order) from one that names nothing on this tenant.
func (c *checker) unknownSubscription(id uuid.UUID) {
	switch {
	case c.k.SubIsTenant > 0:
		c.add(apperr.InvalidSubscriptionID, "subscriptionId",
			"%s is a tenant ID, not a subscription ID; ask your customer for the subscription ID shown with the subscription in the Microsoft 365 admin center.", id)
	case c.k.SubIsOrder > 0:
		c.add(apperr.InvalidSubscriptionID, "subscriptionId",
			"%s is an order ID, not a subscription ID; ask your customer for the subscription ID shown with the subscription in the Microsoft 365 admin center.", id)
	default:
		c.add(apperr.SubscriptionNotFoundOnTenant, "subscriptionId",
			"Subscription %s does not belong to tenant %s; work with your customer to make sure the subscription is correct and that you're using the correct tenant ID.", id, c.f.TenantID)
	}
}

func (c *checker) alreadyClaimed() {
	var what string
	field := "subscriptionId"
	switch {
	case c.f.SolutionArea == models.BusinessApplications && c.sub != nil:
		what = "subscription " + c.sub.ID.String()
	case c.f.SolutionArea == models.Microsoft365 && c.prod != nil && c.tenantFound:
		what = c.prod.Name + " on this tenant"
		// A Microsoft 365 claim names a workload, not a subscription.
		field = "productId"
	default:
		return
	}
	if c.k.HoldingStatus == nil {
		return
	}
	c.add(apperr.SubscriptionAlreadyClaimed, field,
		"Your organisation already has an %s %s claim for %s; follow that claim instead of creating another.",
		statusWord(models.ClaimStatus(*c.k.HoldingStatus)), c.f.Activity, what)
}

func statusWord(s models.ClaimStatus) string {
	if s == models.Approved {
		return "approved"
	}
	return "open"
}

func areaName(a models.SolutionArea) string {
	if a == models.Microsoft365 {
		return "Microsoft 365"
	}
	return "Business Applications"
}
