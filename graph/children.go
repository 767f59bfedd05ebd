package graph

import (
	"context"

	"cpor/claims"
	"cpor/loaders"
	"cpor/models"
	"cpor/relay"
)

// childPage is a claim's page of one child list, loaded with the same list
// of every other claim the response shows: a page of claims costs one
// statement per list, not one per claim.
func childPage[T any](ctx context.Context, c *models.Claim, pages *loaders.Pages[T], args relay.Args) (*relay.Connection[T], error) {
	if err := claims.RequireReadable(ctx, c); err != nil {
		return nil, err
	}
	return pages.Load(ctx, c.ID, args)
}
