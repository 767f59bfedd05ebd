package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"cpor/apperr"
	"cpor/auth"
	"cpor/live"
)

// Close codes of the graphql-transport-ws protocol.
const (
	closeBadRequest       = 4400
	closeUnauthorized     = 4401
	closeForbidden        = 4403
	closeInitTimeout      = 4408
	closeDuplicateID      = 4409
	closeTooManyInitCalls = 4429
)

const transportWS = "graphql-transport-ws"

// clientMessageTypes are the messages a client may send, by subprotocol
// (no subprotocol is the legacy graphql-ws).
var clientMessageTypes = map[bool][]string{
	false: {"connection_init", "subscribe", "complete", "ping", "pong"},
	true:  {"connection_init", "start", "stop", "connection_terminate"},
}

// wsTransport serves GraphQL over websockets: graphql-transport-ws and the
// legacy graphql-ws subprotocol, on coder/websocket and gqlgen's executor.
//
// It is written for many long-lived subscribers: a connection costs one
// goroutine (its reader, started afresh so it keeps a small stack; the
// upgrade request's handler returns); a subscription costs none while
// idle. The live hub hands each event to the operations allowed to see it;
// only then does a short-lived goroutine per operation render the event
// through gqlgen, once for all operations of the same shape, and write it.
// Keep-alives come from one shared pinger.
type wsTransport struct {
	stopping         context.Context
	verifier         *auth.Verifier
	origins          []string
	maxSubscriptions int
	initTimeout      time.Duration
	writeTimeout     time.Duration
	pinger           *pinger
	log              *slog.Logger
}

var _ graphql.Transport = (*wsTransport)(nil)

func (t *wsTransport) Supports(r *http.Request) bool {
	return r.Header.Get("Upgrade") != ""
}

func (t *wsTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:       []string{transportWS, "graphql-ws"},
		OriginPatterns:     t.origins,
		InsecureSkipVerify: slices.Contains(t.origins, "*"),
		// Compression costs tens of KiB per connection; events are small.
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return // Accept has answered the request
	}
	conn.SetReadLimit(1 << 20)
	c := &wsConn{
		t: t, conn: conn, exec: exec,
		// The request's values (the identity of an Authorization header)
		// stay; its cancellation, which comes when this handler returns,
		// does not.
		ctx:    context.WithoutCancel(r.Context()),
		legacy: conn.Subprotocol() != transportWS, ops: map[string]*wsOperation{}, closed: make(chan struct{}),
	}
	go c.serve()
}

// wsConn is one websocket connection.
type wsConn struct {
	t      *wsTransport
	conn   *websocket.Conn
	exec   graphql.GraphExecutor
	legacy bool

	mu       sync.Mutex
	ctx      context.Context // carries the identity once initialised
	acked    bool
	closing  bool
	closed   chan struct{} // closed when a close handshake started by close ends
	lastRead time.Time
	ops      map[string]*wsOperation
}

