package httpapi

import (
	"bytes"
	"context"
	"cpor/auth"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
)

// Close codes of the graphql-transport-ws protocol.
const (
	closeBadRequest   = 4400
	closeUnauthorized = 4401
	closeForbidden    = 4403
	closeInitTimeout  = 4408
	closeDuplicateID  = 4409
)

// wsGuard accepts websocket connections for gqlgen's websocket transport
// (on coder/websocket) and adds what the protocol asks of a server that
// gqlgen leaves out: 4401 for a subscribe before the connection is
// acknowledged, 4409 for a subscription ID already in use, 4408 and 4400
// instead of a generic protocol error for a missing init and a malformed
// message, a cap on subscriptions per connection, and a write timeout so a
// client that stops reading cannot hold a writer forever.
type wsGuard struct {
	origins          []string
	maxSubscriptions int
	writeTimeout     time.Duration
	pinger           *pinger
}

func (g *wsGuard) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	for k, vs := range opts.ResponseHeader {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:       opts.Subprotocols,
		OriginPatterns:     g.origins,
		InsecureSkipVerify: slices.Contains(g.origins, "*"),
		// Compression costs tens of KiB per connection; events are small.
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, err
	}
	c := &guardedConn{conn: conn, guard: g, active: map[string]struct{}{}}
	g.pinger.add(c)
	return c, nil
}

// clientMessageTypes are the messages a client may send, by subprotocol
// (no subprotocol is the legacy graphql-ws).
var clientMessageTypes = map[string][]string{
	"graphql-transport-ws": {"connection_init", "subscribe", "complete", "ping", "pong"},
	"graphql-ws":           {"connection_init", "start", "stop", "connection_terminate"},
	"":                     {"connection_init", "start", "stop", "connection_terminate"},
}

type guardedConn struct {
	conn  *websocket.Conn
	guard *wsGuard

	mu           sync.Mutex
	active       map[string]struct{}
	acked        bool
	closing      bool
	readDeadline *time.Timer
	lastRead     time.Time
}

// NextReader reads the next client message, checking subscription IDs
// before gqlgen sees them.
func (c *guardedConn) NextReader() (int, io.Reader, error) {
	for {
		typ, data, err := c.conn.Read(context.Background())
		c.mu.Lock()
		c.lastRead = time.Now()
		c.mu.Unlock()
		if err != nil {
			switch websocket.CloseStatus(err) {
			case websocket.StatusNormalClosure, websocket.StatusNoStatusRcvd:
				return int(typ), nil, transport.ErrWebsocketClosed
			}
			return int(typ), nil, err
		}
		var head struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		}
		if json.Unmarshal(data, &head) != nil || !slices.Contains(clientMessageTypes[c.conn.Subprotocol()], head.Type) {
			_ = c.WriteClose(closeBadRequest, "Invalid message")
			return int(typ), nil, transport.ErrWebsocketClosed
		}
		{
			switch head.Type {
			case "subscribe", "start":
				code, reason, refuse := c.admit(head.ID)
				if refuse {
					c.writeSubscriptionError(head.ID, reason)
					continue
				}
				if code != 0 {
					_ = c.WriteClose(code, reason)
					return int(typ), nil, transport.ErrWebsocketClosed
				}
			case "complete", "stop":
				c.release(head.ID)
			}
		}
		return int(typ), bytes.NewReader(data), nil
	}
}

// admit decides on a new subscription: a close code for a protocol
// violation, or refuse for one over the cap (which only that subscription
// pays for).
func (c *guardedConn) admit(id string) (code int, reason string, refuse bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case !c.acked:
		return closeUnauthorized, "Unauthorized", false
	case id == "":
		return closeBadRequest, "Subscription needs an id", false
	}
	if _, dup := c.active[id]; dup {
		return closeDuplicateID, "Subscriber for " + id + " already exists", false
	}
	if len(c.active) >= c.guard.maxSubscriptions {
		return 0, "Too many subscriptions on this connection; complete one first", true
	}
	c.active[id] = struct{}{}
	return 0, "", false
}

func (c *guardedConn) release(id string) {
	c.mu.Lock()
	delete(c.active, id)
	c.mu.Unlock()
}

// writeSubscriptionError ends one subscription with an error message in
// the connection's protocol.
func (c *guardedConn) writeSubscriptionError(id, message string) {
	gqlErr := map[string]any{"message": message, "extensions": map[string]any{"code": "TOO_MANY_SUBSCRIPTIONS"}}
	var payload any = []any{gqlErr}
	if c.conn.Subprotocol() != "graphql-transport-ws" {
		payload = gqlErr
	}
	_ = c.write(map[string]any{"id": id, "type": "error", "payload": payload})
}

// WriteJSON sends a server message, tracking the acknowledgement and the
// subscriptions the server ends.
func (c *guardedConn) WriteJSON(v any) error {
	typ, id, payload, ok := messageParts(v)
	if !ok {
		return c.write(v)
	}
	switch typ {
	case "connection_ack":
		c.mu.Lock()
		c.acked = true
		c.mu.Unlock()
	case "complete", "error":
		c.release(id)
	}
	return c.writeBytes(encodeMessage(id, typ, payload))
}

// encodeMessage writes a protocol message around an already encoded
// payload, which json.Marshal would copy and re-validate for every
// subscriber of every event.
func encodeMessage(id, typ string, payload json.RawMessage) []byte {
	b := make([]byte, 0, len(payload)+len(id)+40)
	b = append(b, '{')
	if id != "" {
		quoted, _ := json.Marshal(id)
		b = append(b, `"id":`...)
		b = append(b, quoted...)
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

func (c *guardedConn) write(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.writeBytes(data)
}

func (c *guardedConn) writeBytes(data []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.guard.writeTimeout)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, data); err != nil {
		_ = c.conn.CloseNow()
		return err
	}
	return nil
}

