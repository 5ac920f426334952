//go:build linux

package detect

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// linuxProbe reads /proc/cpuinfo and the machine name once per process,
// and asks the CPU what this process can execute (see liveInfo).
var linuxProbe = sync.OnceValues(func() (*CPUInfo, error) {
	machine, err := unameMachine()
	if err != nil {
		return nil, err
	}
	var fromFile *CPUInfo
	data, err := readCapped("/proc/cpuinfo")
	if err == nil {
		fromFile, err = ParseCPUInfo(data, machine)
	}
	cpu, known, _ := probeCPU()
	return liveInfo(fromFile, err, machine, cpu, known)
})

// probeHost returns the CPU information of the running Linux host.
func probeHost(ctx context.Context) (*CPUInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	info, err := linuxProbe()
	if err != nil {
		return nil, err
	}
	return info.clone(), nil
}

func unameMachine() (string, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", fmt.Errorf("uname: %w", err)
	}
	return unix.ByteSliceToString(u.Machine[:]), nil
}

func readCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxDump+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return data, nil
}
