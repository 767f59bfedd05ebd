package scheduler_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"cpor/scheduler"
	"cpor/storage"
	"cpor/storage/storagetest"
)

func TestDueJobRunsOnceAndIsDone(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		c := &counting{}
		h := newHarness(t, db, scheduler.Config{}, map[string]scheduler.Handler{"lapse": c.handle})
		subject := uuid.New()
		h.schedule("lapse", subject, t0.Add(-time.Minute))

		if n := h.runDue(); n != 1 {
			t.Fatalf("first pass ran %d jobs, want 1", n)
		}
		if n := h.runDue(); n != 0 {
			t.Fatalf("second pass ran %d jobs, want 0", n)
		}
		if c.calls() != 1 {
			t.Fatalf("handler called %d times, want 1", c.calls())
		}
		got := c.jobs[0]
		if got.Kind != "lapse" || got.Subject != subject || !got.DueAt.Equal(t0.Add(-time.Minute)) || got.Attempts != 0 {
			t.Errorf("handler got %+v", got)
		}
		row := h.job("lapse", subject)
		if row.DoneAt == nil || !row.DoneAt.Equal(t0) || row.Outcome == nil || *row.Outcome != "fired" {
			t.Errorf("job not marked done at %s with outcome fired: %+v", t0, row)
		}
	})
}

func TestJobWaitsUntilTheClockReachesItsDueTime(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		c := &counting{}
		h := newHarness(t, db, scheduler.Config{}, map[string]scheduler.Handler{"expire": c.handle})
		h.schedule("expire", uuid.New(), t0.Add(time.Hour))
		steps := []struct {
			advance time.Duration
			want    int
		}{
			{0, 0},
			{59 * time.Minute, 0},
			{time.Minute - time.Microsecond, 0},
			{time.Microsecond, 1}, // due exactly now
			{time.Hour, 0},
		}
		for i, st := range steps {
			h.clock.Advance(st.advance)
			if n := h.runDue(); n != st.want {
				t.Fatalf("step %d (clock %s): ran %d jobs, want %d", i, h.clock.Now(), n, st.want)
			}
		}
	})
}

func TestScheduleKeepsOnePendingJobPerKindAndSubject(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		c := &counting{}
		handlers := map[string]scheduler.Handler{"expire": c.handle, "warn": c.handle}
		h := newHarness(t, db, scheduler.Config{}, handlers)
		subject := uuid.New()

		h.schedule("expire", subject, t0.Add(time.Hour))
		h.schedule("expire", subject, t0.Add(2*time.Hour)) // moved later
		h.schedule("warn", subject, t0.Add(time.Hour))     // another kind: its own job
		if row := h.job("expire", subject); !row.DueAt.Equal(t0.Add(2 * time.Hour)) {
			t.Errorf("due at %s, want the later schedule %s", row.DueAt, t0.Add(2*time.Hour))
		}
		h.schedule("expire", subject, t0.Add(-time.Hour)) // moved earlier, into the past
		if n := h.runDue(); n != 1 || c.calls() != 1 || c.jobs[0].Kind != "expire" {
			t.Fatalf("ran %d jobs (%+v), want the moved expire job", n, c.jobs)
		}

		// Once done, scheduling again adds a new pending job beside it.
		h.schedule("expire", subject, t0.Add(time.Hour))
		rows := h.jobs("expire", subject)
		if len(rows) != 2 || rows[0].pending() || !rows[1].pending() {
			t.Fatalf("want the done job and a new pending one, got %+v", rows)
		}
	})
}

func TestScheduleResetsAFailingJobsAttempts(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		failing := func(context.Context, *storage.Tx, scheduler.Job, time.Time) (scheduler.Outcome, error) {
			return scheduler.Outcome{}, errors.New("claim service unavailable")
		}
		h := newHarness(t, db, scheduler.Config{}, map[string]scheduler.Handler{"lapse": failing})
		subject := uuid.New()
		h.schedule("lapse", subject, t0)
		h.runDue()
		h.schedule("lapse", subject, t0.Add(time.Hour))
		row := h.job("lapse", subject)
		if row.Attempts != 0 || row.LastError != "" || !row.DueAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("a new schedule is a new start: %+v", row)
		}
	})
}

