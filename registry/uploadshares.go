package registry

import (
	"fmt"
	"net"
	"net/http"
)

// uploadShares bound the upload sessions of one client and of one
// repository, so that a client opening sessions until the registry's
// bound leaves room for every other push (one client took all 1,000 in
// 1.5 s, and every other push got 429 for an hour).
type uploadShares struct {
	perClient, perRepo int
}

// WithUploadShares bounds the upload sessions one client (by address:
// its IPv4 address, its IPv6 /64) and one repository hold at once
// (defaults 100 and 250; WithUploadLimits bounds them all together).
func WithUploadShares(perClient, perRepo int) Option {
	return func(o *options) error {
		if perClient <= 0 || perRepo <= 0 {
			return fmt.Errorf("registry upload shares %d per client, %d per repository: must be positive", perClient, perRepo)
		}
		o.shares = uploadShares{perClient: perClient, perRepo: perRepo}
		return nil
	}
}

// holders counts upload sessions, started or being started, in all, per
// client and per repository. Its user holds uploads.mu.
type holders struct {
	total    int
	byClient map[string]int
	byRepo   map[string]int
}

// take counts one more session of client in repo, or says which bound it
// would pass.
func (h *holders) take(client, repo string, max int, sh uploadShares) *Error {
	switch {
	case h.total >= max:
		return newError(http.StatusTooManyRequests, CodeTooManyRequests, "too many uploads in progress", max)
	case h.byClient[client] >= sh.perClient:
		return newError(http.StatusTooManyRequests, CodeTooManyRequests, "too many uploads in progress from this client: finish or cancel some", sh.perClient)
	case h.byRepo[repo] >= sh.perRepo:
		return newError(http.StatusTooManyRequests, CodeTooManyRequests, "too many uploads in progress to this repository", sh.perRepo)
	}
	if h.byClient == nil {
		h.byClient, h.byRepo = map[string]int{}, map[string]int{}
	}
	h.total++
	h.byClient[client]++
	h.byRepo[repo]++
	return nil
}

// give uncounts a session taken before.
func (h *holders) give(client, repo string) {
	h.total--
	if h.byClient[client]--; h.byClient[client] <= 0 {
		delete(h.byClient, client)
	}
	if h.byRepo[repo]--; h.byRepo[repo] <= 0 {
		delete(h.byRepo, repo)
	}
}

// clientKey names the client of r for its share: the IP address of the
// connection, an IPv6 address by its /64 (one host holds a whole /64).
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() != nil {
		return ip.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