func (c *wsConn) serve() {
	initTimer := time.AfterFunc(c.t.initTimeout, func() {
		c.close(closeInitTimeout, "Connection initialisation timeout")
	})
	defer initTimer.Stop()
	stop := context.AfterFunc(c.t.stopping, func() { c.close(websocket.StatusGoingAway, "Server shutting down") })
	defer stop()
	c.touch()
	c.t.pinger.add(c)
	defer c.end()
	for {
		_, data, err := c.conn.Read(context.Background())
		if err != nil {
			return
		}
		c.touch()
		var m wsMessage
		if json.Unmarshal(data, &m) != nil || !slices.Contains(clientMessageTypes[c.legacy], m.Type) {
			c.close(closeBadRequest, "Invalid message")
			return
		}
		if !c.onFreshStack(func() bool { return c.handle(m, initTimer) }) {
			return
		}
	}
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

// wsMessage is a message of either protocol.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// handle acts on one client message; false ends the connection.
func (c *wsConn) handle(m wsMessage, initTimer *time.Timer) bool {
	switch m.Type {
	case "connection_init":
		return c.init(m.Payload, initTimer)
	case "ping":
		c.send(wsMessage{Type: "pong", Payload: m.Payload})
	case "pong":
	case "subscribe", "start":
		return c.start(m)
	case "complete", "stop":
		c.stop(m.ID)
	case "connection_terminate":
		c.close(websocket.StatusNormalClosure, "Terminated")
		return false
	}
	return true
}

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
		if c.legacy {
			c.send(wsMessage{Type: "connection_error", Payload: mustJSON(map[string]string{"message": msg})})
		}
		c.close(closeForbidden, "Forbidden: "+truncate(msg, 100))
		return false
	}
	initTimer.Stop()
	c.mu.Lock()
	c.ctx, c.acked = ctx, true
	c.mu.Unlock()
	c.send(wsMessage{Type: "connection_ack"})
	if c.legacy {
		c.send(wsMessage{Type: "ka"})
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

// start begins an operation: a subscription stays registered, a query or
// mutation answers once.
func (c *wsConn) start(m wsMessage) bool {
	c.mu.Lock()
	switch {
	case !c.acked:
		c.mu.Unlock()
		c.close(closeUnauthorized, "Unauthorized")
		return false
	case m.ID == "":
		c.mu.Unlock()
		c.close(closeBadRequest, "Subscription needs an id")
		return false
	}
	if _, dup := c.ops[m.ID]; dup {
		c.mu.Unlock()
		c.close(closeDuplicateID, "Subscriber for "+truncate(m.ID, 64)+" already exists")
		return false
	}
	if len(c.ops) >= c.t.maxSubscriptions {
		c.mu.Unlock()
		c.sendErrors(m.ID, gqlerror.List{{Message: "Too many subscriptions on this connection; complete one first.",
			Extensions: map[string]any{"code": "TOO_MANY_SUBSCRIPTIONS"}}})
		return true
	}
	ctx, cancel := context.WithCancel(c.ctx)
	op := &wsOperation{c: c, id: m.ID, cancel: cancel}
	c.ops[m.ID] = op
	c.mu.Unlock()

	var params graphql.RawParams
	if err := json.Unmarshal(m.Payload, &params); err != nil || params.Query == "" {
		c.failOperation(op, gqlerror.List{{Message: "The payload needs a query.", Extensions: map[string]any{"code": apperr.InvalidInput}}})
		return true
	}
	start := graphql.Now()
	params.ReadTime = graphql.TraceTiming{Start: start, End: start}
	ctx = graphql.StartOperationTrace(ctx)
	rc, errs := c.exec.CreateOperationContext(ctx, &params)
	if errs != nil {
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		c.failOperation(op, resp.Errors)
		return true
	}
	if rc.Operation.Operation != ast.Subscription {
		go op.answerOnce(ctx, rc)
		return true
	}
	op.subscribe(ctx, rc)
	return true
}

// stop ends an operation the client completed. graphql-transport-ws sends
// nothing more for it; the legacy protocol confirms with complete.
func (c *wsConn) stop(id string) {
	c.mu.Lock()
	op := c.ops[id]
	delete(c.ops, id)
	c.mu.Unlock()
	if op != nil {
		op.cancel()
		if c.legacy {
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

func (c *wsConn) failOperation(op *wsOperation, errs gqlerror.List) {
	op.cancel()
	if c.release(op) {
		c.sendErrors(op.id, errs)
	}
}

// end cancels every operation when the connection goes.
func (c *wsConn) end() {
	c.t.pinger.remove(c)
	c.mu.Lock()
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
	c.write(encodeMessage(id, c.nextType(), b))
}

// nextType names the message that carries a result.
func (c *wsConn) nextType() string {
	if c.legacy {
		return "data"
	}
	return "next"
}

// sendErrors ends an operation with errors: an array on
// graphql-transport-ws, the first error's object on graphql-ws.
func (c *wsConn) sendErrors(id string, errs gqlerror.List) {
	var payload any = errs
	if c.legacy && len(errs) > 0 {
		payload = errs[0]
	}
	c.send(wsMessage{ID: id, Type: "error", Payload: mustJSON(payload)})
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
	switch {
	case !acked:
	case c.legacy:
		c.send(wsMessage{Type: "ka"})
	case silent:
		_ = c.conn.CloseNow()
	default:
		c.send(wsMessage{Type: "ping"})
	}
}

// wsOperation is one operation of a connection.
type wsOperation struct {
	c      *wsConn
	id     string
	cancel context.CancelFunc

	// shape identifies what the operation renders for an event: the same
	// query and variables for a viewer with the same access render the
	// same bytes, so one rendering serves every such subscriber.
	shape string

	render sync.Mutex // one gqlgen execution at a time

	mu        sync.Mutex
	responses graphql.ResponseHandler
	ctx       context.Context
	streaming bool        // the resolver returned a stream (else: one error response)
	armed     bool        // responses is set
	pending   int         // Ready calls not yet answered by a responses call
	queue     []liveEvent // live events waiting to be rendered and written
	draining  bool
	ended     error
}

// liveEvent is an event the hub handed to an operation, with the push
// that puts it on the operation's own stream when it must render it.
type liveEvent struct {
	delivery *live.Delivery
	push     func() bool
}

// maxQueued bounds an operation's live events waiting to be written; a
// client that falls this far behind is ended as too slow.
const maxQueued = 64

// answerOnce runs a query or mutation sent over the websocket.
func (op *wsOperation) answerOnce(ctx context.Context, rc *graphql.OperationContext) {
	defer op.cancel()
	responses, ctx := op.c.exec.DispatchOperation(ctx, rc)
	resp := responses(ctx)
	if !op.c.release(op) {
		return
	}
	if resp != nil {
		op.c.sendResponse(op.id, resp)
	}
	op.c.sendComplete(op.id)
}

// subscribe runs the subscription's root resolver now (it registers with
// the hub and returns the stream); events are then read as the hub
// announces them.
func (op *wsOperation) subscribe(ctx context.Context, rc *graphql.OperationContext) {
	op.shape = shapeOf(ctx, rc)
	ctx = live.WithHooks(ctx, live.Hooks{Ready: op.ready, Ended: op.end, Subscribed: op.streamStarted, Deliver: op.deliver})
	responses, ctx := op.c.exec.DispatchOperation(ctx, rc)
	op.mu.Lock()
	op.responses, op.ctx, op.armed = responses, ctx, true
	streaming := op.streaming
	if !streaming {
		op.pending++ // the one response carrying the resolver's errors
	}
	run := (op.pending > 0 || len(op.queue) > 0) && !op.draining
	op.draining = op.draining || run
	op.mu.Unlock()
	if run {
		go op.drain()
	}
}

// shapeOf keys what an operation renders: its document, operation name and
// variables, and the viewer's access (roles, organisation, tenant), which
// is all that decides what a claim shows.
func shapeOf(ctx context.Context, rc *graphql.OperationContext) string {
	vars, _ := json.Marshal(rc.Variables)
	h := sha256.New()
	for _, part := range []string{rc.RawQuery, rc.OperationName, string(vars)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	if id, err := auth.FromContext(ctx); err == nil {
		roles := make([]string, len(id.Roles))
		for i, r := range id.Roles {
			roles[i] = string(r)
		}
		slices.Sort(roles)
		fmt.Fprintf(h, "%s|%s|%s", strings.Join(roles, ","), id.OrganizationID, id.TenantID)
	}
	return string(h.Sum(nil))
}

// deliver takes a live event from the hub and queues it; it runs on the
// hub's goroutine, so rendering waits for the operation's drain.
func (op *wsOperation) deliver(d *live.Delivery, push func() bool) bool {
	op.mu.Lock()
	if len(op.queue) >= maxQueued {
		op.mu.Unlock()
		return false
	}
	op.queue = append(op.queue, liveEvent{d, push})
	run := op.armed && !op.draining
	op.draining = op.draining || run
	op.mu.Unlock()
	if run {
		go op.drain()
	}
	return true
}

// rendered returns the event's bytes for this operation: rendered once per
// shape, by the first of its subscribers to get there, through gqlgen.
// Nil means the operation's stream has ended.
func (op *wsOperation) rendered(e liveEvent) []byte {
	return e.delivery.Rendered(op.shape, func() []byte {
		op.render.Lock()
		defer op.render.Unlock()
		op.mu.Lock()
		streaming := op.streaming
		op.mu.Unlock()
		if !streaming || !e.push() {
			return nil
		}
		resp := op.responses(op.ctx)
		if resp == nil {
			return nil
		}
		b, err := json.Marshal(resp)
		if err != nil {
			op.c.t.log.Error("encode event", "err", err)
			return nil
		}
		return b
	})
}

func (op *wsOperation) streamStarted() {
	op.mu.Lock()
	op.streaming = true
	op.mu.Unlock()
}

// ready is the hub's announcement of a queued event (or of the stream's
// end); it runs on the hub's goroutine and only schedules work.
func (op *wsOperation) ready() {
	op.mu.Lock()
	op.pending++
	run := op.armed && !op.draining
	op.draining = op.draining || run
	op.mu.Unlock()
	if run {
		go op.drain()
	}
}

func (op *wsOperation) end(reason error) {
	op.mu.Lock()
	op.ended = reason
	op.mu.Unlock()
}

// drain writes live events, then answers every announcement, in order,
// one responses call each.
func (op *wsOperation) drain() {
	for {
		op.mu.Lock()
		if len(op.queue) > 0 {
			e := op.queue[0]
			op.queue = op.queue[1:]
			op.mu.Unlock()
			payload := op.rendered(e)
			if payload == nil {
				// The stream ended under the queue: what follows must not
				// be delivered past a gap, which a client resuming from
				// its last cursor would never see filled.
				op.mu.Lock()
				op.queue = nil
				op.mu.Unlock()
				continue
			}
			op.c.write(encodeMessage(op.id, op.c.nextType(), payload))
			continue
		}
		if op.pending == 0 {
			op.draining = false
			op.mu.Unlock()
			return
		}
		op.pending--
		op.mu.Unlock()
		op.render.Lock()
		resp := op.responses(op.ctx)
		op.render.Unlock()
		if resp == nil || !op.streaming {
			if resp != nil {
				op.c.sendResponse(op.id, resp)
			}
			op.finish()
			return
		}
		op.c.sendResponse(op.id, resp)
	}
}

// finish ends a stream the server closed: with an error saying why when
// the hub ended it, else with complete.
func (op *wsOperation) finish() {
	op.cancel()
	if !op.c.release(op) {
		return // the client completed it
	}
	op.mu.Lock()
	reason := op.ended
	op.mu.Unlock()
	if reason == nil {
		op.c.sendComplete(op.id)
		return
	}
	code := "SLOW_CONSUMER"
	if errors.Is(reason, live.ErrExpired) {
		code = string(apperr.Unauthenticated)
	}
	op.c.sendErrors(op.id, gqlerror.List{{Message: reason.Error(), Extensions: map[string]any{"code": code}}})
}

// encodeMessage writes a protocol message around an already encoded
// payload, which json.Marshal would copy and re-validate.
func encodeMessage(id, typ string, payload json.RawMessage) []byte {
	b := make([]byte, 0, len(payload)+len(id)+40)
	b = append(b, '{')
	if id != "" {
		b = append(b, `"id":`...)
		b = append(b, mustJSON(id)...)
		b = append(b, ',')
	}
	b = append(b, `"type":"`...)
	b = append(b, typ...)
	b = append(b, '"')
	if len(payload) > 0 {
		b = append(b, `,"payload":`...)
		b = append(b, payload...)
	}
	return append(b, '}')
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// pinger keeps every connection alive from one goroutine rather than a
// ticker goroutine per connection: a ping (graphql-transport-ws) or
// keep-alive message (graphql-ws) each interval, and a close for a peer
// that has sent nothing, not even a pong, for two intervals. It runs only
// while connections exist.
type pinger struct {
	interval time.Duration
	mu       sync.Mutex
	conns    map[*wsConn]struct{}
	running  bool
}

func newPinger(interval time.Duration) *pinger {
	return &pinger{interval: interval, conns: map[*wsConn]struct{}{}}
}

func (p *pinger) add(c *wsConn) {
	if p.interval <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns[c] = struct{}{}
	if !p.running {
		p.running = true
		go p.run()
	}
}

func (p *pinger) remove(c *wsConn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *pinger) run() {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for range t.C {
		p.mu.Lock()
		if len(p.conns) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		conns := make([]*wsConn, 0, len(p.conns))
		for c := range p.conns {
			conns = append(conns, c)
		}
		p.mu.Unlock()
		for _, c := range conns {
			c.ping(p.interval)
		}
	}
}
