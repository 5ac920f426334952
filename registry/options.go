package registry

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/tailor-dev/tailor/distspec"
	"github.com/tailor-dev/tailor/internal/durable"
)

// Option configures a Registry.
type Option func(*options) error

// options holds what the Options set. Defaults: blobs up to 64 GiB, at
// most 1000 upload sessions, each dropped after 1 h without a request or
// 24 h in all, a janitor every 10 minutes, blobs no repository links
// removed hourly (WithGCInterval) once an hour old, a discarding logger.
type options struct {
	maxBlobSize    int64
	maxUploads     int
	uploadIdle     time.Duration
	uploadMaxAge   time.Duration
	janitorEvery   time.Duration
	gcEvery        time.Duration
	orphanGrace    time.Duration
	logger         *slog.Logger
	now            func() time.Time
	maxManifest    int64
	maxListEntries int
	gcHook         func(phase string) // called before each manifest marked and blob swept (tests)
	fs             durable.FS         // the file system of durable writes (tests: durabletest)
	shares         uploadShares       // per client and per repository (uploadshares.go)
}

func newOptions(opts []Option) (*options, error) {
	o := &options{
		maxBlobSize:    64 << 30,
		maxUploads:     1000,
		uploadIdle:     time.Hour,
		uploadMaxAge:   24 * time.Hour,
		janitorEvery:   10 * time.Minute,
		gcEvery:        DefaultGCInterval,
		orphanGrace:    time.Hour,
		logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		now:            time.Now,
		maxManifest:    MaxManifestSize,
		maxListEntries: 10000,
		gcHook:         func(string) {},
		fs:             durable.OS,
		shares:         uploadShares{perClient: 100, perRepo: 250},
	}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// MaxManifestSize is the largest manifest accepted: 4 MiB, as distribution
// and containerd use (distspec.MaxManifestSize).
const MaxManifestSize = distspec.MaxManifestSize

// WithMaxBlobSize bounds one blob upload (default 64 GiB).
func WithMaxBlobSize(n int64) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("registry blob size bound %d: must be positive", n)
		}
		o.maxBlobSize = n
		return nil
	}
}

// WithUploadLimits bounds upload sessions: at most n at once (more are
// answered 429), each dropped after idle without a request or maxAge in
// all (defaults 1000, 1 h, 24 h).
func WithUploadLimits(n int, idle, maxAge time.Duration) Option {
	return func(o *options) error {
		if n <= 0 || idle <= 0 || maxAge <= 0 {
			return fmt.Errorf("registry upload limits %d, %s, %s: must be positive", n, idle, maxAge)
		}
		o.maxUploads, o.uploadIdle, o.uploadMaxAge = n, idle, maxAge
		return nil
	}
}

// WithLogger logs storage errors, the janitor's work and the import to l.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("registry logger: nil")
		}
		o.logger = l
		return nil
	}
}

// DefaultGCInterval is how often blobs no manifest references are
// collected unless WithGCInterval says otherwise.
const DefaultGCInterval = time.Hour

// WithGCInterval sets how often blobs no manifest references are
// collected (default hourly); 0 turns the collection off.
func WithGCInterval(every time.Duration) Option {
	return func(o *options) error {
		if every < 0 {
			return fmt.Errorf("registry garbage collection interval %s: must not be negative", every)
		}
		o.gcEvery = every
		return nil
	}
}

// withFS is the tests' seam for crashes: metadata and blobs are written
// through fsys.
func withFS(fsys durable.FS) Option {
	return func(o *options) error { o.fs = fsys; return nil }
}

// withGCHook is the tests' seam into a collection.
func withGCHook(f func(phase string)) Option {
	return func(o *options) error { o.gcHook = f; return nil }
}

// withClock and withJanitor are the tests' seams.
func withClock(now func() time.Time) Option {
	return func(o *options) error { o.now = now; return nil }
}

func withJanitor(every, orphanGrace time.Duration) Option {
	return func(o *options) error { o.janitorEvery, o.orphanGrace = every, orphanGrace; return nil }
}

func withMaxManifest(n int64) Option {
	return func(o *options) error { o.maxManifest = n; return nil }
}
