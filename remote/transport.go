package remote

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
)

// ProfileHeader is the request header that names the profile a tailor
// server tailors an answer for (DESIGN.md §4). ProfileNone asks for the
// untailored view: every index as it was published, byte for byte.
const (
	ProfileHeader = "Tailor-Profile"
	ProfileNone   = "none"
)

// MaxRedirects is how many redirects one request follows before it fails.
// ggcr's fetcher replaces net/http's limit of 10 by its own redirect check,
// which has none, so a registry that redirects to itself kept a client busy
// until its timeout.
const MaxRedirects = 10

// ErrRedirectLoop is returned (wrapped) by a request that was redirected
// more than MaxRedirects times.
var ErrRedirectLoop = errors.New("too many redirects")

// tailorTransport decorates the transport under ggcr's auth and retry
// layers: every request carries the Tailor-Profile header, and a redirect
// chain longer than MaxRedirects ends with ErrRedirectLoop (not a temporary
// error: it is not retried).
type tailorTransport struct {
	inner   http.RoundTripper
	profile string // "" sends no header
	// tls are the loopback hosts found to speak TLS (see plainPing);
	// shared by the transports of one Client.
	tls *sync.Map
}

var _ http.RoundTripper = (*tailorTransport)(nil)

func (t *tailorTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if n := redirects(req); n > MaxRedirects {
		return nil, fmt.Errorf("%w: %s was redirected %d times", ErrRedirectLoop, req.URL.Redacted(), n)
	}
	if t.profile != "" && req.Header.Get(ProfileHeader) == "" {
		req = req.Clone(req.Context()) // a RoundTripper must not change its request
		req.Header.Set(ProfileHeader, t.profile)
	}
	if resp := t.plainPing(req); resp != nil {
		return resp, nil
	}
	return t.inner.RoundTrip(req)
}

// plainPing answers ggcr's HTTPS ping (GET https://HOST/v2/) of a
// loopback registry over plain HTTP when the registry answers it there as
// a registry does (200 or 401): ggcr then takes the registry for a
// plain-HTTP one (the answer's request is http://), as it would after
// its HTTPS attempt failed, but without building a TLS ClientHello (its
// post-quantum key shares are most of a resolve's instructions against a
// loopback registry). ggcr allows plain HTTP to loopback registries
// anyway. A loopback registry that speaks TLS answers the plain request
// otherwise (Go's and nginx's say 400): it is remembered, and pinged over
// HTTPS as before. nil: send req as it is.
func (t *tailorTransport) plainPing(req *http.Request) *http.Response {
	if req.URL.Scheme != "https" || req.Method != http.MethodGet || req.URL.Path != "/v2/" || !isLoopback(req.URL.Hostname()) {
		return nil
	}
	if t.tls != nil {
		if _, ok := t.tls.Load(req.URL.Host); ok {
			return nil
		}
	}
	plain := req.Clone(req.Context())
	plain.URL.Scheme = "http"
	resp, err := t.inner.RoundTrip(plain)
	if err == nil && (resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized) {
		return resp
	}
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
	}
	if t.tls != nil {
		t.tls.Store(req.URL.Host, true)
	}
	return nil
}

// isLoopback reports whether host names this machine: localhost or a
// loopback address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redirects counts the redirects that led to req: net/http sets
// req.Response to the answer that redirected, whose Request is the one
// before.
func redirects(req *http.Request) int {
	n := 0
	for r := req; r.Response != nil && r.Response.Request != nil && n <= MaxRedirects; r = r.Response.Request {
		n++
	}
	return n
}

// ProfileTransport decorates inner as every Client's transport is: each
// request names profile in the Tailor-Profile header ("" none), and a
// redirect chain longer than MaxRedirects fails. For servers that talk to
// registries through ggcr's transport directly (a tailor mirror asks its
// upstream for ProfileNone).
func ProfileTransport(inner http.RoundTripper, profile string) http.RoundTripper {
	return &tailorTransport{inner: inner, profile: profile, tls: &sync.Map{}}
}
