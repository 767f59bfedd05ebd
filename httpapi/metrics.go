package httpapi

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"sync"
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
	names      operationNames
}

// operationNames bounds the operation-name label: clients choose names,
// so only well-formed ones are kept, and only the first maxOperationNames
// seen; the rest are counted as "other".
type operationNames struct {
	mu   sync.Mutex
	seen map[string]bool
}

const maxOperationNames = 200

var wellFormedName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

func (n *operationNames) label(name string) string {
	switch {
	case name == "":
		return "anonymous"
	case !wellFormedName.MatchString(name):
		return "other"
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.seen[name] {
		return name
	}
	if len(n.seen) >= maxOperationNames {
		return "other"
	}
	if n.seen == nil {
		n.seen = map[string]bool{}
	}
	n.seen[name] = true
	return name
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
			Help:    "GraphQL operations by type, name (well-formed names, the first 200 seen; others \"other\") and outcome.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation", "name", "outcome"}),
	}
	m.registry.MustRegister(m.http, m.operations,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if db != nil {
		m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "cpor_db_statements_total",
			Help: "SQL statements sent to the database, BEGIN and COMMIT included.",
		}, func() float64 { return float64(storage.StatementsSent(db)) }))
		// The connection pool: open, in use, idle, waits and their time.
		if sqlDB, err := db.DB(); err == nil {
			m.registry.MustRegister(collectors.NewDBStatsCollector(sqlDB, string(storage.DialectOf(db))))
		}
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
	kind, name := "unknown", ""
	if oc.Operation != nil {
		kind, name = string(oc.Operation.Operation), oc.Operation.Name
	}
	outcome := "ok"
	if resp != nil && len(resp.Errors) > 0 {
		outcome = "error"
	}
	m.operations.WithLabelValues(kind, m.names.label(name), outcome).Observe(time.Since(oc.Stats.OperationStart).Seconds())
	return resp
}

func promHandler(m *metrics) http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
