package nfd

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/detect"
	"github.com/tailor-dev/tailor/profile"
)

// Source says which labels a profile's CPU was read from.
type Source string

// Sources of a profile read from labels, most exact first.
const (
	// SourceTailor: tailor's own labels (tailor detect -o nfd).
	SourceTailor Source = "tailor"
	// SourceNFD: NFD's cpu-cpuid labels, the target detected from them (a
	// lower bound, see cpuidFeatures).
	SourceNFD Source = "nfd"
	// SourceArch: kubernetes.io/arch alone, the architecture's generic
	// target.
	SourceArch Source = "arch"
)

// Reading is a node's profile as its labels describe it, with what was
// read between the lines.
type Reading struct {
	Profile *profile.Profile
	// Source says which labels the CPU was read from.
	Source Source
	// Inferred says what the profile holds that no label states: CPU
	// features implied by others NFD shows, the microarchitecture NFD's
	// cpu-model family and id name (SourceNFD only).
	Inferred []string
	// Warnings are labels of a known key with a value that means nothing
	// (a cpu-cpuid flag that is not "true", a cpu-model id that is not a
	// number): ignored, and said.
	Warnings []string
}

// Profile reads back the profile of a node from its labels (Read, without
// what was inferred).
func Profile(labels map[string]string) (*profile.Profile, Source, error) {
	r, err := Read(labels)
	if err != nil {
		return nil, "", err
	}
	return r.Profile, r.Source, nil
}

// Read reads back the profile of a node from its labels. tailor's labels
// (KeyTarget present) give the profile they were written from, with NFD's
// cpu-cpuid features added; without them the CPU is detected from NFD's
// cpu-cpuid labels, the flags NFD hides by default that those imply and
// the core its cpu-model labels name (infer), or is the generic target of
// kubernetes.io/arch. GPUs come from tailor's labels, else from NVIDIA GPU
// feature discovery's (nvidia.com/gpu.compute.major, ...). Labels that
// describe no CPU, or an impossible one, are an error wrapping
// profile.ErrInvalid.
func Read(labels map[string]string) (*Reading, error) {
	r, err := cpuProfile(labels)
	if err != nil {
		return nil, err
	}
	p := r.Profile
	gpus, err := nvidiaGPUs(labels)
	if err != nil {
		return nil, err
	}
	p.GPUs = append(append([]profile.GPU{}, gpus...), amdGPUs(labels)...)
	if os := labels[KeyKubeOS]; os != "" {
		// A Windows node runs no Linux build, whatever its CPU.
		p.OS, p.Platform = os, os+strings.TrimPrefix(p.Platform, p.OS)
	}
	for k, v := range labels {
		if hk, ok := strings.CutPrefix(k, Prefix+"label."); ok && hk != "" {
			if p.Labels == nil {
				p.Labels = map[string]string{}
			}
			p.Labels[hk] = v
		}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	r.Warnings = warnings(labels)
	return r, nil
}

// warnings lists NFD labels whose value means nothing to Read, sorted.
func warnings(labels map[string]string) []string {
	var out []string
	for k, v := range labels {
		switch {
		case strings.HasPrefix(k, nfdCPUIDPrefix) && v != "true":
			out = append(out, fmt.Sprintf("label %s=%q: want true, ignored", k, v))
		case k == nfdFamily || k == nfdModel:
			if n, err := strconv.Atoi(v); err != nil || n < 0 {
				out = append(out, fmt.Sprintf("label %s=%q: want a decimal number, ignored", k, v))
			}
		case k == nfdVendor && v != "" && cpuidVendors[v] == "" && labels[KeyKubeArch] == "amd64":
			out = append(out, fmt.Sprintf("label %s=%q: not a vendor tailor knows, no microarchitecture read from cpu-model", k, v))
		}
	}
	slices.Sort(out)
	return out
}

func cpuProfile(labels map[string]string) (*Reading, error) {
	nfdFeatures := cpuidFeatures(labels)
	if name, ok := labels[KeyTarget]; ok {
		t, err := catalog.Lookup(name)
		if err != nil {
			return nil, fmt.Errorf("%w: label %s: %w", profile.ErrInvalid, KeyTarget, err)
		}
		if a, ok := labels[KeyArch]; ok && a != t.Architecture() {
			return nil, fmt.Errorf("%w: label %s=%s but target %s is %s", profile.ErrInvalid, KeyArch, a, name, t.Architecture())
		}
		features := append(labelFeatures(labels), nfdFeatures...)
		if len(features) == 0 {
			// Labels of a tailor that wrote no features: the target's.
			features = t.FeatureList()
		}
		p := &profile.Profile{OS: "linux"}
		p.CPU.Vendor = labels[KeyVendor]
		p.SetCPU(t, dropDerived(p, t, features))
		return &Reading{Profile: p, Source: SourceTailor}, nil
	}
	arch := labels[KeyKubeArch]
	if arch == "" {
		return nil, fmt.Errorf("%w: no %s, NFD cpu-cpuid or %s labels", profile.ErrInvalid, KeyTarget, KeyKubeArch)
	}
	if len(nfdFeatures) > 0 {
		machine, ok := catalog.FamilyOf(arch)
		if ok {
			vendor := cpuidVendors[labels[nfdVendor]]
			var inf inference
			if machine == "x86_64" {
				inf = infer(labels, nfdFeatures, vendor)
			}
			features := append(slices.Clone(nfdFeatures), inf.features...)
			info := &detect.CPUInfo{OS: detect.OSLinux, Machine: machine, Vendor: vendor, Features: slices.Compact(slices.Sorted(slices.Values(features)))}
			if p, err := detect.Profile(info); err == nil {
				return &Reading{Profile: p, Source: SourceNFD, Inferred: inf.notes}, nil
			}
		}
	}
	p, err := profile.ParseSpec("arch=" + arch)
	if err != nil {
		return nil, fmt.Errorf("label %s: %w", KeyKubeArch, err)
	}
	return &Reading{Profile: p, Source: SourceArch}, nil
}

// dropDerived leaves out of features the catalog's alias names (avx512,
// neon, fma on POWER) that Labels wrote because the host satisfies them
// through other features or its family, keeping an alias name that is a
// real flag of the host (fma on x86-64).
func dropDerived(p *profile.Profile, t *catalog.Target, features []string) []string {
	aliases := catalog.FeatureAliases()
	var plain, named []string
	for _, f := range features {
		if _, ok := aliases[f]; ok {
			named = append(named, f)
		} else {
			plain = append(plain, f)
		}
	}
	p.SetCPU(t, plain)
	for _, f := range named {
		if !p.HasFeature(f) {
			plain = append(plain, f)
		}
	}
	return plain
}

func labelFeatures(labels map[string]string) []string {
	var out []string
	for k, v := range labels {
		if f, ok := strings.CutPrefix(k, Prefix+"cpu.feature."); ok && f != "" && v == "true" {
			out = append(out, f)
		}
	}
	return out
}

// nvidiaGPUs reads the NVIDIA GPUs: one per count of each tailor.dev
// compute-capability label, else GPU feature discovery's labels.
func nvidiaGPUs(labels map[string]string) ([]profile.GPU, error) {
	driver, cuda := labels[KeyDriver], labels[KeyCUDA]
	var gpus []profile.GPU
	ccPrefix := Prefix + "gpu.nvidia.cc."
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		cc, ok := strings.CutPrefix(k, ccPrefix)
		if !ok || strings.Count(cc, ".") != 1 {
			continue
		}
		n, err := strconv.Atoi(labels[k])
		if err != nil || n < 1 || n > 1024 {
			return nil, fmt.Errorf("%w: label %s=%q: want a GPU count", profile.ErrInvalid, k, labels[k])
		}
		for range n {
			gpus = append(gpus, profile.GPU{Vendor: profile.VendorNVIDIA, ComputeCapability: cc, Driver: driver, CUDAVersion: cuda})
		}
	}
	if len(gpus) > 0 {
		return gpus, nil
	}
	if cc := labels[KeyNVIDIACC]; cc != "" {
		return []profile.GPU{{Vendor: profile.VendorNVIDIA, ComputeCapability: cc, Driver: driver, CUDAVersion: cuda}}, nil
	}
	return gfdGPUs(labels), nil
}

