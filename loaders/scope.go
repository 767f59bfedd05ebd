package loaders

import (
	"context"
	"sync"
	"sync/atomic"
)

// scope holds an operation's current loaders. A query or mutation keeps
// one set; a live subscription switches to each event's shared set as it
// resolves the event, so that every subscriber of an event reads through
// the same loaders and a relation is loaded once, not once per subscriber.
type scope struct {
	current atomic.Pointer[Loaders]
	once    sync.Once
	newSet  func() *Loaders
}

// WithScope returns ctx carrying a scope whose loaders newSet makes when
// first needed (a subscription may never need its own).
func WithScope(ctx context.Context, newSet func() *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, &scope{newSet: newSet})
}

func (s *scope) loaders() *Loaders {
	if l := s.current.Load(); l != nil {
		return l
	}
	s.once.Do(func() { s.current.CompareAndSwap(nil, s.newSet()) })
	return s.current.Load()
}

// Use makes l the operation's loaders from now on. A subscription's events
// resolve one after the other, so switching between them is safe.
func Use(ctx context.Context, l *Loaders) {
	if s, ok := ctx.Value(ctxKey{}).(*scope); ok && l != nil {
		s.current.Store(l)
	}
}