func TestCancelEndsThePendingJob(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		c := &counting{}
		h := newHarness(t, db, scheduler.Config{}, map[string]scheduler.Handler{"lapse": c.handle})
		subject, other := uuid.New(), uuid.New()
		h.schedule("lapse", subject, t0)
		h.schedule("lapse", other, t0)

		h.cancel("lapse", subject)
		h.cancel("lapse", subject)    // nothing pending: no error
		h.cancel("lapse", uuid.New()) // never scheduled: no error

		if n := h.runDue(); n != 1 || c.jobs[0].Subject != other {
			t.Fatalf("ran %d jobs (%+v), want only the other subject's", n, c.jobs)
		}
		row := h.job("lapse", subject)
		if row.DoneAt == nil || row.Outcome == nil || *row.Outcome != scheduler.OutcomeCancelled {
			t.Errorf("cancelled job: %+v", row)
		}
	})
}

func TestRescheduleOutcomeMovesTheJob(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		// Like a draft touched since its expiry was scheduled: the handler
		// finds it should expire an hour later.
		runs := 0
		touched := func(_ context.Context, _ *storage.Tx, _ scheduler.Job, now time.Time) (scheduler.Outcome, error) {
			runs++
			if runs == 1 {
				return scheduler.Reschedule(now.Add(time.Hour)), nil
			}
			return scheduler.Done("fired"), nil
		}
		h := newHarness(t, db, scheduler.Config{}, map[string]scheduler.Handler{"expire": touched})
		subject := uuid.New()
		h.schedule("expire", subject, t0)

		h.runDue()
		row := h.job("expire", subject)
		if !row.pending() || !row.DueAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("want pending, due an hour later: %+v", row)
		}
		if n := h.runDue(); n != 0 {
			t.Fatalf("rescheduled job ran again before its time")
		}
		h.clock.Advance(time.Hour)
		if n := h.runDue(); n != 1 || h.job("expire", subject).pending() {
			t.Fatalf("rescheduled job did not run at its new time")
		}
		if got := h.metric("cpor_scheduler_jobs_rescheduled_total", "kind", "expire"); got != 1 {
			t.Errorf("rescheduled counter %v, want 1", got)
		}
	})
}

func TestFailedAttemptsBackOffThenTheJobFails(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		cfg := scheduler.Config{BackoffBase: time.Minute, BackoffMax: 3 * time.Minute, MaxAttempts: 4}
		calls := 0
		failing := func(context.Context, *storage.Tx, scheduler.Job, time.Time) (scheduler.Outcome, error) {
			calls++
			return scheduler.Outcome{}, errors.New("partner directory timed out")
		}
		h := newHarness(t, db, cfg, map[string]scheduler.Handler{"lapse": failing})
		subject := uuid.New()
		h.schedule("lapse", subject, t0)

		// The delay after the nth failure is in (d/2, d], d doubling from
		// the base up to the max.
		for attempt, d := range []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute} {
			if n := h.runDue(); n != 1 {
				t.Fatalf("attempt %d: ran %d jobs", attempt+1, n)
			}
			row := h.job("lapse", subject)
			now := h.clock.Now()
			if row.Attempts != attempt+1 || !row.pending() || row.LastError != "partner directory timed out" {
				t.Fatalf("after attempt %d: %+v", attempt+1, row)
			}
			if !row.DueAt.After(now.Add(d/2)) || row.DueAt.After(now.Add(d)) {
				t.Fatalf("after attempt %d: due %s, want in (%s, %s]", attempt+1, row.DueAt, now.Add(d/2), now.Add(d))
			}
			if n := h.runDue(); n != 0 {
				t.Fatalf("after attempt %d: retried before the backoff", attempt+1)
			}
			h.clock.Advance(d)
		}
		if n := h.runDue(); n != 1 {
			t.Fatalf("last attempt did not run")
		}
		row := h.job("lapse", subject)
		if row.FailedAt == nil || row.Attempts != 4 || row.DoneAt != nil {
			t.Fatalf("want failed after 4 attempts: %+v", row)
		}
		h.clock.Advance(24 * time.Hour)
		if n := h.runDue(); n != 0 || calls != 4 {
			t.Fatalf("failed job ran again: %d calls", calls)
		}
		if got := h.metric("cpor_scheduler_job_errors_total", "kind", "lapse"); got != 4 {
			t.Errorf("errors counter %v, want 4", got)
		}
		if got := h.metric("cpor_scheduler_jobs_failed_total", "kind", "lapse"); got != 1 {
			t.Errorf("failed counter %v, want 1", got)
		}
		// A failed job frees its (kind, subject) for a new schedule.
		h.schedule("lapse", subject, h.clock.Now())
		if rows := h.jobs("lapse", subject); len(rows) != 2 || !rows[1].pending() {
			t.Errorf("want a new pending job beside the failed one: %+v", rows)
		}
	})
}

