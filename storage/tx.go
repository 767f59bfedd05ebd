package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Tx is one database transaction plus the work to run as its last step
// and once it commits.
type Tx struct {
	*gorm.DB
	beforeCommit []func(*Tx) error
	afterCommit  []func()
	state        map[any]any
	notify       []any // PostgreSQL NOTIFY channel and payload pairs
}

// Notify sends a PostgreSQL NOTIFY on channel when the transaction commits
// (never if it rolls back). The transaction's notifications go together,
// in one statement, after the before-commit work. On SQLite it does
// nothing: one process has no one else to tell.
func (tx *Tx) Notify(channel, payload string) {
	if DialectOf(tx.DB) == Postgres {
		tx.notify = append(tx.notify, channel, payload)
	}
}

// sendNotifications sends the queued NOTIFYs in one statement.
func (tx *Tx) sendNotifications() error {
	if len(tx.notify) == 0 {
		return nil
	}
	calls := make([]string, len(tx.notify)/2)
	for i := range calls {
		calls[i] = "pg_notify(?, ?)"
	}
	if err := tx.Exec("SELECT "+strings.Join(calls, ", "), tx.notify...).Error; err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// BeforeCommit schedules fn as the transaction's last work, after
// everything else the transaction does: the event log's rows go there, so
// the table lock their insert takes is the last one taken and is held only
// until the commit (readers wait for such writers, see events.Settled).
func (tx *Tx) BeforeCommit(fn func(*Tx) error) { tx.beforeCommit = append(tx.beforeCommit, fn) }

// AfterCommit schedules fn to run after a successful commit; a rolled-back
// transaction never runs it.
func (tx *Tx) AfterCommit(fn func()) { tx.afterCommit = append(tx.afterCommit, fn) }

// State returns the value kept under key for this transaction, creating it
// with make on first use.
func (tx *Tx) State(key any, make func() any) any {
	if tx.state == nil {
		tx.state = map[any]any{}
	}
	v, ok := tx.state[key]
	if !ok {
		v = make()
		tx.state[key] = v
	}
	return v
}

// InTx runs fn in one transaction: fn's error (or a panic) rolls it back,
// otherwise the before-commit work runs, it commits, and the after-commit
// work runs.
func InTx(ctx context.Context, db *gorm.DB, fn func(tx *Tx) error) error {
	if gate := gateOf(db); gate != nil {
		held, leave, err := gate.enter(ctx)
		if err != nil {
			return fmt.Errorf("wait to write: %w", err)
		}
		defer leave()
		ctx = held
	}
	if c := counterOf(db); c != nil {
		c.add(ctx, 2) // BEGIN, and COMMIT or ROLLBACK
	}
	tx := &Tx{}
	err := db.WithContext(ctx).Transaction(func(gtx *gorm.DB) error {
		tx.DB = gtx
		if err := fn(tx); err != nil {
			return err
		}
		for _, f := range tx.beforeCommit {
			if err := f(tx); err != nil {
				return err
			}
		}
		return tx.sendNotifications()
	})
	if err != nil {
		return err
	}
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

// ForUpdate locks the selected rows until the transaction ends (PostgreSQL).
// SQLite needs no row locks: its IMMEDIATE transactions already run one
// writer at a time.
func ForUpdate(db *gorm.DB) *gorm.DB {
	if DialectOf(db) == Postgres {
		return db.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return db
}

// LockKey takes a transaction-scoped lock on an application key, such as
// "one customer, product and activity", so that transactions deciding about
// the same key run one after the other. It needs no row to exist.
func LockKey(tx *gorm.DB, parts ...string) error {
	if DialectOf(tx) != Postgres {
		return nil
	}
	if err := tx.Exec("SELECT pg_advisory_xact_lock("+keyHash("?")+")", strings.Join(parts, keySeparator)).Error; err != nil {
		return fmt.Errorf("lock %v: %w", parts, err)
	}
	return nil
}

// LockingKeyOf is a condition for the WHERE of a query on one table that
// selects rows by the condition row (its parameters named, @id, since it is
// used twice) and, for each of them alone, before FOR UPDATE locks it, takes
// the lock LockKey takes on the key whose parts are the SQL text expressions
// exprs (columns, or quoted constants). A key lock taken first and a row
// lock after, in one round trip, keeps the one lock order (key, then rows)
// without reading the row once to learn its key. row stands alone too, for
// the index; the lock sits behind it inside CASE, which evaluates it only for
// matching rows whatever order the plan checks conditions in, so no other
// row's key is locked. A row whose key has a NULL part takes no lock. On
// SQLite the condition is row itself.
func LockingKeyOf(db *gorm.DB, row string, exprs ...string) string {
	if DialectOf(db) != Postgres {
		return row
	}
	key := strings.Join(exprs, " || '"+keySeparator+"' || ")
	return row + " AND CASE WHEN " + row + " THEN pg_advisory_xact_lock(" + keyHash(key) + ") IS NOT NULL OR (" +
		key + ") IS NULL ELSE FALSE END"
}

// keySeparator joins a key's parts; no part contains it (UUIDs, enum
// values, fixed words).
const keySeparator = "/"

// keyHash is the SQL of a key's 64-bit lock number. It is computed by the
// server for LockKey and LockingKeyOf alike, so both name the same lock.
func keyHash(key string) string { return "hashtextextended(" + key + ", 0)" }

// IsUniqueViolation reports whether err is a unique-constraint violation,
// optionally of the named index (PostgreSQL names it; SQLite names the
// columns, so the index name is checked on PostgreSQL only).
func IsUniqueViolation(err error, index string) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505" && (index == "" || pgErr.ConstraintName == index)
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// IsNotFound reports whether err says that no row matched.
func IsNotFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }
