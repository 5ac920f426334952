//go:build darwin

package detect

import (
	"context"
	"fmt"
	"os/exec"
	"sync"

	"golang.org/x/sys/unix"
)

// darwinProbe caches the first successful probe; a failed one (a cancelled
// context, say) is retried on the next call.
var darwinProbe struct {
	mu   sync.Mutex
	info *CPUInfo
}

// probeHost returns the CPU information of the running Mac, from
// `sysctl -a machdep.cpu hw`.
func probeHost(ctx context.Context) (*CPUInfo, error) {
	darwinProbe.mu.Lock()
	defer darwinProbe.mu.Unlock()
	if darwinProbe.info != nil {
		return darwinProbe.info.clone(), nil
	}
	machine, err := unix.Sysctl("hw.machine")
	if err != nil {
		return nil, fmt.Errorf("sysctl hw.machine: %w", err)
	}
	out, err := exec.CommandContext(ctx, "/usr/sbin/sysctl", "-a", "machdep.cpu", "hw").Output()
	if err != nil {
		return nil, fmt.Errorf("running sysctl -a machdep.cpu hw: %w", err)
	}
	info, err := ParseSysctl(out, machine)
	if err != nil {
		return nil, err
	}
	darwinProbe.info = info
	return info.clone(), nil
}
