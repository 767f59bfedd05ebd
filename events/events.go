// Package events writes the claim event log: the immutable audit rows that
// are also the stream live subscriptions follow. Writers commit in any
// order; readers follow the log up to settled marks (settled.go).
package events

import (
	"fmt"

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

// pending is one transaction's events, written together before it commits.
type pending struct{ events []*models.ClaimEvent }

// Append adds events to the transaction; they are written, in the order
// appended, as the transaction's last step, which fills in their sequence
// numbers.
func (l *Log) Append(tx *storage.Tx, evs ...*models.ClaimEvent) error {
	if len(evs) == 0 {
		return nil
	}
	p := tx.State(l, func() any {
		p := &pending{}
		tx.BeforeCommit(func(tx *storage.Tx) error { return l.write(tx, p.events) })
		return p
	}).(*pending)
	now := storage.Now()
	for _, e := range evs {
		if e.CreatedAt.IsZero() {
			e.CreatedAt = now
		}
	}
	p.events = append(p.events, evs...)
	return nil
}

func (l *Log) write(tx *storage.Tx, evs []*models.ClaimEvent) error {
	postgres := storage.DialectOf(tx.DB) == storage.Postgres
	if postgres {
		// The transaction must hold an id before it draws a sequence
		// number, so that a reader's mark waits for it (see settled.go).
		// Writers no longer take a lock: they commit in any order.
		if err := tx.Exec("SELECT pg_current_xact_id()").Error; err != nil {
			return fmt.Errorf("claim events: take a transaction id: %w", err)
		}
	}
	rows := make([]models.ClaimEvent, len(evs))
	for i, e := range evs {
		rows[i] = *e
	}
	if err := tx.Create(&rows).Error; err != nil {
		return fmt.Errorf("append claim events: %w", err)
	}
	for i := range rows {
		*evs[i] = rows[i]
	}
	// Every instance listening hears of the commit (NOTIFY is delivered
	// only if the transaction commits); the payload is only a hint of what
	// to read, the event rows are the truth.
	tx.Notify(Channel, Announce(rows).Encode())
	if l.publisher != nil {
		tx.AfterCommit(func() { l.publisher.Published(rows) })
	}
	return nil
}
