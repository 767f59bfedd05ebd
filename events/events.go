// Package events writes the claim event log: the immutable audit rows that
// are also the stream live subscriptions follow.
package events

import (
	"fmt"
	"strconv"

	"cpor/models"
	"cpor/storage"
)

// Channel is the PostgreSQL NOTIFY channel announcing committed events.
const Channel = "cpor_claim_events"

// Publisher hears of events once their transaction has committed.
type Publisher interface {
	Published(events []models.ClaimEvent)
}

// Log appends events inside the caller's transaction.
type Log struct {
	publisher Publisher
}

// NewLog returns a log that tells publisher (which may be nil) of every
// committed event.
func NewLog(publisher Publisher) *Log { return &Log{publisher: publisher} }

// commitOrderLock is the advisory-lock key that makes event sequence numbers
// commit in order on PostgreSQL: a reader that has seen event n can never
// later find a committed event below n, so "every event after n" is a
// complete answer. Appending is the last write of a transaction, so the lock
// is held only until its commit.
const commitOrderLock = "claim_events.seq"

// Append writes the events in one statement as the last step of tx. It fills
// in their sequence numbers and creation times.
func (l *Log) Append(tx *storage.Tx, evs ...*models.ClaimEvent) error {
	if len(evs) == 0 {
		return nil
	}
	if err := storage.LockKey(tx.DB, commitOrderLock); err != nil {
		return err
	}
	now := storage.Now()
	rows := make([]models.ClaimEvent, len(evs))
	for i, e := range evs {
		if e.CreatedAt.IsZero() {
			e.CreatedAt = now
		}
		rows[i] = *e
	}
	if err := tx.Create(&rows).Error; err != nil {
		return fmt.Errorf("append claim events: %w", err)
	}
	for i := range rows {
		*evs[i] = rows[i]
	}
	// Every instance listening hears of the commit (NOTIFY is delivered
	// only if the transaction commits); the payload is only a hint, the
	// event rows are the truth.
	if storage.DialectOf(tx.DB) == storage.Postgres {
		last := strconv.FormatInt(rows[len(rows)-1].Seq, 10)
		if err := tx.Exec("SELECT pg_notify(?, ?)", Channel, last).Error; err != nil {
			return fmt.Errorf("notify claim events: %w", err)
		}
	}
	if l.publisher != nil {
		tx.AfterCommit(func() { l.publisher.Published(rows) })
	}
	return nil
}
