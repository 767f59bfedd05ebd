package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"cpor/storage"
)

// panicError is a handler's panic turned into a failed attempt.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// inTxRecovering is storage.InTx that turns a panic inside the transaction
// (which InTx rolls back before passing it on) into an error, so that one
// bad job costs a retry, not the process.
func inTxRecovering(ctx context.Context, db *gorm.DB, fn func(tx *storage.Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r, stack: debug.Stack()}
		}
	}()
	return storage.InTx(ctx, db, fn)
}

// maxErrorLen bounds the stored last_error. Handlers' errors name what
// failed, never secrets; the full text is in the log.
const maxErrorLen = 500

// recordFailure counts a failed attempt, in a transaction of its own (the
// job's rolled back): the job moves to its next retry, or is marked failed
// after the last attempt. The update matches only the attempt it records,
// so if another instance took the job in the meantime it changes nothing.
func (s *Scheduler) recordFailure(ctx context.Context, job Job, cause error, now time.Time) error {
	attempts := job.Attempts + 1
	s.metrics.errors.WithLabelValues(job.Kind).Inc()
	var failedAt *time.Time
	next := job.DueAt
	if attempts >= s.cfg.MaxAttempts {
		failedAt = &now
	} else {
		next = normalize(now.Add(s.backoff(attempts)))
	}
	err := storage.InTx(ctx, s.db, func(tx *storage.Tx) error {
		return tx.Exec("UPDATE scheduled_jobs SET attempts = ?, last_error = ?, due_at = ?, failed_at = ? "+
			"WHERE id = ? AND attempts = ? AND due_at = ? AND "+pending,
			attempts, truncate(cause.Error(), maxErrorLen), next, failedAt, job.ID, job.Attempts, job.DueAt).Error
	})
	if err != nil {
		return fmt.Errorf("record failed attempt of %s job %d: %w", job.Kind, job.ID, err)
	}
	s.logFailure(ctx, job, cause, attempts, failedAt != nil, next, now)
	return nil
}

func (s *Scheduler) logFailure(ctx context.Context, job Job, cause error, attempts int, gaveUp bool, next, now time.Time) {
	attrs := jobAttrs(job, now, "attempts", attempts, "error", cause)
	var p *panicError
	if errors.As(cause, &p) {
		attrs = append(attrs, "stack", string(p.stack))
	}
	if gaveUp {
		s.metrics.failed.WithLabelValues(job.Kind).Inc()
		s.log.ErrorContext(ctx, "scheduled job failed for good", attrs...)
		return
	}
	s.log.WarnContext(ctx, "scheduled job failed; will retry", append(attrs, "next_due_at", next)...)
}

// backoff is the delay after the attempts-th failure: BackoffBase doubled
// per earlier failure, capped at BackoffMax, of which a random half is
// taken off so that jobs that failed together do not retry together.
func (s *Scheduler) backoff(attempts int) time.Duration {
	d := s.cfg.BackoffBase
	for i := 1; i < attempts && d < s.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, s.cfg.BackoffMax)
	half := d / 2
	if half <= 0 {
		return d
	}
	return d - rand.N(half)
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
