package serve

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus series.
type metrics struct {
	requests       *prometheus.CounterVec
	selections     *prometheus.CounterVec
	upstreamErrors *prometheus.CounterVec
	bytes          *prometheus.CounterVec
	logins         *prometheus.CounterVec
	served         *prometheus.CounterVec
	storeErrors    prometheus.Counter
	stale          *prometheus.CounterVec
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
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tailor_serve_logins_total", Help: "Password checks by result: ok, refused, throttled (429 without a check).",
	}, []string{"result"})
	m.served = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tailor_serve_profile_answers_total", Help: "Manifest-by-tag answers by profile kind (none, named, spec, default) and selected CPU target (\"\" for untouched).",
	}, []string{"profile", "target"})
	m.storeErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tailor_serve_store_errors_total", Help: "Failed writes of tailored indexes or cached content (disk full, ...); the answers were served anyway.",
	})
	m.stale = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tailor_serve_stale_answers_total", Help: "Tags served from their last known index because the upstream failed.",
	}, []string{"upstream"})
	for _, c := range []prometheus.Collector{m.requests, m.selections, m.upstreamErrors, m.bytes, m.logins, m.served, m.storeErrors, m.stale} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// Go runtime and process metrics, unless the caller's registry has them.
	for _, c := range []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(c); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
			return nil, err
		}
	}
	return m, nil
}
