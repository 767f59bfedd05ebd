package live

import (
	"context"
	"log/slog"

	"cpor/events"
	"cpor/storage"
)

// ListenerApplicationName marks the listening connection in
// pg_stat_activity.
const ListenerApplicationName = "cpor-event-listener"

// Listen keeps a dedicated PostgreSQL connection listening for committed
// events and passes each announcement to the hub. When the connection
// drops it reconnects with backoff and wakes the hub once more, so the hub
// reads from the table every event it missed meanwhile. It returns when
// ctx ends.
func Listen(ctx context.Context, databaseURL string, h *Hub, log *slog.Logger) {
	storage.Listener{
		DatabaseURL: databaseURL, Channel: events.Channel, ApplicationName: ListenerApplicationName,
		Log: log.With("component", "live-listener"),
		// Events may have committed while no connection listened.
		Connected: h.Wake,
		Notified:  func(_ context.Context, payload string) { h.Announce(events.ParseAnnouncement(payload)) },
	}.Run(ctx)
}
