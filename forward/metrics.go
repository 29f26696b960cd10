package forward

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the forwarder's Prometheus metrics. Alert on
// huella_forward_dead_letters_total increasing: a delivery was parked.
type Metrics struct {
	Published   prometheus.Counter
	RelayErrors prometheus.Counter
	Attempts    *prometheus.CounterVec   // by partner and outcome: delivered, retry, dead
	DeadLetters *prometheus.CounterVec   // by partner: the alert
	Latency     *prometheus.HistogramVec // by partner: from the decision to the partner's receipt
	AttemptTime *prometheus.HistogramVec // by partner: one POST
}

// NewMetrics returns unregistered metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		Published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "huella_forward_published_total", Help: "Deliveries published by the relay onto the work queue.",
		}),
		RelayErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "huella_forward_relay_errors_total", Help: "Relay passes that failed (store or queue unavailable).",
		}),
		Attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "huella_forward_attempts_total", Help: "Delivery attempts by partner and outcome (delivered, retry, dead).",
		}, []string{"partner", "outcome"}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "huella_forward_dead_letters_total", Help: "Deliveries parked as dead after retrying too long: alert on any increase.",
		}, []string{"partner"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "huella_forward_latency_seconds", Help: "Time from the decision that triggered a delivery to the partner's receipt.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16),
		}, []string{"partner"}),
		AttemptTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "huella_forward_attempt_duration_seconds", Help: "Duration of one POST to a partner.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"partner"}),
	}
}

// Collectors returns every metric, to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.Published, m.RelayErrors, m.Attempts, m.DeadLetters, m.Latency, m.AttemptTime}
}
