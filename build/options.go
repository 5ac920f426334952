package build

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/stack"
)

// Option configures Plan and Run.
type Option func(*options) error

// options: the defaults are one build at a time, logs in a temporary
// directory removed when the build succeeds, no progress, no host
// detection, the compilers of compilerCommand and GPU tools on PATH, a
// registry client with remote's defaults, layers dated at the Unix epoch,
// no fleet, a discarding logger.
type options struct {
	jobs       int
	logDir     string
	progress   func(Event)
	progressMu sync.Mutex
	hostTarget func(context.Context) (string, error)
	compilers  map[string]string
	tools      map[string]string
	client     *remote.Client
	epoch      time.Time
	hosts      []stack.Host
	log        *slog.Logger
}

// WithParallelism runs up to n component builds at once (n >= 1).
func WithParallelism(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("parallelism %d: want at least 1", n)
		}
		o.jobs = n
		return nil
	}
}

// WithLogDir writes one log per component build into dir (created if
// needed) and keeps them. Without it, logs go to a temporary directory
// that is removed when every build succeeded, and kept (and named in the
// error) when one failed.
func WithLogDir(dir string) Option {
	return func(o *options) error { o.logDir = dir; return nil }
}

// WithProgress calls f as builds start and finish (from several goroutines, one call at a time).
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

// WithTool uses path for a GPU toolchain: ToolNVCC or ToolHIPCC (default:
// the name on PATH, then /usr/local/cuda/bin/nvcc, /opt/rocm/bin/hipcc).
func WithTool(name, path string) Option {
	return func(o *options) error {
		if _, ok := toolFallback[name]; !ok {
			return fmt.Errorf("tool %q: want %s or %s", name, ToolNVCC, ToolHIPCC)
		}
		o.tools[name] = path
		return nil
	}
}

// WithClient fetches base images and pushes with c: its credentials,
// insecure registries, retries, and its timeout bounding each registry
// call (the base image's manifest and config for one architecture, one
// image's push with its layers, the index's push).
func WithClient(c *remote.Client) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("registry client: nil")
		}
		o.client = c
		return nil
	}
}

// WithSourceDateEpoch dates every layer entry, image config and history
// entry at t (SOURCE_DATE_EPOCH, which build commands get too; default
// the Unix epoch), so the same inputs give the same digests.
func WithSourceDateEpoch(t time.Time) Option {
	return func(o *options) error { o.epoch = t.UTC().Truncate(time.Second); return nil }
}

// WithFleet prunes the matrix to the entries some host would be given
// (stack.Prune), plus the generic entry.
func WithFleet(hosts []stack.Host) Option {
	return func(o *options) error {
		for _, h := range hosts {
			if h.Profile == nil {
				return fmt.Errorf("fleet host %s: no profile", h.Name)
			}
		}
		o.hosts = hosts
		return nil
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { o.log = l; return nil }
}

func newOptions(opts []Option) (*options, error) {
	o := &options{
		jobs: 1, compilers: map[string]string{}, tools: map[string]string{},
		log: slog.New(slog.DiscardHandler), epoch: time.Unix(0, 0).UTC(),
	}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, fmt.Errorf("build option: %w", err)
		}
	}
	if o.client == nil {
		c, err := remote.New()
		if err != nil {
			return nil, err
		}
		o.client = c
	}
	return o, nil
}

// ErrTimeout is returned (wrapped) when a registry call runs past the
// client's timeout.
var ErrTimeout = errors.New("registry call timed out")

// bounded runs call with ctx bounded by the client's timeout, and says so
// in the error when the bound ran out.
func (o *options) bounded(ctx context.Context, call func(context.Context) error) error {
	d := o.client.Timeout()
	if d == 0 {
		return call(ctx)
	}
	cause := fmt.Errorf("%w after %s", ErrTimeout, d)
	ctx, cancel := context.WithTimeoutCause(ctx, d, cause)
	defer cancel()
	return timedOut(ctx, call(ctx))
}

// phase returns ctx bounded by the client's timeout until stop is called;
// after stop it lasts as long as ctx. For a call whose result is read
// lazily later with the context it was made with (a remote image's
// layers).
func (o *options) phase(ctx context.Context) (context.Context, func()) {
	d := o.client.Timeout()
	if d == 0 {
		return ctx, func() {}
	}
	pctx, cancel := context.WithCancelCause(ctx)
	t := time.AfterFunc(d, func() { cancel(fmt.Errorf("%w after %s", ErrTimeout, d)) })
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
