package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/tailor-dev/tailor/catalog"
)

// ErrInvalid is returned (wrapped) for a profile that cannot be used:
// malformed JSON or spec string, unknown target, impossible values.
var ErrInvalid = errors.New("invalid profile")

// Profile is what a host offers.
type Profile struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	// Variant is the OCI variant the host runs: the x86-64 level on amd64
	// (v1-v4), the Arm architecture version on arm64 (v8, v8.2, v9.0).
	Variant string `json:"variant,omitempty"`
	// Platform is os/architecture[/variant], as `tailor detect -o platform` prints it.
	Platform string            `json:"platform"`
	CPU      CPU               `json:"cpu"`
	GPUs     []GPU             `json:"gpus"`
	Labels   map[string]string `json:"labels,omitempty"`
}

// CPU is the host processor.
type CPU struct {
	Vendor string `json:"vendor"`
	Model  string `json:"model,omitempty"`
	// Microarchitecture is the catalog target that best describes the CPU.
	Microarchitecture string `json:"microarchitecture"`
	// Ancestors is the fallback chain: targets whose code runs here, most specific first.
	Ancestors []string `json:"ancestors"`
	// Level is the x86-64 level (1-4), 0 outside x86-64.
	Level int `json:"level,omitempty"`
	// Generation is the POWER generation (8, 9, 10), 0 elsewhere.
	Generation int `json:"generation,omitempty"`
	// Features are the CPU flags in Linux /proc/cpuinfo naming, sorted.
	Features []string `json:"features"`
	// Hypervisor is the hypervisor the CPU reports to the detecting
	// process (KVM, Hyper-V, QEMU (TCG), ...); empty on bare metal.
	Hypervisor string `json:"hypervisor,omitempty"`
	// CPUInfo is set when /proc/cpuinfo disagreed with what the CPU says to
	// the detecting process; the CPU won (DESIGN.md §5a).
	CPUInfo *CPUInfoDisagreement `json:"cpuinfo_disagrees,omitempty"`
}

// CPUInfoDisagreement is what /proc/cpuinfo said where it disagreed with
// the CPU (CPUID on x86-64, HWCAP on arm64): under qemu-user, in some
// sandboxes and VMs, behind lxcfs-style views.
type CPUInfoDisagreement struct {
	// Target is the target /proc/cpuinfo alone gives.
	Target string `json:"target,omitempty"`
	// Model is the model name /proc/cpuinfo gives, when it differs.
	Model string `json:"model,omitempty"`
	// Missing are flags /proc/cpuinfo lists that the process cannot use.
	Missing []string `json:"missing,omitempty"`
	// Extra are flags the process can use that /proc/cpuinfo does not list.
	Extra []string `json:"extra,omitempty"`
	// Unreadable says why /proc/cpuinfo could not be read at all.
	Unreadable string `json:"unreadable,omitempty"`
}

// GPU is one accelerator of the host.
type GPU struct {
	// Vendor is "nvidia" or "amd".
	Vendor string `json:"vendor"`
	Model  string `json:"model,omitempty"`
	// ComputeCapability is the NVIDIA compute capability, "major.minor" (9.0).
	ComputeCapability string `json:"compute_capability,omitempty"`
	// GFX is the AMD GPU target (gfx90a, gfx942).
	GFX string `json:"gfx,omitempty"`
	// Driver is the kernel driver version (NVIDIA 550.54.14).
	Driver string `json:"driver,omitempty"`
	// CUDAVersion is the highest CUDA version the driver supports (12.4).
	CUDAVersion string `json:"cuda_version,omitempty"`
}

// GPU vendors.
const (
	VendorNVIDIA = "nvidia"
	VendorAMD    = "amd"
)

// New builds the profile of a Linux host whose CPU is exactly the catalog
// target named target, with that target's features.
func New(target string) (*Profile, error) {
	t, err := catalog.Lookup(target)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	p := &Profile{OS: "linux", GPUs: []GPU{}}
	p.SetCPU(t, t.FeatureList())
	return p, nil
}

// SetCPU fills the CPU part and the platform of p from target t and the
// host's features (vendor, model and GPUs are left as they are, except that
// an empty vendor becomes the target's).
func (p *Profile) SetCPU(t *catalog.Target, features []string) {
	p.Architecture = t.Architecture()
	p.Variant = t.Variant()
	p.CPU.Microarchitecture = t.Name()
	p.CPU.Ancestors = t.Ancestors()
	p.CPU.Level = t.Level()
	p.CPU.Generation = t.Generation()
	if p.CPU.Vendor == "" {
		p.CPU.Vendor = t.Vendor()
	}
	fs := slices.Clone(features)
	sort.Strings(fs)
	p.CPU.Features = slices.Compact(fs)
	if p.OS == "" {
		p.OS = "linux"
	}
	p.Platform = p.OS + "/" + p.Architecture
	if p.Variant != "" {
		p.Platform += "/" + p.Variant
	}
}

