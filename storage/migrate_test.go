package storage_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"cpor/storage"
	"cpor/storage/storagetest"
)

func TestMigrationsRoundTrip(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		log := storagetest.Logger(t)
		if err := storage.MigrateDown(ctx, db, log); err != nil {
			t.Fatal(err)
		}
		if err := storage.Migrate(ctx, db, log); err != nil {
			t.Fatal(err)
		}
	})
}

// schemaShape lists "table.column null|notnull" and "index name" lines: what
// must be identical on both databases. PostgreSQL's trigram indexes of claim
// search (*_trgm, migration 00003) have no SQLite counterpart and are left
// out.
func schemaShape(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	var rows []string
	var err error
	if storage.DialectOf(db) == storage.Postgres {
		err = db.Raw(`
			SELECT table_name || '.' || column_name || ' ' || CASE is_nullable WHEN 'YES' THEN 'null' ELSE 'notnull' END
			FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'goose_db_version'
			UNION ALL
			SELECT 'index ' || indexname FROM pg_indexes
			WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key' AND indexname NOT LIKE '%_trgm' AND tablename <> 'goose_db_version'
			ORDER BY 1`).Scan(&rows).Error
	} else {
		err = db.Raw(`
			SELECT m.name || '.' || p.name || ' ' || CASE WHEN p."notnull" = 1 OR p.pk > 0 THEN 'notnull' ELSE 'null' END
			FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT IN ('goose_db_version', 'sqlite_sequence')
			UNION ALL
			SELECT 'index ' || name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'
			ORDER BY 1`).Scan(&rows).Error
	}
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestSchemaIsTheSameOnBothDatabases(t *testing.T) {
	sqlite := schemaShape(t, storagetest.Open(t, storage.SQLite))
	pg := schemaShape(t, storagetest.Open(t, storage.Postgres))
	if len(sqlite) < 50 {
		t.Fatalf("schema looks empty: %v", sqlite)
	}
	seen := map[string]int{}
	for _, r := range sqlite {
		seen[r]++
	}
	for _, r := range pg {
		seen[r]--
	}
	for r, n := range seen {
		switch {
		case n > 0:
			t.Errorf("only on SQLite: %s", r)
		case n < 0:
			t.Errorf("only on PostgreSQL: %s", r)
		}
	}
}
