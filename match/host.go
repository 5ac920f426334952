package match

import (
	"errors"
	"fmt"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"iter"
	"strings"

	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/profile"
)

// errNilProfile is returned when Match is given no profile.
var errNilProfile = errors.New("match: no host profile (nil)")

// host holds what one Match call needs to know about the host, computed
// once: its platform, its target's lineage as a set, its features as a set,
// its GPUs parsed, and memos of per-target and per-feature verdicts, so an
// index of thousands of entries costs map lookups per entry.
type host struct {
	p        *profile.Profile
	os, arch string
	target   *catalog.Target
	vendors  []string
	lineage  map[string]bool
	features map[string]bool
	nvidia   []nvidiaGPU
	amd      []string

	plat string // os/arch[/variant], for messages

	featMemo map[string]bool
	cpuMemo  map[string]Check
}

type nvidiaGPU struct {
	major, minor int
	driver, cuda string
}

// newHost validates p and precomputes its facts.
func newHost(p *profile.Profile) (*host, error) {
	if p == nil {
		return nil, errNilProfile
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("match: host profile: %w", err)
	}
	t, _ := p.Target() // Validate checked it
	h := &host{
		p:        p,
		os:       normalizeOS(p.OS),
		arch:     t.Architecture(),
		target:   t,
		lineage:  make(map[string]bool, len(t.Ancestors())+1),
		features: make(map[string]bool, len(p.CPU.Features)),
		featMemo: map[string]bool{},
		cpuMemo:  map[string]Check{},
	}
	if h.os == "" {
		h.os = "linux"
	}
	h.plat = h.os + "/" + h.arch
	if v := t.Variant(); v != "" && v != "v8" {
		h.plat += "/" + v
	}
	for _, n := range t.Lineage() {
		h.lineage[n] = true
	}
	for _, f := range p.CPU.Features {
		h.features[f] = true
	}
	h.vendors = []string{t.Vendor()}
	if v := p.CPU.Vendor; v != "" && v != t.Vendor() {
		h.vendors = append(h.vendors, v)
	}
	for _, g := range p.GPUs {
		switch g.Vendor {
		case profile.VendorNVIDIA:
			major, minor, _ := g.Capability()
			h.nvidia = append(h.nvidia, nvidiaGPU{major: major, minor: minor, driver: g.Driver, cuda: g.CUDAVersion})
		case profile.VendorAMD:
			h.amd = append(h.amd, g.GFX)
		}
	}
	return h, nil
}

// platform is the host's os/arch[/variant], for messages.
func (h *host) platform() string { return h.plat }

// hasFeature is profile.HasFeature on the precomputed set, memoised.
func (h *host) hasFeature(f string) bool {
	if h.features[f] {
		return true
	}
	if v, ok := h.featMemo[f]; ok {
		return v
	}
	v := h.p.HasFeature(f)
	h.featMemo[f] = v
	return v
}

// missing returns the features of fs the host lacks.
func (h *host) missing(fs iter.Seq[string]) []string {
	var out []string
	for f := range fs {
		if !h.hasFeature(f) {
			out = append(out, f)
		}
	}
	return out
}

// vendorFits reports whether a target of vendor v can run here by vendor.
func (h *host) vendorFits(v string) bool {
	if v == catalog.GenericVendor {
		return true
	}
	for _, hv := range h.vendors {
		if strings.EqualFold(v, hv) {
			return true
		}
	}
	return false
}

// PlatformKey is the normalised os/arch of a platform ("linux/amd64"),
// the key under which entries of one architecture are compared; a nil
// platform is "unknown/unknown".
func PlatformKey(p *v1.Platform) string {
	if p == nil {
		return "unknown/unknown"
	}
	return normalizeOS(p.OS) + "/" + normalizeArch(p.Architecture)
}

// normalizeArch maps architecture spellings to OCI's, as containerd's
// platforms database does: x86_64 and x86-64 are amd64, aarch64 is arm64.
func normalizeArch(arch string) string {
	arch = strings.ToLower(arch)
	switch arch {
	case "x86_64", "x86-64":
		return "amd64"
	case "aarch64":
		return "arm64"
	case "i386", "i686":
		return "386"
	case "armhf", "armel":
		return "arm"
	}
	return arch
}

// normalizeVariant drops the variants that mean the base level: amd64/v1,
// arm64/v8.
func normalizeVariant(arch, variant string) string {
	variant = strings.ToLower(variant)
	switch {
	case arch == "amd64" && variant == "v1":
		return ""
	case arch == "arm64" && (variant == "8" || variant == "v8" || variant == "v8.0"):
		return ""
	}
	return variant
}

func normalizeOS(os string) string {
	os = strings.ToLower(os)
	if os == "macos" {
		return "darwin"
	}
	return os
}
