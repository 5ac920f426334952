package detect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"

	"github.com/tailor-dev/tailor/profile"
)

// GPUDetector lists the GPUs of the host; no GPU is an empty list, not an
// error.
type GPUDetector func(ctx context.Context) ([]profile.GPU, error)

// Option configures Host.
type Option func(*options) error

type options struct {
	dump      []byte
	parse     func([]byte, string) (*CPUInfo, error)
	machine   string
	labels    map[string]string
	labelFile string
	labelSet  bool
	gpus      GPUDetector
	probe     func(context.Context) (*CPUInfo, error)
	logger    *slog.Logger
}

// errConflict is returned for options that cannot go together.
var errConflict = errors.New("conflicting options")

// WithCPUInfo makes Host describe the machine of a Linux /proc/cpuinfo
// dump instead of the live host; machine is its uname -m (see
// ParseCPUInfo). Conflicts with WithSysctl.
func WithCPUInfo(data []byte, machine string) Option {
	return withDump(data, machine, ParseCPUInfo, "WithCPUInfo")
}

// WithSysctl makes Host describe the Mac of a `sysctl -a machdep.cpu hw`
// dump (see ParseSysctl), like WithCPUInfo. Conflicts with WithCPUInfo.
func WithSysctl(data []byte, machine string) Option {
	return withDump(data, machine, ParseSysctl, "WithSysctl")
}

func withDump(data []byte, machine string, parse func([]byte, string) (*CPUInfo, error), name string) Option {
	return func(o *options) error {
		if o.parse != nil {
			return fmt.Errorf("%w: %s after another CPU dump option: give one dump", errConflict, name)
		}
		o.dump, o.machine, o.parse = data, machine, parse
		return nil
	}
}

// WithLabels adds host labels (mpi=openmpi); they override labels of the
// same key from the labels file.
func WithLabels(labels map[string]string) Option {
	return func(o *options) error {
		for k, v := range labels {
			if err := checkLabel(k, v); err != nil {
				return fmt.Errorf("%w: label: %w", ErrMalformed, err)
			}
		}
		maps.Copy(o.labels, labels)
		return nil
	}
}

// WithLabelsFile reads host labels from path (format: see ParseLabels)
// instead of DefaultLabelsFile. The default file may be missing; a file
// named here must exist. An empty path reads no file.
func WithLabelsFile(path string) Option {
	return func(o *options) error {
		o.labelFile, o.labelSet = path, true
		return nil
	}
}

// WithGPUDetector makes Host list the host's GPUs with d (gpu.Detect, say);
// without it Host describes no GPU. The library core never probes a driver
// itself, so programs that need no GPU link no driver code. d runs even
// when the CPU comes from a dump: leave it out to describe a dump alone.
func WithGPUDetector(d GPUDetector) Option {
	return func(o *options) error {
		if d == nil {
			return fmt.Errorf("%w: WithGPUDetector(nil)", errConflict)
		}
		o.gpus = d
		return nil
	}
}

// WithLogger makes Host report problems that do not stop detection (a GPU
// driver that fails) to logger; they are discarded by default.
func WithLogger(logger *slog.Logger) Option {
	return func(o *options) error {
		if logger == nil {
			return fmt.Errorf("%w: WithLogger(nil)", errConflict)
		}
		o.logger = logger
		return nil
	}
}

// withProbe replaces the live host CPU probe (a test seam).
func withProbe(p func(context.Context) (*CPUInfo, error)) Option {
	return func(o *options) error {
		o.probe = p
		return nil
	}
}

func newOptions(opts []Option) (*options, error) {
	o := &options{
		labels:    map[string]string{},
		labelFile: DefaultLabelsFile,
		probe:     probeHost,
		logger:    slog.New(slog.DiscardHandler),
	}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// Host returns the profile of the machine it runs on: its CPU target and
// features, its GPUs (when WithGPUDetector is given: package gpu's
// Detect is the usual one; detect itself never probes a driver), and its labels from
// DefaultLabelsFile and WithLabels. With WithCPUInfo or WithSysctl it
// describes the machine of that dump instead.
func Host(ctx context.Context, opts ...Option) (*profile.Profile, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("detecting host: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("detecting host: %w", err)
	}
	info, err := o.cpuInfo(ctx)
	if err != nil {
		return nil, err
	}
	p, err := Profile(info)
	if err != nil {
		return nil, fmt.Errorf("detecting host CPU target: %w", err)
	}
	if p.Labels, err = o.hostLabels(); err != nil {
		return nil, err
	}
	if o.gpus != nil {
		// A broken driver must not stop CPU-based selection: keep the GPUs
		// found and report the problem (gpu.Detect's contract).
		gpus, err := o.gpus(ctx)
		if err != nil {
			o.logger.WarnContext(ctx, "detecting GPUs", "err", err, "found", len(gpus))
		}
		if gpus != nil {
			p.GPUs = gpus
		}
	}
	return p, nil
}

func (o *options) cpuInfo(ctx context.Context) (*CPUInfo, error) {
	if o.parse != nil {
		return o.parse(o.dump, o.machine)
	}
	info, err := o.probe(ctx)
	if err != nil {
		return nil, fmt.Errorf("probing host CPU: %w", err)
	}
	return info, nil
}

// hostLabels merges the labels file and WithLabels; nil when there are none.
func (o *options) hostLabels() (map[string]string, error) {
	labels := map[string]string{}
	if o.labelFile != "" {
		var err error
		if labels, err = readLabelsFile(o.labelFile, !o.labelSet); err != nil {
			return nil, err
		}
	}
	maps.Copy(labels, o.labels)
	if len(labels) == 0 {
		return nil, nil
	}
	return labels, nil
}
