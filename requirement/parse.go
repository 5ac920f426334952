package requirement

import (
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/catalog"
)

// FromDescriptor reads the requirements of one index entry, from the first
// encoding present: dev.tailor.* annotations, MetaHub platform.features,
// a bare platform variant, or none (a generic build). The result is
// validated: an unknown target or a malformed CUDA arch is an error that
// names the entry's digest.
func FromDescriptor(d v1.Descriptor) (Requirements, error) {
	r, err := fromDescriptor(d)
	if err != nil {
		return Requirements{}, fmt.Errorf("index entry %s: %w", shortDigest(d), err)
	}
	if err := r.Validate(); err != nil {
		return Requirements{}, fmt.Errorf("index entry %s: %w", shortDigest(d), err)
	}
	if err := checkArchitecture(r, d.Platform); err != nil {
		return Requirements{}, fmt.Errorf("index entry %s: %w", shortDigest(d), err)
	}
	return r, nil
}

func fromDescriptor(d v1.Descriptor) (Requirements, error) {
	if hasTailorAnnotations(d.Annotations) {
		r, err := FromAnnotations(d.Annotations)
		if err != nil {
			return r, err
		}
		// A level variant with no target annotation still constrains the CPU.
		if r.Target == "" && d.Platform != nil && d.Platform.Variant != "" {
			if t, err := catalog.LevelTarget(d.Platform.Architecture, d.Platform.Variant); err == nil {
				r.Target = t.Name()
			}
		}
		return r, nil
	}
	if d.Platform != nil && len(d.Platform.Features) > 0 {
		if r, ok, err := fromFeatures(d.Platform.Features); ok || err != nil {
			if err == nil && r.Target == "" {
				r.Target = levelTargetName(d.Platform)
			}
			return r, err
		}
	}
	if name := levelTargetName(d.Platform); name != "" {
		return Requirements{Target: name, Source: SourceVariant}, nil
	}
	if d.Platform != nil && d.Platform.Variant != "" && isLevelArch(d.Platform.Architecture) {
		// The base level (amd64/v1, arm64/v8) is no requirement; only a
		// variant the catalog does not know is an error.
		if _, err := catalog.LevelTarget(d.Platform.Architecture, d.Platform.Variant); err != nil {
			return Requirements{}, fmt.Errorf("%w: platform variant: %w", ErrMalformed, err)
		}
	}
	return Requirements{Source: SourceNone}, nil
}

func isLevelArch(arch string) bool { return arch == "amd64" || arch == "arm64" }

// levelTargetName reads amd64/v2..v4 and arm64/v8.x/v9.x as a level target;
// the base level (amd64, arm64/v8) is no requirement at all.
func levelTargetName(p *v1.Platform) string {
	if p == nil || p.Variant == "" || !isLevelArch(p.Architecture) {
		return ""
	}
	t, err := catalog.LevelTarget(p.Architecture, p.Variant)
	if err != nil || len(t.Parents()) == 0 {
		return ""
	}
	return t.Name()
}

func hasTailorAnnotations(a map[string]string) bool {
	for k := range a {
		if strings.HasPrefix(k, AnnotationPrefix) && !isVerifiedKey(k) {
			return true
		}
	}
	return false
}

// FromAnnotations reads dev.tailor.* annotations. Unknown dev.tailor.* keys
// are an error: a publisher's typo must not turn a requirement into none.
func FromAnnotations(a map[string]string) (Requirements, error) {
	r := Requirements{Source: SourceAnnotations}
	for k, v := range a {
		if !strings.HasPrefix(k, AnnotationPrefix) {
			continue
		}
		var err error
		switch k {
		case AnnotationCPUTarget:
			r.Target = strings.TrimSpace(v)
		case AnnotationCPUFeatures:
			r.Features = splitList(v, ",")
		case AnnotationCUDAArch:
			r.CUDA, err = parseCUDAList(splitList(v, ","))
		case AnnotationCUDAVersion:
			r.CUDAVersion = strings.TrimSpace(v)
		case AnnotationROCmArch:
			r.ROCm = splitList(v, ",")
		case AnnotationRequires:
			r.Labels, err = parseLabels(splitList(v, ","))
		default:
			if strings.HasPrefix(k, "dev.tailor.cpu.") || strings.HasPrefix(k, "dev.tailor.cuda.") || strings.HasPrefix(k, "dev.tailor.rocm.") {
				err = fmt.Errorf("%w: unknown annotation %q", ErrMalformed, k)
			}
		}
		if err != nil {
			return Requirements{}, fmt.Errorf("annotation %s: %w", k, err)
		}
	}
	if t := strings.TrimSpace(a[AnnotationSelectedTarget]); r.Target == "" && t != "" && t != "generic" {
		r.Target = t
	}
	return r, nil
}