// gfdGPUs reads NVIDIA GPU feature discovery's labels: one GPU of the
// node's compute capability per nvidia.com/gpu.count.
func gfdGPUs(labels map[string]string) []profile.GPU {
	major, minor := labels["nvidia.com/gpu.compute.major"], labels["nvidia.com/gpu.compute.minor"]
	if major == "" || minor == "" {
		return nil
	}
	g := profile.GPU{Vendor: profile.VendorNVIDIA, ComputeCapability: major + "." + minor}
	g.Driver = labels["nvidia.com/cuda.driver-version.full"]
	if g.Driver == "" {
		g.Driver = joinVersion(labels, "nvidia.com/cuda.driver.major", "nvidia.com/cuda.driver.minor", "nvidia.com/cuda.driver.rev")
	}
	g.CUDAVersion = labels["nvidia.com/cuda.runtime-version.full"]
	if g.CUDAVersion == "" {
		g.CUDAVersion = joinVersion(labels, "nvidia.com/cuda.runtime.major", "nvidia.com/cuda.runtime.minor")
	}
	if g.CUDAVersion == "" && g.Driver != "" {
		g.CUDAVersion = profile.CUDAForDriver(g.Driver)
	}
	n, err := strconv.Atoi(labels["nvidia.com/gpu.count"])
	if err != nil || n < 1 || n > 1024 {
		n = 1
	}
	return slices.Repeat([]profile.GPU{g}, n)
}

func joinVersion(labels map[string]string, keys ...string) string {
	var parts []string
	for _, k := range keys {
		v := labels[k]
		if v == "" {
			break
		}
		parts = append(parts, v)
	}
	return strings.Join(parts, ".")
}

func amdGPUs(labels map[string]string) []profile.GPU {
	var gpus []profile.GPU
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if gfx, ok := strings.CutPrefix(k, Prefix+"gpu.amd."); ok && strings.HasPrefix(gfx, "gfx") && labels[k] == "true" {
			gpus = append(gpus, profile.GPU{Vendor: profile.VendorAMD, GFX: gfx})
		}
	}
	return gpus
}
