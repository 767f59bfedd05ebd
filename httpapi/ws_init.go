package httpapi

import (
	"context"
	"encoding/json"
	"time"

	"cpor/apperr"
	"cpor/auth"
)

// init authenticates the connection: a token in the payload
// ({"Authorization": "Bearer …"} or {"token": …}), or else the identity the
// upgrade request's Authorization header established.
func (c *wsConn) init(payload json.RawMessage, initTimer *time.Timer) bool {
	c.mu.Lock()
	again := c.acked
	c.mu.Unlock()
	if again {
		c.close(closeTooManyInitCalls, "Too many initialisation requests")
		return false
	}
	ctx, err := c.authenticate(payload)
	if err != nil {
		msg := "Forbidden"
		if l, ok := apperr.All(err); ok {
			msg = l[0].Message
		}
		for _, m := range c.proto.initRefused(msg) {
			c.send(m)
		}
		c.close(closeForbidden, "Forbidden: "+truncate(msg, 100))
		return false
	}
	initTimer.Stop()
	c.mu.Lock()
	c.ctx, c.acked = ctx, true
	c.mu.Unlock()
	c.expireWithToken(ctx)
	for _, m := range c.proto.initAccepted() {
		c.send(m)
	}
	return true
}

func (c *wsConn) authenticate(payload json.RawMessage) (context.Context, error) {
	var p map[string]any
	if len(payload) > 0 && string(payload) != "null" {
		if err := json.Unmarshal(payload, &p); err != nil {
			return nil, apperr.Unauthenticatedf("The connection_init payload is not a JSON object.")
		}
	}
	raw := ""
	for _, key := range []string{"Authorization", "authorization", "token"} {
		if s, ok := p[key].(string); ok && s != "" {
			raw = s
			break
		}
	}
	if raw == "" {
		if _, err := auth.FromContext(c.ctx); err != nil {
			return nil, err
		}
		return c.ctx, nil
	}
	token, ok := auth.BearerToken(raw)
	if !ok {
		token = raw
	}
	id, err := c.t.verifier.Verify(token)
	if err != nil {
		return nil, err
	}
	return auth.WithIdentity(c.ctx, id), nil
}
