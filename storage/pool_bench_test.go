package storage

import (
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
)

// BenchmarkSQLiteReads reads rows by key from many goroutines, as a busy
// page does, through the pool Open builds (connections kept, statements
// prepared once per connection) and through a plain GORM SQLite handle
// (database/sql's two idle connections, every statement compiled anew).
func BenchmarkSQLiteReads(b *testing.B) {
	for _, bc := range []struct {
		name string
		open func(b *testing.B, dir string) *gorm.DB
	}{
		{"tuned", func(b *testing.B, dir string) *gorm.DB {
			db, err := openSQLite(dir, defaultMaxOpenConns, &gorm.Config{Logger: newLogger(slog.New(slog.DiscardHandler))})
			if err != nil {
				b.Fatal(err)
			}
			return db
		}},
		{"plain", func(b *testing.B, dir string) *gorm.DB {
			db, err := gorm.Open(sqlite.Open(SQLiteDSN(filepath.Join(dir, SQLiteFile))), &gorm.Config{Logger: newLogger(slog.New(slog.DiscardHandler))})
			if err != nil {
				b.Fatal(err)
			}
			return db
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			db := bc.open(b, b.TempDir())
			b.Cleanup(func() { _ = Close(db) })
			if err := db.Exec("CREATE TABLE rows (id INTEGER PRIMARY KEY, name TEXT NOT NULL)").Error; err != nil {
				b.Fatal(err)
			}
			if err := db.Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) " +
				"INSERT INTO rows (id, name) SELECT i, 'row ' || i FROM n").Error; err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var row struct {
					ID   int
					Name string
				}
				for pb.Next() {
					// A request holds its connection while it waits on
					// something else (a loader's batch window, the
					// network), so more connections are busy than there
					// are cores.
					rows, err := db.Raw("SELECT id, name FROM rows WHERE id = ?", 1+rand.IntN(1000)).Rows()
					if err != nil {
						b.Error(err)
						return
					}
					for rows.Next() {
						_ = rows.Scan(&row.ID, &row.Name)
					}
					time.Sleep(100 * time.Microsecond)
					_ = rows.Close()
				}
			})
		})
	}
}
