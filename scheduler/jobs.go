package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/storage"
)

// Job is a due work item as its handler sees it.
type Job struct {
	ID      int64
	Kind    string
	Subject uuid.UUID
	DueAt   time.Time
	// Attempts counts the failed attempts since the job was scheduled.
	Attempts int
}

// Handler does a job's work in tx, the transaction that also marks the job
// done, at now (the scheduler's clock reading). It re-derives the truth
// from the subject, which it locks first (storage.ForUpdate): the subject
// may have changed since the job was scheduled, and a transition that
// Schedules or Cancels the job while it runs leaves it to the handler (see
// Schedule). An error, or a panic, rolls tx back and retries the job later.
type Handler func(ctx context.Context, tx *storage.Tx, job Job, now time.Time) (Outcome, error)

// Outcome is what became of a job whose handler succeeded: done with a
// label, or moved to a later time.
type Outcome struct {
	label string
	next  time.Time
}

// OutcomeCancelled is the label of a job ended by Cancel.
const OutcomeCancelled = "cancelled"

// maxLabelLen keeps outcome labels short: they are metric label values.
const maxLabelLen = 32

// Done ends the job with a short fixed label ("fired", "obsolete"); it is
// stored with the job and counted per label, so it must come from a small
// set, never from data.
func Done(label string) Outcome { return Outcome{label: label} }

// Reschedule keeps the job pending until at, which must be later than the
// handler's now: a draft touched since the job was scheduled expires later.
// Its failed attempts start again from zero.
func Reschedule(at time.Time) Outcome { return Outcome{next: normalize(at)} }

// check rejects the outcomes only a bug returns.
func (o Outcome) check(now time.Time) error {
	switch {
	case o.label == "" && o.next.IsZero():
		return errors.New("handler returned no outcome")
	case o.label == "" && !o.next.After(now):
		return fmt.Errorf("handler rescheduled to %s, not after now %s", o.next.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
	case len(o.label) > maxLabelLen:
		return fmt.Errorf("outcome label %.40q… is longer than %d bytes", o.label, maxLabelLen)
	}
	return nil
}

// pending is the condition of a job not yet done or failed; it matches the
// partial indexes of the migration, so it is written the same way.
const pending = "done_at IS NULL AND failed_at IS NULL"

// Schedule makes the pending job of (kind, subject) due at due, creating it
// or moving it, in the caller's transaction: the job exists exactly when the
// transition that needs it commits. The caller holds the subject's lock (as
// a transition does), so two Schedules of one subject never race.
//
// A job being run at this very moment is locked by its scheduler; Schedule
// leaves it alone rather than wait for it (the running handler waits for the
// subject's lock the caller holds: waiting here would deadlock), and the
// handler, once the caller commits, re-derives the due time from the
// subject and reschedules.
func Schedule(tx *storage.Tx, kind string, subject uuid.UUID, due time.Time) error {
	if kind == "" || subject == uuid.Nil {
		return fmt.Errorf("schedule: job kind %q or subject %s missing", kind, subject)
	}
	due = normalize(due)
	// A second round: the lock that kept the first from moving the job may
	// have been a failed attempt being recorded, which is over once the
	// insert has waited for it; a running job is still locked and left be.
	for range 2 {
		if done, err := moveOrAdd(tx, kind, subject, due); err != nil || done {
			return err
		}
	}
	return nil
}

// moveOrAdd moves the pending job of (kind, subject) to due, or adds it;
// false means the job exists but is locked.
func moveOrAdd(tx *storage.Tx, kind string, subject uuid.UUID, due time.Time) (bool, error) {
	moved := tx.Exec("UPDATE scheduled_jobs SET due_at = ?, attempts = 0, last_error = '' WHERE id IN ("+
		pendingJobOf(tx.DB)+")", due, kind, subject)
	if moved.Error != nil {
		return false, fmt.Errorf("move %s job of %s: %w", kind, subject, moved.Error)
	}
	if moved.RowsAffected > 0 {
		return true, nil
	}
	// A pending job only locked (by a running handler) conflicts at once;
	// one being updated (its failure recorded) makes the insert wait for
	// that update to commit.
	added, err := insertPending(tx, kind, subject, due)
	if err != nil {
		return false, fmt.Errorf("add %s job of %s: %w", kind, subject, err)
	}
	return added, nil
}

// Add is Schedule for a subject that is new in the caller's transaction
// (a draft being created), which can have no job yet: one statement where
// Schedule sends two. Should a job exist after all, it is moved.
func Add(tx *storage.Tx, kind string, subject uuid.UUID, due time.Time) error {
	if kind == "" || subject == uuid.Nil {
		return fmt.Errorf("add: job kind %q or subject %s missing", kind, subject)
	}
	added, err := insertPending(tx, kind, subject, due)
	if err != nil {
		return fmt.Errorf("add %s job of %s: %w", kind, subject, err)
	}
	if !added {
		return Schedule(tx, kind, subject, due)
	}
	return nil
}

// insertPending adds the job unless one of (kind, subject) is pending.
func insertPending(tx *storage.Tx, kind string, subject uuid.UUID, due time.Time) (bool, error) {
	added := tx.Exec("INSERT INTO scheduled_jobs (kind, subject, due_at, created_at) VALUES (?, ?, ?, ?) "+
		"ON CONFLICT (kind, subject) WHERE "+pending+" DO NOTHING", kind, subject, normalize(due), storage.Now())
	return added.RowsAffected > 0, added.Error
}

// Ensure adds the pending job of (kind, subject) due at due unless one is
// already pending, which it leaves as it is: a recurring job (the daily
// digest) is ensured at every start without moving it.
func Ensure(tx *storage.Tx, kind string, subject uuid.UUID, due time.Time) error {
	if kind == "" || subject == uuid.Nil {
		return fmt.Errorf("ensure: job kind %q or subject %s missing", kind, subject)
	}
	if _, err := insertPending(tx, kind, subject, due); err != nil {
		return fmt.Errorf("ensure %s job of %s: %w", kind, subject, err)
	}
	return nil
}

// Cancel ends the pending job of (kind, subject), if any, with the outcome
// "cancelled", in the caller's transaction. Like Schedule it leaves a job
// being run to its handler, which will find it obsolete.
func Cancel(tx *storage.Tx, kind string, subject uuid.UUID) error {
	err := tx.Exec("UPDATE scheduled_jobs SET done_at = ?, outcome = ? WHERE id IN ("+pendingJobOf(tx.DB)+")",
		storage.Now(), OutcomeCancelled, kind, subject).Error
	if err != nil {
		return fmt.Errorf("cancel %s job of %s: %w", kind, subject, err)
	}
	return nil
}

// pendingJobOf selects the id of the pending job of a kind (first parameter)
// and subject (second), locking it on PostgreSQL unless a scheduler already
// does (see Schedule).
func pendingJobOf(db *gorm.DB) string {
	q := "SELECT id FROM scheduled_jobs WHERE kind = ? AND subject = ? AND " + pending
	if storage.DialectOf(db) == storage.Postgres {
		q += " FOR UPDATE SKIP LOCKED"
	}
	return q
}

// normalize brings a time to what the databases store: UTC at the
// microsecond, so that it compares and reads back exactly.
func normalize(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
