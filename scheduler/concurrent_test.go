package scheduler_test

import (
	"context"
	"cpor/testkit/fakeclock"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"cpor/scheduler"
	"cpor/storage"
	"cpor/storage/storagetest"
)

// TestInstancesRunEachJobExactlyOnce races two instances, each with its own
// connection pool as two processes would have, over one backlog: every job's
// effect must commit exactly once.
func TestInstancesRunEachJobExactlyOnce(t *testing.T) {
	for _, d := range storagetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			const jobs = 300
			db, cfg := storagetest.OpenURL(t, d)
			createEffects(t, db)
			scheduleBacklog(t, db, jobs)

			clock := fakeclock.At(t0)
			write := func(_ context.Context, tx *storage.Tx, job scheduler.Job, _ time.Time) (scheduler.Outcome, error) {
				return scheduler.Done("fired"), writeEffect(tx, job)
			}
			var instances []*scheduler.Scheduler
			var registries []*prometheus.Registry
			for range 2 {
				reg := prometheus.NewRegistry()
				s, err := scheduler.New(openPool(t, cfg), scheduler.Config{Clock: clock.Now, Batch: 20},
					map[string]scheduler.Handler{"lapse": write}, storagetest.Logger(t), reg)
				if err != nil {
					t.Fatal(err)
				}
				instances, registries = append(instances, s), append(registries, reg)
			}
			race(t, instances, 2)

			assertEachJobRanOnce(t, db, jobs)
			done := 0.0
			for _, reg := range registries {
				done += (&harness{t: t, reg: reg}).metric("cpor_scheduler_jobs_done_total", "kind", "lapse")
			}
			if done != jobs {
				t.Errorf("instances counted %v jobs done, want %d", done, jobs)
			}
		})
	}
}

func scheduleBacklog(t *testing.T, db *gorm.DB, jobs int) {
	t.Helper()
	err := storage.InTx(context.Background(), db, func(tx *storage.Tx) error {
		for i := range jobs {
			if err := scheduler.Schedule(tx, "lapse", uuid.New(), t0.Add(-time.Duration(i)*time.Second)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("schedule backlog: %v", err)
	}
}

// openPool opens another connection pool on the test database.
func openPool(t *testing.T, cfg storage.Config) *gorm.DB {
	t.Helper()
	cfg.MaxOpenConns = 4
	db, err := storage.Open(context.Background(), cfg, storagetest.Logger(t))
	if err != nil {
		t.Fatalf("open another pool: %v", err)
	}
	t.Cleanup(func() { _ = storage.Close(db) })
	return db
}

// race runs passes on every instance from perInstance goroutines each,
// until a pass finds nothing left.
func race(t *testing.T, instances []*scheduler.Scheduler, perInstance int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(instances)*perInstance)
	for _, s := range instances {
		for range perInstance {
			wg.Go(func() {
				for {
					n, err := s.RunDue(context.Background())
					if err != nil || n == 0 {
						errs <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("pass failed: %v", err)
		}
	}
}

func assertEachJobRanOnce(t *testing.T, db *gorm.DB, jobs int) {
	t.Helper()
	var twice []int64
	err := db.Raw("SELECT job_id FROM sched_effects GROUP BY job_id HAVING COUNT(*) <> 1").Scan(&twice).Error
	if err != nil {
		t.Fatal(err)
	}
	if len(twice) > 0 {
		t.Errorf("jobs whose effect committed more than once: %v", twice)
	}
	var ran, done, pendingJobs int
	db.Raw("SELECT COUNT(DISTINCT job_id) FROM sched_effects").Scan(&ran)
	db.Raw("SELECT COUNT(*) FROM scheduled_jobs WHERE outcome = 'fired'").Scan(&done)
	db.Raw("SELECT COUNT(*) FROM scheduled_jobs WHERE done_at IS NULL").Scan(&pendingJobs)
	if ran != jobs || done != jobs || pendingJobs != 0 {
		t.Errorf("%d jobs ran, %d done, %d still pending; want all %d run and done", ran, done, pendingJobs, jobs)
	}
}

// TestTransitionsDoNotWaitForARunningJob: a transition that Schedules or
// Cancels the job its handler is running right now must not wait for it —
// the handler would be waiting for the subject the transition has locked.
// The handler decides, with the transition's outcome in view.
func TestTransitionsDoNotWaitForARunningJob(t *testing.T) {
	db := storagetest.Open(t, storage.Postgres)
	started, release := make(chan struct{}), make(chan struct{})
	blocking := func(context.Context, *storage.Tx, scheduler.Job, time.Time) (scheduler.Outcome, error) {
		close(started)
		<-release
		return scheduler.Done("obsolete"), nil
	}
	h := newHarness(t, db, scheduler.Config{}, map[string]scheduler.Handler{"lapse": blocking})
	subject := uuid.New()
	h.schedule("lapse", subject, t0)

	ran := make(chan error, 1)
	go func() { _, err := h.s.RunDue(context.Background()); ran <- err }()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := storage.InTx(ctx, db, func(tx *storage.Tx) error {
		return errors.Join(
			scheduler.Schedule(tx, "lapse", subject, t0.Add(time.Hour)),
			scheduler.Cancel(tx, "lapse", subject))
	})
	close(release)
	if err != nil {
		t.Fatalf("transition beside the running job: %v", err)
	}
	if err := <-ran; err != nil {
		t.Fatalf("pass: %v", err)
	}
	row := h.job("lapse", subject)
	if row.Outcome == nil || *row.Outcome != "obsolete" {
		t.Errorf("want the running handler's outcome to stand: %+v", row)
	}
}

// TestScheduleMovesAJobWhoseFailureIsBeingRecorded: the brief lock of a
// failed attempt's update (no handler behind it) must not make a transition
// lose its new due time.
func TestScheduleMovesAJobWhoseFailureIsBeingRecorded(t *testing.T) {
	db := storagetest.Open(t, storage.Postgres)
	c := &counting{}
	h := newHarness(t, db, scheduler.Config{}, map[string]scheduler.Handler{"expire": c.handle})
	subject := uuid.New()
	h.schedule("expire", subject, t0)
	job := h.job("expire", subject)

	recording := db.Begin()
	if err := recording.Exec("UPDATE scheduled_jobs SET attempts = 1 WHERE id = ?", job.ID).Error; err != nil {
		t.Fatal(err)
	}
	scheduled := make(chan error, 1)
	go func() {
		scheduled <- storage.InTx(context.Background(), db, func(tx *storage.Tx) error {
			return scheduler.Schedule(tx, "expire", subject, t0.Add(30*24*time.Hour))
		})
	}()
	waitForALockWait(t, db)
	if err := recording.Commit().Error; err != nil {
		t.Fatal(err)
	}
	if err := <-scheduled; err != nil {
		t.Fatalf("schedule: %v", err)
	}
	if row := h.job("expire", subject); !row.DueAt.Equal(t0.Add(30*24*time.Hour)) || row.Attempts != 0 {
		t.Errorf("want the job moved to the new due time with its attempts reset: %+v", row)
	}
}

// waitForALockWait returns once a session of the test database waits for a
// lock.
func waitForALockWait(t *testing.T, db *gorm.DB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		var waiting int
		err := db.Raw("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").
			Scan(&waiting).Error
		if err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			return
		}
		runtime.Gosched()
	}
	t.Fatal("no session came to wait for a lock")
}
