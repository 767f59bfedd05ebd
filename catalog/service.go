package catalog

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"cpor/apperr"
	"cpor/auth"
	"cpor/models"
	"cpor/storage"
	"cpor/textrule"
)

// Service reads the catalog for everyone and changes it for operators.
type Service struct {
	db *gorm.DB
}

// NewService returns a catalog service over db.
func NewService(db *gorm.DB) *Service { return &Service{db: db} }

// Products lists the products and workloads of a solution area (all areas
// when area is empty), by name.
func (s *Service) Products(ctx context.Context, area models.SolutionArea) ([]models.Product, error) {
	if _, err := auth.FromContext(ctx); err != nil {
		return nil, err
	}
	q := s.db.WithContext(ctx).Order("name")
	if area != "" {
		q = q.Where("solution_area = ?", area)
	}
	var out []models.Product
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	return out, nil
}

// Tenant returns a customer tenant with its domains, or NOT_FOUND. Anyone
// signed in may look a tenant up by its ID, as the claim form does.
func (s *Service) Tenant(ctx context.Context, id uuid.UUID) (*models.CustomerTenant, error) {
	if _, err := auth.FromContext(ctx); err != nil {
		return nil, err
	}
	var t models.CustomerTenant
	err := s.db.WithContext(ctx).Preload("Domains", func(db *gorm.DB) *gorm.DB {
		return db.Order(models.TenantDomainOrder)
	}).Where("id = ?", id).Take(&t).Error
	if storage.IsNotFound(err) {
		return nil, apperr.New(apperr.TenantNotFound, "id",
			"No customer tenant has the ID %s; contact your customer to confirm the tenant ID.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load tenant: %w", err)
	}
	return &t, nil
}

// CanSeeTenantDetails reports whether the caller may read a tenant's
// subscriptions and workloads: the customer's own admins, reviewers and
// operators may; partners may not (that is the customer's data).
func CanSeeTenantDetails(id *auth.Identity, tenant uuid.UUID) bool {
	return id.IsReviewer() || id.IsOperator() || (id.IsCustomerAdmin() && id.TenantID == tenant)
}

// Subscriptions lists a tenant's subscriptions for those who may see them.
func (s *Service) Subscriptions(ctx context.Context, tenant uuid.UUID) ([]models.Subscription, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if !CanSeeTenantDetails(id, tenant) {
		return nil, apperr.Forbiddenf("Only the customer's admins, reviewers and operators can see a tenant's subscriptions.")
	}
	var out []models.Subscription
	if err := s.db.WithContext(ctx).Where("tenant_id = ?", tenant).Order("starts_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return out, nil
}

// Workloads lists the Microsoft 365 workloads a tenant uses.
func (s *Service) Workloads(ctx context.Context, tenant uuid.UUID) ([]models.Product, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if !CanSeeTenantDetails(id, tenant) {
		return nil, apperr.Forbiddenf("Only the customer's admins, reviewers and operators can see a tenant's workloads.")
	}
	var out []models.Product
	err = s.db.WithContext(ctx).
		Joins("JOIN tenant_workloads tw ON tw.product_id = products.id AND tw.tenant_id = ?", tenant).
		Order("products.name").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list workloads: %w", err)
	}
	return out, nil
}

// TenantInput is an operator's description of a customer tenant.
type TenantInput struct {
	TenantID    uuid.UUID
	DisplayName string
	// Domains are the tenant's domains; exactly one must be the initial
	// <name>.onmicrosoft.com domain.
	Domains []string
	// WorkloadIDs are the Microsoft 365 workloads the tenant uses; nil keeps
	// them as they are.
	WorkloadIDs []uuid.UUID
}

// MaxTenantDomains and MaxTenantWorkloads bound an operator's tenant
// lists: Microsoft Entra ID verifies at most 5,000 domains per tenant, and
// the catalog has far fewer than 100 workloads.
const (
	MaxTenantDomains   = 5000
	MaxTenantWorkloads = 100
)

