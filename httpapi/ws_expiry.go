package httpapi

import (
	"context"
	"errors"
	"time"

	"cpor/auth"
)

// errTokenExpired ends a connection's subscriptions when its token expires.
var errTokenExpired = errors.New("the connection's token expired")

// expireWithToken arms the connection's one expiry timer: when the token
// of ctx's identity expires, its subscriptions end at once, not at the
// next event the hub would have checked against the token.
func (c *wsConn) expireWithToken(ctx context.Context) {
	id, err := auth.FromContext(ctx)
	if err != nil || id.ExpiresAt.IsZero() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expiry = time.AfterFunc(time.Until(id.ExpiresAt), func() { c.refuse(errTokenExpired) })
}

// refuse stops the connection taking operations, for reason, and ends its
// subscriptions with an error that says why and where to resume. Queries
// and mutations already running finish; the connection stays open, so the
// client reads why (and pings still work).
func (c *wsConn) refuse(reason error) {
	c.mu.Lock()
	if c.refusal == nil {
		c.refusal = reason
	}
	var subs []*wsOperation
	for _, op := range c.ops {
		if op.subscription {
			subs = append(subs, op)
		}
	}
	c.mu.Unlock()
	for _, op := range subs {
		op.interrupt(reason)
	}
}
