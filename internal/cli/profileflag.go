package cli

import (
	"context"
	"fmt"

	"github.com/tailor-dev/tailor/detect"
	"github.com/tailor-dev/tailor/profile"
)

// profileFlagUsage documents a --profile flag read by loadProfile.
const profileFlagUsage = `host profile: a spec string (cpu=zen3,gpu=8.0,driver=550.54,label.k=v), a JSON file as "tailor detect -o json" writes, inline JSON, or "host" (default: this host)`

// loadProfile reads a --profile argument: "" or "host" detects this host;
// anything else is a spec string, a JSON file or inline JSON
// (profile.Load). A bad argument is a usage error.
func loadProfile(ctx context.Context, arg string) (*profile.Profile, error) {
	if arg == "" || arg == "host" {
		p, err := detect.Host(ctx)
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
