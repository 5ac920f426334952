package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// Redirects from an upstream (DESIGN.md §4: no open proxy). Registries
// send blobs to CDNs by redirect, so content named by digest (blobs,
// manifests by digest) may follow a redirect to another host: only to
// public addresses, unless the upstream itself is on a private network,
// and the bytes are digest-checked as ever. Anything else (a manifest by
// tag above all: its bytes cannot be checked) follows redirects only
// within the upstream's own scheme and host. maxUpstreamRedirects bounds
// a chain.
const maxUpstreamRedirects = 5

var (
	errRedirectOffHost = errors.New("redirect to another host refused: only content named by digest may come from another host")
	errRedirectPrivate = errors.New("redirect to a loopback, link-local or private address refused")
	errRedirectLoop    = errors.New("too many redirects")
)

// checkRedirect is the http.Client redirect policy of one upstream request;
// offHost says whether the content is named by digest.
func (u *upstreamBackend) checkRedirect(offHost bool) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > maxUpstreamRedirects {
			return errRedirectLoop
		}
		if req.URL.Scheme == u.base.Scheme && req.URL.Host == u.base.Host {
			return nil
		}
		if !offHost {
			return errRedirectOffHost
		}
		if req.URL.Scheme != "https" && req.URL.Scheme != "http" {
			return fmt.Errorf("redirect to scheme %q refused", req.URL.Scheme)
		}
		return nil
	}
}

// blockedAddr reports whether ip is one a redirect must not reach from a
// public upstream: loopback, private (RFC 1918, ULA), link-local (cloud
// metadata lives there), shared (RFC 6598), unspecified or multicast.
func blockedAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() || sharedSpace.Contains(ip)
}

var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

// isPrivateHost reports whether host (a name or an address) is, or
// resolves only to, addresses blockedAddr refuses. A name that does not
// resolve counts as public (the stricter rule for redirects).
func isPrivateHost(ctx context.Context, host string) bool {
	if host == "localhost" {
		return true
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return blockedAddr(ip)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		if !blockedAddr(ip) {
			return false
		}
	}
	return true
}

// guardTransport sends requests to the upstream's own host through base,
// and any other (a redirect the policy let through) through guarded,
// whose dialer refuses blocked addresses unless the upstream is private.
// The check is on the address dialed, after name resolution, so a name
// that resolves to a private address (DNS rebinding) is caught too.
type guardTransport struct {
	u       *upstreamBackend
	base    http.RoundTripper
	guarded http.RoundTripper
}

var _ http.RoundTripper = (*guardTransport)(nil)

func (g *guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == g.u.base.Host && req.URL.Scheme == g.u.base.Scheme || g.u.private(req.Context()) {
		return g.base.RoundTrip(req)
	}
	ctx := context.WithValue(req.Context(), dialHostKey{}, canonicalAddr(req.URL))
	return g.guarded.RoundTrip(req.WithContext(ctx))
}

// dialHostKey carries the host:port a guarded request is for: the dial to
// it is checked, a dial to anything else (an HTTP proxy) is not.
type dialHostKey struct{}

func canonicalAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// newGuardedTransport is defaultTransport with a dialer that refuses
// blocked addresses for the guarded host.
func newGuardedTransport(timeout time.Duration) *http.Transport {
	t := defaultTransport(timeout).(*http.Transport)
	t.MaxIdleConnsPerHost = 8
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if want, _ := ctx.Value(dialHostKey{}).(string); want != addr {
			return d.DialContext(ctx, network, addr)
		}
		guarded := *d
		guarded.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || blockedAddr(ap.Addr()) {
				return fmt.Errorf("%w: %s", errRedirectPrivate, addr)
			}
			return nil
		}
		return guarded.DialContext(ctx, network, addr)
	}
	return t
}
