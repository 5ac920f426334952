package match

import (
	"fmt"
	"strings"

	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/requirement"
)

// gpuFit is one host NVIDIA GPU that runs an entry's CUDA code, with how well.
type gpuFit struct {
	gpu    nvidiaGPU
	arch   requirement.CUDAArch
	reason string
	driver string // why its driver runs the code, when a CUDA version is named
	score  gpuScore
}

// checkCUDA checks the entry's CUDA code and toolkit version against the
// host's NVIDIA GPUs: some GPU must run one of the archs and, when the
// entry names its CUDA version, have a driver that runs that code: native
// code (SASS) needs the version's minor-version compatibility floor, PTX a
// driver at least as new as the toolkit's own (DESIGN.md §3). The score is
// that of the best such GPU and arch.
func (h *host) checkCUDA(r requirement.Requirements) ([]Check, gpuScore) {
	c := Check{Requirement: CheckCUDA}
	if len(h.nvidia) == 0 {
		c.Detail = "needs an NVIDIA GPU, host has none"
		return []Check{c}, gpuScore{}
	}
	fits, why := h.cudaFits(r.CUDA)
	if len(fits) == 0 {
		c.Detail = strings.Join(why, "; ")
		return []Check{c}, gpuScore{}
	}
	best := bestFit(fits)
	c.OK, c.Detail = true, best.reason
	if r.CUDAVersion == "" {
		return []Check{c}, best.score
	}
	d := Check{Requirement: CheckCUDADriver}
	var driverOK []gpuFit
	var driverWhy []string
	for _, f := range fits {
		ok, reason := driverFits(r.CUDAVersion, f.arch.PTX, f.gpu)
		if ok {
			f.driver = reason
			driverOK = append(driverOK, f)
		} else {
			driverWhy = appendUnique(driverWhy, reason)
		}
	}
	if len(driverOK) == 0 {
		d.Detail = strings.Join(driverWhy, "; ")
		return []Check{c, d}, gpuScore{}
	}
	best = bestFit(driverOK)
	d.OK, d.Detail = true, best.driver
	d.Assumed = best.gpu.driver == "" && best.gpu.cuda == ""
	c.Detail = best.reason
	return []Check{c, d}, best.score
}

// cudaFits returns, per GPU, every arch of archs that runs on it; and why
// each GPU runs none. An entry with a CUDA version but no arch listed runs
// on any NVIDIA GPU, ranked like PTX.
func (h *host) cudaFits(archs []requirement.CUDAArch) ([]gpuFit, []string) {
	var fits []gpuFit
	var why []string
	for _, g := range h.nvidia {
		if len(archs) == 0 {
			reason := fmt.Sprintf("no CUDA arch listed, taken to run on %d.%d", g.major, g.minor)
			fits = append(fits, gpuFit{gpu: g, reason: reason, score: gpuScore{runs: true}})
			continue
		}
		for _, a := range archs {
			ok, reason := a.RunsOn(g.major, g.minor)
			if !ok {
				why = appendUnique(why, reason)
				continue
			}
			fits = append(fits, gpuFit{gpu: g, arch: a, reason: reason, score: archScore(a, g)})
		}
	}
	return fits, why
}

// archScore rates code a on GPU g: native before PTX, then the closest
// compute capability, then arch- and family-specific code before plain.
func archScore(a requirement.CUDAArch, g nvidiaGPU) gpuScore {
	s := gpuScore{runs: true, native: !a.PTX}
	if a.PTX {
		s.distance = (g.major*10 + g.minor) - (a.Major*10 + a.Minor)
	} else {
		s.distance = g.minor - a.Minor
	}
	switch a.Suffix {
	case "a":
		s.specific = 2
	case "f":
		s.specific = 1
	}
	return s
}

func bestFit(fits []gpuFit) gpuFit {
	best := fits[0]
	for _, f := range fits[1:] {
		if f.score.compare(best.score) < 0 {
			best = f
		}
	}
	return best
}

// driverFits checks a GPU's driver against code built with CUDA toolkit
// version (DESIGN.md §3; NVIDIA's CUDA Compatibility guide): native code
// runs from the version's minor-version compatibility floor (or the
// release's own driver, when that is older); PTX is JIT-compiled by the
// driver, so it needs a driver at least as new as the toolkit's own
// (minor-version compatibility covers native code only). With no driver
// version known, the highest CUDA version the driver supports stands in. A
// GPU with neither (a hand-written profile such as gpu=9.0) is taken to
// have a driver new enough, and the reason says so.
func driverFits(version string, ptx bool, g nvidiaGPU) (bool, string) {
	if g.driver == "" && g.cuda == "" {
		return true, fmt.Sprintf("CUDA %s: the profile names no driver for GPU %d.%d (hand-written), taken to be new enough", version, g.major, g.minor)
	}
	floor, what := sassFloor(version), ""
	if ptx {
		floor, what = ptxFloor(version), " PTX (JIT-compiled by the driver: minor-version compatibility covers native code only)"
	}
	if floor == "" {
		return true, fmt.Sprintf("no known driver floor for CUDA %s", version)
	}
	if g.driver != "" {
		ok := profile.CompareVersions(g.driver, floor) >= 0
		return ok, fmt.Sprintf("CUDA %s%s needs driver >= %s, host has %s", version, what, floor, g.driver)
	}
	var ok bool
	switch {
	case ptx || majorOf(version) < 11: // no minor-version compatibility
		ok = profile.CompareVersions(g.cuda, majorMinor(version)) >= 0
	default:
		ok = majorOf(g.cuda) >= majorOf(version)
	}
	if ok {
		return true, fmt.Sprintf("CUDA %s%s needs driver >= %s; host driver version unknown, it supports CUDA %s", version, what, floor, g.cuda)
	}
	return false, fmt.Sprintf("CUDA %s%s needs driver >= %s; host driver version unknown, it supports only CUDA %s", version, what, floor, g.cuda)
}

// sassFloor is the oldest driver that runs native code built with CUDA
// version: the minor-version compatibility floor of its major, or the
// release's own driver when that is older (11.0 ran on 450.36.06, below
// 11.x's 450.80.02).
func sassFloor(version string) string {
	floor := requirement.DriverFloor(version)
	if rel := profile.CUDAReleaseDriver(version); rel != "" && (floor == "" || profile.CompareVersions(rel, floor) < 0) {
		return rel
	}
	return floor
}

// ptxFloor is the oldest driver that JIT-compiles PTX of CUDA version: the
// release's own driver; for a release newer than the table, the floor of
// its major.
func ptxFloor(version string) string {
	if rel := profile.CUDAReleaseDriver(version); rel != "" {
		return rel
	}
	return requirement.DriverFloor(version)
}

// majorMinor keeps the first two parts of a dotted version ("12.4.1" is
// "12.4").
func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	return strings.Join(parts[:min(2, len(parts))], ".")
}

func majorOf(v string) int {
	n := 0
	for i := 0; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
		n = n*10 + int(v[i]-'0')
		if n > 1<<20 {
			break
		}
	}
	return n
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// DriverFloor is the oldest NVIDIA Linux driver that runs code built with
// CUDA toolkit version: native code (ptx false), or PTX, which the driver
// JIT-compiles and so needs the toolkit's own driver or newer. "" means no
// floor is known. Match uses it; so does fleet's nodeAffinity.
func DriverFloor(version string, ptx bool) string {
	if ptx {
		return ptxFloor(version)
	}
	return sassFloor(version)
}