func TestHandlerFaultsAreFailedAttempts(t *testing.T) {
	long := strings.Repeat("é", 400) // 800 bytes: the stored error is cut
	cases := []struct {
		name      string
		handler   scheduler.Handler
		lastError string
	}{
		{"panic", func(context.Context, *storage.Tx, scheduler.Job, time.Time) (scheduler.Outcome, error) {
			panic("boom")
		}, "panic: boom"},
		{"no outcome", func(context.Context, *storage.Tx, scheduler.Job, time.Time) (scheduler.Outcome, error) {
			return scheduler.Outcome{}, nil
		}, "handler returned no outcome"},
		{"rescheduled to now", func(_ context.Context, _ *storage.Tx, _ scheduler.Job, now time.Time) (scheduler.Outcome, error) {
			return scheduler.Reschedule(now), nil
		}, "handler rescheduled to"},
		{"label too long", func(context.Context, *storage.Tx, scheduler.Job, time.Time) (scheduler.Outcome, error) {
			return scheduler.Done(strings.Repeat("x", 33)), nil
		}, "outcome label"},
		{"long error", func(context.Context, *storage.Tx, scheduler.Job, time.Time) (scheduler.Outcome, error) {
			return scheduler.Outcome{}, errors.New(long)
		}, strings.Repeat("é", 250)},
	}
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				h := newHarness(t, db, scheduler.Config{}, map[string]scheduler.Handler{"lapse": tc.handler})
				subject := uuid.New()
				h.schedule("lapse", subject, t0)
				if n := h.runDue(); n != 1 {
					t.Fatalf("ran %d jobs, want 1", n)
				}
				row := h.job("lapse", subject)
				if row.Attempts != 1 || !row.pending() || !strings.HasPrefix(row.LastError, tc.lastError) || len(row.LastError) > 500 {
					t.Errorf("want one failed attempt with error %.40q…, got attempts %d, error %.60q", tc.lastError, row.Attempts, row.LastError)
				}
				if tc.name == "long error" && row.LastError != tc.lastError {
					t.Errorf("long error cut to %d bytes, want 500 on a character boundary", len(row.LastError))
				}
				h.cancel("lapse", subject) // keep the next case's pass to its own job
			})
		}
	})
}

func TestFailedHandlerLeavesNothingButTheRetry(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		createEffects(t, db)
		afterCommitRan := false
		writesThenFails := func(_ context.Context, tx *storage.Tx, job scheduler.Job, _ time.Time) (scheduler.Outcome, error) {
			if err := writeEffect(tx, job); err != nil {
				return scheduler.Outcome{}, err
			}
			tx.AfterCommit(func() { afterCommitRan = true })
			return scheduler.Outcome{}, errors.New("rejection notice could not be rendered")
		}
		h := newHarness(t, db, scheduler.Config{}, map[string]scheduler.Handler{"lapse": writesThenFails})
		subject := uuid.New()
		h.schedule("lapse", subject, t0)
		h.runDue()

		if n := countEffects(t, db); n != 0 {
			t.Errorf("the failed handler's row was kept (%d rows)", n)
		}
		if afterCommitRan {
			t.Errorf("the failed handler's after-commit work ran")
		}
		if row := h.job("lapse", subject); !row.pending() || row.Attempts != 1 {
			t.Errorf("want the job still pending for a retry: %+v", row)
		}
	})
}

