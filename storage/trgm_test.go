package storage_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"cpor/storage"
	"cpor/storage/storagetest"
)

// Where pg_trgm may not be created, migration 00003 still succeeds, without
// the trigram indexes (search then scans), and rolls back. A role without
// CREATE on its database may not create even a trusted extension.
func TestMigrationsSucceedWithoutPgTrgm(t *testing.T) {
	ctx := context.Background()
	log := storagetest.Logger(t)
	admin, err := storage.Open(ctx, storage.Config{DatabaseURL: storagetest.PostgresURL(t), MaxOpenConns: 1}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer storage.Close(admin)
	role := "cpor_no_trgm_" + time.Now().Format("150405000000")
	if err := admin.Exec("CREATE ROLE " + role + " LOGIN").Error; err != nil {
		t.Fatal(err)
	}
	// Registered before the database, so it runs after the database is dropped.
	t.Cleanup(func() {
		db, err := storage.Open(ctx, storage.Config{DatabaseURL: storagetest.PostgresURL(t), MaxOpenConns: 1}, log)
		if err == nil {
			_ = db.Exec("DROP ROLE IF EXISTS " + role).Error
			_ = storage.Close(db)
		}
	})
	dbURL := storagetest.NewPostgresDatabase(t)
	owner, err := storage.Open(ctx, storage.Config{DatabaseURL: dbURL, MaxOpenConns: 1}, log)
	if err != nil {
		t.Fatal(err)
	}
	err = owner.Exec("GRANT USAGE, CREATE ON SCHEMA public TO " + role).Error
	_ = storage.Close(owner)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(dbURL)
	u.User = url.User(role)
	db, err := storage.Open(ctx, storage.Config{DatabaseURL: u.String(), MaxOpenConns: 2}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer storage.Close(db)
	if err := storage.Migrate(ctx, db, log); err != nil {
		t.Fatalf("migrate without pg_trgm: %v", err)
	}
	var trgm, indexes int64
	db.Raw("SELECT COUNT(*) FROM pg_extension WHERE extname = 'pg_trgm'").Scan(&trgm)
	db.Raw("SELECT COUNT(*) FROM pg_indexes WHERE indexname LIKE '%\\_trgm'").Scan(&indexes)
	if trgm != 0 || indexes != 0 {
		t.Fatalf("pg_trgm %d, trigram indexes %d; the role should not have been able to create them", trgm, indexes)
	}
	var n int64
	if err := db.Raw("SELECT COUNT(*) FROM claims WHERE name ILIKE ?", "%x%").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	if err := storage.MigrateDown(ctx, db, log); err != nil {
		t.Fatalf("migrate down without pg_trgm: %v", err)
	}
}

// Where it may, the migration creates the extension and the five indexes.
func TestMigrationsCreateTrigramIndexes(t *testing.T) {
	db := storagetest.Open(t, storage.Postgres)
	var names []string
	if err := db.Raw("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%\\_trgm' ORDER BY 1").Scan(&names).Error; err != nil {
		t.Fatal(err)
	}
	if len(names) != 5 {
		t.Fatalf("trigram indexes: %v", names)
	}
}
