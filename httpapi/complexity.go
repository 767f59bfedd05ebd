package httpapi

import (
	"math"

	"github.com/99designs/gqlgen/graphql/errcode"

	"cpor/graph"
	"cpor/graph/model"
	"cpor/models"
	"cpor/relay"
)

// An operation over the complexity limit is refused before it runs, like
// one that fails validation: HTTP 422, not 200.
func init() { errcode.RegisterErrorType(complexityLimitExceeded, errcode.KindProtocol) }

// complexityLimitExceeded is the code gqlgen's complexity limit gives.
const complexityLimitExceeded = "COMPLEXITY_LIMIT_EXCEEDED"

// complexity prices connection fields by the page they ask for, so that a
// nested query such as claims(first: 100) { comments(first: 100) } costs
// what it would load and the complexity limit can refuse it.
func complexity() graph.ComplexityRoot {
	var c graph.ComplexityRoot
	c.Query.Claims = func(child int, _ *model.ClaimFilter, _ *model.ClaimOrder, first *int, _ *string, last *int, _ *string) int {
		return page(child, first, last)
	}
	c.Query.ArbitrationCases = func(child int, _ *models.ArbitrationStatus, first *int, _ *string, last *int, _ *string) int {
		return page(child, first, last)
	}
	c.Query.Associations = func(child int, _ *bool, first *int, _ *string, last *int, _ *string) int {
		return page(child, first, last)
	}
	c.Claim.Comments = func(child int, first *int, _ *string, last *int, _ *string) int { return page(child, first, last) }
	c.Claim.History = func(child int, first *int, _ *string, last *int, _ *string) int { return page(child, first, last) }
	c.Claim.ProofOfExecution = func(child int, first *int, _ *string, last *int, _ *string) int { return page(child, first, last) }
	c.Viewer.Notifications = func(child int, first *int, _ *string) int { return page(child, first, nil) }
	c.Query.WebhookDeliveries = func(child int, _ string, first *int, _ *string) int { return page(child, first, nil) }
	c.WebhookEndpoint.Deliveries = func(child int, first *int, _ *string) int { return page(child, first, nil) }
	return c
}

func page(child int, first, last *int) int {
	n := relay.DefaultPageSize
	switch {
	case first != nil:
		n = *first
	case last != nil:
		n = *last
	}
	// A page over the maximum is refused when it runs; pricing it at the
	// maximum, and saturating, keeps the product from wrapping round to a
	// small or negative cost that would pass the limit.
	n = min(max(n, 1), relay.MaxPageSize)
	if child > (math.MaxInt-1)/n {
		return math.MaxInt
	}
	return 1 + n*max(child, 0)
}
