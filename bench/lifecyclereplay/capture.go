package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync"

	"gorm.io/gorm"
)

// statement is one command a lifecycle sent, with its arguments as the
// driver received them.
type statement struct {
	sql  string
	args []any
}

// recorder is a connection pool that writes down, in order, the statements
// sent with a context marked by record (BEGIN and COMMIT included), and
// passes everything through.
type recorder struct {
	gorm.ConnPool
	mu   sync.Mutex
	sent []statement
}

type recordKey struct{}

// record marks ctx: what is sent with it is written down.
func record(ctx context.Context) context.Context { return context.WithValue(ctx, recordKey{}, true) }

func (r *recorder) add(ctx context.Context, query string, args []any) {
	if ctx.Value(recordKey{}) == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, statement{sql: query, args: args})
}

// take returns what was recorded and starts afresh.
func (r *recorder) take() []statement {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.sent
	r.sent = nil
	return out
}

func (r *recorder) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	r.add(ctx, query, args)
	return r.ConnPool.ExecContext(ctx, query, args...)
}

func (r *recorder) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	r.add(ctx, query, args)
	return r.ConnPool.QueryContext(ctx, query, args...)
}

func (r *recorder) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	r.add(ctx, query, args)
	return r.ConnPool.QueryRowContext(ctx, query, args...)
}

// BeginTx records BEGIN and returns a transaction that records its
// statements and its COMMIT or ROLLBACK.
func (r *recorder) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	db, ok := r.ConnPool.(*sql.DB)
	if !ok {
		return nil, gorm.ErrInvalidTransaction
	}
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	r.add(ctx, "BEGIN", nil)
	return &recordedTx{Tx: tx, r: r, ctx: ctx}, nil
}

// GetDBConn lets gorm.DB.DB() reach the pool.
func (r *recorder) GetDBConn() (*sql.DB, error) {
	db, _ := r.ConnPool.(*sql.DB)
	return db, nil
}

type recordedTx struct {
	*sql.Tx
	r   *recorder
	ctx context.Context
}

func (t *recordedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	t.r.add(ctx, query, args)
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *recordedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	t.r.add(ctx, query, args)
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t *recordedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	t.r.add(ctx, query, args)
	return t.Tx.QueryRowContext(ctx, query, args...)
}

func (t *recordedTx) Commit() error {
	t.r.add(t.ctx, "COMMIT", nil)
	return t.Tx.Commit()
}

func (t *recordedTx) Rollback() error {
	t.r.add(t.ctx, "ROLLBACK", nil)
	return t.Tx.Rollback()
}

func (t *recordedTx) GetDBConn() (*sql.DB, error) { return t.r.GetDBConn() }

// driverValue is an argument as the driver sees it (uuid.UUID as a string,
// a named string type as a string, a nil pointer as NULL).
func driverValue(v any) (driver.Value, error) {
	return driver.DefaultParameterConverter.ConvertValue(v)
}
