package graph

import (
	"context"

	"cpor/apperr"
	"cpor/claims"
	"cpor/loaders"
	"cpor/models"
	"cpor/workflow"

	"github.com/google/uuid"
)

// transition runs one workflow event from a mutation's input and sorts the
// outcome into the payload's claim and userErrors.
func (r *Resolver) transition(ctx context.Context, fire func(context.Context, workflow.Request) (*models.Claim, error),
	claimID string, expectedVersion *int, reason *string) (*models.Claim, []*apperr.Error, error) {
	req, err := transitionRequest(claimID, expectedVersion, reason)
	var c *models.Claim
	if err == nil {
		c, err = fire(ctx, req)
	}
	errs, err := userErrors(err)
	return c, errs, err
}

// visibleClaim loads a related claim, or nil when there is none or the
// caller may not read it (another organisation's claim in a shared
// arbitration case, say).
func (r *Resolver) visibleClaim(ctx context.Context, id *uuid.UUID) (*models.Claim, error) {
	who, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	c, err := loaders.LoadPtr(ctx, loaders.For(ctx).Claims, id)
	if err != nil || c == nil || !claims.CanRead(who, c) {
		return nil, err
	}
	return c, nil
}

// visibleAssociation loads an association, or nil when the caller may not
// see it.
func (r *Resolver) visibleAssociation(ctx context.Context, id *uuid.UUID) (*models.Association, error) {
	if id == nil {
		return nil, nil
	}
	return nilIfNotFound(r.svc.Workflow.Association(ctx, *id))
}