// UpsertTenant creates or replaces a customer tenant, its domains and, when
// given, its workloads.
func (s *Service) UpsertTenant(ctx context.Context, in TenantInput) (*models.CustomerTenant, error) {
	if err := requireOperator(ctx); err != nil {
		return nil, err
	}
	name, domains, err := checkTenant(in)
	if err != nil {
		return nil, err
	}
	err = storage.InTx(ctx, s.db, func(tx *storage.Tx) error {
		now := storage.Now()
		t := models.CustomerTenant{ID: in.TenantID, DisplayName: name, CreatedAt: now, UpdatedAt: now}
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "id"}},
			DoUpdates: clause.AssignmentColumns([]string{"display_name", "updated_at"}),
		}).Create(&t).Error; err != nil {
			return fmt.Errorf("save tenant: %w", err)
		}
		var taken []models.TenantDomain
		if err := tx.Where("domain IN ? AND tenant_id <> ?", names(domains), in.TenantID).Find(&taken).Error; err != nil {
			return fmt.Errorf("check domains: %w", err)
		}
		if len(taken) > 0 {
			return apperr.Invalidf("domains", "The domain %s belongs to another tenant (%s); a domain can be verified by one tenant only.", taken[0].Domain, taken[0].TenantID)
		}
		if err := tx.Where("tenant_id = ?", in.TenantID).Delete(&models.TenantDomain{}).Error; err != nil {
			return fmt.Errorf("replace domains: %w", err)
		}
		if err := tx.Create(&domains).Error; err != nil {
			return fmt.Errorf("save domains: %w", err)
		}
		if in.WorkloadIDs == nil {
			return nil
		}
		return setWorkloads(tx.DB, in.TenantID, in.WorkloadIDs, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Tenant(ctx, in.TenantID)
}

// checkTenant validates an operator's tenant before anything is read or
// written, reporting every problem at once: it returns the cleaned display
// name and the tenant's distinct domains.
func checkTenant(in TenantInput) (string, []models.TenantDomain, error) {
	var errs apperr.List
	name, err := textrule.Name.Require(in.DisplayName, "displayName", "Give the tenant's display name.")
	errs.Add(err)
	if len(in.WorkloadIDs) > MaxTenantWorkloads {
		errs.Add(apperr.Invalidf("workloadIds", "Give at most %d workload IDs; this gives %d.", MaxTenantWorkloads, len(in.WorkloadIDs)))
	}
	domains, err := tenantDomains(in)
	errs.Add(err)
	return name, domains, errs.Err()
}

func tenantDomains(in TenantInput) ([]models.TenantDomain, error) {
	if len(in.Domains) > MaxTenantDomains {
		return nil, apperr.Invalidf("domains", "A tenant has at most %d domains; this gives %d.", MaxTenantDomains, len(in.Domains))
	}
	var out []models.TenantDomain
	seen := map[string]bool{}
	initial := 0
	for _, raw := range in.Domains {
		d, err := NormalizeDomain(raw)
		if err != nil {
			return nil, apperr.Invalidf("domains", "%s is not a domain name.", apperr.Quote(raw))
		}
		if seen[d] {
			continue
		}
		seen[d] = true
		isInitial := strings.HasSuffix(d, ".onmicrosoft.com") && strings.Count(d, ".") == 2
		if isInitial {
			initial++
		}
		out = append(out, models.TenantDomain{Domain: d, TenantID: in.TenantID, IsInitial: isInitial})
	}
	if initial != 1 {
		return nil, apperr.Invalidf("domains", "A tenant has exactly one initial domain of the form <name>.onmicrosoft.com; found %d.", initial)
	}
	return out, nil
}

func names(ds []models.TenantDomain) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Domain
	}
	return out
}

func setWorkloads(tx *gorm.DB, tenant uuid.UUID, ids []uuid.UUID, now time.Time) error {
	var n int64
	if len(ids) > 0 {
		if err := tx.Model(&models.Product{}).Where("id IN ? AND kind = ?", ids, models.KindWorkload).Count(&n).Error; err != nil {
			return fmt.Errorf("check workloads: %w", err)
		}
	}
	if int(n) != len(uniq(ids)) {
		return apperr.Invalidf("workloadIds", "Every workload ID must name a Microsoft 365 workload.")
	}
	if err := tx.Where("tenant_id = ?", tenant).Delete(&models.TenantWorkload{}).Error; err != nil {
		return fmt.Errorf("replace workloads: %w", err)
	}
	for _, id := range uniq(ids) {
		if err := tx.Create(&models.TenantWorkload{TenantID: tenant, ProductID: id, CreatedAt: now}).Error; err != nil {
			return fmt.Errorf("save workload: %w", err)
		}
	}
	return nil
}

