package storage

import (
	"context"
	"database/sql"
	"sync"

	"gorm.io/gorm"
)

// maxCachedStatements bounds the statements kept prepared, each on every
// connection that ran it (a few KiB apiece). The service's fixed statements
// are far fewer; lists of varying length (IN (?,?,…) of the batch loaders)
// make more, and those past the bound simply run unprepared, so the cache
// never closes a statement another goroutine may be using.
const maxCachedStatements = 300

// stmtCache is the embedded database's connection pool with every statement
// prepared once per connection and kept, inside transactions too. SQLite
// otherwise compiles each statement anew, which measured half the CPU of a
// read-heavy page. GORM's PrepareStmt does not serve here: a statement it
// first meets inside a transaction is prepared on that transaction, closed
// at its commit, and prepared again in every later transaction, while the
// lifecycle's writes all run in transactions. Here each statement is
// prepared on the pool (database/sql then keeps one per connection) and a
// transaction borrows it for its connection.
type stmtCache struct {
	db    *sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}}
}

// stmt returns the pool's prepared statement for query, preparing it on first
// use; nil when the cache is full (the caller runs the query unprepared).
func (c *stmtCache) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.RLock()
	s, ok := c.stmts[query]
	full := len(c.stmts) >= maxCachedStatements
	c.mu.RUnlock()
	if ok || full {
		return s, nil
	}
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.stmts[query]; ok {
		_ = s.Close() // another goroutine prepared it meanwhile
		return prev, nil
	}
	c.stmts[query] = s
	return s, nil
}

func (c *stmtCache) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return c.db.PrepareContext(ctx, query)
}

func (c *stmtCache) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := c.stmt(ctx, query)
	switch {
	case err != nil:
		return nil, err
	case s == nil:
		return c.db.ExecContext(ctx, query, args...)
	}
	return s.ExecContext(ctx, args...)
}

func (c *stmtCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := c.stmt(ctx, query)
	switch {
	case err != nil:
		return nil, err
	case s == nil:
		return c.db.QueryContext(ctx, query, args...)
	}
	return s.QueryContext(ctx, args...)
}

func (c *stmtCache) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := c.stmt(ctx, query)
	if err != nil || s == nil {
		// A failed preparation fails again here, reported through the row.
		return c.db.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// BeginTx starts a transaction whose statements use the cache's.
func (c *stmtCache) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	tx, err := c.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &stmtCacheTx{Tx: tx, cache: c}, nil
}

// GetDBConn lets gorm.DB.DB() reach the pool (to size, ping and close it).
func (c *stmtCache) GetDBConn() (*sql.DB, error) { return c.db, nil }

// Ping lets GORM check the connection at open.
func (c *stmtCache) Ping() error { return c.db.Ping() }

// stmtCacheTx is a transaction of a stmtCache.
type stmtCacheTx struct {
	*sql.Tx
	cache *stmtCache
}

// txStmt is the cache's statement for query bound to the transaction's
// connection (database/sql reuses the one prepared there), or nil.
func (t *stmtCacheTx) txStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	s, err := t.cache.stmt(ctx, query)
	if err != nil || s == nil {
		return nil, err
	}
	return t.Tx.StmtContext(ctx, s), nil
}

func (t *stmtCacheTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := t.txStmt(ctx, query)
	switch {
	case err != nil:
		return nil, err
	case s == nil:
		return t.Tx.ExecContext(ctx, query, args...)
	}
	return s.ExecContext(ctx, args...)
}

func (t *stmtCacheTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := t.txStmt(ctx, query)
	switch {
	case err != nil:
		return nil, err
	case s == nil:
		return t.Tx.QueryContext(ctx, query, args...)
	}
	return s.QueryContext(ctx, args...)
}

func (t *stmtCacheTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := t.txStmt(ctx, query)
	if err != nil || s == nil {
		return t.Tx.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// GetDBConn lets gorm.DB.DB() reach the pool from inside a transaction.
func (t *stmtCacheTx) GetDBConn() (*sql.DB, error) { return t.cache.db, nil }
