package requirement

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tailor-dev/tailor/catalog"
)

// Annotation keys of a descriptor in an index (DESIGN.md §2).
const (
	AnnotationCPUTarget   = "dev.tailor.cpu.target"
	AnnotationCPUFeatures = "dev.tailor.cpu.features"
	AnnotationCUDAArch    = "dev.tailor.cuda.arch"
	AnnotationCUDAVersion = "dev.tailor.cuda.version"
	AnnotationROCmArch    = "dev.tailor.rocm.arch"
	AnnotationRequires    = "dev.tailor.requires"
	// AnnotationPrefix starts every tailor annotation.
	AnnotationPrefix = "dev.tailor."
)

// ErrMalformed is returned (wrapped) for requirements that cannot be read:
// an unknown target, a malformed CUDA arch, a bad label.
var ErrMalformed = errors.New("malformed requirements")

// Source tells which encoding requirements were read from.
type Source string

// Sources of requirements.
const (
	SourceNone        Source = "none"        // no requirement at all: a generic build
	SourceAnnotations Source = "annotations" // dev.tailor.* annotations
	SourceVariant     Source = "variant"     // platform.variant alone
	SourceFeatures    Source = "features"    // MetaHub platform.features
	SourceShort       Source = "short"       // the short form of the CLI
)

// Requirements is what one index entry needs from a host. The zero value
// needs nothing.
type Requirements struct {
	// Target is the catalog target the build was compiled for ("" = any).
	Target string `json:"target,omitempty"`
	// Features are CPU flags required beyond the target's.
	Features []string `json:"features,omitempty"`
	// CUDA is the CUDA code in the binary.
	CUDA []CUDAArch `json:"cuda,omitempty"`
	// CUDAVersion is the CUDA toolkit used; it implies a driver floor.
	CUDAVersion string `json:"cuda_version,omitempty"`
	// ROCm are the AMD gfx targets the binary carries code for.
	ROCm []string `json:"rocm,omitempty"`
	// Labels are host labels required (mpi=openmpi).
	Labels map[string]string `json:"labels,omitempty"`
	// Source is where these requirements were read from.
	Source Source `json:"source"`
}

// IsGeneric reports whether r needs nothing beyond os/architecture.
func (r Requirements) IsGeneric() bool {
	return r.Target == "" && len(r.Features) == 0 && len(r.CUDA) == 0 &&
		r.CUDAVersion == "" && len(r.ROCm) == 0 && len(r.Labels) == 0
}

// IsLevelOnly reports whether r needs only a generic level target
// (x86_64_v3, armv8.2a): the one case where the OCI variant may say it all.
func (r Requirements) IsLevelOnly() bool {
	rest := r
	rest.Target = ""
	if r.Target == "" || !rest.IsGeneric() {
		return false
	}
	t, err := catalog.Lookup(r.Target)
	return err == nil && t.Generic() && t.Variant() != ""
}

// Validate checks the target, features, CUDA and ROCm values and labels.
func (r Requirements) Validate() error {
	if r.Target != "" {
		if _, err := catalog.Lookup(r.Target); err != nil {
			return fmt.Errorf("%w: %w", ErrMalformed, err)
		}
	}
	for _, f := range r.Features {
		if !validToken(f) {
			return fmt.Errorf("%w: CPU feature %q", ErrMalformed, f)
		}
	}
	for _, g := range r.ROCm {
		if !gfxPattern.MatchString(g) {
			return fmt.Errorf("%w: ROCm arch %q: want gfx followed by digits, such as gfx90a", ErrMalformed, g)
		}
	}
	if r.CUDAVersion != "" && !versionPattern.MatchString(r.CUDAVersion) {
		return fmt.Errorf("%w: CUDA version %q: want major.minor such as 12.4", ErrMalformed, r.CUDAVersion)
	}
	for k, v := range r.Labels {
		if !validToken(k) || v == "" || strings.ContainsAny(v, ",=") {
			return fmt.Errorf("%w: label %q=%q", ErrMalformed, k, v)
		}
	}
	return nil
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-/:", c)) {
			return false
		}
	}
	return true
}

// Annotations encodes r as dev.tailor.* annotations (empty for a generic build).
func (r Requirements) Annotations() map[string]string {
	a := map[string]string{}
	if r.Target != "" {
		a[AnnotationCPUTarget] = r.Target
	}
	if len(r.Features) > 0 {
		a[AnnotationCPUFeatures] = strings.Join(r.Features, ",")
	}
	if len(r.CUDA) > 0 {
		a[AnnotationCUDAArch] = joinCUDA(r.CUDA, ",")
	}
	if r.CUDAVersion != "" {
		a[AnnotationCUDAVersion] = r.CUDAVersion
	}
	if len(r.ROCm) > 0 {
		a[AnnotationROCmArch] = strings.Join(r.ROCm, ",")
	}
	if len(r.Labels) > 0 {
		a[AnnotationRequires] = joinLabels(r.Labels, ",")
	}
	return a
}

// String is the short form: cpu=skylake_avx512,cuda=sm_80+sm_90,requires=mpi=openmpi.
// A generic build is "generic".
func (r Requirements) String() string {
	var parts []string
	if r.Target != "" {
		parts = append(parts, "cpu="+r.Target)
	}
	if len(r.Features) > 0 {
		parts = append(parts, "features="+strings.Join(r.Features, "+"))
	}
	if len(r.CUDA) > 0 {
		parts = append(parts, "cuda="+joinCUDA(r.CUDA, "+"))
	}
	if r.CUDAVersion != "" {
		parts = append(parts, "cuda-version="+r.CUDAVersion)
	}
	if len(r.ROCm) > 0 {
		parts = append(parts, "rocm="+strings.Join(r.ROCm, "+"))
	}
	if len(r.Labels) > 0 {
		parts = append(parts, "requires="+joinLabels(r.Labels, "+"))
	}
	if len(parts) == 0 {
		return "generic"
	}
	return strings.Join(parts, ",")
}

func joinCUDA(archs []CUDAArch, sep string) string {
	s := make([]string, len(archs))
	for i, a := range archs {
		s[i] = a.String()
	}
	return strings.Join(s, sep)
}

func joinLabels(labels map[string]string, sep string) string {
	var s []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		s = append(s, k+"="+labels[k])
	}
	return strings.Join(s, sep)
}
