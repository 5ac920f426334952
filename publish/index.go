package publish

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/requirement"
)

// ErrIndistinguishable is returned (wrapped) when two entries of an index
// have the same platform and the same requirements: no host could tell
// them apart.
var ErrIndistinguishable = errors.New("entries no host could tell apart")

// ErrInvalidEntry is returned (wrapped) for an entry that cannot go into an
// index: not an image manifest, no platform, a target of another
// architecture than the image.
var ErrInvalidEntry = errors.New("invalid index entry")

// Entry is one image of an index to build.
type Entry struct {
	// Name says where the entry came from (an image reference, a tag), for messages.
	Name string
	// Descriptor is the image manifest's descriptor: media type, size and
	// digest. Its Platform gives os, architecture and os.version (read from
	// the image config); variant and features are recomputed from
	// Requirements. Annotations outside dev.tailor.* are kept.
	Descriptor v1.Descriptor
	// Requirements are what the image needs from a host.
	Requirements requirement.Requirements
}

func (e Entry) label() string {
	if e.Name != "" {
		return fmt.Sprintf("%q", e.Name)
	}
	return e.Descriptor.Digest.String()
}

// Index is a built index: its manifest and the exact bytes pushed.
type Index struct {
	Manifest v1.IndexManifest
	raw      []byte
}

// IndexOption configures NewIndex.
type IndexOption func(*v1.IndexManifest)

// WithAnnotations sets the index's own annotations.
func WithAnnotations(a map[string]string) IndexOption {
	return func(m *v1.IndexManifest) {
		if len(a) > 0 {
			m.Annotations = maps.Clone(a)
		}
	}
}

// NewIndex builds an OCI index of entries: the generic entries first, then
// the others, each group in the given order. Each entry's platform is
// os/architecture, with a variant only for a level-only entry, and its
// requirements become dev.tailor.* annotations. Two entries of the same
// platform with equal requirements are an error naming both. The bytes are
// deterministic: the same entries give the same digest.
func NewIndex(entries []Entry, opts ...IndexOption) (*Index, error) {
	if len(entries) == 0 {
		return nil, fmt.Errorf("%w: an index needs at least one entry", ErrInvalidEntry)
	}
	entries = slices.Clone(entries)
	descs := make([]v1.Descriptor, len(entries))
	generic := make([]bool, len(entries))
	for i, e := range entries {
		d, r, err := describe(e)
		if err != nil {
			return nil, err
		}
		descs[i], generic[i] = d, r.IsGeneric()
		entries[i].Requirements = r
	}
	if err := checkDistinct(entries, descs); err != nil {
		return nil, err
	}
	m := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	for _, group := range []func(i int) bool{
		func(i int) bool { return generic[i] && !isPassthrough(descs[i]) },
		func(i int) bool { return !generic[i] && !isPassthrough(descs[i]) },
		func(i int) bool { return isPassthrough(descs[i]) },
	} {
		for i, d := range descs {
			if group(i) {
				m.Manifests = append(m.Manifests, d)
			}
		}
	}
	for _, o := range opts {
		o(&m)
	}
	if err := checkNotTailored(&m); err != nil {
		return nil, err
	}
	raw, err := encode(m)
	if err != nil {
		return nil, err
	}
	return &Index{Manifest: m, raw: raw}, nil
}

// describe computes the descriptor of e in the index and its canonical requirements.
func describe(e Entry) (v1.Descriptor, requirement.Requirements, error) {
	src := e.Descriptor
	if isPassthrough(src) {
		return src, requirement.Requirements{}, nil
	}
	if !isImageManifest(src.MediaType) {
		return v1.Descriptor{}, requirement.Requirements{}, fmt.Errorf("%w: %s is a %s, want an image manifest", ErrInvalidEntry, e.label(), src.MediaType)
	}
	if src.Platform == nil || src.Platform.OS == "" || src.Platform.Architecture == "" {
		return v1.Descriptor{}, requirement.Requirements{}, fmt.Errorf("%w: %s has no os/architecture in its config", ErrInvalidEntry, e.label())
	}
	r, err := canonical(e.Requirements, src.Platform.Architecture)
	if err != nil {
		return v1.Descriptor{}, requirement.Requirements{}, fmt.Errorf("%w: %s: %w", ErrInvalidEntry, e.label(), err)
	}
	p := r.Platform(src.Platform.OS, src.Platform.Architecture)
	p.OSVersion, p.OSFeatures = src.Platform.OSVersion, slices.Clone(src.Platform.OSFeatures)
	d := v1.Descriptor{MediaType: src.MediaType, Size: src.Size, Digest: src.Digest, Platform: &p}
	ann := map[string]string{}
	for k, v := range src.Annotations {
		if !strings.HasPrefix(k, requirement.AnnotationPrefix) {
			ann[k] = v
		}
	}
	maps.Copy(ann, r.Annotations())
	if len(ann) > 0 {
		d.Annotations = ann
	}
	// What is written must read back as what was meant.
	back, err := requirement.FromDescriptor(d)
	if err != nil {
		return v1.Descriptor{}, requirement.Requirements{}, fmt.Errorf("%w: %s: %w", ErrInvalidEntry, e.label(), err)
	}
	if key(back) != key(r) {
		return v1.Descriptor{}, requirement.Requirements{}, fmt.Errorf("%w: %s: requirements %s read back as %s", ErrInvalidEntry, e.label(), r, back)
	}
	return d, r, nil
}

