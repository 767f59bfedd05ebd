package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// errShuttingDown ends subscriptions when the server drains its websockets.
var errShuttingDown = errors.New("the server is shutting down")

// codeShuttingDown tells a client to reconnect, which a load balancer
// sends to another instance, and resume with after.
const codeShuttingDown = "SERVER_SHUTTING_DOWN"

// Shutdown drains the websockets. The server calls it once its HTTP
// requests have drained: http.Server.Shutdown neither waits for nor closes
// hijacked connections. From then on new upgrades are refused (503); every
// subscription ends with SERVER_SHUTTING_DOWN and the cursor to resume
// from; queries and mutations running over websockets finish, until ctx
// ends; then each connection closes with 1001 (going away). Shutdown
// returns when all have closed, or with ctx's error when it ends first.
func (t *wsTransport) Shutdown(ctx context.Context) error {
	t.mu.Lock()
	if !t.draining {
		t.draining, t.drained = true, make(chan struct{})
		t.closeDrainedLocked()
	}
	conns := make([]*wsConn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	drained := t.drained
	t.mu.Unlock()
	for _, c := range conns {
		// A goroutine per connection, only now: each waits for its own
		// queries, and a slow one must not hold up the others.
		go c.shutdown(ctx)
	}
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("websockets still open at the end of the shutdown grace: %w", ctx.Err())
	}
}

// shutdown ends the connection's subscriptions and refuses new operations,
// waits for the operations still running (or ctx), then closes.
func (c *wsConn) shutdown(ctx context.Context) {
	c.refuse(errShuttingDown)
	idle := make(chan struct{})
	go func() {
		c.running.Wait() // nothing is added once refused
		close(idle)
	}()
	select {
	case <-idle:
	case <-ctx.Done():
	}
	c.close(websocket.StatusGoingAway, "Server shutting down")
}

func (t *wsTransport) isDraining() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.draining
}

// refuseUpgrade answers an upgrade during the drain: 503 and a
// GraphQL-shaped error, so a client knows to connect again.
func (t *wsTransport) refuseUpgrade(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	body := map[string]gqlerror.List{"errors": {t.endingError(errShuttingDown, -1)}}
	if err := json.NewEncoder(w).Encode(body); err != nil {
		t.log.Debug("answer an upgrade during shutdown", "err", err)
	}
}

// track registers a new connection; false when Shutdown has begun, and the
// connection must close at once.
func (t *wsTransport) track(c *wsConn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.conns[c] = struct{}{}
	return !t.draining
}

func (t *wsTransport) untrack(c *wsConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.conns, c)
	t.closeDrainedLocked()
}

// closeDrainedLocked signals Shutdown once the last connection has gone;
// t.mu is held. A connection accepted as the drain began may come and go
// after that: drained is closed only once.
func (t *wsTransport) closeDrainedLocked() {
	if !t.draining || len(t.conns) > 0 {
		return
	}
	select {
	case <-t.drained:
	default:
		close(t.drained)
	}
}
