package claims

import (
	"context"
	"strconv"

	"gorm.io/gorm"

	"cpor/auth"
	"cpor/models"
	"cpor/relay"
)

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
