package loaders

import (
	"context"
	"sync/atomic"
)

// scope holds an operation's current loaders. A query or mutation keeps
// one set; a live subscription switches to each event's shared set as it
// resolves the event, so that every subscriber of an event reads through
// the same loaders and a relation is loaded once, not once per subscriber.
type scope struct {
	current atomic.Pointer[Loaders]
}

// WithScope returns ctx carrying a scope that starts with l.
func WithScope(ctx context.Context, l *Loaders) context.Context {
	s := &scope{}
	s.current.Store(l)
	return context.WithValue(ctx, ctxKey{}, s)
}

// Use makes l the operation's loaders from now on. A subscription's events
// resolve one after the other, so switching between them is safe.
func Use(ctx context.Context, l *Loaders) {
	if s, ok := ctx.Value(ctxKey{}).(*scope); ok && l != nil {
		s.current.Store(l)
	}
}
