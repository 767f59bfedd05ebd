package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/coder/websocket"
	"go.opentelemetry.io/otel/trace"

	"cpor/auth"
	"cpor/tracing"
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
	verifier         *auth.Verifier
	origins          []string
	maxSubscriptions int
	initTimeout      time.Duration
	writeTimeout     time.Duration
	pinger           *pinger
	log              *slog.Logger
	tracer           trace.Tracer // nil: subscription events are not traced

	mu       sync.Mutex
	conns    map[*wsConn]struct{} // open connections, for Shutdown to end
	draining bool                 // Shutdown has begun: no new connections
	drained  chan struct{}        // closed when draining and the last connection has closed
}

// open counts the websocket connections open now.
func (t *wsTransport) open() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

// newWSTransport builds the websocket transport. A Stopping context in
// the dependencies drains it when it ends, allowing 10 s.
func newWSTransport(cfg Config, d Deps) *wsTransport {
	t := &wsTransport{
		verifier:         d.Verifier,
		origins:          cfg.AllowedOrigins,
		maxSubscriptions: cfg.MaxSubscriptions,
		initTimeout:      cfg.InitTimeout,
		writeTimeout:     10 * time.Second,
		pinger:           newPinger(cfg.KeepAlive),
		log:              d.Log,
		conns:            map[*wsConn]struct{}{},
	}
	if tracing.On(d.TracerProvider) {
		t.tracer = d.TracerProvider.Tracer(tracerName)
	}
	return t
}

var _ graphql.Transport = (*wsTransport)(nil)

func (t *wsTransport) Supports(r *http.Request) bool {
	return r.Header.Get("Upgrade") != ""
}

func (t *wsTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	if t.isDraining() {
		t.refuseUpgrade(w)
		return
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:       protocolNames(),
		OriginPatterns:     t.origins,
		InsecureSkipVerify: slices.Contains(t.origins, "*"),
		// Compression costs tens of KiB per connection; events are small.
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return // Accept has answered the request
	}
	conn.SetReadLimit(1 << 20)
	// The request's values (the identity of an Authorization header) stay;
	// its cancellation, which comes when this handler returns, does not.
	c := newWSConn(context.WithoutCancel(r.Context()), t, conn, exec)
	if !t.track(c) {
		c.close(websocket.StatusGoingAway, "Server shutting down")
	}
	go c.serve()
}
