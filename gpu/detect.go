package gpu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tailor-dev/tailor/internal/lazyre"
	"github.com/tailor-dev/tailor/profile"
)

// Detect returns every GPU of the host: NVIDIA GPUs through NVML when
// libnvidia-ml is present, else through nvidia-smi when it is on PATH (or
// given by [WithNvidiaSMIPath]), then AMD GPUs from the KFD topology.
//
// The list is never nil. A machine without a GPU gets an empty list and a
// nil error, quickly: no process is started when nvidia-smi is not
// installed. Each driver probe is bounded by [DefaultTimeout] or
// [WithTimeout].
//
// A non-nil error does not mean detection failed: it reports a broken
// driver, a probe that timed out, or output that could not be parsed, and
// the list still holds every GPU that was found. Callers should log such an
// error and go on with the list. Only an invalid [Option] makes Detect
// return an error before probing anything (with an empty list).
func Detect(ctx context.Context, opts ...Option) ([]profile.GPU, error) {
	o, err := newOptions(opts)
	if err != nil {
		return []profile.GPU{}, fmt.Errorf("detect GPUs: %w", err)
	}
	gpus := []profile.GPU{}
	nv, nvErr := o.nvidia(ctx)
	gpus = append(gpus, nv...)
	amd, amdErr := o.amd()
	gpus = append(gpus, amd...)
	return gpus, errors.Join(nvErr, amdErr)
}

// nvidia lists the NVIDIA GPUs, once per process for the default probe
// (see [nvidiaCached]).
func (o *options) nvidia(ctx context.Context) ([]profile.GPU, error) {
	if !o.custom {
		return nvidiaCached(ctx, o)
	}
	return o.probeNVIDIA(ctx)
}

// probeNVIDIA lists the NVIDIA GPUs: nothing when no NVIDIA driver is
// loaded, else NVML first, nvidia-smi when NVML is absent or fails. A
// driver that is not loaded (NVML's ERROR_DRIVER_NOT_LOADED, nvidia-smi's
// exit status 9) is a host without NVIDIA GPU, not an error.
func (o *options) probeNVIDIA(ctx context.Context) ([]profile.GPU, error) {
	if !o.driverPresent() {
		return nil, nil
	}
	gpus, err := o.nvmlWithin(ctx)
	if errors.Is(err, nvmlDriverNotLoaded) {
		err = errNoNVML
	}
	switch {
	case err == nil:
		return gpus, nil
	case !errors.Is(err, errNoNVML) && len(gpus) > 0:
		return gpus, err // NVML answered for some devices
	case errors.Is(err, errTimeout) || ctx.Err() != nil:
		return nil, err // a hung driver would hang nvidia-smi too
	}
	smi, found, smiErr := o.nvidiaSMI(ctx)
	switch {
	case errors.Is(err, errNoNVML):
		return smi, smiErr
	case !found:
		return nil, err
	case smiErr == nil:
		return smi, nil // nvidia-smi answered where NVML failed
	default:
		return smi, errors.Join(err, smiErr)
	}
}

// driverNodes are the files one of which exists wherever an NVIDIA driver
// is loaded: the kernel module's /proc entry (visible in containers too),
// its control device (which the NVIDIA container runtime passes in), and
// WSL2's GPU device, where the driver lives in Windows.
var driverNodes = []string{"/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/dxg"}

