package serve

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus series.
type metrics struct {
	requests       *prometheus.CounterVec
	selections     *prometheus.CounterVec
	upstreamErrors *prometheus.CounterVec
	bytes          *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tailor_serve_requests_total", Help: "Registry API requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		selections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tailor_serve_selections_total", Help: "Tailored answers by selected CPU target.",
		}, []string{"target"}),
		upstreamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tailor_serve_upstream_errors_total", Help: "Upstream failures by upstream and kind (status code, network, timeout, digest).",
		}, []string{"upstream", "kind"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tailor_serve_bytes_streamed_total", Help: "Bytes streamed from upstreams to clients.",
		}, []string{"upstream"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.selections, m.upstreamErrors, m.bytes} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
