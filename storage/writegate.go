package storage

import (
	"context"

	"gorm.io/gorm"
)

// writeGate queues the embedded database's writers inside the process.
// SQLite runs one writer at a time and makes the others wait in its busy
// handler, which no context reaches: a write queued behind a long one
// would outlive its request's deadline by up to the busy timeout. Waiting
// here instead honours the context, and wakes the next writer the moment
// the last one commits.
type writeGate struct{ slot chan struct{} }

const writeGateName = "cpor:sqlite-write-gate"

func newWriteGate() *writeGate { return &writeGate{slot: make(chan struct{}, 1)} }

// Name and Initialize make the gate a GORM plugin, so that it travels with
// the database handle and every session made from it.
func (*writeGate) Name() string              { return writeGateName }
func (*writeGate) Initialize(*gorm.DB) error { return nil }

type gateHeldKey struct{}

// enter waits for the gate, or for ctx to end. A context that already holds
// the gate passes (a transaction begun inside another's work).
func (g *writeGate) enter(ctx context.Context) (context.Context, func(), error) {
	if ctx.Value(gateHeldKey{}) == g {
		return ctx, func() {}, nil
	}
	select {
	case g.slot <- struct{}{}:
		return context.WithValue(ctx, gateHeldKey{}, g), func() { <-g.slot }, nil
	case <-ctx.Done():
		return ctx, nil, ctx.Err()
	}
}

// gateOf is the database's write gate; nil for PostgreSQL, whose row locks
// and waits already honour the context.
func gateOf(db *gorm.DB) *writeGate {
	g, _ := db.Config.Plugins[writeGateName].(*writeGate)
	return g
}
