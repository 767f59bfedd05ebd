// Package httpapi serves the API over HTTP: GraphQL at /graphql (POST,
// GET for queries, multipart uploads, websockets), the playground,
// authorised document downloads and health checks; metrics go to a
// separate admin handler.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"

	"cpor/auth"
	"cpor/budget"
	"cpor/claims"
	"cpor/downloads"
	"cpor/gqlguard"
	"cpor/graph"
	"cpor/httpapi/playground"
	"cpor/loaders"
	"cpor/tracing"
	"cpor/web"
	"cpor/wiring"
)

// Config tunes the HTTP API.
type Config struct {
	// MaxUploadBytes bounds one proof-of-execution file.
	MaxUploadBytes int64
	// MaxBodyBytes bounds a JSON request body and a multipart request's
	// operations field.
	MaxBodyBytes int64
	// MaxResponseBytes bounds one result's data.
	MaxResponseBytes int
	// Document bounds each document before it is validated (gqlguard).
	Document gqlguard.Limits
	// DocumentCache and PersistedQueryCache bound the parsed-document and
	// persisted-query caches.
	DocumentCache, PersistedQueryCache gqlguard.CacheLimits
	// ComplexityLimit bounds the cost of one operation (see complexity.go).
	ComplexityLimit int
	// OperationTimeout is every query's and mutation's deadline.
	OperationTimeout time.Duration
	// Budget and AnonymousBudget are the cost budgets of signed-in callers
	// (per user) and anonymous ones (per client address).
	Budget, AnonymousBudget budget.Config
	// Introspection answers __schema and __type queries.
	Introspection bool
	// AllowedOrigins are the browser origins (scheme://host[:port]) other
	// than the API's own that may call it, over HTTP and websockets alike;
	// empty allows none, "*" any.
	AllowedOrigins []string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the
	// client.
	TrustedProxies []netip.Prefix
	// Playground serves the GraphiQL page at /, from assets in the binary.
	Playground bool
	// App serves the reference web app at /app.
	App bool
	// DemoUsers are offered by the playground's and the app's sign-in
	// (development only: their tokens are in the pages).
	DemoUsers []playground.User
	// MaxSubscriptions caps the subscriptions of one websocket connection.
	MaxSubscriptions int
	// KeepAlive is the interval of websocket pings (graphql-transport-ws)
	// and keep-alive messages (graphql-ws).
	KeepAlive time.Duration
	// InitTimeout closes a websocket that sends no connection_init (4408).
	InitTimeout time.Duration
	// MaxExports caps the claims exports running at once; each holds a
	// database connection while it streams.
	MaxExports int
}

// DefaultConfig are the limits used unless configured otherwise.
func DefaultConfig() Config {
	return Config{
		MaxUploadBytes:      claims.DefaultDocumentLimits.MaxBytes,
		MaxBodyBytes:        1 << 20,
		MaxResponseBytes:    8 << 20,
		Document:            gqlguard.DefaultLimits,
		DocumentCache:       gqlguard.DefaultDocumentCache,
		PersistedQueryCache: gqlguard.DefaultPersistedQueryCache,
		ComplexityLimit:     20000,
		OperationTimeout:    15 * time.Second,
		Budget:              budget.Config{Capacity: 200_000, PerSecond: 5_000, MaxCallers: 100_000},
		AnonymousBudget:     budget.Config{Capacity: 20_000, PerSecond: 200, MaxCallers: 100_000},
		Introspection:       true,
		Playground:          true,
		App:                 true,
		MaxSubscriptions:    50,
		KeepAlive:           25 * time.Second,
		InitTimeout:         10 * time.Second,
		MaxExports:          4,
	}
}

// Deps are what the handler serves.
type Deps struct {
	DB       *gorm.DB
	Verifier *auth.Verifier
	Services wiring.Services
	Log      *slog.Logger
	// Links signs and verifies the documents' download links; nil means a
	// signer over a random secret, whose links die with the process.
	Links *downloads.Signer
	// TracerProvider records spans of requests, operations and
	// subscription events; nil (or the no-op provider) records none and
	// adds no instrumentation.
	TracerProvider trace.TracerProvider
}

// API is the service's HTTP handler, with the admin handler beside it.
type API struct {
	handler  http.Handler
	metrics  *metrics
	guard    *gqlguard.Guard
	ws       *wsTransport
	draining atomic.Bool
}