// driverPresent reports whether an NVIDIA driver may be loaded. Where none
// is, NVML and nvidia-smi can only fail (nvidia-smi with exit status 9,
// after some 15 ms of CPU), so neither is tried. Test seams and an
// explicit nvidia-smi path always probe.
func (o *options) driverPresent() bool {
	if o.nodes == nil {
		return true
	}
	for _, p := range o.nodes {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// nvidiaProbe is the process's one default NVIDIA probe and its answer.
var nvidiaProbe struct {
	sync.Mutex
	done bool
	gpus []profile.GPU
	err  error
}

// nvidiaCached runs the default NVIDIA probe once per process: the GPUs
// and the driver do not change under a running command, and every command
// that detects the host would otherwise start nvidia-smi again. An answer
// cut short by ctx or a timeout is not kept.
func nvidiaCached(ctx context.Context, o *options) ([]profile.GPU, error) {
	nvidiaProbe.Lock()
	defer nvidiaProbe.Unlock()
	if nvidiaProbe.done {
		return slices.Clone(nvidiaProbe.gpus), nvidiaProbe.err
	}
	gpus, err := o.probeNVIDIA(ctx)
	if ctx.Err() == nil && !errors.Is(err, errTimeout) {
		nvidiaProbe.done, nvidiaProbe.gpus, nvidiaProbe.err = true, slices.Clone(gpus), err
	}
	return gpus, err
}

// errTimeout marks a probe that did not answer in time.
var errTimeout = errors.New("timed out")

// nvmlWithin runs the NVML probe, bounded by the timeout and ctx. A probe
// left behind finishes (and shuts NVML down) on its own.
func (o *options) nvmlWithin(ctx context.Context) ([]profile.GPU, error) {
	type result struct {
		gpus []profile.GPU
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		gpus, err := o.nvml()
		ch <- result{gpus, err}
	}()
	timer := time.NewTimer(o.timeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		return r.gpus, r.err
	case <-timer.C:
		return nil, fmt.Errorf("NVML: no answer within %v: %w", o.timeout, errTimeout)
	case <-ctx.Done():
		return nil, fmt.Errorf("NVML: %w", context.Cause(ctx))
	}
}

// nvidiaSMI lists the NVIDIA GPUs with nvidia-smi; found is false when it is
// not installed. The query runs first, alone, so a failing nvidia-smi (no
// driver) runs once; the banner (for the exact CUDA version) only after it
// answered. A banner that cannot be read leaves the CUDA version derived
// from the driver version. A driver older than 510, which has no
// compute_cap field, is asked for the PCI device ids instead.
func (o *options) nvidiaSMI(ctx context.Context) (gpus []profile.GPU, found bool, err error) {
	path := o.smiPath
	if path == "" {
		if path, err = exec.LookPath("nvidia-smi"); err != nil {
			return nil, false, nil
		}
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	parse := ParseNvidiaSMI
	out, err := o.run(ctx, path, smiQuery...)
	if err != nil && strings.Contains(string(out)+err.Error(), noComputeCap) {
		parse = ParseNvidiaSMIPCI
		out, err = o.run(ctx, path, smiQueryPCI...)
	}
	if err != nil {
		return o.smiFailure(parent, path, out, err)
	}
	gpus, err = parse(out)
	if len(gpus) == 0 {
		return gpus, true, err
	}
	bout, berr := o.run(ctx, path)
	if b, perr := ParseNvidiaSMIBanner(bout); berr == nil && perr == nil {
		for i := range gpus {
			if b.Driver == "" || b.Driver == gpus[i].Driver {
				gpus[i].CUDAVersion = b.CUDAVersion
			}
		}
	}
	return gpus, true, err
}

// driverNotLoaded is what nvidia-smi prints (exit status 9) where the
// NVIDIA driver is not loaded: a machine with the tools but no GPU.
const driverNotLoaded = "couldn't communicate with the NVIDIA driver"

// smiFailure explains a failed nvidia-smi run, started under parent. "No
// devices were found" (exit status 6) and a driver that is not loaded
// (exit status 9) are a host without NVIDIA GPU, not a failure.
func (o *options) smiFailure(parent context.Context, path string, out []byte, err error) ([]profile.GPU, bool, error) {
	if strings.Contains(string(out), noDevices) || strings.Contains(string(out)+err.Error(), driverNotLoaded) || exitCode(err) == 9 {
		return nil, true, nil
	}
	if parent.Err() != nil {
		return nil, true, fmt.Errorf("nvidia-smi %s: %w", path, context.Cause(parent))
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, true, fmt.Errorf("nvidia-smi %s: no answer within %v: %w", path, o.timeout, errTimeout)
	}
	return nil, true, fmt.Errorf("nvidia-smi %s: %w", path, err)
}

// exitCode is the exit status in err, or -1.
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// amd lists the AMD GPUs of the KFD topology, with the amdgpu module
// version as their driver when the kernel publishes one.
func (o *options) amd() ([]profile.GPU, error) {
	if o.kfd == nil {
		return nil, nil
	}
	gpus, err := ParseKFD(o.kfd)
	if len(gpus) == 0 || o.amdgpu == "" {
		return gpus, err
	}
	if v := readVersion(o.amdgpu); v != "" {
		for i := range gpus {
			gpus[i].Driver = v
		}
	}
	return gpus, err
}

var versionPattern = lazyre.New(`^[0-9]+(\.[0-9]+){0,3}$`)

// readVersion returns the dotted version number in file, or "" when the
// file is absent or holds something else.
func readVersion(file string) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	v := strings.TrimSpace(string(b))
	if !versionPattern.MatchString(v) {
		return ""
	}
	return v
}
