package storage

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"testing/fstest"
	"text/template"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/gorm"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// typeNames maps the column-type markers of the migration files to each
// dialect. SQLite's driver turns TIMESTAMP columns back into time values.
var typeNames = map[Dialect]template.FuncMap{
	Postgres: {
		"uuid":      func() string { return "UUID" },
		"timestamp": func() string { return "TIMESTAMPTZ" },
		"blob":      func() string { return "BYTEA" },
		"serial":    func() string { return "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" },
	},
	SQLite: {
		"uuid":      func() string { return "TEXT" },
		"timestamp": func() string { return "TIMESTAMP" },
		"blob":      func() string { return "BLOB" },
		"serial":    func() string { return "INTEGER PRIMARY KEY AUTOINCREMENT" },
	},
}

// RenderMigrations renders the migration files for one dialect.
func RenderMigrations(d Dialect) (fs.FS, error) {
	out := fstest.MapFS{}
	entries, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	data := struct{ Postgres bool }{Postgres: d == Postgres}
	for _, name := range entries {
		src, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		tmpl, err := template.New(name).Funcs(typeNames[d]).Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("parse migration %s: %w", name, err)
		}
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, data); err != nil {
			return nil, fmt.Errorf("render migration %s: %w", name, err)
		}
		out[name[len("migrations/"):]] = &fstest.MapFile{Data: buf.Bytes(), Mode: 0o444}
	}
	return out, nil
}

// Migrate brings the schema to the latest version. On PostgreSQL a session
// advisory lock keeps several instances starting together from racing.
func Migrate(ctx context.Context, db *gorm.DB, log *slog.Logger) error {
	provider, err := newProvider(db, log)
	if err != nil {
		return err
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range results {
		log.InfoContext(ctx, "migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// MigrateDown rolls back every migration; tests use it to prove the down
// scripts work.
func MigrateDown(ctx context.Context, db *gorm.DB, log *slog.Logger) error {
	return MigrateDownTo(ctx, db, log, 0)
}

// MigrateDownTo rolls back the migrations after version; tests use it to
// prove that a migration carries existing rows over.
func MigrateDownTo(ctx context.Context, db *gorm.DB, log *slog.Logger, version int64) error {
	provider, err := newProvider(db, log)
	if err != nil {
		return err
	}
	if _, err := provider.DownTo(ctx, version); err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

func newProvider(db *gorm.DB, log *slog.Logger) (*goose.Provider, error) {
	dialect := DialectOf(db)
	fsys, err := RenderMigrations(dialect)
	if err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{
		goose.WithSlog(log.With("component", "migrate")),
		goose.WithGoMigrations(workflowMigration(dialect)),
	}
	gooseDialect := goose.DialectSQLite3
	if dialect == Postgres {
		gooseDialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(gooseDialect, sqlDB, fsys, opts...)
}
