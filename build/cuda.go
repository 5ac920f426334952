package build

import (
	"context"
	"os/exec"
	"strings"

	"github.com/tailor-dev/tailor/stack"
)

// publishVersion learns the CUDA release of the nvcc at path for a cuda
// value that names no version: the build then publishes it as
// dev.tailor.cuda.version (what the code needs from the driver) and its
// command gets it as CUDA_VERSION. An nvcc that names no release leaves
// the version unpublished.
func (t *toolchains) publishVersion(ctx context.Context, path string, info *valueInfo) {
	if info.gpu == nil || info.gpu.Version != "" {
		return
	}
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return
	}
	v, ok := NVCCRelease(out)
	if !ok {
		return
	}
	info.cudaVersion = v
	for i, e := range info.env {
		if strings.HasPrefix(e, "CUDA_VERSION=") {
			info.env[i] = "CUDA_VERSION=" + v
		}
	}
}

// nvccHostFlags makes every nvcc the build runs pass the target's C
// compiler flags to the host compiler: NVCC_APPEND_FLAGS (read by nvcc
// from CUDA 11.5 on) with -Xcompiler=FLAG,FLAG, what a build script would
// otherwise write as -Xcompiler "$CFLAGS".
func nvccHostFlags(flags string) string {
	f := strings.Fields(flags)
	if len(f) == 0 {
		return "NVCC_APPEND_FLAGS="
	}
	return "NVCC_APPEND_FLAGS=-Xcompiler=" + strings.Join(f, ",")
}

// mayBeEmpty reports whether build b may leave its output empty: it varies
// on the cuda or rocm axis with a value that has no GPU code (none), so a
// command that only builds GPU code has nothing to write there.
func (p *Plan) mayBeEmpty(b stack.Build) bool {
	for _, axis := range []string{stack.AxisCUDA, stack.AxisROCm} {
		v, ok := b.Values[axis]
		if !ok {
			continue
		}
		if info := p.values[axis][v.Name]; info != nil && info.gpu != nil && info.gpu.Arch == "" {
			return true
		}
	}
	return false
}
