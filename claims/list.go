package claims

import (
	"context"
	"strconv"
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

// Comments pages through a claim's thread, oldest first.
func (s *Service) Comments(ctx context.Context, c *models.Claim, args relay.Args) (*relay.Connection[models.Comment], error) {
	q, err := s.claimChildren(ctx, c, &models.Comment{})
	if err != nil {
		return nil, err
	}
	return relay.NewConnection(q, relay.Keyset{TimeColumn: "created_at", KeyColumn: "id"}, args,
		func(c *models.Comment) relay.Cursor { return relay.Cursor{Time: c.CreatedAt, Key: c.ID.String()} })
}

// Documents pages through a claim's proof of execution, most recent first:
// reviewers weigh the latest proof.
func (s *Service) Documents(ctx context.Context, c *models.Claim, args relay.Args) (*relay.Connection[models.Document], error) {
	q, err := s.claimChildren(ctx, c, &models.Document{})
	if err != nil {
		return nil, err
	}
	return relay.NewConnection(q, relay.Keyset{TimeColumn: "uploaded_at", KeyColumn: "id", Desc: true}, args,
		func(d *models.Document) relay.Cursor { return relay.Cursor{Time: d.UploadedAt, Key: d.ID.String()} })
}

// EventOrder is the order of claim events: their sequence numbers, which
// history pages and live subscriptions use as cursors.
var EventOrder = relay.Keyset{KeyColumn: "seq", IntKey: true}

// Events pages through a claim's history, oldest first.
func (s *Service) Events(ctx context.Context, c *models.Claim, args relay.Args) (*relay.Connection[models.ClaimEvent], error) {
	q, err := s.claimChildren(ctx, c, &models.ClaimEvent{})
	if err != nil {
		return nil, err
	}
	return relay.NewConnection(q, EventOrder, args,
		func(e *models.ClaimEvent) relay.Cursor { return relay.Cursor{Key: strconv.FormatInt(e.Seq, 10)} })
}

// claimChildren checks that the caller may read the claim, which the caller
// has already loaded, and returns a query over the model's rows of it.
func (s *Service) claimChildren(ctx context.Context, c *models.Claim, model any) (*gorm.DB, error) {
	id, err := auth.FromContext(ctx)
	if err != nil {
		return nil, err
	}
	if !CanRead(id, c) {
		return nil, notFound()
	}
	return s.db.WithContext(ctx).Model(model).Where("claim_id = ?", c.ID), nil
}
