package claims

import (
	"context"
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
}

// OrderField is a sort key of the claim list.
type OrderField string

const (
	OrderCreatedAt OrderField = "CREATED_AT"
	OrderUpdatedAt OrderField = "UPDATED_AT"
)

// Order sorts a claim list.
type Order struct {
	Field OrderField
	Desc  bool
}

// List pages through the claims the caller may see: its organisation's for
// a partner admin, every claim for a reviewer.
func (s *Service) List(ctx context.Context, f Filter, order Order, args relay.Args) (*relay.Connection[models.Claim], error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if err := requireClaimReader(id); err != nil {
		return nil, err
	}
	q := s.db.WithContext(ctx).Model(&models.Claim{})
	if !id.IsReviewer() {
		q = q.Where("organization_id = ?", id.OrganizationID)
	}
	q, err = applyFilter(q, f, storage.Now())
	if err != nil {
		return nil, err
	}
	column := "created_at"
	if order.Field == OrderUpdatedAt {
		column = "updated_at"
	}
	ks := relay.Keyset{TimeColumn: column, KeyColumn: "id", Desc: order.Desc}
	return relay.NewConnection(q, ks, args, func(c *models.Claim) relay.Cursor {
		t := c.CreatedAt
		if column == "updated_at" {
			t = c.UpdatedAt
		}
		return relay.Cursor{Time: t, Key: c.ID.String()}
	})
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
	if err := checkFilter(f); err != nil {
		return nil, err
	}
	if len(f.Statuses) > 0 {
		q = q.Where("status IN ?", f.Statuses)
	}
	if len(f.Activities) > 0 {
		q = q.Where("activity IN ?", f.Activities)
	}
	if f.SolutionArea != nil {
		q = q.Where("solution_area = ?", *f.SolutionArea)
	}
	if f.CustomerTenantID != nil {
		q = q.Where("customer_tenant_id = ?", *f.CustomerTenantID)
	}
	if f.MpnID != nil {
		q = q.Where("mpn_id = ?", *f.MpnID)
	}
	if f.OrganizationID != nil {
		q = q.Where("organization_id = ?", *f.OrganizationID)
	}
	if f.ProductID != nil {
		q = q.Where("product_id = ?", *f.ProductID)
	}
	if f.Overdue != nil {
		overdue := "status IN ? AND review_due_at < ?"
		if *f.Overdue {
			q = q.Where(overdue, models.OpenStatuses, now)
		} else {
			q = q.Not(overdue, models.OpenStatuses, now)
		}
	}
	return q, nil
}

