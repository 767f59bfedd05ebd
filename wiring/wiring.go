// Package wiring builds the domain services over one database and hands
// them, as one value, to whatever serves them: the GraphQL resolvers, the
// test kits and the bench commands. It holds no rules of its own.
package wiring

import (
	"gorm.io/gorm"

	"cpor/catalog"
	"cpor/claims"
	"cpor/events"
	"cpor/live"
	"cpor/sla"
	"cpor/workflow"
)

// Services are the wired domain services.
type Services struct {
	Catalog  *catalog.Service
	Claims   *claims.Service
	Workflow *workflow.Service
	Live     *live.Hub
}

// New wires the domain services over db; the events their transactions
// commit reach the hub.
func New(db *gorm.DB, hub *live.Hub, calendar *sla.Calendar, limits claims.DocumentLimits, flow workflow.Config) Services {
	eventLog := events.NewLog(hub)
	claimsSvc := claims.NewService(db, eventLog, calendar, limits)
	wf := workflow.NewService(db, claimsSvc, eventLog, calendar, flow)
	// A new draft's expiry is scheduled in the transaction that saves it.
	claimsSvc.OnDraftCreated(wf.ScheduleDraft)
	return Services{
		Catalog:  catalog.NewService(db),
		Claims:   claimsSvc,
		Workflow: wf,
		Live:     hub,
	}
}
