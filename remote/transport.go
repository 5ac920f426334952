package remote

import (
	"errors"
	"fmt"
	"net/http"
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
	return t.inner.RoundTrip(req)
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
	return &tailorTransport{inner: inner, profile: profile}
}