// messageParts reads the type, id and payload of one of gqlgen's message
// structs (which are unexported, hence the reflection).
func messageParts(v any) (typ, id string, payload json.RawMessage, ok bool) {
	rv := reflect.Indirect(reflect.ValueOf(v))
	if rv.Kind() != reflect.Struct {
		return "", "", nil, false
	}
	t, i, p := rv.FieldByName("Type"), rv.FieldByName("ID"), rv.FieldByName("Payload")
	if !t.IsValid() || t.Kind() != reflect.String || !i.IsValid() || i.Kind() != reflect.String || !p.IsValid() {
		return "", "", nil, false
	}
	// gqlgen encoded the payload itself, so it is valid JSON.
	raw, isRaw := p.Interface().(json.RawMessage)
	if !isRaw {
		return "", "", nil, false
	}
	return t.String(), i.String(), raw, true
}

// WriteClose closes with the protocol's own codes where gqlgen uses a
// generic protocol error. The close handshake runs in the background so a
// silent peer does not stall the transport.
func (c *guardedConn) WriteClose(code int, message string) error {
	if code == transport.WebsocketCloseProtocolError {
		switch message {
		case "connection initialisation timeout":
			code, message = closeInitTimeout, "Connection initialisation timeout"
		case "decoding error", "unexpected message", "invalid json":
			code, message = closeBadRequest, "Invalid message"
		}
	}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return nil
	}
	c.closing = true
	c.mu.Unlock()
	go func() { _ = c.conn.Close(websocket.StatusCode(code), message) }()
	return nil
}

func (c *guardedConn) Close() error {
	c.guard.pinger.remove(c)
	c.mu.Lock()
	closing := c.closing
	if c.readDeadline != nil {
		c.readDeadline.Stop()
	}
	c.mu.Unlock()
	if closing {
		return nil
	}
	return c.conn.CloseNow()
}

func (c *guardedConn) Subprotocol() string { return c.conn.Subprotocol() }

func (c *guardedConn) SetReadLimit(limit int64) { c.conn.SetReadLimit(limit) }

// SetReadDeadline ends a connection whose pong does not arrive in time.
func (c *guardedConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.readDeadline != nil {
		c.readDeadline.Stop()
		c.readDeadline = nil
	}
	if !t.IsZero() {
		c.readDeadline = time.AfterFunc(time.Until(t), func() { _ = c.conn.CloseNow() })
	}
	return nil
}

// pinger keeps every connection alive from one goroutine (rather than a
// ticker goroutine per connection): a ping (graphql-transport-ws) or keep-
// alive message (graphql-ws) each interval, and a close for a peer that
// has sent nothing, not even a pong, for two intervals. It runs only while
// connections exist.
type pinger struct {
	interval time.Duration
	mu       sync.Mutex
	conns    map[*guardedConn]struct{}
	running  bool
}

func newPinger(interval time.Duration) *pinger {
	return &pinger{interval: interval, conns: map[*guardedConn]struct{}{}}
}

func (p *pinger) add(c *guardedConn) {
	if p.interval <= 0 {
		return
	}
	c.mu.Lock()
	c.lastRead = time.Now()
	c.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns[c] = struct{}{}
	if !p.running {
		p.running = true
		go p.run()
	}
}

func (p *pinger) remove(c *guardedConn) {
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
		conns := make([]*guardedConn, 0, len(p.conns))
		for c := range p.conns {
			conns = append(conns, c)
		}
		p.mu.Unlock()
		for _, c := range conns {
			c.ping(p.interval)
		}
	}
}

// ping sends the protocol's keep-alive, or ends a silent connection.
func (c *guardedConn) ping(interval time.Duration) {
	c.mu.Lock()
	silent, acked := time.Since(c.lastRead) > 2*interval, c.acked
	c.mu.Unlock()
	if !acked {
		return
	}
	if c.conn.Subprotocol() == "graphql-transport-ws" {
		if silent {
			_ = c.conn.CloseNow()
			return
		}
		_ = c.writeBytes([]byte(`{"type":"ping"}`))
		return
	}
	_ = c.writeBytes([]byte(`{"type":"ka"}`))
}

var (
	_ transport.WebsocketImplementation = (*wsGuard)(nil)
	_ transport.WebsocketReadLimiter    = (*guardedConn)(nil)
	_ transport.WebsocketReadDeadliner  = (*guardedConn)(nil)
)

// websocketInit authenticates a websocket at connection_init: the token in
// the payload ({"Authorization": "Bearer …"}), or else the identity the
// upgrade request's Authorization header established. Without either the
// connection closes with 4403.
func websocketInit(v *auth.Verifier) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		raw := payload.Authorization()
		if raw == "" {
			raw = payload.GetString("token")
		}
		if raw != "" {
			token, ok := auth.BearerToken(raw)
			if !ok {
				token = raw
			}
			id, err := v.Verify(token)
			if err != nil {
				return transport.WithWebsocketCloseCode(ctx, closeForbidden), nil, err
			}
			return auth.WithIdentity(ctx, id), nil, nil
		}
		if _, err := auth.FromContext(ctx); err != nil {
			return transport.WithWebsocketCloseCode(ctx, closeForbidden), nil, err
		}
		return ctx, nil, nil
	}
}
