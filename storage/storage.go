// Package storage opens the database (PostgreSQL through pgx, or an embedded
// SQLite file), runs the migrations and provides the transaction helpers the
// domain packages share.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/glebarez/sqlite"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the database engine behind a *gorm.DB.
type Dialect string

const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// Config says which database to open.
type Config struct {
	// DatabaseURL selects PostgreSQL when set (postgres://…).
	DatabaseURL string
	// DataDir holds the embedded SQLite file when DatabaseURL is empty.
	DataDir string
	// MaxOpenConns bounds the connection pool (20 when unset).
	MaxOpenConns int
	// TracerProvider records a span per SQL statement; nil (or the no-op
	// provider) records none and adds no callbacks.
	TracerProvider trace.TracerProvider
}

// defaultMaxOpenConns is the pool size when the configuration sets none.
const defaultMaxOpenConns = 20

// SQLiteFile is the embedded database's file name inside the data directory.
const SQLiteFile = "cpor.db"

// Open connects to the configured database. It does not migrate.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*gorm.DB, error) {
	gcfg := &gorm.Config{
		Logger:                 newLogger(log),
		NowFunc:                Now,
		SkipDefaultTransaction: true,
		TranslateError:         false,
	}
	var (
		db  *gorm.DB
		err error
	)
	maxOpen := cfg.MaxOpenConns
	if maxOpen <= 0 {
		maxOpen = defaultMaxOpenConns
	}
	if cfg.DatabaseURL != "" {
		// pgx prepares each statement once per connection and keeps it (its
		// default statement cache), so GORM's PrepareStmt would only add a
		// second cache in front of it.
		db, err = gorm.Open(postgres.Open(cfg.DatabaseURL), gcfg)
	} else {
		db, err = openSQLite(cfg.DataDir, maxOpen, gcfg)
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := db.Use(&statementCounter{}); err != nil {
		return nil, fmt.Errorf("count statements: %w", err)
	}
	if err := Trace(db, cfg.TracerProvider); err != nil {
		return nil, fmt.Errorf("trace statements: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("database handle: %w", err)
	}
	if cfg.DatabaseURL != "" {
		sqlDB.SetMaxOpenConns(maxOpen)
		sqlDB.SetMaxIdleConns(maxOpen)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("reach database: %w", err)
	}
	return db.WithContext(ctx), nil
}

// openSQLite opens the embedded database with a pool that keeps its
// connections (opening one costs a file open and the pragmas of the DSN, and
// its prepared statements go with it: with database/sql's default of two idle
// connections, a busy page spent half its CPU opening connections) and keeps
// every statement prepared on each (see stmtCache).
func openSQLite(dataDir string, maxOpen int, gcfg *gorm.Config) (*gorm.DB, error) {
	if dataDir == "" {
		return nil, errors.New("neither DATABASE_URL nor a data directory is set")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	sqlDB, err := sql.Open(sqlite.DriverName, SQLiteDSN(filepath.Join(dataDir, SQLiteFile)))
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(maxOpen)
	sqlDB.SetMaxIdleConns(maxOpen)
	sqlDB.SetConnMaxIdleTime(0)
	sqlDB.SetConnMaxLifetime(0)
	db, err := gorm.Open(&sqlite.Dialector{Conn: newStmtCache(sqlDB)}, gcfg)
	if err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	if err := db.Use(newWriteGate()); err != nil {
		return nil, err
	}
	return db, nil
}

// SQLiteDSN returns the connection string for an SQLite file: foreign keys on,
// write-ahead logging, and IMMEDIATE transactions so that concurrent writers
// queue on the busy timeout instead of failing on a lock upgrade.
func SQLiteDSN(path string) string {
	return "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
		"&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// DialectOf tells which engine db talks to.
func DialectOf(db *gorm.DB) Dialect {
	if db.Dialector.Name() == "postgres" {
		return Postgres
	}
	return SQLite
}

// Now is the service's clock reading: UTC at the microsecond, the precision
// both databases keep, so a value reads back exactly as it was written.
func Now() time.Time {
	return time.Now().UTC().Truncate(time.Microsecond)
}

// Close releases the connection pool.
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// slowQueryThreshold is how long a statement runs before it is logged.
const slowQueryThreshold = 500 * time.Millisecond

func newLogger(log *slog.Logger) logger.Interface {
	return slowQueryLogger{logger.NewSlogLogger(log.With("component", "gorm"), logger.Config{
		SlowThreshold:        slowQueryThreshold,
		LogLevel:             logger.Warn,
		ParameterizedQueries: true,
	})}
}

// slowQueryLogger reports slow statements only. Failed statements are not
// logged here: many are expected (a unique index refusing a second active
// association) and the caller that handles the error logs what matters.
type slowQueryLogger struct{ logger.Interface }

func (l slowQueryLogger) LogMode(level logger.LogLevel) logger.Interface {
	return slowQueryLogger{l.Interface.LogMode(level)}
}

// Trace hands GORM's logger only the statements over the threshold: it
// renders every statement it is given, with its parameters, before deciding
// whether to log it, which cost 5–7% of the CPU of a claim lifecycle.
func (l slowQueryLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), _ error) {
	if time.Since(begin) <= slowQueryThreshold {
		return
	}
	l.Interface.Trace(ctx, begin, fc, nil)
}
