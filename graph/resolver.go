// Package graph is the GraphQL layer: gqlgen's generated executor and the
// resolvers, which translate between GraphQL and the domain services and
// hold no business rules.
package graph

import "cpor/wiring"

// Resolver is the root resolver.
type Resolver struct {
	svc wiring.Services
}

// NewResolver returns the root resolver over the services.
func NewResolver(svc wiring.Services) *Resolver { return &Resolver{svc: svc} }
