// Package scheduler runs time-driven work items ("jobs") inside the service:
// a claim whose partner did not answer lapses at its response deadline, a
// stale draft expires. It knows nothing of claims: callers Schedule and
// Cancel jobs of a kind about a subject (a UUID) in their own transactions,
// and register one Handler per kind.
//
// Guarantees:
//
//   - Exactly-once commit per job. A job is taken, handled and marked done
//     in one transaction: on PostgreSQL the job row is locked with FOR
//     UPDATE SKIP LOCKED, so any number of instances share the work and
//     never take the same job twice; on SQLite one writer at a time does
//     the same. Whatever the handler writes commits together with the
//     job's "done", or not at all.
//   - At-least-once execution of the handler's transaction. A transaction
//     that rolls back (handler error, panic, crash, shutdown) leaves the job
//     due and it runs again, so a handler must not act outside its
//     transaction except through tx.AfterCommit.
//   - Catch-up. Jobs that fell due while no instance ran are run on the next
//     pass, oldest first, Batch at a time, checking for shutdown between
//     jobs.
//   - Backoff. A failed attempt moves the job later by an exponential,
//     jittered delay (BackoffBase doubling up to BackoffMax), so it does not
//     hold up the jobs behind it; after MaxAttempts failed attempts the job
//     is marked failed, logged at error level and counted.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"cpor/storage"
)

// Scheduler runs the due jobs of the kinds it has handlers for; jobs of
// other kinds (registered by a newer version of the service) are left to the
// instances that know them.
type Scheduler struct {
	db       *gorm.DB
	cfg      Config
	handlers map[string]Handler
	kinds    []string
	takeSQL  string
	log      *slog.Logger
	metrics  *metrics
}

// New returns a Scheduler of the handlers' kinds. Its metrics are registered
// on reg; a nil log discards.
func New(db *gorm.DB, cfg Config, handlers map[string]Handler, log *slog.Logger, reg prometheus.Registerer) (*Scheduler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if db == nil {
		return nil, errors.New("scheduler: no database")
	}
	if err := checkHandlers(handlers); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &Scheduler{
		db:       db,
		cfg:      cfg,
		handlers: maps.Clone(handlers),
		kinds:    slices.Sorted(maps.Keys(handlers)),
		takeSQL:  takeSQL(storage.DialectOf(db)),
		log:      log.With("component", "scheduler"),
		metrics:  m,
	}, nil
}

func checkHandlers(handlers map[string]Handler) error {
	if len(handlers) == 0 {
		return errors.New("scheduler: no handlers")
	}
	for kind, h := range handlers {
		if kind == "" || h == nil {
			return fmt.Errorf("scheduler: handler of kind %q is missing or unnamed", kind)
		}
	}
	return nil
}

// takeSQL selects the next due job and locks it for the transaction.
//
// On PostgreSQL, SKIP LOCKED passes over jobs other instances are running,
// and a job one of them has just finished no longer matches once its lock
// is released (FOR UPDATE re-checks the condition on the newest row
// version), so each job is taken by exactly one transaction.
//
// SQLite has no row locks and needs none: the job transaction is BEGIN
// IMMEDIATE (storage.SQLiteDSN), which takes the database's single write
// lock before this SELECT, and within the process the write gate queues
// writers before that. No other transaction, of this process or another
// using the same file, can write between this read and the job's "done".
func takeSQL(d storage.Dialect) string {
	q := "SELECT id, kind, subject, due_at, attempts FROM scheduled_jobs WHERE " + pending +
		" AND due_at <= ? AND kind IN ? ORDER BY due_at, id LIMIT 1"
	if d == storage.Postgres {
		q += " FOR UPDATE SKIP LOCKED"
	}
	return q
}

// Run runs passes until ctx ends, then returns nil. After a full batch the
// next pass starts at once; otherwise it waits about cfg.Interval. A failed
// pass (the database unreachable) is logged and tried again next interval.
func (s *Scheduler) Run(ctx context.Context) error {
	s.log.InfoContext(ctx, "scheduler started", "kinds", s.kinds, "interval", s.cfg.Interval, "batch", s.cfg.Batch)
	for {
		ran, err := s.RunDue(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.log.ErrorContext(ctx, "scheduler pass failed", "error", err)
		}
		if !s.pause(ctx, ran == s.cfg.Batch && err == nil) {
			return nil
		}
	}
}

