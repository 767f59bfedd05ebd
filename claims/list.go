package claims

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/apperr"
	"cpor/auth"
	"cpor/models"
	"cpor/relay"
	"cpor/storage"
)

// Filter narrows a claim list. Zero values do not filter.
type Filter struct {
	Statuses         []models.ClaimStatus
	Activities       []models.Activity
	SolutionArea     *models.SolutionArea
	CustomerTenantID *uuid.UUID
	MpnID            *uuid.UUID
	OrganizationID   *uuid.UUID
	ProductID        *uuid.UUID
	Overdue          *bool
	// Search is text to look for (see applySearch); blank does not filter.
	Search    string
	Submitted TimeRange
	Decided   TimeRange
	Updated   TimeRange
}

// OrderField is a sort key of the claim list.
type OrderField string

const (
	OrderCreatedAt   OrderField = "CREATED_AT"
	OrderUpdatedAt   OrderField = "UPDATED_AT"
	OrderSubmittedAt OrderField = "SUBMITTED_AT"
	OrderDecidedAt   OrderField = "DECIDED_AT"
)

// Order sorts a claim list.
type Order struct {
	Field OrderField
	Desc  bool
}

// Listed is a page of claims with the rows a list shows beside each claim
// (its product, MPN, customer tenant with its domains, organisation), read
// with the page rather than claim by claim.
type Listed struct {
	*relay.Connection[models.Claim]
	Products      []*models.Product
	Mpns          []*models.Mpn
	Tenants       []*models.CustomerTenant
	Organizations []*models.PartnerOrganization
}

// listedClaim is a claim joined to the rows it refers to, in the page's
// statement. Column names of the claim list are qualified ("claims.…"):
// the joined tables have columns of the same names.
type listedClaim struct {
	models.Claim
	Product        *models.Product             `gorm:"foreignKey:ProductID"`
	Mpn            *models.Mpn                 `gorm:"foreignKey:MpnID"`
	CustomerTenant *models.CustomerTenant      `gorm:"foreignKey:CustomerTenantID"`
	Organization   *models.PartnerOrganization `gorm:"foreignKey:OrganizationID"`
}

func (listedClaim) TableName() string { return "claims" }

// withReferences joins the rows a listed claim refers to into q.
func withReferences(q *gorm.DB) *gorm.DB {
	return q.Joins("Product").Joins("Mpn").Joins("CustomerTenant").Joins("Organization")
}

// List pages through the claims the caller may see (scope): its
// organisation's for a partner admin, its tenant's submitted ones for a
// customer admin, every claim for a reviewer. It sends one statement (the
// page with the rows it refers to), and a count if the total is asked for.
func (s *Service) List(ctx context.Context, f Filter, order Order, args relay.Args) (*Listed, error) {
	q, err := s.visible(ctx, f)
	if err != nil {
		return nil, err
	}
	ks, cursorOf := keysetOf(order)
	joined := withReferences(q.Session(&gorm.Session{}))
	page, err := relay.Fetch(joined, ks, args, func(c *listedClaim) relay.Cursor { return cursorOf(&c.Claim) })
	if err != nil {
		return nil, err
	}
	count := q.Session(&gorm.Session{})
	return listed(page, func() (int64, error) {
		var n int64
		if err := count.Count(&n).Error; err != nil {
			return 0, fmt.Errorf("count claims: %w", err)
		}
		return n, nil
	}), nil
}

// visible is the query of the claims the caller may see that pass the
// filter, once the caller may read claims at all: the list and the export
// (Export) both start from it, so they follow one visibility rule.
func (s *Service) visible(ctx context.Context, f Filter) (*gorm.DB, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if err := requireClaimReader(id); err != nil {
		return nil, err
	}
	q := scope(s.db.WithContext(ctx).Model(&listedClaim{}), id)
	return applyFilter(q, f, storage.Now())
}