func TestOneFailingJobDoesNotHoldUpOthers(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		c := &counting{}
		failing := func(context.Context, *storage.Tx, scheduler.Job, time.Time) (scheduler.Outcome, error) {
			return scheduler.Outcome{}, errors.New("broken")
		}
		h := newHarness(t, db, scheduler.Config{}, map[string]scheduler.Handler{"bad": failing, "good": c.handle})
		h.schedule("bad", uuid.New(), t0.Add(-2*time.Hour)) // oldest: taken first
		h.schedule("good", uuid.New(), t0.Add(-time.Hour))
		if n := h.runDue(); n != 2 || c.calls() != 1 {
			t.Fatalf("ran %d jobs, %d good ones; want both run", n, c.calls())
		}
	})
}

func TestCatchUpRunsTheBacklogOldestFirstInBatches(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		const jobs, batch = 500, 100
		c := &counting{}
		h := newHarness(t, db, scheduler.Config{Batch: batch}, map[string]scheduler.Handler{"lapse": c.handle})
		// Due times a minute apart over the downtime, scheduled in random
		// order so that the id order says nothing.
		err := storage.InTx(context.Background(), db, func(tx *storage.Tx) error {
			for _, i := range rand.Perm(jobs) {
				if err := scheduler.Schedule(tx, "lapse", uuid.New(), t0.Add(-time.Duration(i+1)*time.Minute)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for pass := range jobs / batch {
			if n := h.runDue(); n != batch {
				t.Fatalf("pass %d ran %d jobs, want a full batch of %d", pass, n, batch)
			}
		}
		if n := h.runDue(); n != 0 {
			t.Fatalf("a pass after the backlog ran %d jobs", n)
		}
		if c.calls() != jobs {
			t.Fatalf("ran %d jobs, want %d", c.calls(), jobs)
		}
		for i := 1; i < len(c.jobs); i++ {
			if !c.jobs[i-1].DueAt.Before(c.jobs[i].DueAt) {
				t.Fatalf("job %d due %s ran after one due %s", i, c.jobs[i].DueAt, c.jobs[i-1].DueAt)
			}
		}
	})
}

func TestMetricsAfterAPass(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		c := &counting{}
		failing := func(context.Context, *storage.Tx, scheduler.Job, time.Time) (scheduler.Outcome, error) {
			return scheduler.Outcome{}, errors.New("broken")
		}
		obsolete := func(context.Context, *storage.Tx, scheduler.Job, time.Time) (scheduler.Outcome, error) {
			return scheduler.Done("obsolete"), nil
		}
		h := newHarness(t, db, scheduler.Config{Batch: 4},
			map[string]scheduler.Handler{"lapse": c.handle, "warn": obsolete, "flaky": failing})
		for range 2 {
			h.schedule("lapse", uuid.New(), t0.Add(-10*time.Minute))
		}
		h.schedule("warn", uuid.New(), t0.Add(-time.Minute))
		h.schedule("flaky", uuid.New(), t0.Add(-time.Minute))
		h.schedule("lapse", uuid.New(), t0)                   // due, beyond the batch (same due time, later id)
		h.schedule("lapse", uuid.New(), t0.Add(time.Hour))    // not due
		h.schedule("unknown", uuid.New(), t0.Add(-time.Hour)) // no handler here: left alone

		if n := h.runDue(); n != 4 {
			t.Fatalf("ran %d jobs, want a batch of 4", n)
		}
		want := []struct {
			name   string
			labels []string
			value  float64
		}{
			{"cpor_scheduler_jobs_done_total", []string{"kind", "lapse", "outcome", "fired"}, 2},
			{"cpor_scheduler_jobs_done_total", []string{"kind", "warn", "outcome", "obsolete"}, 1},
			{"cpor_scheduler_job_errors_total", []string{"kind", "flaky"}, 1},
			{"cpor_scheduler_jobs_failed_total", []string{"kind", "flaky"}, 0},
			{"cpor_scheduler_jobs_due", []string{"kind", "lapse"}, 1},
			{"cpor_scheduler_jobs_due", []string{"kind", "warn"}, 0},
			{"cpor_scheduler_jobs_due", []string{"kind", "flaky"}, 0}, // backed off
			{"cpor_scheduler_jobs_due", []string{"kind", "unknown"}, 1},
			{"cpor_scheduler_job_lag_seconds", []string{"kind", "lapse"}, 2},
			{"cpor_scheduler_job_lag_seconds", []string{"kind", "flaky"}, 1},
			{"cpor_scheduler_last_pass_timestamp_seconds", nil, float64(t0.Unix())},
		}
		for _, w := range want {
			if got := h.metric(w.name, w.labels...); got != w.value {
				t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
			}
		}
		if sum := lagSum(t, h, "lapse"); sum != 2*600 {
			t.Errorf("lapse lag sum %vs, want 1200s (two jobs 10 minutes late)", sum)
		}

		h.runDue() // the last due lapse job: its gauge drops to zero
		if got := h.metric("cpor_scheduler_jobs_due", "kind", "lapse"); got != 0 {
			t.Errorf("due gauge of lapse %v after the backlog ran, want 0", got)
		}
	})
}