// pause waits before the next pass, unless more work is known to be due;
// it reports false when ctx ends first.
func (s *Scheduler) pause(ctx context.Context, moreDue bool) bool {
	if moreDue {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(jittered(s.cfg.Interval))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// jittered varies d by ±20%.
func jittered(d time.Duration) time.Duration {
	spread := d * 2 / 5
	if spread <= 0 {
		return d
	}
	return d - spread/2 + rand.N(spread)
}

// RunDue runs one pass: the jobs due now, oldest first, at most cfg.Batch of
// them, each in its own transaction; then it counts what is still due for
// the metrics. It returns how many jobs it ran, failed attempts included. A
// failing job does not end the pass; a database failure or the end of ctx
// does.
func (s *Scheduler) RunDue(ctx context.Context) (int, error) {
	ran := 0
	for ran < s.cfg.Batch {
		if err := ctx.Err(); err != nil {
			return ran, err
		}
		took, err := s.runNext(ctx)
		if err != nil {
			return ran, err
		}
		if !took {
			break
		}
		ran++
	}
	if err := s.refreshDue(ctx); err != nil {
		return ran, err
	}
	return ran, nil
}

// runNext runs the oldest due job, if any, and reports whether there was
// one.
func (s *Scheduler) runNext(ctx context.Context) (bool, error) {
	now := normalize(s.cfg.Clock())
	var (
		job   Job
		taken bool
		out   Outcome
	)
	jobCtx, cancel := context.WithTimeout(ctx, s.cfg.JobTimeout)
	defer cancel()
	err := inTxRecovering(jobCtx, s.db, func(tx *storage.Tx) error {
		var err error
		if job, taken, err = s.take(tx, now); err != nil || !taken {
			return err
		}
		s.metrics.lag.WithLabelValues(job.Kind).Observe(now.Sub(job.DueAt).Seconds())
		out, err = s.handle(jobCtx, tx, job, now)
		return err
	})
	switch {
	case !taken:
		if err != nil {
			return false, fmt.Errorf("take a due job: %w", err)
		}
		return false, nil
	case err == nil:
		s.succeeded(ctx, job, out, now)
		return true, nil
	case ctx.Err() != nil:
		// Shutdown, not the job's fault: it stays due, attempt uncounted.
		return true, ctx.Err()
	default:
		return true, s.recordFailure(ctx, job, err, now)
	}
}

// take reads and locks the oldest due job of the known kinds.
func (s *Scheduler) take(tx *storage.Tx, now time.Time) (Job, bool, error) {
	var jobs []Job
	if err := tx.Raw(s.takeSQL, now, s.kinds).Scan(&jobs).Error; err != nil {
		return Job{}, false, err
	}
	if len(jobs) == 0 {
		return Job{}, false, nil
	}
	job := jobs[0]
	job.DueAt = normalize(job.DueAt)
	return job, true, nil
}

// handle runs the job's handler and records its outcome in tx.
func (s *Scheduler) handle(ctx context.Context, tx *storage.Tx, job Job, now time.Time) (Outcome, error) {
	out, err := s.handlers[job.Kind](ctx, tx, job, now)
	if err != nil {
		return out, err
	}
	if err := out.check(now); err != nil {
		return out, err
	}
	if out.label != "" {
		err = tx.Exec("UPDATE scheduled_jobs SET done_at = ?, outcome = ? WHERE id = ?", now, out.label, job.ID).Error
	} else {
		err = tx.Exec("UPDATE scheduled_jobs SET due_at = ?, attempts = 0, last_error = '' WHERE id = ?", out.next, job.ID).Error
	}
	if err != nil {
		return out, fmt.Errorf("record outcome: %w", err)
	}
	return out, nil
}

func (s *Scheduler) succeeded(ctx context.Context, job Job, out Outcome, now time.Time) {
	if out.label != "" {
		s.metrics.done.WithLabelValues(job.Kind, out.label).Inc()
		s.log.DebugContext(ctx, "scheduled job done", jobAttrs(job, now, "outcome", out.label)...)
		return
	}
	s.metrics.rescheduled.WithLabelValues(job.Kind).Inc()
	s.log.DebugContext(ctx, "scheduled job rescheduled", jobAttrs(job, now, "next_due_at", out.next)...)
}

func jobAttrs(job Job, now time.Time, more ...any) []any {
	return append([]any{"job_id", job.ID, "kind", job.Kind, "subject", job.Subject, "lag", now.Sub(job.DueAt)}, more...)
}

// refreshDue sets the due gauge from one count of the pending due jobs.
func (s *Scheduler) refreshDue(ctx context.Context) error {
	now := normalize(s.cfg.Clock())
	var rows []struct {
		Kind string
		N    int
	}
	err := s.db.WithContext(ctx).Raw("SELECT kind, COUNT(*) AS n FROM scheduled_jobs WHERE "+pending+
		" AND due_at <= ? GROUP BY kind", now).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("count due jobs: %w", err)
	}
	counts := make(map[string]int, len(rows))
	for _, r := range rows {
		counts[r.Kind] = r.N
	}
	s.metrics.setDue(counts, now)
	return nil
}
