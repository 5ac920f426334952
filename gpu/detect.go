package gpu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
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

// nvidia lists the NVIDIA GPUs: NVML first, nvidia-smi when NVML is absent
// or fails.
func (o *options) nvidia(ctx context.Context) ([]profile.GPU, error) {
	gpus, err := o.nvmlWithin(ctx)
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
// not installed. The query and the banner (for the exact CUDA version) run
// concurrently; a banner that cannot be read leaves the CUDA version derived
// from the driver version.
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
	banner := make(chan Banner, 1)
	go func() {
		out, err := o.run(ctx, path)
		b, perr := ParseNvidiaSMIBanner(out)
		if err != nil || perr != nil {
			b = Banner{}
		}
		banner <- b
	}()
	out, err := o.run(ctx, path, smiQuery...)
	if err != nil {
		cancel() // the banner would fail the same way
		<-banner
		return o.smiFailure(parent, path, out, err)
	}
	gpus, err = ParseNvidiaSMI(out)
	if b := <-banner; b.CUDAVersion != "" {
		for i := range gpus {
			if b.Driver == "" || b.Driver == gpus[i].Driver {
				gpus[i].CUDAVersion = b.CUDAVersion
			}
		}
	}
	return gpus, true, err
}

// smiFailure explains a failed nvidia-smi run, started under parent. "No devices were found" is a
// host without NVIDIA GPU, not a failure.
func (o *options) smiFailure(parent context.Context, path string, out []byte, err error) ([]profile.GPU, bool, error) {
	if strings.Contains(string(out), noDevices) {
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
