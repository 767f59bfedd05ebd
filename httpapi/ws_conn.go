package httpapi

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// wsConn is one websocket connection.
type wsConn struct {
	t     *wsTransport
	conn  *websocket.Conn
	exec  graphql.GraphExecutor
	proto wsProtocol

	// running counts the operations started and not yet done (their last
	// message written), for Shutdown to wait for.
	running sync.WaitGroup

	mu       sync.Mutex
	ctx      context.Context // carries the identity once initialised
	acked    bool
	closing  bool
	closed   chan struct{} // closed when a close handshake started by close ends
	lastRead time.Time
	ops      map[string]*wsOperation
	// refusal, once set, is why the connection takes no new operation
	// (its token expired; the server is shutting down).
	refusal error
	expiry  *time.Timer
}

func newWSConn(ctx context.Context, t *wsTransport, conn *websocket.Conn, exec graphql.GraphExecutor) *wsConn {
	return &wsConn{
		t: t, conn: conn, exec: exec, proto: protocolNamed(conn.Subprotocol()),
		ctx: ctx, ops: map[string]*wsOperation{}, closed: make(chan struct{}),
	}
}

// serve is the connection's reader, its one long-lived goroutine.
func (c *wsConn) serve() {
	initTimer := time.AfterFunc(c.t.initTimeout, func() {
		c.close(closeInitTimeout, "Connection initialisation timeout")
	})
	defer initTimer.Stop()
	defer c.t.untrack(c)
	c.touch()
	c.t.pinger.add(c)
	defer c.end()
	for {
		_, data, err := c.conn.Read(context.Background())
		if err != nil {
			return
		}
		c.touch()
		req, m, ok := c.parse(data)
		if !ok {
			c.close(closeBadRequest, "Invalid message")
			return
		}
		if !c.onFreshStack(func() bool { return c.handle(req, m, initTimer) }) {
			return
		}
	}
}

// parse reads a client message; false for one that is not JSON or that the
// protocol does not let a client send.
func (c *wsConn) parse(data []byte) (wsRequest, wsMessage, bool) {
	var m wsMessage
	if json.Unmarshal(data, &m) != nil {
		return 0, m, false
	}
	req, ok := c.proto.request(m.Type)
	return req, m, ok
}

// onFreshStack runs f on a short-lived goroutine and waits for it. The
// reader goroutine lives as long as the connection and is parked nearly
// all that time; what initialisation and subscribing run (token checks,
// gqlgen's parser and resolvers) would grow its stack several-fold, and an
// idle goroutine's stack is rarely shrunk, as no collection runs while the
// server idles. The helper's large stack goes back to the runtime at once.
func (c *wsConn) onFreshStack(f func() bool) bool {
	done := make(chan bool, 1)
	go func() { done <- f() }()
	return <-done
}

// handle acts on one client message; false ends the connection.
func (c *wsConn) handle(req wsRequest, m wsMessage, initTimer *time.Timer) bool {
	switch req {
	case requestInit:
		return c.init(m.Payload, initTimer)
	case requestPing:
		c.send(wsMessage{Type: "pong", Payload: m.Payload})
	case requestPong:
	case requestStart:
		return c.start(m)
	case requestStop:
		c.stop(m.ID)
	case requestTerminate:
		c.close(websocket.StatusNormalClosure, "Terminated")
		return false
	}
	return true
}

// stop ends an operation the client completed.
func (c *wsConn) stop(id string) {
	c.mu.Lock()
	op := c.ops[id]
	delete(c.ops, id)
	c.mu.Unlock()
	if op != nil {
		op.cancel()
		if c.proto.confirmsStop() {
			c.sendComplete(id)
		}
	}
}

// release unregisters an operation the server ended; false if the client
// had already completed it.
func (c *wsConn) release(op *wsOperation) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ops[op.id] != op {
		return false
	}
	delete(c.ops, op.id)
	return true
}

// failOperation ends an operation that never ran.
func (c *wsConn) failOperation(op *wsOperation, errs gqlerror.List) {
	defer c.running.Done()
	op.cancel()
	if c.release(op) {
		c.sendErrors(op.id, errs)
	}
}

// end cancels every operation when the connection goes.
func (c *wsConn) end() {
	c.t.pinger.remove(c)
	c.mu.Lock()
	if c.expiry != nil {
		c.expiry.Stop()
	}
	ops := c.ops
	c.ops = map[string]*wsOperation{}
	c.mu.Unlock()
	for _, op := range ops {
		op.cancel()
	}
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if closing {
		<-c.closed // let the close frame reach the peer (coder bounds the wait)
		return
	}
	_ = c.conn.CloseNow()
}

func (c *wsConn) touch() {
	c.mu.Lock()
	c.lastRead = time.Now()
	c.mu.Unlock()
}

// close closes the connection with a code; the handshake runs in the
// background so a silent peer cannot stall anyone.
func (c *wsConn) close(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closing = true
	c.mu.Unlock()
	go func() {
		defer close(c.closed)
		_ = c.conn.Close(code, reason)
	}()
}

func (c *wsConn) send(m wsMessage) {
	c.write(encodeMessage(m.ID, m.Type, m.Payload))
}

// sendResponse sends one execution result.
func (c *wsConn) sendResponse(id string, resp *graphql.Response) {
	b, err := json.Marshal(resp)
	if err != nil {
		c.t.log.Error("encode response", "err", err)
		return
	}
	c.write(encodeMessage(id, c.proto.resultType(), b))
}

// sendErrors ends an operation with errors.
func (c *wsConn) sendErrors(id string, errs gqlerror.List) {
	c.send(wsMessage{ID: id, Type: "error", Payload: c.proto.errorPayload(errs)})
}

func (c *wsConn) sendComplete(id string) { c.send(wsMessage{ID: id, Type: "complete"}) }

// write sends one frame; a client that does not read within the write
// timeout loses its connection rather than holding a writer forever.
func (c *wsConn) write(b []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), c.t.writeTimeout)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		_ = c.conn.CloseNow()
	}
}

// ping sends the protocol's keep-alive, or ends a silent connection.
func (c *wsConn) ping(interval time.Duration) {
	c.mu.Lock()
	silent, acked := time.Since(c.lastRead) > 2*interval, c.acked
	c.mu.Unlock()
	if !acked {
		return
	}
	m, alive := c.proto.keepAlive(silent)
	if !alive {
		_ = c.conn.CloseNow()
		return
	}
	c.send(m)
}
