package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"

	"cpor/claims"
	"cpor/models"
)

// NewDirectives returns the schema's directives.
func NewDirectives() DirectiveRoot {
	return DirectiveRoot{ClaimDetail: claimDetail}
}

// claimDetail guards the fields the schema marks @claimDetail, in one
// place: the rule is claims.RequireDetail (a customer admin is FORBIDDEN).
func claimDetail(ctx context.Context, obj any, next graphql.Resolver) (any, error) {
	c, ok := obj.(*models.Claim)
	if !ok {
		return nil, fmt.Errorf("@claimDetail on a %T, not a claim", obj)
	}
	id, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	if err := claims.RequireDetail(id, c); err != nil {
		return nil, err
	}
	return next(ctx)
}
