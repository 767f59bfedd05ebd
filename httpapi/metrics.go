package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"gorm.io/gorm"

	"cpor/live"
	"cpor/storage"
)

// metrics are the service's Prometheus series, registered on their own
// registry (no global state).
type metrics struct {
	registry   *prometheus.Registry
	http       *prometheus.HistogramVec
	operations *prometheus.HistogramVec
}

// liveStats is what the metrics read of the live event hub.
type liveStats interface {
	Stats() live.Stats
}

func newMetrics(hub liveStats, db *gorm.DB) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		http: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cpor_http_request_duration_seconds",
			Help:    "HTTP requests by route, method and status.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "status"}),
		operations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cpor_graphql_operation_duration_seconds",
			Help:    "GraphQL operations by type and outcome.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation", "outcome"}),
	}
	m.registry.MustRegister(m.http, m.operations,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if db != nil {
		m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "cpor_db_statements_total",
			Help: "SQL statements sent to the database, BEGIN and COMMIT included.",
		}, func() float64 { return float64(storage.StatementsSent(db)) }))
	}
	if hub != nil {
		m.registry.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cpor_live_subscribers", Help: "Live subscriptions held."},
				func() float64 { return float64(hub.Stats().Subscribers) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cpor_live_delivered_total", Help: "Events handed to subscribers."},
				func() float64 { return float64(hub.Stats().Delivered) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cpor_live_dropped_total", Help: "Subscribers dropped as too slow."},
				func() float64 { return float64(hub.Stats().Dropped) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cpor_live_cursor", Help: "Sequence number of the last event fanned out."},
				func() float64 { return float64(hub.Stats().Cursor) }),
		)
	}
	return m
}

func (m *metrics) observeHTTP(route, method string, status int, d time.Duration) {
	m.http.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

// aroundResponses times each GraphQL response by operation type and
// whether it carried errors.
func (m *metrics) aroundResponses(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if !graphql.HasOperationContext(ctx) {
		return resp
	}
	oc := graphql.GetOperationContext(ctx)
	kind := "unknown"
	if oc.Operation != nil {
		kind = string(oc.Operation.Operation)
	}
	outcome := "ok"
	if resp != nil && len(resp.Errors) > 0 {
		outcome = "error"
	}
	m.operations.WithLabelValues(kind, outcome).Observe(time.Since(oc.Stats.OperationStart).Seconds())
	return resp
}

func promHandler(m *metrics) http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
