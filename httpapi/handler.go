// Package httpapi serves the API over HTTP: GraphQL at /graphql (POST,
// GET for queries, multipart uploads), the playground, authorised document
// downloads, health checks and metrics.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/rs/cors"
	"github.com/vektah/gqlparser/v2/ast"
	"gorm.io/gorm"

	"cpor/auth"
	"cpor/claims"
	"cpor/graph"
	"cpor/loaders"
)

// Config tunes the HTTP API.
type Config struct {
	// MaxUploadBytes bounds one proof-of-execution file.
	MaxUploadBytes int64
	// MaxBodyBytes bounds a JSON request body.
	MaxBodyBytes int64
	// ComplexityLimit bounds the cost of one operation (see complexity.go).
	ComplexityLimit int
	// AllowedOrigins are the browser origins allowed to call the API;
	// empty allows none (same-origin only), "*" any.
	AllowedOrigins []string
	// Playground serves the GraphiQL page at /.
	Playground bool
	// MaxSubscriptions caps the subscriptions of one websocket connection.
	MaxSubscriptions int
	// KeepAlive is the interval of websocket pings (graphql-transport-ws)
	// and keep-alive messages (graphql-ws).
	KeepAlive time.Duration
	// InitTimeout closes a websocket that sends no connection_init (4408).
	InitTimeout time.Duration
}

// Deps are what the handler serves.
type Deps struct {
	DB       *gorm.DB
	Verifier *auth.Verifier
	Services graph.Services
	Log      *slog.Logger
	// Stopping, when it ends, drains the websockets as the function of
	// NewWithShutdown does, allowing them 10 s. Nil means never.
	Stopping context.Context
}

// New returns the service's HTTP handler.
func New(cfg Config, d Deps) http.Handler {
	h, _ := NewWithShutdown(cfg, d)
	return h
}

// NewWithShutdown returns the service's HTTP handler and the function that
// drains its websockets (see wsTransport.Shutdown): call it after the HTTP
// server's Shutdown, which leaves hijacked connections alone.
func NewWithShutdown(cfg Config, d Deps) (http.Handler, func(context.Context) error) {
	var hub liveStats
	if d.Services.Live != nil {
		hub = d.Services.Live
	}
	m := newMetrics(hub)
	ws := newWSTransport(cfg, d)
	gql := newGraphQL(cfg, d, m, ws)

	mux := http.NewServeMux()
	mux.Handle("/graphql", codeTransportErrors(gql))
	mux.Handle("GET "+graph.DocumentPath+"{id}", downloadHandler(d.Services.Claims, d.Log))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /readyz", readiness(d.DB))
	mux.Handle("GET /metrics", promHandler(m))
	if cfg.Playground {
		mux.Handle("GET /{$}", playground.Handler("CPOR claims API", "/graphql"))
	}

	var h http.Handler = mux
	h = d.Verifier.Middleware(h)
	h = limitBody(cfg.MaxBodyBytes, maxUploadRequest(cfg), h)
	h = cors.New(cors.Options{
		AllowedOrigins:   cfg.AllowedOrigins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "X-Request-ID"},
		ExposedHeaders:   []string{"X-Request-ID"},
		AllowCredentials: false,
		MaxAge:           600,
	}).Handler(h)
	return accessLog(d.Log, m, h), ws.Shutdown
}

func newGraphQL(cfg Config, d Deps, m *metrics, ws *wsTransport) *handler.Server {
	es := graph.NewExecutableSchema(graph.Config{
		Resolvers:  graph.NewResolver(d.Services),
		Complexity: complexity(),
	})
	srv := handler.New(es)
	srv.AddTransport(ws)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.AddTransport(transport.MultipartForm{
		MaxUploadSize: maxUploadRequest(cfg),
		MaxMemory:     32 << 20,
	})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	srv.Use(extension.FixedComplexityLimit(cfg.ComplexityLimit))
	srv.Use(&strictEnums{})
	srv.SetErrorPresenter(presentErrors(d.Log))
	srv.SetRecoverFunc(recoverPanic(d.Log))
	srv.AroundFields(markInternal)
	// Every operation (a request, or one subscription on a websocket) gets
	// its own batch loaders.
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(loaders.WithScope(ctx, func() *loaders.Loaders { return loaders.New(d.DB) }))
	})
	srv.AroundResponses(m.aroundResponses)
	return srv
}

// maxUploadRequest bounds a multipart request: the file plus the
// operation's own fields.
func maxUploadRequest(cfg Config) int64 { return cfg.MaxUploadBytes + 1<<20 }

// readiness answers 200 when the database answers.
func readiness(db *gorm.DB) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
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

// DefaultConfig are the limits used unless configured otherwise.
func DefaultConfig() Config {
	return Config{
		MaxUploadBytes:   claims.DefaultDocumentLimits.MaxBytes,
		MaxBodyBytes:     1 << 20,
		ComplexityLimit:  20000,
		Playground:       true,
		MaxSubscriptions: 50,
		KeepAlive:        25 * time.Second,
		InitTimeout:      10 * time.Second,
	}
}
