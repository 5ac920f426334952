package profile

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteText writes p for people, as `tailor detect` prints it: the CPU
// target and its fallback chain, the platform, the x86-64 level, the
// hypervisor and how /proc/cpuinfo disagreed with the CPU, each GPU and
// the labels.
func (p *Profile) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	cpu := p.CPU.Microarchitecture + " (" + p.CPU.Vendor
	if p.CPU.Model != "" {
		cpu += ", " + p.CPU.Model
	}
	row("cpu:", cpu+")")
	row("fallback:", strings.Join(append([]string{p.CPU.Microarchitecture}, p.CPU.Ancestors...), " > "))
	row("platform:", p.Platform)
	if p.CPU.Level > 0 {
		row("level:", fmt.Sprintf("x86-64-v%d", p.CPU.Level))
	}
	if p.CPU.Hypervisor != "" {
		row("hypervisor:", p.CPU.Hypervisor)
	}
	if d := p.CPU.CPUInfo; d != nil {
		row("cpuinfo:", d.String())
	}
	if len(p.GPUs) == 0 {
		row("gpus:", "none")
	}
	for i, g := range p.GPUs {
		row(fmt.Sprintf("gpu %d:", i), g.String())
	}
	if len(p.Labels) > 0 {
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(p.Labels)) {
			kv = append(kv, k+"="+p.Labels[k])
		}
		row("labels:", strings.Join(kv, ", "))
	}
	return tw.Flush()
}

// String describes g in one line: "nvidia NVIDIA H100, compute capability
// 9.0, driver 550.54.15, CUDA <= 12.4"; parts that are unknown are left out.
func (g GPU) String() string {
	parts := []string{strings.TrimSpace(g.Vendor + " " + g.Model)}
	switch g.Vendor {
	case VendorNVIDIA:
		parts = append(parts, "compute capability "+g.ComputeCapability)
		if g.Driver != "" {
			parts = append(parts, "driver "+g.Driver)
		}
		if g.CUDAVersion != "" {
			parts = append(parts, "CUDA <= "+g.CUDAVersion)
		}
	case VendorAMD:
		parts = append(parts, g.GFX)
		if g.Driver != "" {
			parts = append(parts, "driver "+g.Driver)
		}
	}
	return strings.Join(parts, ", ")
}

// String says how /proc/cpuinfo disagreed with the CPU, which won.
func (d *CPUInfoDisagreement) String() string {
	if d.Unreadable != "" {
		return "unreadable (" + d.Unreadable + "); the CPU alone decided"
	}
	var parts []string
	if d.Target != "" {
		parts = append(parts, "says "+d.Target)
	}
	if d.Model != "" {
		parts = append(parts, fmt.Sprintf("model %q", d.Model))
	}
	if len(d.Missing) > 0 {
		parts = append(parts, fmt.Sprintf("lists %d flags this process cannot use (%s)", len(d.Missing), strings.Join(d.Missing, " ")))
	}
	if len(d.Extra) > 0 {
		parts = append(parts, fmt.Sprintf("omits %d the CPU has (%s)", len(d.Extra), strings.Join(d.Extra, " ")))
	}
	return "disagrees with the CPU, which wins: " + strings.Join(parts, "; ")
}
