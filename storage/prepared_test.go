package storage_test

import (
	"context"
	"testing"

	"cpor/storage"
	"cpor/storage/storagetest"
)

// pgx keeps each statement prepared on its connection (its default
// statement cache), which is why the PostgreSQL pool needs no GORM
// PrepareStmt: a statement sent twice is prepared once.
func TestPostgresStatementsArePreparedOnce(t *testing.T) {
	ctx := context.Background()
	url := storagetest.NewPostgresDatabase(t)
	db, err := storage.Open(ctx, storage.Config{DatabaseURL: url, MaxOpenConns: 1}, storagetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer storage.Close(db)
	const q = "SELECT $1::int + 41"
	for i := range 3 {
		var n int
		if err := db.Raw(q, i).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
	}
	var prepared int
	if err := db.Raw("SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", q).Scan(&prepared).Error; err != nil {
		t.Fatal(err)
	}
	if prepared != 1 {
		t.Fatalf("%q is prepared %d times on the connection, want once", q, prepared)
	}
}
