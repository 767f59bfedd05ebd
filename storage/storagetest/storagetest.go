// Package storagetest gives tests a freshly migrated database of each kind:
// an SQLite file in a temporary directory, and a new PostgreSQL database on
// the server named by TEST_DATABASE_URL.
//
// Without TEST_DATABASE_URL the PostgreSQL half is skipped, unless
// CPOR_REQUIRE_POSTGRES=1 (set by scripts/test and CI), where it fails.
package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"cpor/storage"
)

// Dialects lists the databases every storage-touching test runs on.
var Dialects = []storage.Dialect{storage.SQLite, storage.Postgres}

// Each runs fn as a subtest on every dialect.
func Each(t *testing.T, fn func(t *testing.T, db *gorm.DB)) {
	t.Helper()
	EachDialect(t, func(t *testing.T, d storage.Dialect) { fn(t, Open(t, d)) })
}

// Runner is a test or a benchmark: what runs subtests of its own kind.
type Runner[T any] interface {
	testing.TB
	Run(name string, fn func(T)) bool
}

// EachDialect runs fn as a subtest (or sub-benchmark) named for each
// dialect, for tests that open their database themselves.
func EachDialect[T Runner[T]](t T, fn func(t T, d storage.Dialect)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(string(d), func(t T) { fn(t, d) })
	}
}

// Open returns a migrated, empty database of the dialect, removed when the
// test ends.
func Open(t testing.TB, d storage.Dialect) *gorm.DB {
	t.Helper()
	db, _ := OpenURL(t, d)
	return db
}

// OpenURL is Open that also returns how to reach the database from another
// process (a PostgreSQL URL, or "" with the data directory for SQLite).
func OpenURL(t testing.TB, d storage.Dialect) (*gorm.DB, storage.Config) {
	t.Helper()
	ctx := context.Background()
	log := Logger(t)
	cfg := storage.Config{DataDir: t.TempDir()}
	if d == storage.Postgres {
		cfg = storage.Config{DatabaseURL: NewPostgresDatabase(t), MaxOpenConns: 60}
	}
	db, err := storage.Open(ctx, cfg, log)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { _ = storage.Close(db) })
	if err := storage.Migrate(ctx, db, log); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return db, cfg
}

// PostgresURL returns TEST_DATABASE_URL, skipping or failing the test when it
// is not set (see the package comment).
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("TEST_DATABASE_URL")
	if admin == "" {
		if os.Getenv("CPOR_REQUIRE_POSTGRES") == "1" {
			t.Fatal("PostgreSQL tests are required but TEST_DATABASE_URL is not set")
		}
		t.Skip("TEST_DATABASE_URL not set; run scripts/test to include PostgreSQL")
	}
	return admin
}

// NewPostgresDatabase creates an empty database on the test server and
// returns its URL; the database is dropped when the test ends.
func NewPostgresDatabase(t testing.TB) string {
	t.Helper()
	admin := PostgresURL(t)
	ctx := context.Background()
	adminDB, err := storage.Open(ctx, storage.Config{DatabaseURL: admin, MaxOpenConns: 2}, Logger(t))
	if err != nil {
		t.Fatalf("connect to TEST_DATABASE_URL: %v", err)
	}
	defer storage.Close(adminDB)
	name := "cpor_test_" + randomSuffix()
	if err := adminDB.Exec("CREATE DATABASE " + name).Error; err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := storage.Open(ctx, storage.Config{DatabaseURL: admin, MaxOpenConns: 1}, Logger(t))
		if err != nil {
			return
		}
		defer storage.Close(db)
		_ = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").Error
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Logger writes through t.Log so output shows only for failing tests.
// Lines logged once the test has finished (by a connection still closing)
// are dropped, as testing forbids logging then.
func Logger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() { w.done.Store(true) })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct {
	t    testing.TB
	done atomic.Bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(string(p))
	}
	return len(p), nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("random: %v", err))
	}
	return hex.EncodeToString(b)
}
