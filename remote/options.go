package remote

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
)

// Option configures a Client.
type Option func(*options) error

// Backoff is the retry schedule: the first wait, the factor between waits,
// jitter and the number of attempts (ggcr's remote.Backoff).
type Backoff = ggcr.Backoff

// Defaults of a Client.
const (
	// DefaultTimeout bounds each call of a Client, retries included.
	DefaultTimeout = 2 * time.Minute
	// DefaultUserAgent is sent with every request.
	DefaultUserAgent = "tailor"
)

// DefaultBackoff retries a temporary error (a 5xx, 429, 408, a reset
// connection) twice, after 200ms then 600ms.
var DefaultBackoff = Backoff{Duration: 200 * time.Millisecond, Factor: 3, Jitter: 0.1, Steps: 3}

// options holds what the Options set. Defaults: authn.DefaultKeychain,
// ggcr's DefaultTransport, DefaultTimeout, DefaultBackoff, DefaultUserAgent,
// plain HTTP for loopback registries only, the untailored view of tailor
// servers (ProfileNone).
type options struct {
	insecure  map[string]bool
	timeout   time.Duration
	keychain  authn.Keychain
	transport http.RoundTripper
	backoff   Backoff
	userAgent string
	// profile is the Tailor-Profile header sent ("" none).
	profile string
	// log receives what the client does (discarded by default).
	log *slog.Logger
	// slow is when a waiting request is first logged (SlowAnswer).
	slow time.Duration
	// jobs is ggcr's parallelism for layer transfers.
	jobs int
}

// WithInsecure marks registries (host or host:port) that may be reached
// over plain HTTP: HTTPS is tried first, then HTTP (ggcr's
// name.Insecure). Loopback registries (localhost, 127.0.0.1, [::1]) and
// private addresses always may.
func WithInsecure(registries ...string) Option {
	return func(o *options) error {
		for _, r := range registries {
			r = strings.TrimSpace(r)
			if r == "" || strings.ContainsAny(r, "/ ") {
				return fmt.Errorf("insecure registry %q: want host or host:port", r)
			}
			o.insecure[r] = true
		}
		return nil
	}
}

// WithTimeout bounds each call of the Client, retries included; 0 means
// no bound beyond the caller's context.
func WithTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("timeout %s: must not be negative", d)
		}
		o.timeout = d
		return nil
	}
}

// WithKeychain sets where credentials come from (default:
// authn.DefaultKeychain, the docker config and its credential helpers).
// authn.NewMultiKeychain combines several.
func WithKeychain(k authn.Keychain) Option {
	return func(o *options) error {
		if k == nil {
			return errors.New("keychain: nil")
		}
		o.keychain = k
		return nil
	}
}

// WithTransport sets the HTTP transport under ggcr's auth, retry and
// user-agent layers (default: ggcr's remote.DefaultTransport).
func WithTransport(t http.RoundTripper) Option {
	return func(o *options) error {
		if t == nil {
			return errors.New("transport: nil")
		}
		o.transport = t
		return nil
	}
}

// WithRetry sets the retry schedule of temporary errors. Steps 1 means
// no retry.
func WithRetry(b Backoff) Option {
	return func(o *options) error {
		if b.Steps < 1 || b.Duration < 0 || b.Factor < 0 {
			return fmt.Errorf("retry backoff %+v: want Steps >= 1 and no negative duration or factor", b)
		}
		o.backoff = b
		return nil
	}
}

// WithUserAgent sets the User-Agent product of requests (ggcr appends its own).
func WithUserAgent(ua string) Option {
	return func(o *options) error {
		o.userAgent = ua
		return nil
	}
}

// WithLogger makes the client log each request at debug level, and warn
// while a registry keeps a request waiting (see SlowAnswer). Default:
// silent.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("logger: nil")
		}
		o.log = l
		return nil
	}
}

// WithServerProfile sets the profile a tailor server is asked to tailor
// answers for (the Tailor-Profile header). The default, ProfileNone, asks
// for every index whole, as published: tailor matches entries itself, so
// its commands must see all of them through a tailoring mirror. "" sends
// no header (the server then picks the profile, as for any client).
func WithServerProfile(spec string) Option {
	return func(o *options) error {
		if len(spec) > 1024 || strings.ContainsAny(spec, "\r\n") {
			return fmt.Errorf("server profile %.40q: want a profile name or spec of at most 1024 bytes on one line", spec)
		}
		o.profile = spec
		return nil
	}
}

// newOptions applies opts over the defaults.
func newOptions(opts []Option) (*options, error) {
	o := &options{
		insecure:  map[string]bool{},
		timeout:   DefaultTimeout,
		keychain:  authn.DefaultKeychain,
		transport: ggcr.DefaultTransport,
		backoff:   DefaultBackoff,
		userAgent: DefaultUserAgent,
		profile:   ProfileNone,
		log:       slog.New(slog.DiscardHandler),
		slow:      SlowAnswer,
		jobs:      4,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(o); err != nil {
			return nil, fmt.Errorf("remote option: %w", err)
		}
	}
	return o, nil
}
