package build

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Option configures Plan and Run.
type Option func(*options) error

// options: the defaults are one build at a time, logs in a new temporary
// directory, no progress, no host detection, the compilers of
// compilerCommand, default registry options, a discarding logger.
type options struct {
	jobs       int
	logDir     string
	progress   func(Event)
	hostTarget func(context.Context) (string, error)
	compilers  map[string]string
	remote     []remote.Option
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

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { o.log = l; return nil }
}

func newOptions(opts []Option) (*options, error) {
	o := &options{jobs: 1, compilers: map[string]string{}, log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, fmt.Errorf("build option: %w", err)
		}
	}
	return o, nil
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