// Target returns the catalog target of the host CPU.
func (p *Profile) Target() (*catalog.Target, error) {
	return catalog.Lookup(p.CPU.Microarchitecture)
}

// HasFeature reports whether the host CPU has feature f, honouring the
// catalog's feature aliases (sse4.1 = sse4_1; avx512 = any avx512 subset).
func (p *Profile) HasFeature(f string) bool {
	if slices.Contains(p.CPU.Features, f) {
		return true
	}
	alias, ok := catalog.LookupFeatureAlias(f)
	if !ok {
		return false
	}
	for _, a := range alias.AnyOf {
		if slices.Contains(p.CPU.Features, a) {
			return true
		}
	}
	if t, err := p.Target(); err == nil && slices.Contains(alias.Families, t.Family()) {
		return true
	}
	return false
}

// Validate checks that p is usable for matching: a known target whose
// architecture agrees with p's, well-formed GPUs.
func (p *Profile) Validate() error {
	if p.CPU.Microarchitecture == "" {
		return fmt.Errorf("%w: cpu.microarchitecture is empty", ErrInvalid)
	}
	t, err := p.Target()
	if err != nil {
		return fmt.Errorf("%w: cpu.microarchitecture: %w", ErrInvalid, err)
	}
	if p.Architecture != "" && p.Architecture != t.Architecture() {
		return fmt.Errorf("%w: architecture %q does not match target %s (%s)", ErrInvalid, p.Architecture, t.Name(), t.Architecture())
	}
	for i, g := range p.GPUs {
		if err := g.Validate(); err != nil {
			return fmt.Errorf("%w: gpus[%d]: %w", ErrInvalid, i, err)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(p.Labels)) {
		if err := CheckLabel(k, p.Labels[k]); err != nil {
			return fmt.Errorf("%w: labels: %w", ErrInvalid, err)
		}
	}
	return nil
}

// CheckLabel rejects a host label that a profile spec string
// (label.KEY=VALUE) and a requirement (requires=KEY=VALUE) could not
// carry: a key must be letters, digits and ._/- (starting with a letter or
// digit); a value must not hold a comma or a control character.
func CheckLabel(k, v string) error {
	switch {
	case !labelKey.MatchString(k):
		return fmt.Errorf("label key %.64q: want letters, digits and ._/- (no space, comma or '=')", k)
	case strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == ',' || r == 0x7f }):
		return fmt.Errorf("value %.64q of label %s holds a comma or control character", v, k)
	}
	return nil
}

// Normalize fills the derived fields of a profile read from JSON (platform,
// ancestors, level) from its target, keeping the features it lists.
func (p *Profile) Normalize() error {
	if err := p.Validate(); err != nil {
		return err
	}
	t, _ := p.Target()
	features := p.CPU.Features
	if features == nil {
		features = t.FeatureList()
	}
	p.SetCPU(t, features)
	if p.GPUs == nil {
		p.GPUs = []GPU{}
	}
	for i := range p.GPUs {
		g := &p.GPUs[i]
		if g.Vendor == VendorNVIDIA && g.CUDAVersion == "" && g.Driver != "" {
			g.CUDAVersion = CUDAForDriver(g.Driver)
		}
	}
	return nil
}

// ParseJSON reads a profile as `tailor detect -o json` writes it.
func ParseJSON(data []byte) (*Profile, error) {
	var p Profile
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: JSON: %w", ErrInvalid, err)
	}
	if err := p.Normalize(); err != nil {
		return nil, err
	}
	return &p, nil
}

// String is the profile's short spec form (cpu=zen3,gpu=8.0,...).
func (p *Profile) String() string {
	parts := []string{"cpu=" + p.CPU.Microarchitecture}
	var gpus []string
	driver := ""
	for _, g := range p.GPUs {
		switch {
		case g.ComputeCapability != "":
			gpus = append(gpus, g.ComputeCapability)
		case g.GFX != "":
			gpus = append(gpus, g.GFX)
		}
		if g.Driver != "" && driver == "" && g.Vendor == VendorNVIDIA {
			driver = g.Driver
		}
	}
	if len(gpus) > 0 {
		parts = append(parts, "gpu="+strings.Join(gpus, "+"))
	}
	if driver != "" {
		parts = append(parts, "driver="+driver)
	}
	for _, k := range slices.Sorted(maps.Keys(p.Labels)) {
		parts = append(parts, "label."+k+"="+p.Labels[k])
	}
	return strings.Join(parts, ",")
}
