// Package wiring builds the domain services over one database and hands
// them, as one value, to whatever serves them: the GraphQL resolvers, the
// test kits and the bench commands. It holds no rules of its own.
package wiring

import (
	"log/slog"
	"time"

	"gorm.io/gorm"

	"cpor/catalog"
	"cpor/claims"
	"cpor/events"
	"cpor/live"
	"cpor/notify"
	"cpor/sla"
	"cpor/webhooks"
	"cpor/workflow"
)

// Services are the wired domain services.
type Services struct {
	Catalog  *catalog.Service
	Claims   *claims.Service
	Workflow *workflow.Service
	Live     *live.Hub
	// Notifications: what the workflow's changes write (Notices), the
	// inbox, the people e-mail reaches and the live feed.
	Notices *notify.Recorder
	Inbox   *notify.Inbox
	People  *notify.Directory
	Feed    *notify.Feed
	// Webhooks manages webhook endpoints and their deliveries.
	Webhooks *webhooks.Service
}

// New wires the domain services over db; the events their transactions
// commit reach the hub.
func New(db *gorm.DB, hub *live.Hub, calendar *sla.Calendar, limits claims.DocumentLimits, flow workflow.Config, notes Notifications) Services {
	eventLog := events.NewLog(hub)
	claimsSvc := claims.NewService(db, eventLog, calendar, limits)
	wf := workflow.NewService(db, claimsSvc, eventLog, calendar, flow)
	// A new draft's expiry is scheduled in the transaction that saves it.
	claimsSvc.OnDraftCreated(wf.ScheduleDraft)
	feed := notify.NewFeed(db, notes.Log)
	recorder := notify.NewRecorder(notes.RetryWindows, feed)
	// What a change notifies is written in the change's transaction.
	wf.NotifyWith(recorder)
	return Services{
		Catalog:  catalog.NewService(db),
		Claims:   claimsSvc,
		Workflow: wf,
		Live:     hub,
		Notices:  recorder,
		Inbox:    notify.NewInbox(db, notes.Clock),
		People:   notify.NewDirectory(db, notes.Clock, notes.Log),
		Feed:     feed,
		Webhooks: webhooks.New(db, notes.Webhooks, notes.RetryWindows.Webhook, notes.Clock),
	}
}

// Notifications tune the notification services. The zero value of a field
// means its default.
type Notifications struct {
	RetryWindows notify.RetryWindows
	// Clock stamps reads and preference changes (default storage.Now).
	Clock func() time.Time
	Log   *slog.Logger
	// Webhooks is where webhook deliveries may go.
	Webhooks webhooks.URLPolicy
}
