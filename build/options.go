package build

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Option configures Plan and Run.
type Option func(*options) error

// options: the defaults are one build at a time, logs in a new temporary
// directory, no progress, no host detection, the compilers of
// compilerCommand, default registry options, references parsed by
// name.ParseReference, no registry timeout, a discarding logger.
type options struct {
	jobs       int
	logDir     string
	progress   func(Event)
	hostTarget func(context.Context) (string, error)
	compilers  map[string]string
	remote     []remote.Option
	parse      func(string) (name.Reference, error)
	timeout    time.Duration
	log        *slog.Logger
}

// WithParallelism builds up to n targets at once (n >= 1).
func WithParallelism(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("parallelism %d: want at least 1", n)
		}
		o.jobs = n
		return nil
	}
}

// WithLogDir writes one log per target into dir (created if needed).
func WithLogDir(dir string) Option {
	return func(o *options) error { o.logDir = dir; return nil }
}

// WithProgress calls f as targets start and finish (from several goroutines, one call at a time).
func WithProgress(f func(Event)) Option {
	return func(o *options) error { o.progress = f; return nil }
}

// WithHostTarget supplies the detection of the "host" target's name.
func WithHostTarget(f func(context.Context) (string, error)) Option {
	return func(o *options) error { o.hostTarget = f; return nil }
}

// WithCompiler uses path as the C compiler for OCI architecture arch.
func WithCompiler(arch, path string) Option {
	return func(o *options) error { o.compilers[arch] = path; return nil }
}

// WithRemoteOptions sets the registry options for the base image and pushes.
func WithRemoteOptions(r ...remote.Option) Option {
	return func(o *options) error { o.remote = append(o.remote, r...); return nil }
}

// WithReferenceParser parses the base image and push references with f,
// such as a tailor remote.Client's ParseReference, which knows the
// registries that may be reached over plain HTTP (default:
// name.ParseReference, plain HTTP for loopback registries only).
func WithReferenceParser(f func(string) (name.Reference, error)) Option {
	return func(o *options) error {
		if f == nil {
			return errors.New("reference parser: nil")
		}
		o.parse = f
		return nil
	}
}

// WithTimeout bounds each registry call of Run and Result.Push: fetching
// the base image's manifest and config for one architecture, pushing one
// image (its layers included), pushing the index. 0 (the default) means no
// bound beyond the caller's context.
func WithTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("timeout %s: must not be negative", d)
		}
		o.timeout = d
		return nil
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { o.log = l; return nil }
}

func newOptions(opts []Option) (*options, error) {
	o := &options{
		jobs: 1, compilers: map[string]string{}, log: slog.New(slog.DiscardHandler),
		parse: func(s string) (name.Reference, error) { return name.ParseReference(s) },
	}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, fmt.Errorf("build option: %w", err)
		}
	}
	return o, nil
}

// ErrTimeout is returned (wrapped) when a registry call runs past
// WithTimeout.
var ErrTimeout = errors.New("registry call timed out")

// remoteOptions are o's registry options for one call bound to ctx (last,
// so that it wins over a context among o.remote).
func (o *options) remoteOptions(ctx context.Context, extra []remote.Option) []remote.Option {
	out := append(slices.Clone(o.remote), extra...)
	return append(out, remote.WithContext(ctx))
}

// bounded runs call with ctx bounded by o's timeout, and says so in the
// error when the bound ran out.
func (o *options) bounded(ctx context.Context, call func(context.Context) error) error {
	if o.timeout == 0 {
		return call(ctx)
	}
	cause := fmt.Errorf("%w after %s", ErrTimeout, o.timeout)
	ctx, cancel := context.WithTimeoutCause(ctx, o.timeout, cause)
	defer cancel()
	return timedOut(ctx, call(ctx))
}

// phase returns ctx bounded by o's timeout until stop is called; after
// stop it lasts as long as ctx. For a call whose result is read lazily
// later with the context it was made with (a remote image's layers).
func (o *options) phase(ctx context.Context) (context.Context, func()) {
	if o.timeout == 0 {
		return ctx, func() {}
	}
	pctx, cancel := context.WithCancelCause(ctx)
	t := time.AfterFunc(o.timeout, func() { cancel(fmt.Errorf("%w after %s", ErrTimeout, o.timeout)) })
	return pctx, func() { t.Stop() }
}

// timedOut puts the cause first when ctx ran past its timeout.
func timedOut(ctx context.Context, err error) error {
	if c := context.Cause(ctx); err != nil && errors.Is(c, ErrTimeout) && !errors.Is(err, ErrTimeout) {
		return fmt.Errorf("%w: %w", c, err)
	}
	return err
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
