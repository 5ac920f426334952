//go:build !linux && !darwin

package detect

import (
	"context"
	"fmt"
	"runtime"
)

// probeHost fails: only Linux and macOS hosts can be probed.
func probeHost(context.Context) (*CPUInfo, error) {
	return nil, fmt.Errorf("%w %q: detection reads Linux /proc/cpuinfo or macOS sysctl; give a cpuinfo dump instead", ErrUnsupported, runtime.GOOS)
}
