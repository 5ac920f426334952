// Package resolvetest builds and pushes the test indexes of tailor's
// resolve, CLI and benchmark tests: one tag holding several variants of an
// image (generic, x86-64-v3, skylake_avx512, zen4, arm64, CUDA sm_90),
// each a tiny Docker schema 2 image whose only file names its variant, as
// an OCI index (Push) or a Docker manifest list (PushList).
package resolvetest

import (
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/requirement"
)

// Variant is one entry of a test index.
type Variant struct {
	// Name identifies the variant in tests ("zen4").
	Name string
	// Arch is the image's architecture (amd64, arm64).
	Arch string
	// Reqs are its requirements, written as dev.tailor.* annotations.
	Reqs requirement.Requirements
	// Annotations, when set, replace the annotations from Reqs (to write
	// malformed ones).
	Annotations map[string]string
}

// Variants is the standard test index, generic entry first.
var Variants = []Variant{
	{Name: "generic", Arch: "amd64"},
	{Name: "x86_64_v3", Arch: "amd64", Reqs: requirement.Requirements{Target: "x86_64_v3"}},
	{Name: "skylake_avx512", Arch: "amd64", Reqs: requirement.Requirements{Target: "skylake_avx512"}},
	{Name: "zen4", Arch: "amd64", Reqs: requirement.Requirements{Target: "zen4"}},
	{Name: "arm64", Arch: "arm64"},
	{Name: "cuda_sm90", Arch: "amd64", Reqs: requirement.Requirements{
		CUDA: []requirement.CUDAArch{{Major: 9, Minor: 0}}, CUDAVersion: "12.4"}},
}

// PlainVariants is an index as stock tools write it, with no tailor
// annotations: the x86-64 levels in the platform's variant only.
var PlainVariants = []Variant{
	{Name: "generic", Arch: "amd64"},
	{Name: "v2", Arch: "amd64", Reqs: requirement.Requirements{Target: "x86_64_v2"}, Annotations: map[string]string{}},
	{Name: "v3", Arch: "amd64", Reqs: requirement.Requirements{Target: "x86_64_v3"}, Annotations: map[string]string{}},
	{Name: "v4", Arch: "amd64", Reqs: requirement.Requirements{Target: "x86_64_v4"}, Annotations: map[string]string{}},
	{Name: "arm64", Arch: "arm64"},
}

// Pushed is what Push wrote.
type Pushed struct {
	// Index is the index's digest.
	Index v1.Hash
	// Digests maps each variant's Name to its image's digest.
	Digests map[string]v1.Hash
}

// Image returns the tiny image of variant v.
func Image(v Variant) (v1.Image, error) {
	img, err := registrytest.NewImage(v1.Platform{OS: "linux", Architecture: v.Arch}, map[string]string{"variant": v.Name})
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", v.Name, err)
	}
	return img, nil
}

// Index builds an OCI index of variants, in order, with their platforms
// (requirement.Requirements.Platform) and annotations.
func Index(variants []Variant) (v1.ImageIndex, map[string]v1.Hash, error) {
	return index(variants, types.OCIImageIndex)
}

// List is Index as a Docker manifest list
// (application/vnd.docker.distribution.manifest.list.v2+json), the
// descriptors carrying the same platforms and annotations.
func List(variants []Variant) (v1.ImageIndex, map[string]v1.Hash, error) {
	return index(variants, types.DockerManifestList)
}

func index(variants []Variant, mt types.MediaType) (v1.ImageIndex, map[string]v1.Hash, error) {
	idx := mutate.IndexMediaType(empty.Index, mt)
	digests := map[string]v1.Hash{}
	for _, v := range variants {
		img, err := Image(v)
		if err != nil {
			return nil, nil, err
		}
		p := v.Reqs.Platform("linux", v.Arch)
		ann := v.Reqs.Annotations()
		if v.Annotations != nil {
			ann = v.Annotations
		}
		if len(ann) == 0 {
			ann = nil
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p, Annotations: ann}})
		if digests[v.Name], err = img.Digest(); err != nil {
			return nil, nil, err
		}
	}
	return idx, digests, nil
}

// Push writes an OCI index of variants to ref (host/repo:tag).
func Push(ref string, variants []Variant, opts ...remote.Option) (*Pushed, error) {
	return push(ref, variants, Index, opts)
}

// PushList writes a Docker manifest list of variants to ref.
func PushList(ref string, variants []Variant, opts ...remote.Option) (*Pushed, error) {
	return push(ref, variants, List, opts)
}

func push(ref string, variants []Variant, build func([]Variant) (v1.ImageIndex, map[string]v1.Hash, error), opts []remote.Option) (*Pushed, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	idx, digests, err := build(variants)
	if err != nil {
		return nil, err
	}
	if err := remote.WriteIndex(r, idx, opts...); err != nil {
		return nil, fmt.Errorf("push %s: %w", ref, err)
	}
	d, err := idx.Digest()
	if err != nil {
		return nil, err
	}
	return &Pushed{Index: d, Digests: digests}, nil
}