func uniq(ids []uuid.UUID) []uuid.UUID {
	seen := map[uuid.UUID]bool{}
	var out []uuid.UUID
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// SubscriptionInput is an operator's description of a subscription.
type SubscriptionInput struct {
	ID                uuid.UUID
	TenantID          uuid.UUID
	ProductID         uuid.UUID
	OrderID           *uuid.UUID
	Channel           models.PurchaseChannel
	ProvisioningState models.ProvisioningState
	Status            models.SubscriptionStatus
	StartsAt          time.Time
	EndsAt            *time.Time
}

// UpsertSubscription creates or replaces a subscription.
func (s *Service) UpsertSubscription(ctx context.Context, in SubscriptionInput) (*models.Subscription, error) {
	if err := requireOperator(ctx); err != nil {
		return nil, err
	}
	if in.EndsAt != nil && in.EndsAt.Before(in.StartsAt) {
		return nil, apperr.Invalidf("endsAt", "A subscription cannot end before it starts.")
	}
	if in.OrderID != nil && *in.OrderID == in.ID {
		return nil, apperr.Invalidf("orderId", "The order ID must differ from the subscription ID.")
	}
	db := s.db.WithContext(ctx)
	for _, ref := range []struct {
		model any
		id    uuid.UUID
		field string
	}{{&models.CustomerTenant{}, in.TenantID, "tenantId"}, {&models.Product{}, in.ProductID, "productId"}} {
		var n int64
		if err := db.Model(ref.model).Where("id = ?", ref.id).Count(&n).Error; err != nil {
			return nil, fmt.Errorf("check %s: %w", ref.field, err)
		}
		if n == 0 {
			return nil, apperr.NotFoundf(ref.field, "No such %s: %s.", strings.TrimSuffix(ref.field, "Id"), ref.id)
		}
	}
	now := storage.Now()
	sub := models.Subscription{
		ID: in.ID, TenantID: in.TenantID, ProductID: in.ProductID, OrderID: in.OrderID,
		Channel: in.Channel, ProvisioningState: in.ProvisioningState, Status: in.Status,
		StartsAt: in.StartsAt.UTC(), EndsAt: in.EndsAt, CreatedAt: now, UpdatedAt: now,
	}
	err := db.Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"tenant_id", "product_id", "order_id", "channel",
			"provisioning_state", "status", "starts_at", "ends_at", "updated_at"}),
	}).Create(&sub).Error
	if err != nil {
		return nil, fmt.Errorf("save subscription: %w", err)
	}
	return &sub, db.Where("id = ?", in.ID).Take(&sub).Error
}

// ProductInput is an operator's description of a product or workload.
type ProductInput struct {
	Code         string
	Name         string
	SolutionArea models.SolutionArea
	Kind         models.ProductKind
	Dynamics     bool
}

// UpsertProduct creates or updates a product by its code.
func (s *Service) UpsertProduct(ctx context.Context, in ProductInput) (*models.Product, error) {
	if err := requireOperator(ctx); err != nil {
		return nil, err
	}
	in, err := checkProduct(in)
	if err != nil {
		return nil, err
	}
	p := models.Product{ID: uuid.New(), Code: in.Code, Name: in.Name, SolutionArea: in.SolutionArea, Kind: in.Kind, Dynamics: in.Dynamics}
	db := s.db.WithContext(ctx)
	err = db.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "code"}},
		DoUpdates: clause.AssignmentColumns([]string{"name", "solution_area", "kind", "dynamics"}),
	}).Create(&p).Error
	if err != nil {
		return nil, fmt.Errorf("save product: %w", err)
	}
	var saved models.Product
	return &saved, db.Where("code = ?", in.Code).Take(&saved).Error
}

// checkProduct validates an operator's product, reporting every problem at
// once, and returns it with its code and name trimmed.
func checkProduct(in ProductInput) (ProductInput, error) {
	var errs apperr.List
	var err error
	in.Code, err = textrule.Code.Require(in.Code, "code", "Give the product's code.")
	errs.Add(err)
	in.Name, err = textrule.Name.Require(in.Name, "name", "Give the product's name.")
	errs.Add(err)
	if in.Dynamics && in.SolutionArea != models.BusinessApplications {
		errs.Add(apperr.Invalidf("dynamics", "Only Business Applications products are Dynamics 365 products."))
	}
	return in, errs.Err()
}

func requireOperator(ctx context.Context) error {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return err
	}
	return id.RequireOperator()
}

// Product returns one product or workload.
func (s *Service) Product(ctx context.Context, productID uuid.UUID) (*models.Product, error) {
	if _, err := auth.FromContext(ctx); err != nil {
		return nil, err
	}
	var p models.Product
	err := s.db.WithContext(ctx).Where("id = ?", productID).Take(&p).Error
	if storage.IsNotFound(err) {
		return nil, apperr.NotFoundf("productId", "No such product; choose one from the products list.")
	}
	if err != nil {
		return nil, fmt.Errorf("load product: %w", err)
	}
	return &p, nil
}

// Subscription returns one subscription to those who may see its tenant's.
func (s *Service) Subscription(ctx context.Context, subID uuid.UUID) (*models.Subscription, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	var sub models.Subscription
	err = s.db.WithContext(ctx).Where("id = ?", subID).Take(&sub).Error
	if storage.IsNotFound(err) || (err == nil && !CanSeeTenantDetails(id, sub.TenantID)) {
		return nil, apperr.NotFoundf("subscriptionId", "No such subscription.")
	}
	if err != nil {
		return nil, fmt.Errorf("load subscription: %w", err)
	}
	return &sub, nil
}
