package serve

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Prometheus collectors of a Server.
type metrics struct {
	registry     *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	batchSize    *prometheus.HistogramVec
	versions     *prometheus.GaugeVec
	loadFailures *prometheus.CounterVec
	inflight     prometheus.Gauge
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tfseg_serve_requests_total",
			Help: "Requests by model, API (predict, evaluate, metadata, status, compute) and HTTP status code.",
		}, []string{"model", "api", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tfseg_serve_request_duration_seconds",
			Help:    "Request latency, from the body read to the response written.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 18),
		}, []string{"model", "api"}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tfseg_serve_batch_size",
			Help:    "Rows (first-dimension entries) per model run.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}, []string{"model"}),
		versions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tfseg_serve_model_version_available",
			Help: "1 for each model version being served.",
		}, []string{"model", "version"}),
		loadFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tfseg_serve_model_load_failures_total",
			Help: "Model versions that failed to load.",
		}, []string{"model"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tfseg_serve_requests_in_flight",
			Help: "Requests being handled.",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.batchSize, m.versions, m.loadFailures, m.inflight)
	return m
}

// setVersions publishes the versions a model serves.
func (mt *metrics) setVersions(m *model) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for v, st := range m.statuses {
		val := 0.0
		if st.state == stateAvailable {
			val = 1
		}
		mt.versions.WithLabelValues(m.cfg.Name, strconv.FormatInt(v, 10)).Set(val)
	}
}
