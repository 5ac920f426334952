package build

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/requirement"
	"github.com/tailor-dev/tailor/stack"
)

// CPUEnv is what a build for target t with compiler cc gets: CC, AR (the
// cross binutils' for another architecture), CFLAGS and CXXFLAGS from the
// catalog, TAILOR_TARGET, GOOS/GOARCH with GOAMD64
// or GOARM64, and CUDA_ARCH when cuda (a targets: file's cpu=,cuda=) is
// given. In the order written here, deterministic.
func CPUEnv(t *catalog.Target, cc Compiler, flags string, cuda []requirement.CUDAArch) []string {
	arch := t.Architecture()
	env := []string{
		"CC=" + cc.Path,
		"AR=" + archiver(arch),
		"CFLAGS=" + flags,
		"CXXFLAGS=" + flags,
		"TAILOR_TARGET=" + t.Name(),
		"GOOS=linux",
		"GOARCH=" + arch,
	}
	switch arch {
	case "amd64":
		env = append(env, fmt.Sprintf("GOAMD64=v%d", max(t.Level(), 1)))
	case "arm64":
		v := t.Variant()
		if !strings.Contains(v, ".") {
			v += ".0"
		}
		env = append(env, "GOARM64="+v)
	}
	if len(cuda) > 0 {
		env = append(env, "CUDA_ARCH="+joinCUDA(cuda, ","))
	}
	return append(env, nvccHostFlags(flags))
}

// archiver is the ar for objects of arch: this machine's, or the Debian
// cross binutils'.
func archiver(arch string) string {
	if arch == runtime.GOARCH {
		return "ar"
	}
	return crossPrefix[arch] + "ar"
}

func joinCUDA(archs []requirement.CUDAArch, sep string) string {
	s := make([]string, len(archs))
	for i, a := range archs {
		s[i] = a.String()
	}
	return strings.Join(s, sep)
}

// CUDAGencode is the nvcc -gencode flags that put code for archs in a
// binary: sm_XY as native code (arch=compute_XY,code=sm_XY), compute_XY as
// PTX (arch=compute_XY,code=compute_XY).
func CUDAGencode(archs []requirement.CUDAArch) string {
	var flags []string
	for _, a := range archs {
		s := a.String()
		virtual := "compute_" + strings.TrimPrefix(strings.TrimPrefix(s, "sm_"), "compute_")
		flags = append(flags, "-gencode arch="+virtual+",code="+s)
	}
	return strings.Join(flags, " ")
}

// gpuEnv is what a build varying on the cuda or rocm axis gets for value
// g: CUDA_ARCH, CUDA_GENCODE and CUDA_VERSION, or ROCM_ARCH and
// HIP_OFFLOAD_ARCH; the tool's path (NVCC, HIPCC) is added by
// checkToolchains. A value with no code (none) sets them empty.
func gpuEnv(axis string, g GPUValue, r requirement.Requirements) []string {
	if axis == stack.AxisROCm {
		var offload []string
		for _, a := range r.ROCm {
			offload = append(offload, "--offload-arch="+a)
		}
		return []string{"ROCM_ARCH=" + strings.Join(r.ROCm, ","), "HIP_OFFLOAD_ARCH=" + strings.Join(offload, " ")}
	}
	return []string{"CUDA_ARCH=" + joinCUDA(r.CUDA, ","), "CUDA_GENCODE=" + CUDAGencode(r.CUDA), "CUDA_VERSION=" + g.Version}
}

// labelVar is the variable a label axis sets: TAILOR_FABRIC.
func labelVar(axis string) string { return "TAILOR_" + strings.ToUpper(axis) }

// checkToolchains finds, for every axis some command component varies on,
// each value's toolchain: the C compiler of a cpu value's architecture
// (and its flags for the target), nvcc for CUDA code, hipcc for ROCm
// code. A value without one is skipped when optional, an error otherwise.
func (o *options) checkToolchains(ctx context.Context, p *Plan, axes []stack.Axis) error {
	tc := newToolchains(o)
	for _, a := range axes {
		users := p.commandsOn(a.Name)
		for i, v := range a.Values {
			info := p.values[a.Name][v.Name]
			if len(users) == 0 {
				continue
			}
			err := tc.prepare(ctx, a.Name, v, info)
			if err == nil {
				a.Values[i].Requirements.CUDAVersion = cmp.Or(a.Values[i].Requirements.CUDAVersion, info.cudaVersion)
				continue
			}
			if !errors.Is(err, ErrNoCompiler) || !info.optional {
				return fmt.Errorf("%s %s (for %s): %w", a.Name, v.Name, strings.Join(users, ", "), err)
			}
			p.Skipped = append(p.Skipped, Skipped{Axis: a.Name, Value: v.Name, Reason: fmt.Sprintf("%v (needed by %s)", err, strings.Join(users, ", "))})
		}
	}
	return nil
}

// commandsOn names the command components that vary on axis.
func (p *Plan) commandsOn(axis string) []string {
	var out []string
	for _, c := range p.Components {
		if c.Kind() == KindCommand && slices.Contains(c.Varies, axis) {
			out = append(out, c.Name)
		}
	}
	return out
}

// prepare finds value v's toolchain and sets its environment.
func (tc *toolchains) prepare(ctx context.Context, axis string, v stack.Value, info *valueInfo) error {
	switch {
	case axis == stack.AxisCPU:
		cc, err := tc.compiler(ctx, info.target.Architecture())
		if err != nil {
			return err
		}
		flags, err := info.target.CompilerFlags(cc.Kind, cc.Version)
		if err != nil {
			return fmt.Errorf("%w: %s %s: %w", ErrNoCompiler, cc.Path, cc.Version, err)
		}
		info.compiler = cc
		info.env = CPUEnv(info.target, *cc, flags, v.Requirements.CUDA)
	case info.gpu != nil && info.gpu.Arch != "" && axis == stack.AxisCUDA:
		path, err := tc.nvcc(ctx, info.gpu.Version)
		if err != nil {
			return err
		}
		info.env = append(info.env, "NVCC="+path)
		tc.publishVersion(ctx, path, info)
	case info.gpu != nil && info.gpu.Arch != "" && axis == stack.AxisROCm:
		path, err := tc.tool(ToolHIPCC)
		if err != nil {
			return err
		}
		info.env = append(info.env, "HIPCC="+path)
	}
	return nil
}

// Env is what build b's command gets on top of this process's
// environment (TAILOR_OUT and TAILOR_ROOT are added per run): each axis
// it varies on (CPUEnv for cpu, gpuEnv for cuda and rocm, TAILOR_<AXIS>
// for a label axis), SOURCE_DATE_EPOCH, TAILOR_COMPONENT, then the file's
// env: and the component's.
func (p *Plan) Env(b stack.Build, extra map[string]string, epoch int64) []string {
	comp := p.Component(b.Component)
	var env []string
	for _, a := range p.Matrix.Stack.Axes {
		if v, ok := b.Values[a.Name]; ok {
			env = append(env, p.values[a.Name][v.Name].env...)
		}
	}
	env = append(env, fmt.Sprintf("SOURCE_DATE_EPOCH=%d", epoch), "TAILOR_COMPONENT="+comp.Name)
	for _, m := range []map[string]string{extra, comp.Env} {
		for _, k := range sortedKeys(m) {
			env = append(env, k+"="+m[k])
		}
	}
	return env
}
