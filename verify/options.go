package verify

import (
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"time"

	"github.com/tailor-dev/tailor/profile"
)

// Option configures Images and Reference.
type Option func(*options) error

// options: by default runs are on (10 s each), under qemu-user found on
// PATH; no native runs (no host profile); 2 entries at once; up to 2 GiB
// of shared libraries extracted per entry for runs; a discarding logger.
type options struct {
	run          bool
	runTimeout   time.Duration
	cmd          []string
	host         *profile.Profile
	lookPath     func(string) (string, error)
	jobs         int
	extractLimit int64
	tmpDir       string
	log          *slog.Logger
}

// Defaults.
const (
	DefaultRunTimeout   = 10 * time.Second
	DefaultJobs         = 2
	DefaultExtractLimit = 2 << 30
)

var errOption = errors.New("verify option")

// WithRun turns runs of the entries' commands on or off (on by default).
// A run executes the image's program on this machine: qemu-user is an
// emulator, not a sandbox.
func WithRun(on bool) Option {
	return func(o *options) error {
		o.run = on
		return nil
	}
}

// WithRunTimeout bounds each run (default 10 s). A program still running
// then is stopped: it did not die of SIGILL so far, which is all a run
// tells.
func WithRunTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("%w: run timeout %s: must be positive", errOption, d)
		}
		o.runTimeout = d
		return nil
	}
}

// WithCommand runs, and analyses, argv instead of each entry's
// Entrypoint and Cmd (a server's entrypoint may need a --version to
// return).
func WithCommand(argv ...string) Option {
	return func(o *options) error {
		if len(argv) == 0 || argv[0] == "" {
			return fmt.Errorf("%w: empty command", errOption)
		}
		o.cmd = append([]string(nil), argv...)
		return nil
	}
}

// WithHost is this machine's profile: an entry whose declared target is
// exactly the host's, which qemu cannot emulate (AVX-512), runs natively.
func WithHost(p *profile.Profile) Option {
	return func(o *options) error {
		o.host = p
		return nil
	}
}

// WithJobs sets how many entries are verified at once (default 2).
func WithJobs(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("%w: jobs %d: want 1 or more", errOption, n)
		}
		o.jobs = n
		return nil
	}
}

// WithExtractLimit bounds the bytes of shared libraries copied to disk for
// each entry's run (default 2 GiB); an image with more is not run.
func WithExtractLimit(n int64) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("%w: extract limit %d", errOption, n)
		}
		o.extractLimit = n
		return nil
	}
}

// WithTempDir puts each entry's extracted files under dir (default: the
// system's temporary directory). They are removed when the entry is done.
func WithTempDir(dir string) Option {
	return func(o *options) error {
		o.tmpDir = dir
		return nil
	}
}

// WithLogger reports progress (an entry started, a run) to l.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", errOption)
		}
		o.log = l
		return nil
	}
}

// withLookPath replaces exec.LookPath for finding qemu (a test seam).
func withLookPath(f func(string) (string, error)) Option {
	return func(o *options) error {
		o.lookPath = f
		return nil
	}
}

func newOptions(opts []Option) (*options, error) {
	o := &options{
		run:          true,
		runTimeout:   DefaultRunTimeout,
		lookPath:     exec.LookPath,
		jobs:         DefaultJobs,
		extractLimit: DefaultExtractLimit,
		log:          slog.New(slog.DiscardHandler),
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}
