package nfd

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/tailor-dev/tailor/profile"
)

// Prefix starts every label tailor writes.
const Prefix = "tailor.dev/"

// Label names, after Prefix. A target or AMD GFX name, or a host label's
// key, completes the names that end in a dot.
const (
	KeyCPUTarget    = "cpu.target"  // the detected target (haswell)
	KeyCPUTargetOf  = "cpu.target." // cpu.target.<t>=true for the target and each ancestor
	KeyCPUVendor    = "cpu.vendor"
	KeyCPULevel     = "cpu.level" // x86-64 level, v1-v4
	KeyArchitecture = "platform.architecture"
	KeyVariant      = "platform.variant"
	KeyNVIDIACC     = "gpu.nvidia.compute-capability" // the highest of the node's NVIDIA GPUs
	KeyNVIDIACount  = "gpu.nvidia.count"
	KeyNVIDIACUDA   = "gpu.nvidia.cuda"   // highest CUDA version the driver supports
	KeyNVIDIADriver = "gpu.nvidia.driver" // driver version
	KeyAMDGFX       = "gpu.amd."          // gpu.amd.<gfx>=true per AMD GPU target
	KeyLabel        = "label."            // label.<k>=<v> per host label (mpi=openmpi)
)

// Labels returns p's labels as NFD local-source lines, name=value, each
// name with Prefix; a node can run code built for every target named by a
// cpu.target.<t> label, so a nodeSelector may pick any fallback.
func Labels(p *profile.Profile) []string {
	lines := []string{
		Prefix + KeyCPUTarget + "=" + p.CPU.Microarchitecture,
		Prefix + KeyCPUVendor + "=" + Value(p.CPU.Vendor),
		Prefix + KeyArchitecture + "=" + p.Architecture,
	}
	if p.Variant != "" {
		lines = append(lines, Prefix+KeyVariant+"="+p.Variant)
	}
	if p.CPU.Level > 0 {
		lines = append(lines, fmt.Sprintf("%s%s=v%d", Prefix, KeyCPULevel, p.CPU.Level))
	}
	for _, t := range append([]string{p.CPU.Microarchitecture}, p.CPU.Ancestors...) {
		lines = append(lines, Prefix+KeyCPUTargetOf+t+"=true")
	}
	lines = append(lines, gpuLabels(p.GPUs)...)
	for _, k := range slices.Sorted(maps.Keys(p.Labels)) {
		lines = append(lines, Prefix+KeyLabel+Value(k)+"="+Value(p.Labels[k]))
	}
	return slices.Compact(lines)
}

// gpuLabels describe the best NVIDIA GPU (highest compute capability),
// how many there are, and each AMD GPU target.
func gpuLabels(gpus []profile.GPU) []string {
	var lines []string
	var best *profile.GPU
	n := 0
	for i, g := range gpus {
		if g.Vendor != profile.VendorNVIDIA {
			continue
		}
		n++
		if best == nil || profile.CompareVersions(g.ComputeCapability, best.ComputeCapability) > 0 {
			best = &gpus[i]
		}
	}
	if best != nil {
		lines = append(lines, Prefix+KeyNVIDIACC+"="+best.ComputeCapability, fmt.Sprintf("%s%s=%d", Prefix, KeyNVIDIACount, n))
		if best.CUDAVersion != "" {
			lines = append(lines, Prefix+KeyNVIDIACUDA+"="+best.CUDAVersion)
		}
		if best.Driver != "" {
			lines = append(lines, Prefix+KeyNVIDIADriver+"="+best.Driver)
		}
	}
	for _, g := range gpus {
		if g.Vendor == profile.VendorAMD {
			lines = append(lines, Prefix+KeyAMDGFX+g.GFX+"=true")
		}
	}
	return lines
}

// WriteFeatureFile writes p's labels as an NFD local feature file, one
// name=value a line.
func WriteFeatureFile(w io.Writer, p *profile.Profile) error {
	for _, l := range Labels(p) {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}

// Value makes s a valid Kubernetes label value: characters outside
// [A-Za-z0-9_.-] become '_', and it is cut to 63 characters.
func Value(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	if len(b) > 63 {
		b = b[:63]
	}
	return string(b)
}
