// Package graph is the GraphQL layer: gqlgen's generated executor and the
// resolvers, which translate between GraphQL and the domain services and
// hold no business rules.
package graph

import (
	"cpor/catalog"
	"cpor/claims"
	"cpor/live"
	"cpor/workflow"
)

// Services are the domain services the resolvers translate to.
type Services struct {
	Catalog  *catalog.Service
	Claims   *claims.Service
	Workflow *workflow.Service
	Live     *live.Hub
}

// Resolver is the root resolver.
type Resolver struct {
	svc Services
}

// NewResolver returns the root resolver over the services.
func NewResolver(svc Services) *Resolver { return &Resolver{svc: svc} }
