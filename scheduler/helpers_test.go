package scheduler_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"gorm.io/gorm"

	"cpor/scheduler"
	"cpor/storage"
	"cpor/storage/storagetest"
	"cpor/testkit/fakeclock"
)

// t0 is the tests' starting time: a Monday morning.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// harness is one Scheduler on a test database, with its clock and metrics.
type harness struct {
	t     *testing.T
	db    *gorm.DB
	clock *fakeclock.Clock
	reg   *prometheus.Registry
	s     *scheduler.Scheduler
}

func newHarness(t *testing.T, db *gorm.DB, cfg scheduler.Config, handlers map[string]scheduler.Handler) *harness {
	t.Helper()
	h := &harness{t: t, db: db, clock: fakeclock.At(t0), reg: prometheus.NewRegistry()}
	if cfg.Clock == nil {
		cfg.Clock = h.clock.Now
	}
	s, err := scheduler.New(db, cfg, handlers, storagetest.Logger(t), h.reg)
	if err != nil {
		t.Fatalf("new scheduler: %v", err)
	}
	h.s = s
	return h
}

func (h *harness) schedule(kind string, subject uuid.UUID, due time.Time) {
	h.t.Helper()
	err := storage.InTx(context.Background(), h.db, func(tx *storage.Tx) error {
		return scheduler.Schedule(tx, kind, subject, due)
	})
	if err != nil {
		h.t.Fatalf("schedule: %v", err)
	}
}

func (h *harness) cancel(kind string, subject uuid.UUID) {
	h.t.Helper()
	err := storage.InTx(context.Background(), h.db, func(tx *storage.Tx) error {
		return scheduler.Cancel(tx, kind, subject)
	})
	if err != nil {
		h.t.Fatalf("cancel: %v", err)
	}
}

// runDue runs one pass and returns how many jobs it ran.
func (h *harness) runDue() int {
	h.t.Helper()
	n, err := h.s.RunDue(context.Background())
	if err != nil {
		h.t.Fatalf("run due jobs: %v", err)
	}
	return n
}

// jobRow is a scheduled_jobs row as stored.
type jobRow struct {
	ID        int64
	Kind      string
	Subject   uuid.UUID
	DueAt     time.Time
	Attempts  int
	LastError string
	DoneAt    *time.Time
	FailedAt  *time.Time
	Outcome   *string
}

func (r jobRow) pending() bool { return r.DoneAt == nil && r.FailedAt == nil }

// jobs returns the rows of (kind, subject), oldest first.
func (h *harness) jobs(kind string, subject uuid.UUID) []jobRow {
	h.t.Helper()
	var rows []jobRow
	err := h.db.Raw("SELECT * FROM scheduled_jobs WHERE kind = ? AND subject = ? ORDER BY id", kind, subject).
		Scan(&rows).Error
	if err != nil {
		h.t.Fatalf("read jobs: %v", err)
	}
	for i := range rows {
		rows[i].DueAt = rows[i].DueAt.UTC()
	}
	return rows
}

// job returns the only row of (kind, subject).
func (h *harness) job(kind string, subject uuid.UUID) jobRow {
	h.t.Helper()
	rows := h.jobs(kind, subject)
	if len(rows) != 1 {
		h.t.Fatalf("%s jobs of %s: got %d rows, want 1: %+v", kind, subject, len(rows), rows)
	}
	return rows[0]
}

// metric returns the value of the series of name with the labels (name,
// value pairs): a counter's or gauge's value, a histogram's sample count;
// 0 when there is no such series.
func (h *harness) metric(name string, labels ...string) float64 {
	h.t.Helper()
	families, err := h.reg.Gather()
	if err != nil {
		h.t.Fatalf("gather metrics: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, labels) {
				return valueOf(m)
			}
		}
	}
	return 0
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	got := map[string]string{}
	for _, l := range m.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		if got[pairs[i]] != pairs[i+1] {
			return false
		}
	}
	return true
}

func valueOf(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

// createEffects makes the table test handlers write to, standing in for
// the claim a real handler changes.
func createEffects(t *testing.T, db *gorm.DB) {
	t.Helper()
	if err := db.Exec("CREATE TABLE sched_effects (job_id BIGINT NOT NULL, subject TEXT NOT NULL)").Error; err != nil {
		t.Fatalf("create effects table: %v", err)
	}
}

func countEffects(t *testing.T, db *gorm.DB) int {
	t.Helper()
	var n int
	if err := db.Raw("SELECT COUNT(*) FROM sched_effects").Scan(&n).Error; err != nil {
		t.Fatalf("count effects: %v", err)
	}
	return n
}

// writeEffect records that job ran, in the job's transaction.
func writeEffect(tx *storage.Tx, job scheduler.Job) error {
	return tx.Exec("INSERT INTO sched_effects (job_id, subject) VALUES (?, ?)", job.ID, job.Subject.String()).Error
}

// counting is a handler that counts its calls and ends each job "fired".
type counting struct {
	mu   sync.Mutex
	jobs []scheduler.Job
}

func (c *counting) handle(_ context.Context, _ *storage.Tx, job scheduler.Job, _ time.Time) (scheduler.Outcome, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.jobs = append(c.jobs, job)
	return scheduler.Done("fired"), nil
}

func (c *counting) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.jobs)
}
