package remote

import (
	"log/slog"
	"net/http"
	"time"
)

// SlowAnswer is how long a request waits for an answer before the client
// logs, at warning level, that it is still waiting: a registry that takes
// a connection and never answers is otherwise silent until the timeout.
const SlowAnswer = 5 * time.Second

// logTransport logs each request at debug level (method, URL without
// query, status, time) and, at warning level, each request still without
// an answer after SlowAnswer (and every SlowAnswer*4 after that).
type logTransport struct {
	inner   http.RoundTripper
	log     *slog.Logger
	timeout time.Duration
	slow    time.Duration // SlowAnswer; shorter in tests
}

var _ http.RoundTripper = (*logTransport)(nil)

func (t *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	url := req.URL.Scheme + "://" + req.URL.Host + req.URL.Path
	stop := t.watch(req, url, start)
	resp, err := t.inner.RoundTrip(req)
	stop()
	elapsed := time.Since(start).Round(time.Millisecond)
	if err != nil {
		t.log.DebugContext(req.Context(), "registry request failed", "method", req.Method, "url", url, "after", elapsed, "err", err)
		return resp, err
	}
	t.log.DebugContext(req.Context(), "registry request", "method", req.Method, "url", url, "status", resp.StatusCode, "after", elapsed)
	return resp, nil
}

// watch warns while req has no answer; the returned func stops it.
func (t *logTransport) watch(req *http.Request, url string, start time.Time) func() {
	done := make(chan struct{})
	go func() {
		wait := t.slow
		for {
			select {
			case <-done:
				return
			case <-req.Context().Done():
				return
			case <-time.After(wait):
				args := []any{"method", req.Method, "url", url, "waited", time.Since(start).Round(time.Second)}
				if t.timeout > 0 {
					args = append(args, "timeout", t.timeout)
				}
				t.log.WarnContext(req.Context(), "still waiting for the registry to answer", args...)
				wait = 4 * t.slow
			}
		}
	}()
	return func() { close(done) }
}
