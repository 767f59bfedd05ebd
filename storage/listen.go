package storage

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listener keeps a dedicated PostgreSQL connection listening on one
// channel (LISTEN/NOTIFY), for the parts of the service that learn of
// other instances' commits that way.
type Listener struct {
	// DatabaseURL is the PostgreSQL server to listen on.
	DatabaseURL string
	// Channel is the NOTIFY channel.
	Channel string
	// ApplicationName marks the connection in pg_stat_activity.
	ApplicationName string
	// Log hears of dropped connections.
	Log *slog.Logger
	// Connected runs each time the connection is listening again, before
	// any notification: what was committed meanwhile can be read then.
	Connected func()
	// Notified gets each notification's payload, in order.
	Notified func(ctx context.Context, payload string)
}

// Run listens until ctx ends; a dropped connection is made again with
// backoff (100 ms, doubling up to 5 s, back to 100 ms once connected).
func (l Listener) Run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := l.once(ctx, func() { backoff = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		l.Log.WarnContext(ctx, l.ApplicationName+" disconnected; reconnecting", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (l Listener) once(ctx context.Context, connected func()) error {
	cfg, err := pgx.ParseConfig(l.DatabaseURL)
	if err != nil {
		return fmt.Errorf("parse database URL: %w", err)
	}
	cfg.RuntimeParams["application_name"] = l.ApplicationName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.Channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	connected()
	if l.Connected != nil {
		l.Connected()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		l.Notified(ctx, n.Payload)
	}
}
