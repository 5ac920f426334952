package serve

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/serve/auth"
)

// Option configures a Server.
type Option func(*options) error

// options holds what the Options set. Defaults: no upstream (the embedded
// registry serves everything), no default profile (a client must name
// one), no login, pushes from loopback only, a discarding logger, a
// private metrics registry, upstream timeouts of 30 s, the docker config
// keychain.
type options struct {
	upstreams       []Upstream
	storage         string
	profile         *profile.Profile
	profiles        map[string]*profile.Profile
	login           bool
	htpasswd        *auth.Htpasswd
	logger          *slog.Logger
	transport       http.RoundTripper
	upstreamTimeout time.Duration
	keychain        authn.Keychain
	tlsCert         string
	tlsKey          string
	ui              bool
	publicUpstreams bool          // test seam: loopback upstreams count as public (redirect policy)
	bodyIdle        time.Duration // test seam: how long a request body may stall (bodyIdle)
	bodyMinRate     int64         // test seam: bytes per second a request body must keep (bodyMinRate)
	tagTTL          time.Duration
	cacheSize       int64
	gcInterval      *time.Duration // the embedded registry's; nil: its default
}

// WithUpstreams adds upstream registries; the first is the default for
// names no ?ns= or path prefix assigns. Names must be unique.
func WithUpstreams(ups ...Upstream) Option {
	return func(o *options) error {
		for _, u := range ups {
			for _, prev := range o.upstreams {
				if prev.Name == u.Name {
					return fmt.Errorf("upstream %q given twice", u.Name)
				}
			}
			if u.Name == "" || u.Name[0] == '_' {
				return fmt.Errorf("upstream name %q: must not be empty or start with _", u.Name)
			}
			o.upstreams = append(o.upstreams, u)
		}
		return nil
	}
}

// WithUI turns on the web view at /ui/ (package serve/ui): repositories
// or recently served images, variant matrices, answers per profile. It is
// public, as /metrics is.
func WithUI(on bool) Option {
	return func(o *options) error { o.ui = on; return nil }
}

// WithStorage sets the directory of the generated-index store and of the
// embedded registry (required).
func WithStorage(dir string) Option {
	return func(o *options) error { o.storage = dir; return nil }
}

// WithProfile sets the profile of clients that name none.
func WithProfile(p *profile.Profile) Option {
	return func(o *options) error { o.profile = p; return nil }
}

// WithDefaultNone gives clients that name no profile the untailored view
// (ProfileNone): the server is a plain mirror unless a client asks.
func WithDefaultNone() Option {
	return func(o *options) error { o.profile = untailored; return nil }
}

// WithProfiles names profiles clients may choose by login or path prefix.
func WithProfiles(named map[string]*profile.Profile) Option {
	return func(o *options) error {
		for n, p := range named {
			if p == nil {
				return fmt.Errorf("profile %q is nil", n)
			}
			if n == ProfileNone || n == "" || len(n) > maxProfileLen {
				return fmt.Errorf("profile name %q: %q is the untailored view; names have 1 to %d bytes", n, ProfileNone, maxProfileLen)
			}
			o.profiles[n] = p
		}
		return nil
	}
}

// WithLogin makes the server challenge anonymous clients with HTTP Basic:
// the login user name is the client's profile. With WithHtpasswd, the
// token endpoint refuses anonymous clients instead and carries the
// profile in the token.
func WithLogin(on bool) Option {
	return func(o *options) error { o.login = on; return nil }
}

// WithHtpasswd lets only the users of an htpasswd file (bcrypt) push. It
// turns on the bearer token flow (token.go): every registry request needs
// a token from the server's /token endpoint, which gives pull tokens to
// anyone and pull+push tokens to the users of the file.
func WithHtpasswd(path string) Option {
	return func(o *options) error {
		h, err := auth.LoadHtpasswd(path)
		o.htpasswd = h
		return err
	}
}

// WithLogger sets the structured logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { o.logger = l; return nil }
}

// WithTransport sets the base transport toward upstreams.
func WithTransport(t http.RoundTripper) Option {
	return func(o *options) error { o.transport = t; return nil }
}

// WithUpstreamTimeout bounds connecting to an upstream and waiting for its
// answer's headers (default 30 s). Bodies stream as long as they flow.
func WithUpstreamTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return errors.New("upstream timeout must be positive")
		}
		o.upstreamTimeout = d
		return nil
	}
}

// DefaultTagTTL is how long a tag read from an upstream is reused before
// it is read again.
const DefaultTagTTL = 5 * time.Second

// WithTagTTL sets how long a tag read from an upstream is reused before
// the upstream is asked again (default DefaultTagTTL; 0: every request
// reads it). Tags move: a client sees a moved tag at most d late. The
// embedded registry's tags are always read fresh.
func WithTagTTL(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return errors.New("tag TTL must not be negative")
		}
		o.tagTTL = d
		return nil
	}
}

// DefaultCacheSize bounds the content cache of a proxying server.
const DefaultCacheSize = 20 << 30

// WithCacheSize bounds the content cache of a proxying server (blobs and
// manifests by digest under <storage>/cache, least recently used evicted
// first; default DefaultCacheSize). 0 turns the cache off: content is
// passed through and a tag whose upstream is down serves its last known
// index, but the blobs it names must come from the upstream.
func WithCacheSize(n int64) Option {
	return func(o *options) error {
		if n < 0 {
			return errors.New("cache size must not be negative")
		}
		o.cacheSize = n
		return nil
	}
}

// WithKeychain sets where upstream credentials come from (default: the
// docker config, authn.DefaultKeychain).
func WithKeychain(k authn.Keychain) Option {
	return func(o *options) error { o.keychain = k; return nil }
}

// WithTLS makes Run serve HTTPS with a certificate and key file.
func WithTLS(certFile, keyFile string) Option {
	return func(o *options) error {
		if (certFile == "") != (keyFile == "") {
			return errors.New("TLS needs both a certificate and a key")
		}
		o.tlsCert, o.tlsKey = certFile, keyFile
		return nil
	}
}

func newOptions(opts []Option) (*options, error) {
	o := &options{
		profiles:        map[string]*profile.Profile{},
		logger:          slog.New(slog.DiscardHandler),
		upstreamTimeout: 30 * time.Second,
		keychain:        authn.DefaultKeychain,
		bodyIdle:        bodyIdle,
		bodyMinRate:     bodyMinRate,
		tagTTL:          DefaultTagTTL,
		cacheSize:       DefaultCacheSize,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(o); err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
	}
	if o.storage == "" {
		return nil, errors.New("serve: no storage directory")
	}
	if o.transport == nil {
		o.transport = defaultTransport(o.upstreamTimeout)
	}
	return o, nil
}

// defaultTransport is tuned for streaming large blobs from few hosts.
func defaultTransport(timeout time.Duration) http.RoundTripper {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		DisableCompression:    true, // blobs must arrive as stored: a transparently gunzipped body fails its digest
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		ReadBufferSize:        256 << 10,
		WriteBufferSize:       64 << 10,
	}
}
