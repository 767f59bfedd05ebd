package live

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"cpor/events"
)

// Listen keeps a dedicated PostgreSQL connection listening for committed
// events and passes each announcement to the hub. When the connection
// drops it reconnects with backoff and wakes the hub once more, so the hub
// reads from the table every event it missed meanwhile. It returns when
// ctx ends.
func Listen(ctx context.Context, databaseURL string, h *Hub, log *slog.Logger) {
	log = log.With("component", "live-listener")
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := listenOnce(ctx, databaseURL, h, func() { backoff = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		log.WarnContext(ctx, "event listener disconnected; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// ListenerApplicationName marks the listening connection in
// pg_stat_activity.
const ListenerApplicationName = "cpor-event-listener"

func listenOnce(ctx context.Context, databaseURL string, h *Hub, connected func()) error {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return fmt.Errorf("parse database URL: %w", err)
	}
	cfg.RuntimeParams["application_name"] = ListenerApplicationName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{events.Channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	connected()
	// Events may have committed while no connection listened.
	h.Wake()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		h.Announce(events.ParseAnnouncement(n.Payload))
	}
}
