// Package graph is the GraphQL layer: gqlgen's generated executor and the
// resolvers, which translate between GraphQL and the domain services and
// hold no business rules.
package graph

import (
	"gorm.io/gorm"

	"cpor/catalog"
	"cpor/claims"
	"cpor/events"
	"cpor/live"
	"cpor/sla"
	"cpor/workflow"
)

// Services are the domain services the resolvers translate to.
type Services struct {
	Catalog  *catalog.Service
	Claims   *claims.Service
	Workflow *workflow.Service
	Live     *live.Hub
}

// NewServices wires the domain services over db; the events their
// transactions commit reach the hub.
func NewServices(db *gorm.DB, hub *live.Hub, calendar *sla.Calendar, limits claims.DocumentLimits, flow workflow.Config) Services {
	eventLog := events.NewLog(hub)
	claimsSvc := claims.NewService(db, eventLog, calendar, limits)
	wf := workflow.NewService(db, claimsSvc, eventLog, calendar, flow)
	claimsSvc.OnDraftCreated(wf.ScheduleDraft)
	return Services{
		Catalog:  catalog.NewService(db),
		Claims:   claimsSvc,
		Workflow: wf,
		Live:     hub,
	}
}

// Resolver is the root resolver.
type Resolver struct {
	svc Services
}

// NewResolver returns the root resolver over the services.
func NewResolver(svc Services) *Resolver { return &Resolver{svc: svc} }
