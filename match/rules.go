package match

import (
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/requirement"
)

// Requirement names used in Check.Requirement.
const (
	CheckPlatform     = "platform"     // os/architecture/variant
	CheckRequirements = "requirements" // the entry's requirements could not be read (Lenient)
	CheckCPU          = "cpu"          // dev.tailor.cpu.target (or a level variant)
	CheckFeatures     = "features"     // dev.tailor.cpu.features
	CheckCUDA         = "cuda"         // dev.tailor.cuda.arch
	CheckCUDADriver   = "cuda-driver"  // dev.tailor.cuda.version
	CheckROCm         = "rocm"         // dev.tailor.rocm.arch
	CheckLabel        = "label"        // dev.tailor.requires
)

// Annotation buildx and docker put on attestation manifests of an index.
const (
	annotationReferenceType = "vnd.docker.reference.type"
	attestationManifest     = "attestation-manifest"
)

// checkPlatform checks the entry's os/architecture/variant. runnable is
// false for entries that are no image for any host (no platform, an
// attestation): their requirements are not read.
func (h *host) checkPlatform(d v1.Descriptor) (c Check, runnable bool) {
	c = Check{Requirement: CheckPlatform}
	if d.Annotations[annotationReferenceType] == attestationManifest {
		c.Detail = "an attestation manifest (" + annotationReferenceType + "=" + attestationManifest + "), not an image to run"
		return c, false
	}
	if d.Platform == nil {
		c.Detail = "no platform: a nested index or an artifact, not an image for a host"
		if d.MediaType.IsIndex() {
			c.Detail = "no platform: a nested index, not an image for a host"
		}
		return c, false
	}
	os, arch := normalizeOS(d.Platform.OS), normalizeArch(d.Platform.Architecture)
	if os == "unknown" || arch == "unknown" {
		c.Detail = "platform unknown/unknown: an attestation or other artifact (as buildx writes), not an image to run"
		return c, false
	}
	if os == "" || arch == "" {
		c.Detail = fmt.Sprintf("platform %q has no os or architecture", d.Platform.OS+"/"+d.Platform.Architecture)
		return c, false
	}
	c.OK, c.Detail = h.platformFits(os, arch, normalizeVariant(arch, d.Platform.Variant))
	return c, true
}

// platformFits compares a normalised platform with the host's. It reads
// only immutable host facts, so comparers may call it concurrently.
func (h *host) platformFits(os, arch, variant string) (bool, string) {
	p := os + "/" + arch
	if variant != "" {
		p += "/" + variant
	}
	if os != h.os || arch != h.arch {
		return false, fmt.Sprintf("platform %s does not fit host %s", p, h.platform())
	}
	if variant == "" {
		return true, fmt.Sprintf("platform %s fits host %s", p, h.platform())
	}
	if arch != "amd64" && arch != "arm64" {
		if variant == h.target.Variant() {
			return true, fmt.Sprintf("platform %s fits host %s", p, h.platform())
		}
		return false, fmt.Sprintf("variant %s of platform %s is not the host's (%s)", variant, p, h.platform())
	}
	lt, err := catalog.LevelTarget(arch, variant)
	if err != nil {
		return false, fmt.Sprintf("platform %s: unknown variant %q", p, variant)
	}
	if !h.lineage[lt.Name()] {
		return false, fmt.Sprintf("platform %s needs level %s, host %s (target %s) is below it", p, lt.Name(), h.platform(), h.target.Name())
	}
	return true, fmt.Sprintf("platform %s fits host %s (level %s is in target %s's lineage)", p, h.platform(), lt.Name(), h.target.Name())
}

// checkCPU checks a target requirement, memoised per target name.
func (h *host) checkCPU(name string) Check {
	if c, ok := h.cpuMemo[name]; ok {
		return c
	}
	c := h.cpuVerdict(name)
	h.cpuMemo[name] = c
	return c
}

func (h *host) cpuVerdict(name string) Check {
	c := Check{Requirement: CheckCPU}
	ht := h.target
	t, err := catalog.Lookup(name)
	switch {
	case err != nil:
		c.Detail = err.Error()
	case name == ht.Name():
		c.OK, c.Detail = true, fmt.Sprintf("target %s is the host's target", name)
	case h.lineage[name]:
		c.OK, c.Detail = true, fmt.Sprintf("target %s is an ancestor of host target %s", name, ht.Name())
	case t.Family() != ht.Family():
		c.Detail = fmt.Sprintf("target %s is %s, host target %s is %s", name, t.Family(), ht.Name(), ht.Family())
	case !h.vendorFits(t.Vendor()):
		c.Detail = fmt.Sprintf("target %s (%s) is not an ancestor of host target %s and its vendor differs", name, t.Vendor(), ht.Name())
	default:
		if miss := h.missing(t.Features()); len(miss) > 0 {
			c.Detail = fmt.Sprintf("target %s is not an ancestor of host target %s and needs %s", name, ht.Name(), lacks(miss))
			break
		}
		c.OK = true
		c.Detail = fmt.Sprintf("target %s is a sibling of host target %s: vendor %s fits and the host has all its features", name, ht.Name(), t.Vendor())
	}
	return c
}

// checkFeatures checks the extra CPU features of an entry.
func (h *host) checkFeatures(fs []string) Check {
	c := Check{Requirement: CheckFeatures}
	if miss := h.missing(slices.Values(fs)); len(miss) > 0 {
		c.Detail = "needs " + lacks(miss)
		return c
	}
	c.OK, c.Detail = true, "host has "+strings.Join(fs, ", ")
	return c
}

// lacks says "avx512f, host lacks it" or "a, b, host lacks them".
func lacks(miss []string) string {
	if len(miss) == 1 {
		return miss[0] + ", host lacks it"
	}
	return strings.Join(miss, ", ") + ", host lacks them"
}

// checkLabels checks each required label, in key order.
func (h *host) checkLabels(r requirement.Requirements) []Check {
	if len(r.Labels) == 0 {
		return nil
	}
	out := make([]Check, 0, len(r.Labels))
	for _, k := range sortedKeys(r.Labels) {
		want := r.Labels[k]
		c := Check{Requirement: CheckLabel}
		got, ok := h.p.Labels[k]
		switch {
		case !ok:
			c.Detail = fmt.Sprintf("needs label %s=%s, host has no label %s", k, want, k)
		case got != want:
			c.Detail = fmt.Sprintf("needs label %s=%s, host has %s=%s", k, want, k, got)
		default:
			c.OK, c.Detail = true, fmt.Sprintf("host has label %s=%s", k, want)
		}
		out = append(out, c)
	}
	return out
}

// checkROCm checks that some AMD GPU's gfx target is in the list.
func (h *host) checkROCm(archs []string) (Check, gpuScore) {
	c := Check{Requirement: CheckROCm}
	if len(h.amd) == 0 {
		c.Detail = fmt.Sprintf("needs an AMD GPU (%s), host has none", strings.Join(archs, ", "))
		return c, gpuScore{}
	}
	for _, g := range h.amd {
		for _, a := range archs {
			if strings.EqualFold(a, g) {
				c.OK, c.Detail = true, fmt.Sprintf("%s runs on host GPU %s", a, g)
				return c, gpuScore{runs: true, native: true}
			}
		}
	}
	c.Detail = fmt.Sprintf("needs one of %s, host GPU is %s", strings.Join(archs, ", "), strings.Join(h.amd, ", "))
	return c, gpuScore{}
}
