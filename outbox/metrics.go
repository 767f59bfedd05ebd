package outbox

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the dispatcher's Prometheus series, by channel.
type metrics struct {
	pending  *prometheus.GaugeVec
	oldest   *prometheus.GaugeVec
	attempts *prometheus.CounterVec
	failed   *prometheus.CounterVec
	send     *prometheus.HistogramVec
	delay    *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cpor_outbox_pending",
			Help: "Deliveries waiting to be sent (the outbox depth), by channel, as counted after the dispatcher's last look.",
		}, []string{"channel"}),
		oldest: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cpor_outbox_oldest_pending_seconds",
			Help: "Age of the oldest pending delivery, by channel: growing means receivers are down or the dispatcher is behind.",
		}, []string{"channel"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cpor_outbox_attempts_total",
			Help: "Delivery attempts, by channel and result (delivered, retry, failed).",
		}, []string{"channel", "result"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cpor_outbox_failed_total",
			Help: "Deliveries given up (retry window over, or a permanent refusal), by channel.",
		}, []string{"channel"}),
		send: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cpor_outbox_attempt_seconds",
			Help:    "Time one attempt took (the SMTP exchange or the webhook call), by channel.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 13),
		}, []string{"channel"}),
		delay: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cpor_outbox_delivery_delay_seconds",
			Help:    "From the commit that wrote a delivery to its successful send, by channel.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 3600, 6 * 3600, 24 * 3600},
		}, []string{"channel"}),
	}
	for _, c := range []prometheus.Collector{m.pending, m.oldest, m.attempts, m.failed, m.send, m.delay} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register outbox metrics: %w", err)
		}
	}
	return m, nil
}
