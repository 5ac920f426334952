package serve

import (
	"github.com/tailor-dev/tailor/content"
	"github.com/tailor-dev/tailor/internal/metrics"
)

// serverMetrics are the server's Prometheus series.
type serverMetrics struct {
	requests       *metrics.CounterVec
	selections     *metrics.CounterVec
	upstreamErrors *metrics.CounterVec
	bytes          *metrics.CounterVec
	logins         *metrics.CounterVec
	served         *metrics.CounterVec
	storeErrors    *metrics.Counter
	stale          *metrics.CounterVec
	cache          *metrics.CounterVec
	reg            *metrics.Registry
}

// newMetrics registers the server's series, and the Go runtime and
// process series, in reg.
func newMetrics(reg *metrics.Registry) (*serverMetrics, error) {
	m := &serverMetrics{
		reg:            reg,
		requests:       reg.NewCounterVec("tailor_serve_requests_total", "Registry API requests by route, method and status code.", "route", "method", "code"),
		selections:     reg.NewCounterVec("tailor_serve_selections_total", "Tailored answers by selected CPU target.", "target"),
		upstreamErrors: reg.NewCounterVec("tailor_serve_upstream_errors_total", "Upstream failures by upstream and kind (status code, network, timeout, digest).", "upstream", "kind"),
		bytes:          reg.NewCounterVec("tailor_serve_bytes_streamed_total", "Bytes streamed from upstreams to clients.", "upstream"),
		logins:         reg.NewCounterVec("tailor_serve_logins_total", "Password checks by result: ok, refused, throttled (429 without a check).", "result"),
		served:         reg.NewCounterVec("tailor_serve_profile_answers_total", "Manifest-by-tag answers by profile kind (none, named, spec, default) and selected CPU target (\"\" for untouched).", "profile", "target"),
		storeErrors:    reg.NewCounter("tailor_serve_store_errors_total", "Failed writes of tailored indexes or cached content (disk full, ...); the answers were served anyway."),
		stale:          reg.NewCounterVec("tailor_serve_stale_answers_total", "Tags served from their last known index because the upstream failed.", "upstream"),
		cache:          reg.NewCounterVec("tailor_serve_cache_blobs_total", "Blob requests of a proxying server by cache result: hit, miss (fetched, stored), shared (waited for another request's fetch), bypass (passed through).", "result"),
	}
	metrics.RegisterRuntime(reg)
	return m, nil
}

// cacheUsage registers the size of the content cache as gauges.
func (m *serverMetrics) cacheUsage(st *content.Store) {
	m.reg.NewGaugeFunc("tailor_serve_cache_blobs", "Blobs and manifests in the content cache.", func() float64 { n, _ := st.Usage(); return float64(n) })
	m.reg.NewGaugeFunc("tailor_serve_cache_bytes", "Bytes in the content cache (bounded by --cache-size).", func() float64 { _, b := st.Usage(); return float64(b) })
}
