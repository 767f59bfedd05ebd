package catalog

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/apperr"
	"cpor/models"
	"cpor/storage"
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
	c := &checker{db: db.WithContext(ctx), f: f}
	steps := []func() error{c.activity, c.mpn, c.tenant, c.product, c.subscription, c.alreadyClaimed}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return c.problems, nil
}

type checker struct {
	db       *gorm.DB
	f        Facts
	problems apperr.List

	tenantFound bool
	prod        *models.Product
	sub         *models.Subscription
}

func (c *checker) add(code apperr.Code, field, format string, args ...any) {
	c.problems = append(c.problems, apperr.New(code, field, format, args...))
}

func (c *checker) activity() error {
	if _, ok := LookupActivity(c.f.SolutionArea, c.f.Activity); !ok {
		c.add(apperr.ActivityNotAllowed, "activity",
			"%s does not apply to %s claims; choose one of: %s.", c.f.Activity, areaName(c.f.SolutionArea), activityNames(c.f.SolutionArea))
	}
	return nil
}

func (c *checker) mpn() error {
	if c.f.MpnID == nil {
		return nil
	}
	var m models.Mpn
	err := c.db.Where("id = ? AND organization_id = ?", *c.f.MpnID, c.f.OrganizationID).Take(&m).Error
	switch {
	case storage.IsNotFound(err):
		c.add(apperr.MpnNotFound, "mpnId", "That MPN is not one of your organisation's MPNs; choose one from your MPN list.")
	case err != nil:
		return fmt.Errorf("load MPN: %w", err)
	case !m.Enrolled():
		c.add(apperr.MpnNotEnrolled, "mpnId",
			"MPN %d is not enrolled in an incentive program; enroll the MPN in the Incentives overview, then claim with it.", m.PartnerLocationID)
	}
	return nil
}

