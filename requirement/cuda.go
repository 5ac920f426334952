package requirement

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tailor-dev/tailor/internal/lazyre"
)

var (
	cudaPattern    = lazyre.New(`^(sm|compute)_([1-9][0-9]?)([0-9])([af]?)$`)
	gfxPattern     = lazyre.New(`^gfx[0-9][0-9a-f]{2,4}$`)
	versionPattern = lazyre.New(`^[0-9]{1,3}(\.[0-9]{1,3}){0,2}$`)
)

// CUDAArch is one CUDA code object in a binary: native SASS for a compute
// capability (sm_80), PTX that the driver JIT-compiles (compute_80), or
// architecture-specific code (sm_90a: exactly 9.0; sm_100f: family, 10.x
// with minor >= 0).
type CUDAArch struct {
	Major, Minor int
	// PTX is true for compute_XY (virtual architecture).
	PTX bool
	// Suffix is "", "a" (arch-specific) or "f" (family-specific).
	Suffix string
}

// ParseCUDAArch parses sm_XY, sm_XYa, sm_XYf, compute_XY (XY = major then
// one minor digit: sm_86 is 8.6, sm_100 is 10.0, sm_120 is 12.0).
func ParseCUDAArch(s string) (CUDAArch, error) {
	m := cudaPattern.FindStringSubmatch(s)
	if m == nil {
		return CUDAArch{}, fmt.Errorf("%w: CUDA arch %q: want sm_XY, sm_XYa, sm_XYf or compute_XY (such as sm_80, sm_90a, compute_90)", ErrMalformed, s)
	}
	major, _ := strconv.Atoi(m[2])
	minor, _ := strconv.Atoi(m[3])
	return CUDAArch{Major: major, Minor: minor, PTX: m[1] == "compute", Suffix: m[4]}, nil
}

// String is the nvcc spelling: sm_90a, compute_80.
func (a CUDAArch) String() string {
	kind := "sm"
	if a.PTX {
		kind = "compute"
	}
	return fmt.Sprintf("%s_%d%d%s", kind, a.Major, a.Minor, a.Suffix)
}

// Capability is the compute capability the code was built for ("9.0").
func (a CUDAArch) Capability() string { return fmt.Sprintf("%d.%d", a.Major, a.Minor) }

// RunsOn reports whether the code runs on a GPU of compute capability
// major.minor, and why not (DESIGN.md §3):
// sm_XY needs the same major and minor >= Y; compute_XY any >= X.Y (JIT);
// sm_XYa exactly X.Y; sm_XYf the same major with minor >= Y. The suffix
// rules hold for PTX too: compute_90a is JIT-compiled only on 9.0, and
// compute_100f only within the 10.x family. Native code never crosses
// between integrated (Tegra) and desktop GPUs (see [Integrated]): sm_80
// does not run on an 8.7 Orin, sm_87 not on an 8.9 L4; PTX crosses.
func (a CUDAArch) RunsOn(major, minor int) (bool, string) {
	cc := fmt.Sprintf("%d.%d", major, minor)
	runs := fmt.Sprintf("%s runs on %s", a, cc)
	if a.PTX {
		runs = fmt.Sprintf("%s JIT-compiles for %s", a, cc)
	}
	switch {
	case a.Suffix == "a":
		if major == a.Major && minor == a.Minor {
			return true, runs
		}
		return false, fmt.Sprintf("%s runs only on %s, host GPU is %s", a, a.Capability(), cc)
	case a.PTX && a.Suffix == "":
		if major > a.Major || (major == a.Major && minor >= a.Minor) {
			return true, runs
		}
		return false, fmt.Sprintf("%s needs compute capability >= %s, host GPU is %s", a, a.Capability(), cc)
	case !a.PTX && Integrated(a.Major, a.Minor) != Integrated(major, minor):
		return false, fmt.Sprintf("%s is native code for %s GPUs, host GPU %s is %s: integrated and desktop GPUs share no native code", a, gpuKind(a.Major, a.Minor), cc, gpuKind(major, minor))
	default: // plain sm_XY and family sm_XYf / compute_XYf share the rule
		if major == a.Major && minor >= a.Minor {
			return true, runs
		}
		return false, fmt.Sprintf("%s runs on %d.x with x >= %d, host GPU is %s", a, a.Major, a.Minor, cc)
	}
}

// integrated lists the compute capabilities of NVIDIA's integrated (Tegra)
// GPUs, from the CUDA C++ Programming Guide's compute capability table and
// the CUDA 13.0 release notes: 3.2 (Tegra K1), 5.3 (Tegra X1, Jetson
// Nano), 6.2 (Jetson TX2), 7.2 (Jetson Xavier), 8.7 (Jetson Orin), 10.1
// (Jetson Thor as CUDA 12.8/12.9 number it) and 11.0 (Thor from CUDA 13.0).
var integrated = map[[2]int]bool{{3, 2}: true, {5, 3}: true, {6, 2}: true, {7, 2}: true, {8, 7}: true, {10, 1}: true, {11, 0}: true}

// Integrated reports whether compute capability major.minor is that of an
// integrated (Tegra/Jetson) GPU. The CUDA Programming Guide's binary
// compatibility rule: a cubin for a desktop GPU never runs on an
// integrated one, nor the other way round.
func Integrated(major, minor int) bool { return integrated[[2]int{major, minor}] }

func gpuKind(major, minor int) string {
	if Integrated(major, minor) {
		return "integrated (Tegra)"
	}
	return "desktop"
}

// MarshalText writes the nvcc spelling.
func (a CUDAArch) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads the nvcc spelling.
func (a *CUDAArch) UnmarshalText(b []byte) error {
	v, err := ParseCUDAArch(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// DriverFloor returns the minimum NVIDIA Linux driver that runs native
// code (SASS) built with a CUDA toolkit version, under CUDA's minor-version
// compatibility (DESIGN.md §3; CUDA Compatibility guide, "Minor Version
// Compatibility"): 13.x needs >= 580, 12.x >= 525.60.13, 11.x >= 450.80.02.
// Before 11 there is no minor-version compatibility: each 10.x release has
// its own floor (CUDA release notes, table 3: 10.0 410.48, 10.1 418.39,
// 10.2 440.33). "" means unknown (no floor enforced). PTX needs more: a
// driver at least as new as the toolkit's own (match checks that).
func DriverFloor(cudaVersion string) string {
	major, rest, _ := cutInt(cudaVersion)
	switch {
	case major >= 13:
		return "580"
	case major == 12:
		return "525.60.13"
	case major == 11:
		return "450.80.02"
	case major == 10:
		minor, _, ok := cutInt(strings.TrimPrefix(rest, "."))
		if !ok || !strings.HasPrefix(rest, ".") {
			minor = 0
		}
		switch {
		case minor >= 2:
			return "440.33"
		case minor == 1:
			return "418.39"
		}
		return "410.48"
	}
	return ""
}

func cutInt(v string) (major int, rest string, ok bool) {
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	n, err := strconv.Atoi(v[:i])
	return n, v[i:], err == nil
}
