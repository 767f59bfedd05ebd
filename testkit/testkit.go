// Package testkit builds the real domain service for tests: a migrated
// database of either kind with the demo data, the domain services over it,
// and contexts signed in as the demo users. It builds no HTTP or GraphQL:
// package apitest serves a World over real HTTP.
package testkit

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"cpor/auth"
	"cpor/catalog"
	"cpor/claims"
	"cpor/demo"
	"cpor/live"
	"cpor/models"
	"cpor/scheduler"
	"cpor/sla"
	"cpor/storage"
	"cpor/storage/storagetest"
	"cpor/wiring"
	"cpor/workflow"
)

// World is a seeded service.
type World struct {
	DB       *gorm.DB
	Dialect  storage.Dialect
	Storage  storage.Config
	Catalog  *catalog.Service
	Claims   *claims.Service
	Workflow *workflow.Service
	Calendar *sla.Calendar
	Live     *live.Hub
	// Clock is the time the workflow and the scheduler see; tests move it
	// (Advance) instead of sleeping.
	Clock *Clock
	// Scheduler runs due deadlines when a test calls RunDue.
	Scheduler *scheduler.Scheduler

	services wiring.Services
}

// Clock is a settable clock, starting at the real time.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the real time moved by every Advance so far.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return storage.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// RunDue runs every deadline due at the world's clock, as the scheduler's
// loop would, and returns how many ran.
func (w *World) RunDue(t testing.TB) int {
	t.Helper()
	total := 0
	for {
		n, err := w.Scheduler.RunDue(context.Background())
		if err != nil {
			t.Fatalf("run due work: %v", err)
		}
		if total += n; n == 0 {
			return total
		}
	}
}

// Options adjust a World.
type Options struct {
	// Empty skips the demo data.
	Empty bool
	// Live tunes the event hub (live.DefaultConfig when zero).
	Live live.Config
}

// New returns a world on the dialect with the demo data loaded.
func New(t testing.TB, d storage.Dialect, opts ...Options) *World {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	db, cfg := storagetest.OpenURL(t, d)
	w := Wire(db, o.Live, storagetest.Logger(t))
	w.Dialect, w.Storage = d, cfg
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w.StartLive(ctx)
	if !o.Empty {
		if err := demo.Seed(context.Background(), db, w.DemoServices()); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	w.Settle(t)
	return w
}

// Each runs fn as a subtest (or sub-benchmark) on a new world of each
// dialect, named for the dialect.
func Each[T storagetest.Runner[T]](t T, fn func(t T, w *World), opts ...Options) {
	t.Helper()
	storagetest.EachDialect(t, func(t T, d storage.Dialect) { fn(t, New(t, d, opts...)) })
}

// Settle waits until the hub has fanned out every committed event, so that
// a subscriber registered next sees only what happens after.
func (w *World) Settle(t testing.TB) {
	t.Helper()
	var last int64
	if err := w.DB.Model(&models.ClaimEvent{}).Select("COALESCE(MAX(seq), 0)").Scan(&last).Error; err != nil {
		t.Fatal(err)
	}
	w.Live.Wake()
	deadline := time.Now().Add(10 * time.Second)
	for w.Live.Stats().Cursor < last {
		if time.Now().After(deadline) {
			t.Fatalf("hub stuck at event %d of %d", w.Live.Stats().Cursor, last)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Wire builds the services over db as server.go does, with no holidays
// and the default document limits.
func Wire(db *gorm.DB, liveCfg live.Config, log *slog.Logger) *World {
	if liveCfg == (live.Config{}) {
		liveCfg = live.DefaultConfig
	}
	cal := sla.NewCalendar()
	clock := &Clock{}
	svc := wiring.New(db, live.NewHub(db, liveCfg, log), cal, claims.DefaultDocumentLimits,
		workflow.Config{Clock: clock.Now}, wiring.Notifications{Clock: clock.Now, Log: log})
	sched, err := scheduler.New(db, scheduler.Config{Clock: clock.Now}, svc.Workflow.DueWork(), log, nil)
	if err != nil {
		panic(err) // fixed, valid settings
	}
	return &World{
		DB: db, Calendar: cal,
		Catalog:   svc.Catalog,
		Claims:    svc.Claims,
		Workflow:  svc.Workflow,
		Live:      svc.Live,
		services:  svc,
		Clock:     clock,
		Scheduler: sched,
	}
}

// StartLive runs the world's event hub, and on PostgreSQL its listener and
// the notification feed's, until ctx ends.
func (w *World) StartLive(ctx context.Context) {
	go func() { _ = w.Live.Run(ctx) }()
	if w.Storage.DatabaseURL != "" {
		go live.Listen(ctx, w.Storage.DatabaseURL, w.Live, slog.New(slog.DiscardHandler))
		go w.services.Feed.Listen(ctx, w.Storage.DatabaseURL)
		<-w.services.Feed.Listening()
	}
	<-w.Live.Ready()
}

// Instance returns another instance of the service over the same
// PostgreSQL database: its own connection pool, hub and listener, as a
// second server behind a load balancer would have.
func (w *World) Instance(t testing.TB, liveCfg live.Config) *World {
	t.Helper()
	if w.Storage.DatabaseURL == "" {
		t.Fatal("a second instance needs PostgreSQL")
	}
	db, err := storage.Open(context.Background(), w.Storage, storagetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = storage.Close(db) })
	other := Wire(db, liveCfg, storagetest.Logger(t))
	other.Dialect, other.Storage = w.Dialect, w.Storage
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	other.StartLive(ctx)
	other.Settle(t)
	return other
}

// DemoServices are the services as the demo seed takes them.
func (w *World) DemoServices() demo.Services {
	return demo.Services{Catalog: w.Catalog, Claims: w.Claims, Workflow: w.Workflow, People: w.services.People, Notices: w.services.Notices}
}

// Services are the services as the GraphQL layer takes them.
func (w *World) Services() wiring.Services {
	return w.services
}

// Identity is the demo user with the handle.
func Identity(handle string) auth.Identity {
	u, ok := demo.FindUser(handle)
	if !ok {
		panic("testkit: no demo user " + handle)
	}
	return u.Identity
}

// As returns a context signed in as the demo user with the handle.
func As(handle string) context.Context {
	id := Identity(handle)
	return auth.WithIdentity(context.Background(), &id)
}

// AsIdentity returns a context signed in as id.
func AsIdentity(id auth.Identity) context.Context {
	return auth.WithIdentity(context.Background(), &id)
}