func (c *checker) tenant() error {
	var t models.CustomerTenant
	err := c.db.Preload("Domains").Where("id = ?", c.f.TenantID).Take(&t).Error
	if storage.IsNotFound(err) {
		c.add(apperr.TenantNotFound, "customerTenantId",
			"No customer tenant has the ID %s; contact your customer to confirm the tenant ID.", c.f.TenantID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("load tenant: %w", err)
	}
	c.tenantFound = true
	if c.f.Domain == "" {
		return nil
	}
	for _, d := range t.Domains {
		if d.Domain == c.f.Domain {
			return nil
		}
	}
	c.add(apperr.DomainTenantMismatch, "customerDomain",
		"The domain %s is not a domain of tenant %s; contact your customer to make sure you have the correct tenant ID and domain.", c.f.Domain, c.f.TenantID)
	return nil
}

func (c *checker) product() error {
	if c.f.ProductID == nil {
		return nil
	}
	var p models.Product
	err := c.db.Where("id = ?", *c.f.ProductID).Take(&p).Error
	if storage.IsNotFound(err) {
		c.add(apperr.NotFound, "productId", "No such product; choose one from the products list.")
		return nil
	}
	if err != nil {
		return fmt.Errorf("load product: %w", err)
	}
	c.prod = &p
	if p.SolutionArea != c.f.SolutionArea {
		c.add(apperr.InvalidInput, "productId",
			"%s is a %s product; choose a %s product or workload.", p.Name, areaName(p.SolutionArea), areaName(c.f.SolutionArea))
		return nil
	}
	if !c.tenantFound {
		return nil
	}
	onTenant, err := c.productOnTenant(p)
	if err != nil {
		return err
	}
	if !onTenant {
		c.add(apperr.ProductNotOnTenant, "productId",
			"%s does not exist on the customer's tenant; choose a product the customer has, or confirm the tenant ID with your customer.", p.Name)
	}
	return nil
}

// productOnTenant: a Business Applications product is on a tenant when the
// tenant has a subscription for it; a Microsoft 365 workload when the tenant
// uses it.
func (c *checker) productOnTenant(p models.Product) (bool, error) {
	var n int64
	var err error
	if p.Kind == models.KindWorkload {
		err = c.db.Model(&models.TenantWorkload{}).Where("tenant_id = ? AND product_id = ?", c.f.TenantID, p.ID).Count(&n).Error
	} else {
		err = c.db.Model(&models.Subscription{}).Where("tenant_id = ? AND product_id = ?", c.f.TenantID, p.ID).Count(&n).Error
	}
	if err != nil {
		return false, fmt.Errorf("find product on tenant: %w", err)
	}
	return n > 0, nil
}

func (c *checker) subscription() error {
	if c.f.SolutionArea != models.BusinessApplications {
		if c.f.SubscriptionID != nil {
			c.add(apperr.InvalidInput, "subscriptionId", "Microsoft 365 claims name a workload, not a subscription; leave the subscription ID empty.")
		}
		return nil
	}
	if c.f.SubscriptionID == nil || !c.tenantFound {
		return nil
	}
	id := *c.f.SubscriptionID
	var s models.Subscription
	err := c.db.Where("id = ?", id).Take(&s).Error
	if storage.IsNotFound(err) {
		return c.unknownSubscription(id)
	}
	if err != nil {
		return fmt.Errorf("load subscription: %w", err)
	}
	const field = "subscriptionId"
	if s.TenantID != c.f.TenantID {
		c.add(apperr.SubscriptionNotFoundOnTenant, field,
			"Subscription %s does not belong to tenant %s; work with your customer to make sure the subscription is correct and that you're using the correct tenant ID.", id, c.f.TenantID)
		return nil
	}
	c.sub = &s
	var p models.Product
	if err := c.db.Where("id = ?", s.ProductID).Take(&p).Error; err != nil {
		return fmt.Errorf("load subscription product: %w", err)
	}
	if !p.Dynamics {
		c.add(apperr.SubscriptionNotDynamics, field,
			"Subscription %s is for %s, which is not a Dynamics 365 product; Business Applications claims need a Dynamics 365 subscription.", id, p.Name)
		return nil
	}
	if c.prod != nil && c.prod.ID != p.ID && c.prod.SolutionArea == models.BusinessApplications {
		c.add(apperr.InvalidInput, field,
			"Subscription %s is for %s, not %s; choose the subscription's product or the subscription of the product you claim.", id, p.Name, c.prod.Name)
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
	return nil
}

// unknownSubscription tells a GUID that names something else (a tenant or
// an order) from one that names nothing on this tenant.
func (c *checker) unknownSubscription(id uuid.UUID) error {
	var tenants, orders int64
	if err := c.db.Model(&models.CustomerTenant{}).Where("id = ?", id).Count(&tenants).Error; err != nil {
		return fmt.Errorf("look up identifier: %w", err)
	}
	if err := c.db.Model(&models.Subscription{}).Where("order_id = ?", id).Count(&orders).Error; err != nil {
		return fmt.Errorf("look up identifier: %w", err)
	}
	switch {
	case tenants > 0:
		c.add(apperr.InvalidSubscriptionID, "subscriptionId",
			"%s is a tenant ID, not a subscription ID; ask your customer for the subscription ID shown with the subscription in the Microsoft 365 admin center.", id)
	case orders > 0:
		c.add(apperr.InvalidSubscriptionID, "subscriptionId",
			"%s is an order ID, not a subscription ID; ask your customer for the subscription ID shown with the subscription in the Microsoft 365 admin center.", id)
	default:
		c.add(apperr.SubscriptionNotFoundOnTenant, "subscriptionId",
			"Subscription %s does not belong to tenant %s; work with your customer to make sure the subscription is correct and that you're using the correct tenant ID.", id, c.f.TenantID)
	}
	return nil
}

func (c *checker) alreadyClaimed() error {
	q := c.db.Model(&models.Claim{}).
		Where("organization_id = ? AND activity = ? AND status IN ?", c.f.OrganizationID, c.f.Activity, models.HoldingStatuses)
	if c.f.ClaimID != uuid.Nil {
		q = q.Where("id <> ?", c.f.ClaimID)
	}
	var what string
	field := "subscriptionId"
	switch {
	case c.f.SolutionArea == models.BusinessApplications && c.sub != nil:
		q = q.Where("subscription_id = ?", c.sub.ID)
		what = "subscription " + c.sub.ID.String()
	case c.f.SolutionArea == models.Microsoft365 && c.prod != nil && c.tenantFound:
		q = q.Where("subscription_id IS NULL AND customer_tenant_id = ? AND product_id = ?", c.f.TenantID, c.prod.ID)
		what = c.prod.Name + " on this tenant"
		// A Microsoft 365 claim names a workload, not a subscription.
		field = "productId"
	default:
		return nil
	}
	var existing models.Claim
	err := q.Order("created_at").Take(&existing).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find holding claim: %w", err)
	}
	c.add(apperr.SubscriptionAlreadyClaimed, field,
		"Your organisation already has an %s %s claim for %s; follow that claim instead of creating another.",
		statusWord(existing.Status), existing.Activity, what)
	return nil
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
