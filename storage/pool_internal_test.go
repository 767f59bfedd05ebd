package storage

import (
	"context"
	"database/sql"
	"log/slog"
	"testing"
	"time"

	"gorm.io/gorm"
)

func openTestSQLite(t *testing.T) *gorm.DB {
	t.Helper()
	db, err := Open(context.Background(), Config{DataDir: t.TempDir(), MaxOpenConns: 4}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Close(db) })
	return db
}

// The embedded pool keeps its connections: after a burst, every connection
// the burst opened is still there for the next one.
func TestSQLitePoolKeepsItsConnections(t *testing.T) {
	db := openTestSQLite(t)
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	// Four readers hold a connection each at once, then let go.
	var held []*sql.Rows
	for range 4 {
		rows, err := sqlDB.Query("SELECT 1")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, rows)
	}
	for _, rows := range held {
		_ = rows.Close()
	}
	if st := sqlDB.Stats(); st.MaxOpenConnections != 4 || st.Idle != 4 || st.MaxIdleClosed != 0 {
		t.Fatalf("pool closed connections it had: %+v", st)
	}
}

// A statement is prepared once on the pool and reused, inside transactions
// as well as outside them.
func TestSQLiteStatementsArePreparedOnce(t *testing.T) {
	db := openTestSQLite(t)
	cache, ok := db.ConnPool.(*stmtCache)
	if !ok {
		t.Fatalf("the SQLite pool is a %T, not the statement cache", db.ConnPool)
	}
	const q = "SELECT ? + 1"
	before := len(cache.stmts)
	for i := range 3 {
		err := InTx(context.Background(), db, func(tx *Tx) error {
			var n int
			if err := tx.Raw(q, i).Scan(&n).Error; err != nil {
				return err
			}
			if n != i+1 {
				t.Errorf("got %d, want %d", n, i+1)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.Raw(q, i).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
	}
	cache.mu.RLock()
	defer cache.mu.RUnlock()
	if s := cache.stmts[q]; s == nil || len(cache.stmts) != before+1 {
		t.Fatalf("want one cached statement for %q, have %d more", q, len(cache.stmts)-before)
	}
}

// The slow-query logger does not render the SQL of a statement that was not
// slow: rendering every statement with its parameters was 5–7% of the CPU.
func TestFastStatementsAreNotRendered(t *testing.T) {
	l := newLogger(slog.New(slog.DiscardHandler))
	rendered := 0
	fc := func() (string, int64) { rendered++; return "SELECT 1", 1 }
	l.Trace(context.Background(), time.Now(), fc, nil)
	if rendered != 0 {
		t.Fatalf("a fast statement was rendered %d times", rendered)
	}
	l.Trace(context.Background(), time.Now().Add(-2*slowQueryThreshold), fc, nil)
	if rendered != 1 {
		t.Fatalf("a slow statement was rendered %d times, want once", rendered)
	}
}