// Find reads one claim the caller may see with the rows it refers to, in
// one statement.
func (s *Service) Find(ctx context.Context, claimID uuid.UUID) (*Listed, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if err := requireClaimReader(id); err != nil {
		return nil, err
	}
	var row listedClaim
	err = withReferences(s.db.WithContext(ctx).Model(&listedClaim{})).
		Where("claims.id = ?", claimID).Take(&row).Error
	if storage.IsNotFound(err) || (err == nil && !CanRead(id, &row.Claim)) {
		return nil, notFound()
	}
	if err != nil {
		return nil, fmt.Errorf("load claim: %w", err)
	}
	page := &relay.Page[listedClaim]{Items: []listedClaim{row}, Cursors: []string{""}}
	return listed(page, nil), nil
}

// listed splits a page of joined rows into the claims and the distinct
// rows they refer to.
func listed(page *relay.Page[listedClaim], count func() (int64, error)) *Listed {
	claims := &relay.Page[models.Claim]{Items: make([]models.Claim, len(page.Items)), Cursors: page.Cursors, PageInfo: page.PageInfo}
	out := &Listed{Connection: relay.Counted(claims, count)}
	seen := map[uuid.UUID]bool{}
	first := func(id uuid.UUID) bool {
		if seen[id] {
			return false
		}
		seen[id] = true
		return true
	}
	for i := range page.Items {
		row := &page.Items[i]
		claims.Items[i] = row.Claim
		if row.Product != nil && first(row.Product.ID) {
			out.Products = append(out.Products, row.Product)
		}
		if row.Mpn != nil && first(row.Mpn.ID) {
			out.Mpns = append(out.Mpns, row.Mpn)
		}
		if row.CustomerTenant != nil && first(row.CustomerTenant.ID) {
			out.Tenants = append(out.Tenants, row.CustomerTenant)
		}
		if row.Organization != nil && first(row.Organization.ID) {
			out.Organizations = append(out.Organizations, row.Organization)
		}
	}
	return out
}

// checkFilter refuses a filter whose lists are too long or hold unknown
// values, before any SQL is built.
func checkFilter(f Filter) error {
	var errs apperr.List
	errs.Add(relay.CheckListLength("filter.status", len(f.Statuses)))
	errs.Add(relay.CheckListLength("filter.activity", len(f.Activities)))
	if len(errs) == 0 {
		errs.Add(allKnown("filter.status", "status", f.Statuses, models.ClaimStatuses))
		errs.Add(allKnown("filter.activity", "activity", f.Activities, models.Activities))
	}
	errs.Add(checkRanges(f))
	return errs.Err()
}

// allKnown fails on the first of values that is not one of known.
func allKnown[T ~string](field, what string, values, known []T) error {
	for _, v := range values {
		if !models.Contains(known, v) {
			return apperr.Invalidf(field, "Unknown %s %s.", what, apperr.Quote(string(v)))
		}
	}
	return nil
}

func applyFilter(q *gorm.DB, f Filter, now time.Time) (*gorm.DB, error) {
	var errs apperr.List
	search, err := cleanSearch(f.Search)
	errs.Add(err)
	errs.Add(checkFilter(f))
	if err := errs.Err(); err != nil {
		return nil, err
	}
	q = applyRanges(applySearch(q, search), f)
	if len(f.Statuses) > 0 {
		q = q.Where("claims.status IN ?", f.Statuses)
	}
	if len(f.Activities) > 0 {
		q = q.Where("claims.activity IN ?", f.Activities)
	}
	if f.SolutionArea != nil {
		q = q.Where("claims.solution_area = ?", *f.SolutionArea)
	}
	if f.CustomerTenantID != nil {
		q = q.Where("claims.customer_tenant_id = ?", *f.CustomerTenantID)
	}
	if f.MpnID != nil {
		q = q.Where("claims.mpn_id = ?", *f.MpnID)
	}
	if f.OrganizationID != nil {
		q = q.Where("claims.organization_id = ?", *f.OrganizationID)
	}
	if f.ProductID != nil {
		q = q.Where("claims.product_id = ?", *f.ProductID)
	}
	if f.Overdue != nil {
		overdue := "claims.status IN ? AND claims.review_due_at < ?"
		if *f.Overdue {
			q = q.Where(overdue, models.OpenStatuses, now)
		} else {
			q = q.Not(overdue, models.OpenStatuses, now)
		}
	}
	return q, nil
}
