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
	score  gpuScore
}

// checkCUDA checks the entry's CUDA code and toolkit version against the
// host's NVIDIA GPUs: some GPU must run one of the archs and, when the
// entry names its CUDA version, have a driver at or above the version's
// floor. The score is that of the best such GPU and arch.
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
	_, d.Detail = driverFits(r.CUDAVersion, best.gpu)
	var driverOK []gpuFit
	for _, f := range fits {
		if ok, _ := driverFits(r.CUDAVersion, f.gpu); ok {
			driverOK = append(driverOK, f)
		}
	}
	if len(driverOK) == 0 {
		return []Check{c, d}, gpuScore{}
	}
	best = bestFit(driverOK)
	d.OK = true
	_, d.Detail = driverFits(r.CUDAVersion, best.gpu)
	c.Detail = best.reason
	return []Check{c, d}, best.score
}

// cudaFits returns, per GPU that runs some arch of archs, its best arch;
// and why each GPU runs none. An entry with a CUDA version but no arch
// listed runs on any NVIDIA GPU, ranked like PTX.
func (h *host) cudaFits(archs []requirement.CUDAArch) ([]gpuFit, []string) {
	var fits []gpuFit
	var why []string
	for _, g := range h.nvidia {
		if len(archs) == 0 {
			reason := fmt.Sprintf("no CUDA arch listed, taken to run on %d.%d", g.major, g.minor)
			fits = append(fits, gpuFit{gpu: g, reason: reason, score: gpuScore{runs: true}})
			continue
		}
		var best *gpuFit
		for _, a := range archs {
			ok, reason := a.RunsOn(g.major, g.minor)
			if !ok {
				why = appendUnique(why, reason)
				continue
			}
			f := gpuFit{gpu: g, arch: a, reason: reason, score: archScore(a, g)}
			if best == nil || f.score.compare(best.score) < 0 {
				best = &f
			}
		}
		if best != nil {
			fits = append(fits, *best)
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

// driverFits checks the CUDA toolkit version's driver floor against a GPU.
// With no driver version known, the highest CUDA version the driver
// supports stands in: the same or a newer major is enough, by CUDA's
// minor-version compatibility.
func driverFits(version string, g nvidiaGPU) (bool, string) {
	floor := requirement.DriverFloor(version)
	switch {
	case floor == "":
		return true, fmt.Sprintf("no known driver floor for CUDA %s", version)
	case g.driver != "":
		if profile.CompareVersions(g.driver, floor) >= 0 {
			return true, fmt.Sprintf("CUDA %s needs driver >= %s, host has %s", version, floor, g.driver)
		}
		return false, fmt.Sprintf("CUDA %s needs driver >= %s, host has %s", version, floor, g.driver)
	case g.cuda != "":
		if majorOf(g.cuda) >= majorOf(version) {
			return true, fmt.Sprintf("CUDA %s needs driver >= %s; host driver version unknown, it supports CUDA %s", version, floor, g.cuda)
		}
		return false, fmt.Sprintf("CUDA %s needs driver >= %s; host driver version unknown, it supports only CUDA %s", version, floor, g.cuda)
	}
	return false, fmt.Sprintf("CUDA %s needs driver >= %s, host driver version is unknown", version, floor)
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