// Metadata returns the platform and the dev.tailor.* annotations NewIndex
// gives an entry of an os/arch image with requirements r: what another
// builder (a buildx bake file) should write for its index to agree with
// tailor's. A family root target (x86_64, aarch64) is no requirement, and
// a level-only entry carries its level in the platform's variant.
func Metadata(r requirement.Requirements, os, arch string) (v1.Platform, map[string]string, error) {
	c, err := canonical(r, arch)
	if err != nil {
		return v1.Platform{}, nil, fmt.Errorf("%w: %s/%s %s: %w", ErrInvalidEntry, os, arch, r, err)
	}
	return c.Platform(os, arch), c.Annotations(), nil
}

// canonical validates r for an image of arch and puts it in one spelling:
// lists sorted and deduplicated, the family root target (x86_64, aarch64)
// dropped since it is no requirement.
func canonical(r requirement.Requirements, arch string) (requirement.Requirements, error) {
	if err := r.Validate(); err != nil {
		return r, err
	}
	r.Features = sortedUnique(r.Features)
	r.ROCm = sortedUnique(r.ROCm)
	if len(r.CUDA) > 0 {
		r.CUDA = slices.Clone(r.CUDA)
		slices.SortFunc(r.CUDA, func(a, b requirement.CUDAArch) int { return strings.Compare(a.String(), b.String()) })
		r.CUDA = slices.CompactFunc(r.CUDA, func(a, b requirement.CUDAArch) bool { return a == b })
	}
	if r.Target == "" {
		return r, nil
	}
	t, err := catalog.Lookup(r.Target)
	if err != nil {
		return r, err
	}
	if t.Architecture() != arch {
		return r, fmt.Errorf("target %s is for %s, but the image is %s", t.Name(), t.Architecture(), arch)
	}
	if len(t.Parents()) == 0 {
		r.Target = ""
	}
	return r, nil
}

func sortedUnique(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// key identifies requirements for the distinguishability check.
func key(r requirement.Requirements) string {
	r.Source = ""
	return r.String()
}

func checkDistinct(entries []Entry, descs []v1.Descriptor) error {
	seen := map[string]int{}
	for i, d := range descs {
		if isPassthrough(d) {
			continue
		}
		k := d.Platform.OS + "/" + d.Platform.Architecture + "/" + d.Platform.OSVersion + " " + key(entries[i].Requirements)
		if j, ok := seen[k]; ok {
			return fmt.Errorf("%w: %s and %s are both %s/%s with requirements %s; give one of them a requirement the other lacks",
				ErrIndistinguishable, entries[j].label(), entries[i].label(), d.Platform.OS, d.Platform.Architecture, entries[i].Requirements)
		}
		seen[k] = i
	}
	return nil
}

// isPassthrough reports whether d is no runnable image but something an
// index carries along (buildx attestations: platform unknown/unknown).
// It is kept as it is, after the images.
func isPassthrough(d v1.Descriptor) bool {
	return d.Platform != nil && d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown"
}

func isImageManifest(mt types.MediaType) bool {
	return mt == types.OCIManifestSchema1 || mt == types.DockerManifestSchema2
}

// encode writes m as indented JSON ending in a newline: readable when
// printed, and the exact bytes that are pushed.
func encode(m v1.IndexManifest) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encoding index: %w", err)
	}
	return buf.Bytes(), nil
}

// RawManifest returns the index bytes, as pushed.
func (x *Index) RawManifest() ([]byte, error) { return slices.Clone(x.raw), nil }

// MediaType is the OCI image index media type.
func (x *Index) MediaType() (types.MediaType, error) { return types.OCIImageIndex, nil }

// Digest is the sha256 of the index bytes.
func (x *Index) Digest() v1.Hash {
	h, _, _ := v1.SHA256(bytes.NewReader(x.raw))
	return h
}