// New returns the service's HTTP API.
func New(cfg Config, d Deps) *API {
	if d.Links == nil {
		d.Links = downloads.Ephemeral()
	}
	var hub liveStats
	if d.Services.Live != nil {
		hub = d.Services.Live
	}
	a := &API{
		metrics: newMetrics(hub, d.DB),
		guard:   gqlguard.New(cfg.Document, cfg.DocumentCache, cfg.PersistedQueryCache),
		ws:      newWSTransport(cfg, d),
	}
	a.metrics.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "cpor_websocket_connections", Help: "Websocket connections open now.",
	}, func() float64 { return float64(a.ws.open()) }))
	gql := a.newGraphQL(cfg, d)

	mux := http.NewServeMux()
	mux.Handle("/graphql", gql)
	mux.Handle("GET "+graph.DocumentPath+"{id}", downloadHandler(d.Services.Claims, d.Links, d.Log))
	mux.Handle("GET "+ExportPath, exportHandler(d.Services.Claims, d.Log, make(chan struct{}, max(cfg.MaxExports, 1))))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /readyz", readiness(d.DB, &a.draining))
	if cfg.Playground {
		page := playground.Handler(playground.Config{Title: "CPOR claims API", Endpoint: "/graphql", Users: cfg.DemoUsers})
		mux.Handle("GET /{$}", page)
		mux.Handle("GET "+playground.AssetPath, page)
	}
	if cfg.App {
		app := appHandler(cfg)
		mux.Handle("GET "+web.Path, app)
		mux.Handle("GET "+web.Root, app)
	}

	var h http.Handler = mux
	h = identify(d.Services.People, h)
	h = d.Verifier.Middleware(h)
	h = limitBody(cfg.MaxBodyBytes, maxUploadRequest(cfg), h)
	h = newOriginPolicy(cfg.AllowedOrigins).handler(h)
	h = accessLog(d.Log, a.metrics, mux, cfg.TrustedProxies, h)
	// Outermost, so that the access-log line and the CORS answers are
	// inside the request's span and carry its trace ID.
	a.handler = traced(d.TracerProvider, mux, h)
	return a
}

// appHandler serves the web app, offering the demo users at sign-in.
func appHandler(cfg Config) http.Handler {
	app := web.Config{Endpoint: "/graphql"}
	if cfg.Playground {
		app.Playground = "/"
	}
	for _, u := range cfg.DemoUsers {
		app.Users = append(app.Users, web.User{Handle: u.Handle, About: u.About, Token: u.Token})
	}
	return web.Handler(app)
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// Admin serves what operators, not clients, read: Prometheus metrics.
func (a *API) Admin() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promHandler(a.metrics))
	return mux
}

// Metrics is the registry /metrics serves, for the service's other parts
// (the scheduler) to register their series on.
func (a *API) Metrics() prometheus.Registerer { return a.metrics.registry }

// Drain makes /readyz answer 503, so that load balancers stop sending
// new requests while in-flight ones finish.
func (a *API) Drain() { a.draining.Store(true) }

// CloseWebsockets drains the websockets (see wsTransport.Shutdown): call
// it after the HTTP server's Shutdown, which leaves hijacked connections
// alone.
func (a *API) CloseWebsockets(ctx context.Context) error { return a.ws.Shutdown(ctx) }

func (a *API) newGraphQL(cfg Config, d Deps) *handler.Server {
	es := graph.NewExecutableSchema(graph.Config{
		Resolvers:  graph.NewResolver(d.Services, d.Links),
		Directives: graph.NewDirectives(),
		Complexity: complexity(),
	})
	srv := handler.New(es)
	srv.AddTransport(a.ws)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(httpTransport{maxBody: cfg.MaxBodyBytes})
	srv.SetQueryCache(a.guard.DocumentCache())
	srv.SetParserTokenLimit(cfg.Document.MaxTokens)
	// No "did you mean" suggestions: they reveal the schema where
	// introspection is off, and each costs a string-distance search over a
	// type's fields (1,900 misspelt fields took 28 ms to refuse with them, 5
	// ms without). The playground suggests from the schema itself.
	srv.SetDisableSuggestion(true)

	// Order matters: parameter mutators run in this order before parsing,
	// context mutators in this order after validation; a document is
	// cached only once every check before Admission has passed.
	b := newBudgets(cfg.Budget, cfg.AnonymousBudget)
	srv.Use(b.gate())
	if cfg.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		srv.Use(introspectionOff{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: a.guard.PersistedQueryCache()})
	srv.Use(a.guard.Pricing())
	srv.Use(extension.FixedComplexityLimit(cfg.ComplexityLimit))
	srv.Use(&strictEnums{})
	srv.Use(b.charge())
	srv.Use(a.guard.Admission())

	srv.SetErrorPresenter(presentErrors(d.Log, cfg.OperationTimeout))
	srv.SetRecoverFunc(recoverPanic(d.Log))
	srv.AroundFields(markInternal)
	srv.AroundOperations(nameOperation)
	if tracing.On(d.TracerProvider) {
		srv.AroundOperations(traceOperations(d.TracerProvider.Tracer(tracerName)))
	}
	srv.AroundOperations(operationDeadline(cfg.OperationTimeout))
	// Every operation (a request, or one subscription on a websocket) gets
	// its own batch loaders.
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(loaders.WithScope(ctx, func() *loaders.Loaders { return loaders.New(d.DB) }))
	})
	srv.AroundResponses(a.metrics.aroundResponses)
	srv.AroundResponses(reportCost)
	srv.AroundResponses(capResponse(cfg.MaxResponseBytes))
	return srv
}

// maxUploadRequest bounds a multipart request: the file plus the
// operation's own fields.
func maxUploadRequest(cfg Config) int64 { return cfg.MaxUploadBytes + cfg.MaxBodyBytes + maxMapBytes }

// readiness answers 200 when the database answers and the server is not
// draining.
func readiness(db *gorm.DB, draining *atomic.Bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() {
			http.Error(w, "draining", http.StatusServiceUnavailable)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		sqlDB, err := db.DB()
		if err == nil {
			err = sqlDB.PingContext(ctx)
		}
		if err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// CachedDocumentBytes is the parsed-document cache's estimate of what it
// holds.
func (a *API) CachedDocumentBytes() uint64 { return a.guard.CachedBytes() }
