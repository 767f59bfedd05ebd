// Package apitest serves a testkit.World through the real HTTP API on a
// loopback port, and speaks to it as the apps do: GraphQL over HTTP,
// uploads, downloads and websockets, with bearer tokens for the demo users.
package apitest

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"cpor/auth"
	"cpor/demo"
	"cpor/downloads"
	"cpor/httpapi"
	"cpor/storage"
	"cpor/storage/storagetest"
	"cpor/testkit"
	"cpor/testkit/fakeclock"
)

// Secret signs the tokens of a test server.
var Secret = []byte("testkit-secret-of-at-least-32-bytes!!")

// LinkSecret signs the download links of a test server.
var LinkSecret = []byte("testkit-download-link-secret-32-bytes!")

// Server is the real HTTP API over a world, on a loopback port, with its
// admin handler (metrics) on another.
type Server struct {
	*httptest.Server
	World *testkit.World
	API   *httpapi.API
	Admin *httptest.Server
	// LinkClock is the clock the server's download links are signed and
	// checked against; it starts at the real time and moves only by hand.
	LinkClock *fakeclock.Clock
}

// NewServer starts the HTTP API over the world; it stops when the test ends.
func NewServer(t testing.TB, w *testkit.World) *Server {
	t.Helper()
	return NewServerWith(t, w, nil)
}

// NewServerWith is NewServer with the HTTP configuration adjusted by tune.
func NewServerWith(t testing.TB, w *testkit.World, tune func(*httpapi.Config)) *Server {
	t.Helper()
	return NewServerLogging(t, w, tune, storagetest.Logger(t))
}

// NewServerLogging is NewServerWith logging to log.
func NewServerLogging(t testing.TB, w *testkit.World, tune func(*httpapi.Config), log *slog.Logger) *Server {
	t.Helper()
	return newServer(t, w, tune, log, nil)
}

// NewServerTraced is NewServerLogging recording spans with tp: the
// requests', operations' and subscription events' spans, and the world's
// SQL statements'. Nothing global changes, so tests stay apart.
func NewServerTraced(t testing.TB, w *testkit.World, tp trace.TracerProvider, log *slog.Logger) *Server {
	t.Helper()
	if err := storage.Trace(w.DB, tp); err != nil {
		t.Fatal(err)
	}
	return newServer(t, w, nil, log, tp)
}

func newServer(t testing.TB, w *testkit.World, tune func(*httpapi.Config), log *slog.Logger, tp trace.TracerProvider) *Server {
	t.Helper()
	v, err := auth.NewVerifier(context.Background(), auth.VerifierConfig{HS256Secret: Secret, Issuer: "cpor"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := httpapi.DefaultConfig()
	if tune != nil {
		tune(&cfg)
	}
	clock := fakeclock.At(time.Now())
	links, err := downloads.New(LinkSecret, downloads.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	api := httpapi.New(cfg, httpapi.Deps{DB: w.DB, Verifier: v, Services: w.Services(), Log: log, Links: links, TracerProvider: tp})
	srv := httptest.NewServer(api)
	admin := httptest.NewServer(api.Admin())
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		admin.Close()
	})
	return &Server{Server: srv, World: w, API: api, Admin: admin, LinkClock: clock}
}

// Token mints a bearer token for the demo user with the handle.
func Token(t testing.TB, handle string) string {
	t.Helper()
	u, ok := demo.FindUser(handle)
	if !ok {
		t.Fatalf("no demo user %q", handle)
	}
	return TokenFor(t, u.Identity, time.Hour)
}

// TokenFor mints a bearer token for any identity.
func TokenFor(t testing.TB, id auth.Identity, ttl time.Duration) string {
	t.Helper()
	tok, err := auth.Mint(Secret, id, "cpor", "", ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
