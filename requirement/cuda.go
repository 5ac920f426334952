package requirement

import (
	"fmt"
	"strconv"

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
// compute_100f only within the 10.x family.
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
	default: // plain sm_XY and family sm_XYf / compute_XYf share the rule
		if major == a.Major && minor >= a.Minor {
			return true, runs
		}
		return false, fmt.Sprintf("%s runs on %d.x with x >= %d, host GPU is %s", a, a.Major, a.Minor, cc)
	}
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

// DriverFloor returns the minimum NVIDIA Linux driver for a CUDA toolkit
// version under CUDA's minor-version compatibility (DESIGN.md §3): 13.x
// needs >= 580, 12.x >= 525.60.13, 11.x >= 450.80.02. Older toolkits need
// their own release's driver; "" means unknown (no floor enforced).
func DriverFloor(cudaVersion string) string {
	major, _, _ := cutInt(cudaVersion)
	switch {
	case major >= 13:
		return "580"
	case major == 12:
		return "525.60.13"
	case major == 11:
		return "450.80.02"
	case major == 10:
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