// fromFeatures reads MetaHub-style platform.features: cpu:TARGET and
// nvcap:X.Y (native code for compute capability X.Y). ok is false when no
// feature is one of those.
func fromFeatures(features []string) (Requirements, bool, error) {
	r := Requirements{Source: SourceFeatures}
	ok := false
	for _, f := range features {
		key, value, _ := strings.Cut(f, ":")
		switch key {
		case "cpu":
			ok = true
			if r.Target != "" {
				return r, true, fmt.Errorf("%w: platform.features names two CPU targets (%s, %s)", ErrMalformed, r.Target, value)
			}
			r.Target = value
		case "nvcap":
			ok = true
			major, minor, found := strings.Cut(value, ".")
			arch, err := ParseCUDAArch("sm_" + major + minor)
			if !found || err != nil {
				return r, true, fmt.Errorf("%w: platform feature %q: want nvcap:X.Y such as nvcap:5.2", ErrMalformed, f)
			}
			r.CUDA = append(r.CUDA, arch)
		}
	}
	return r, ok, nil
}

// ParseShort reads the short form the CLI takes:
// cpu=skylake_avx512,features=avx512vnni,cuda=sm_80+sm_90,cuda-version=12.4,
// rocm=gfx90a+gfx942,requires=mpi=openmpi+fabric=infiniband. "generic" or ""
// is a build with no requirement.
func ParseShort(s string) (Requirements, error) {
	r := Requirements{Source: SourceShort}
	s = strings.TrimSpace(s)
	if s == "" || s == "generic" {
		return r, nil
	}
	for _, field := range strings.Split(s, ",") {
		key, value, ok := strings.Cut(field, "=")
		if !ok || value == "" {
			return Requirements{}, fmt.Errorf("%w: %q: field %q is not key=value", ErrMalformed, s, field)
		}
		var err error
		switch key {
		case "cpu":
			r.Target = value
		case "features":
			r.Features = splitList(value, "+")
		case "cuda":
			r.CUDA, err = parseCUDAList(splitList(value, "+"))
		case "cuda-version":
			r.CUDAVersion = value
		case "rocm":
			r.ROCm = splitList(value, "+")
		case "requires":
			var labels map[string]string
			labels, err = parseLabels(splitList(value, "+"))
			if r.Labels == nil {
				r.Labels = map[string]string{}
			}
			for k, v := range labels {
				r.Labels[k] = v
			}
		default:
			err = fmt.Errorf("%w: unknown key %q (known: cpu, features, cuda, cuda-version, rocm, requires)", ErrMalformed, key)
		}
		if err != nil {
			return Requirements{}, fmt.Errorf("requirements %q: %w", s, err)
		}
	}
	if err := r.Validate(); err != nil {
		return Requirements{}, fmt.Errorf("requirements %q: %w", s, err)
	}
	return r, nil
}

func splitList(v, sep string) []string {
	var out []string
	for _, s := range strings.Split(v, sep) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func parseCUDAList(items []string) ([]CUDAArch, error) {
	if len(items) == 0 {
		return nil, nil
	}
	out := make([]CUDAArch, 0, len(items))
	for _, s := range items {
		a, err := ParseCUDAArch(s)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func parseLabels(items []string) (map[string]string, error) {
	out := make(map[string]string, len(items))
	for _, s := range items {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("%w: label requirement %q: want key=value", ErrMalformed, s)
		}
		out[k] = v
	}
	return out, nil
}

// checkArchitecture rejects a target of another family than the entry's
// platform (an arm64 entry claiming zen4).
func checkArchitecture(r Requirements, p *v1.Platform) error {
	if r.Target == "" || p == nil || p.Architecture == "" {
		return nil
	}
	t, err := catalog.Lookup(r.Target)
	if err != nil {
		return err
	}
	if t.Architecture() != p.Architecture {
		return fmt.Errorf("%w: target %s is %s, but the entry's platform is %s", ErrMalformed, t.Name(), t.Architecture(), p.Architecture)
	}
	return nil
}

// Platform returns the OCI platform an index entry with requirements r
// should carry, for an image of os/arch: variant only for a level-only
// entry (DESIGN.md §2), so stock clients never take a named-target build
// on a level they trust.
func (r Requirements) Platform(os, arch string) v1.Platform {
	p := v1.Platform{OS: os, Architecture: arch}
	if r.IsLevelOnly() {
		t := catalog.MustLookup(r.Target)
		if t.Architecture() == arch {
			p.Variant = t.Variant()
		}
	}
	return p
}

func shortDigest(d v1.Descriptor) string {
	s := d.Digest.String()
	if len(s) > 19 {
		return s[:19]
	}
	if s == "" || s == ":" {
		return "(no digest)"
	}
	return s
}
