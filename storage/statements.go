package storage

import (
	"context"
	"sync/atomic"

	"gorm.io/gorm"
)

// statementCounter counts the SQL statements sent through a database
// handle, in total and for each context that carries a Tally: a page's
// statement budget is a figure the tests assert and the access log reports,
// not a hope. BEGIN and COMMIT (or ROLLBACK) of InTx count too, since each
// is a round trip like any other statement.
type statementCounter struct{ total atomic.Int64 }

const statementCounterName = "cpor:statement-counter"

func (*statementCounter) Name() string { return statementCounterName }

// Initialize hooks the counter after every kind of statement GORM sends.
func (c *statementCounter) Initialize(db *gorm.DB) error {
	count := func(tx *gorm.DB) {
		// A dry run only builds SQL: a subquery, for one, is built so.
		if !tx.DryRun && !tx.Statement.DryRun {
			c.add(tx.Statement.Context, 1)
		}
	}
	cb := db.Callback()
	for _, err := range []error{
		cb.Create().After("gorm:create").Register(statementCounterName, count),
		cb.Query().After("gorm:query").Register(statementCounterName, count),
		cb.Update().After("gorm:update").Register(statementCounterName, count),
		cb.Delete().After("gorm:delete").Register(statementCounterName, count),
		cb.Row().After("gorm:row").Register(statementCounterName, count),
		cb.Raw().After("gorm:raw").Register(statementCounterName, count),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *statementCounter) add(ctx context.Context, n int64) {
	c.total.Add(n)
	if t, ok := ctx.Value(tallyKey{}).(*Tally); ok {
		t.n.Add(n)
	}
}

func counterOf(db *gorm.DB) *statementCounter {
	c, _ := db.Config.Plugins[statementCounterName].(*statementCounter)
	return c
}

// StatementsSent is how many statements db has sent since it was opened.
func StatementsSent(db *gorm.DB) int64 {
	if c := counterOf(db); c != nil {
		return c.total.Load()
	}
	return 0
}

// Tally counts the statements sent on behalf of one context (a request).
type Tally struct{ n atomic.Int64 }

type tallyKey struct{}

// WithTally returns ctx carrying a fresh tally of the statements sent with
// it, or with any context derived from it.
func WithTally(ctx context.Context) (context.Context, *Tally) {
	t := &Tally{}
	return context.WithValue(ctx, tallyKey{}, t), t
}

// Statements is the number counted so far.
func (t *Tally) Statements() int64 { return t.n.Load() }
