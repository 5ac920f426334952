package content

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/tailor-dev/tailor/internal/durable"
)

// Option configures a Store.
type Option func(*options) error

// options holds what the Options set. Defaults: no size bound (never
// evict), a discarding logger, the wall clock.
type options struct {
	maxSize int64
	logger  *slog.Logger
	now     func() time.Time
	fs      durable.FS
}

func newOptions(opts []Option) (options, error) {
	o := options{logger: slog.New(slog.NewTextHandler(io.Discard, nil)), now: time.Now, fs: durable.OS}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// WithMaxSize bounds the total size of the blobs: after each commit the
// least recently used are evicted until the total is within n bytes.
// 0 (the default) never evicts.
func WithMaxSize(n int64) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("content store size bound %d: must not be negative", n)
		}
		o.maxSize = n
		return nil
	}
}

// WithLogger logs what the store does on its own (crash leftovers removed,
// evictions at debug level) to l.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("content store logger: nil")
		}
		o.logger = l
		return nil
	}
}

// WithFS makes the store write blobs through fsys (default durable.OS):
// for tests, of the store and of what is built on it, that a crash
// loses no committed blob (durabletest.FS).
func WithFS(fsys durable.FS) Option {
	return func(o *options) error {
		if fsys == nil {
			return fmt.Errorf("content store file system: nil")
		}
		o.fs = fsys
		return nil
	}
}

// withClock is the tests' seam for recency.
func withClock(now func() time.Time) Option {
	return func(o *options) error { o.now = now; return nil }
}
