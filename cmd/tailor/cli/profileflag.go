package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/tailor-dev/tailor/detect"
	"github.com/tailor-dev/tailor/gpu"
	"github.com/tailor-dev/tailor/profile"
)

// profileFlagUsage documents a --profile flag read by loadProfile.
const profileFlagUsage = `host profile: a spec string (cpu=zen3,gpu=8.0,driver=550.54,label.k=v), a JSON file as "tailor detect -o json" writes, inline JSON, or "host" (default: this host)`

// loadProfile reads a --profile argument: "" or "host" detects this host;
// anything else is a spec string, a JSON file or inline JSON
// (profile.Load). A bad argument is a usage error.
func loadProfile(ctx context.Context, arg string) (*profile.Profile, error) {
	if arg == "" || arg == "host" {
		p, err := hostProfile(ctx)
		if err != nil {
			return nil, fmt.Errorf("detect host profile: %w", err)
		}
		return p, nil
	}
	p, err := profile.Load(arg)
	if err != nil {
		return nil, usageError(fmt.Errorf("--profile: %w", err))
	}
	return p, nil
}

// hostProfile detects this host, GPUs included: the one place the binary
// hands package gpu's probes to detect.
func hostProfile(ctx context.Context, opts ...detect.Option) (*profile.Profile, error) {
	opts = append(opts, detect.WithLogger(slog.Default()), detect.WithGPUDetector(detectGPUs))
	return detect.Host(ctx, opts...)
}

// detectGPUs is gpu.Detect with its defaults.
func detectGPUs(ctx context.Context) ([]profile.GPU, error) { return gpu.Detect(ctx) }
