// Package graph is the GraphQL layer: gqlgen's generated executor and the
// resolvers, which translate between GraphQL and the domain services and
// hold no business rules.
package graph

import (
	"cpor/downloads"
	"cpor/wiring"
)

// Resolver is the root resolver.
type Resolver struct {
	svc   wiring.Services
	links *downloads.Signer
}

// NewResolver returns the root resolver over the services; links signs
// the documents' download links.
func NewResolver(svc wiring.Services, links *downloads.Signer) *Resolver {
	return &Resolver{svc: svc, links: links}
}