func lagSum(t *testing.T, h *harness, kind string) float64 {
	t.Helper()
	families, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "cpor_scheduler_job_lag_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, []string{"kind", kind}) {
				return m.GetHistogram().GetSampleSum()
			}
		}
	}
	return 0
}

func TestRunWorksUntilShutdown(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		ran := make(chan scheduler.Job, 1)
		signal := func(_ context.Context, _ *storage.Tx, job scheduler.Job, _ time.Time) (scheduler.Outcome, error) {
			ran <- job
			return scheduler.Done("fired"), nil
		}
		// An hour's interval: the job runs in the first pass, and shutdown
		// must end the wait for the second.
		h := newHarness(t, db, scheduler.Config{Interval: time.Hour}, map[string]scheduler.Handler{"lapse": signal})
		h.schedule("lapse", uuid.New(), t0)

		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan error, 1)
		go func() { stopped <- h.s.Run(ctx) }()
		select {
		case <-ran:
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not run the due job")
		}
		cancel()
		select {
		case err := <-stopped:
			if err != nil {
				t.Errorf("Run ended with %v, want nil on shutdown", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not stop on shutdown")
		}
	})
}

func TestNewRejectsBadSettings(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite)
	c := &counting{}
	cases := []struct {
		name     string
		cfg      scheduler.Config
		handlers map[string]scheduler.Handler
	}{
		{"no handlers", scheduler.Config{}, nil},
		{"unnamed kind", scheduler.Config{}, map[string]scheduler.Handler{"": c.handle}},
		{"nil handler", scheduler.Config{}, map[string]scheduler.Handler{"lapse": nil}},
		{"max below base", scheduler.Config{BackoffBase: time.Hour, BackoffMax: time.Minute}, map[string]scheduler.Handler{"lapse": c.handle}},
		{"negative batch", scheduler.Config{Batch: -1}, map[string]scheduler.Handler{"lapse": c.handle}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := scheduler.New(db, tc.cfg, tc.handlers, nil, nil); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

// TestAddIsScheduleForANewSubject: Add inserts the job in one statement;
// should one be pending already it moves it, as Schedule would, so there
// is still one pending job per kind and subject.
func TestAddIsScheduleForANewSubject(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, scheduler.Config{}, map[string]scheduler.Handler{"expire": (&counting{}).handle})
		subject := uuid.New()
		add := func(due time.Time) int64 {
			before := storage.StatementsSent(db)
			if err := storage.InTx(context.Background(), db, func(tx *storage.Tx) error {
				return scheduler.Add(tx, "expire", subject, due)
			}); err != nil {
				t.Fatal(err)
			}
			return storage.StatementsSent(db) - before - 2 // BEGIN, COMMIT
		}
		if n := add(t0.Add(time.Hour)); n != 1 {
			t.Errorf("adding a new subject's job sent %d statements; want 1", n)
		}
		add(t0.Add(3 * time.Hour))
		rows := h.jobs("expire", subject)
		if len(rows) != 1 || !rows[0].DueAt.Equal(t0.Add(3*time.Hour)) {
			t.Errorf("after a second Add: %+v; want one job due at the later time", rows)
		}
	})
}
