package apitest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// WSMessage is one protocol message.
type WSMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// WS is a websocket GraphQL client speaking graphql-transport-ws (or the
// legacy graphql-ws subprotocol).
type WS struct {
	t       testing.TB
	Conn    *websocket.Conn
	pending map[string][]WSMessage
}

// DialWS opens a websocket to the server's /graphql with the subprotocol;
// header may carry an Authorization header for the upgrade.
func (s *Server) DialWS(t testing.TB, subprotocol string, header http.Header) *WS {
	t.Helper()
	ws, err := DialWSURL(s.URL, subprotocol, header)
	if err != nil {
		t.Fatal(err)
	}
	ws.t = t
	t.Cleanup(func() { _ = ws.Conn.CloseNow() })
	return ws
}

// DialWSSlowReader opens a websocket whose TCP receive buffer is tiny, so
// that the server's writes block as soon as the client stops reading: a
// client on a slow link.
func (s *Server) DialWSSlowReader(t testing.TB, subprotocol string) *WS {
	t.Helper()
	dialer := &net.Dialer{Control: func(_, _ string, raw syscall.RawConn) error {
		var err error
		if cerr := raw.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048)
		}); cerr != nil {
			return cerr
		}
		return err
	}}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	ws, err := dialWS(s.URL, &websocket.DialOptions{Subprotocols: []string{subprotocol}, HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	ws.t = t
	t.Cleanup(func() { _ = ws.Conn.CloseNow() })
	return ws
}

// DialWSURL opens a websocket to base + /graphql.
func DialWSURL(base, subprotocol string, header http.Header) (*WS, error) {
	return dialWS(base, &websocket.DialOptions{Subprotocols: []string{subprotocol}, HTTPHeader: header})
}

func dialWS(base string, opts *websocket.DialOptions) (*WS, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(base, "http") + "/graphql"
	c, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	c.SetReadLimit(1 << 20)
	return &WS{Conn: c, pending: map[string][]WSMessage{}}, nil
}

// Send writes one message.
func (w *WS) Send(m WSMessage) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, _ := json.Marshal(m)
	if err := w.Conn.Write(ctx, websocket.MessageText, b); err != nil {
		w.t.Fatalf("ws write: %v", err)
	}
}

// SendRaw writes raw text.
func (w *WS) SendRaw(text string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.Conn.Write(ctx, websocket.MessageText, []byte(text)); err != nil {
		w.t.Fatalf("ws write: %v", err)
	}
}

// Read returns the next message that is not a ping, pong or keep-alive,
// or an error (a close carries its status, see websocket.CloseStatus).
func (w *WS) Read(timeout time.Duration) (WSMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		m, err := w.readAny(ctx)
		if err != nil {
			return WSMessage{}, err
		}
		switch m.Type {
		case "ping", "pong", "ka":
			continue
		}
		return m, nil
	}
}

// readAny returns the next message, whatever its type.
func (w *WS) readAny(ctx context.Context) (WSMessage, error) {
	_, b, err := w.Conn.Read(ctx)
	if err != nil {
		return WSMessage{}, err
	}
	var m WSMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return WSMessage{}, fmt.Errorf("bad message %q: %w", b, err)
	}
	return m, nil
}

// MustRead is Read that fails the test on error.
func (w *WS) MustRead(timeout time.Duration) WSMessage {
	w.t.Helper()
	m, err := w.Read(timeout)
	if err != nil {
		w.t.Fatalf("ws read: %v", err)
	}
	return m
}

// Init sends connection_init with the token and waits for the ack.
func (w *WS) Init(token string) {
	w.t.Helper()
	payload, _ := json.Marshal(map[string]string{"Authorization": "Bearer " + token})
	w.Send(WSMessage{Type: "connection_init", Payload: payload})
	if m := w.MustRead(10 * time.Second); m.Type != "connection_ack" {
		w.t.Fatalf("expected connection_ack, got %+v", m)
	}
}

// Subscribe starts an operation under id (subscribe, or start for the
// legacy protocol).
func (w *WS) Subscribe(id, query string, vars map[string]any) {
	w.t.Helper()
	typ := "subscribe"
	if w.Conn.Subprotocol() == "graphql-ws" {
		typ = "start"
	}
	payload, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	w.Send(WSMessage{ID: id, Type: typ, Payload: payload})
}

// NextFor returns the next message of the operation id, keeping messages of
// other operations for their own NextFor: several subscriptions share one
// connection and their messages interleave.
func (w *WS) NextFor(id string, timeout time.Duration) WSMessage {
	w.t.Helper()
	if q := w.pending[id]; len(q) > 0 {
		w.pending[id] = q[1:]
		return q[0]
	}
	deadline := time.Now().Add(timeout)
	for {
		m, err := w.Read(time.Until(deadline))
		if err != nil {
			w.t.Fatalf("ws read waiting for %s: %v", id, err)
		}
		if m.ID == id {
			return m
		}
		w.pending[m.ID] = append(w.pending[m.ID], m)
	}
}

// Pending reports messages read but not yet taken by NextFor.
func (w *WS) Pending() int {
	n := 0
	for _, q := range w.pending {
		n += len(q)
	}
	return n
}

// CloseStatus waits for the server to close the connection and returns the
// close code (-1 when it did not close in time).
func (w *WS) CloseStatus(timeout time.Duration) websocket.StatusCode {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		_, err := w.Read(time.Until(deadline))
		if err != nil {
			return websocket.CloseStatus(err)
		}
	}
	return -1
}

// Ping sends a graphql-transport-ws ping and waits for its pong. The server
// reads a connection's messages in order, so the pong also says it has
// taken every message sent before the ping. Other messages that arrive
// meanwhile are kept for NextFor.
func (w *WS) Ping(timeout time.Duration) {
	w.t.Helper()
	w.Send(WSMessage{Type: "ping"})
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		m, err := w.readAny(ctx)
		if err != nil {
			w.t.Fatalf("ws read waiting for pong: %v", err)
		}
		switch m.Type {
		case "pong":
			return
		case "ping", "ka":
			continue
		}
		w.pending[m.ID] = append(w.pending[m.ID], m)
	}
}

// Errors decodes an error message's payload: a list on
// graphql-transport-ws, one error on the legacy graphql-ws.
func (m WSMessage) Errors() ([]GQLError, error) {
	if m.Type != "error" {
		return nil, fmt.Errorf("%s message for %q, not an error: %s", m.Type, m.ID, m.Payload)
	}
	var list []GQLError
	if err := json.Unmarshal(m.Payload, &list); err == nil {
		return list, nil
	}
	var one GQLError
	if err := json.Unmarshal(m.Payload, &one); err != nil {
		return nil, fmt.Errorf("error payload %s: %w", m.Payload, err)
	}
	return []GQLError{one}, nil
}
