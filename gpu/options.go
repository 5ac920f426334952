package gpu

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/tailor-dev/tailor/profile"
)

// DefaultTimeout bounds each driver probe (NVML, each nvidia-smi run) when
// [WithTimeout] is not given. nvidia-smi on a host with many GPUs and no
// persistence daemon can take a few seconds to initialise the driver.
const DefaultTimeout = 5 * time.Second

// KFDTopologyPath is where the AMD KFD driver publishes its topology nodes.
const KFDTopologyPath = "/sys/class/kfd/kfd/topology/nodes"

// amdgpuVersionPath holds the amdgpu module version (absent on most kernels,
// where the driver is in-tree).
const amdgpuVersionPath = "/sys/module/amdgpu/version"

// Option configures [Detect].
type Option func(*options) error

type options struct {
	kfd     fs.FS         // KFD topology nodes; default os.DirFS(KFDTopologyPath)
	amdgpu  string        // file holding the amdgpu module version
	smiPath string        // nvidia-smi executable; "" looks it up on PATH
	timeout time.Duration // bound on each driver probe
	nvml    nvmlProbe     // NVML probe; default the real library
	run     runner        // runs a command and returns its stdout
	// nodes are the files whose presence says an NVIDIA driver is loaded;
	// nil probes regardless (an explicit nvidia-smi path, test seams).
	nodes    []string
	nodesSet bool // nodes chosen by withDriverNodes
	// custom is set by every option that changes the NVIDIA probe: its
	// answer is then not the process's cached one.
	custom bool
}

// nvmlProbe lists the NVIDIA GPUs through NVML. It returns an error that
// wraps errNoNVML when libnvidia-ml cannot be loaded.
type nvmlProbe func() ([]profile.GPU, error)

// runner runs the program at path with args and returns its standard output.
type runner func(ctx context.Context, path string, args ...string) ([]byte, error)

func defaultOptions() *options {
	return &options{
		kfd:     os.DirFS(KFDTopologyPath),
		amdgpu:  amdgpuVersionPath,
		timeout: DefaultTimeout,
		nvml:    probeNVML,
		run:     runCommand,
		nodes:   driverNodes,
	}
}

func newOptions(opts []Option) (*options, error) {
	o := defaultOptions()
	var errs []error
	for _, opt := range opts {
		if err := opt(o); err != nil {
			errs = append(errs, err)
		}
	}
	return o, errors.Join(errs...)
}

// WithKFDRoot reads the AMD KFD topology from fsys, rooted where
// [KFDTopologyPath] is on a live system, instead of from sysfs.
// A nil fsys disables AMD detection.
func WithKFDRoot(fsys fs.FS) Option {
	return func(o *options) error {
		o.kfd = fsys
		return nil
	}
}

// WithNvidiaSMIPath runs the nvidia-smi executable at path when NVML is not
// available. The default, or an empty path, looks up "nvidia-smi" on PATH and
// runs nothing when it is not there; an explicit path that does not exist is
// reported as an error.
func WithNvidiaSMIPath(path string) Option {
	return func(o *options) error {
		o.smiPath = path
		o.custom = true
		if path != "" {
			o.probeAlways()
		}
		return nil
	}
}

// WithTimeout bounds each driver probe (NVML, each nvidia-smi run) by d
// instead of [DefaultTimeout]. d must be positive.
func WithTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("GPU probe timeout %v: want a positive duration", d)
		}
		o.timeout, o.custom = d, true
		return nil
	}
}

// withNVML replaces the NVML probe (test seam). A nil probe behaves as if
// libnvidia-ml were absent.
func withNVML(p nvmlProbe) Option {
	return func(o *options) error {
		if p == nil {
			p = func() ([]profile.GPU, error) { return nil, errNoNVML }
		}
		o.nvml = p
		o.probeAlways()
		return nil
	}
}

// withRunner replaces how commands are run (test seam).
func withRunner(r runner) Option {
	return func(o *options) error {
		o.run = r
		o.probeAlways()
		return nil
	}
}

// withDriverNodes makes the probe look for an NVIDIA driver at paths
// instead of [driverNodes] (test seam).
func withDriverNodes(paths ...string) Option {
	return func(o *options) error {
		o.nodes, o.nodesSet, o.custom = paths, true, true
		return nil
	}
}

// probeAlways makes the probe run without looking for a driver first,
// unless [withDriverNodes] chose where to look.
func (o *options) probeAlways() {
	o.custom = true
	if !o.nodesSet {
		o.nodes = nil
	}
}

// withAMDGPUVersionFile reads the amdgpu module version from path (test seam).
func withAMDGPUVersionFile(path string) Option {
	return func(o *options) error {
		o.amdgpu = path
		return nil
	}
}
