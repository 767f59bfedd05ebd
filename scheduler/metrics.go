package scheduler

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the scheduler's Prometheus series.
type metrics struct {
	due         *prometheus.GaugeVec
	done        *prometheus.CounterVec
	rescheduled *prometheus.CounterVec
	errors      *prometheus.CounterVec
	failed      *prometheus.CounterVec
	lag         *prometheus.HistogramVec
	lastPass    prometheus.Gauge

	mu       sync.Mutex
	dueKinds map[string]bool // kinds the due gauge has a series for
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		due: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cpor_scheduler_jobs_due",
			Help: "Pending jobs already due, by kind, as counted after the last pass: above zero for long means a backlog or stuck jobs.",
		}, []string{"kind"}),
		done: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cpor_scheduler_jobs_done_total",
			Help: "Jobs ended by their handler, by kind and outcome.",
		}, []string{"kind", "outcome"}),
		rescheduled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cpor_scheduler_jobs_rescheduled_total",
			Help: "Jobs their handler moved to a later time, by kind.",
		}, []string{"kind"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cpor_scheduler_job_errors_total",
			Help: "Failed attempts (handler errors and panics), by kind.",
		}, []string{"kind"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cpor_scheduler_jobs_failed_total",
			Help: "Jobs given up after their last attempt failed, by kind.",
		}, []string{"kind"}),
		lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cpor_scheduler_job_lag_seconds",
			Help:    "How late a job ran: its start minus its due time, by kind.",
			Buckets: []float64{1, 5, 15, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600},
		}, []string{"kind"}),
		lastPass: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cpor_scheduler_last_pass_timestamp_seconds",
			Help: "When the last pass that reached the database ended (Unix time): stale means no instance runs jobs.",
		}),
		dueKinds: map[string]bool{},
	}
	for _, c := range []prometheus.Collector{m.due, m.done, m.rescheduled, m.errors, m.failed, m.lag, m.lastPass} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register scheduler metrics: %w", err)
		}
	}
	return m, nil
}

// setDue replaces the due gauge's values: a kind no longer counted drops to
// zero rather than keeping its last value.
func (m *metrics) setDue(counts map[string]int, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for kind := range m.dueKinds {
		if _, ok := counts[kind]; !ok {
			m.due.WithLabelValues(kind).Set(0)
		}
	}
	for kind, n := range counts {
		m.dueKinds[kind] = true
		m.due.WithLabelValues(kind).Set(float64(n))
	}
	m.lastPass.Set(float64(at.UnixNano()) / 1e9)
}
