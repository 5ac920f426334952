package publish

import (
	"context"
	"errors"
	"fmt"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/requirement"
	"sigs.k8s.io/yaml"
)

// ErrManifestFile is returned (wrapped) for a manifest.yml that cannot be read.
var ErrManifestFile = errors.New("invalid manifest file")

// MetaHub is a manifest-tool / MetaHub style manifest.yml:
//
//	image: registry/app:latest
//	manifests:
//	  - image: registry/app:cpu-skylake
//	    platform: {architecture: amd64, os: linux, features: [cpu:skylake, nvcap:5.2]}
type MetaHub struct {
	Image     string         `json:"image"`
	Tags      []string       `json:"tags,omitempty"`
	Manifests []MetaHubEntry `json:"manifests"`
}

// MetaHubEntry is one image of a MetaHub manifest.
type MetaHubEntry struct {
	Image    string          `json:"image"`
	Platform MetaHubPlatform `json:"platform"`
}

// MetaHubPlatform is the platform of a MetaHub entry, features included.
type MetaHubPlatform struct {
	Architecture string   `json:"architecture"`
	OS           string   `json:"os"`
	Variant      string   `json:"variant,omitempty"`
	OSVersion    string   `json:"os.version,omitempty"`
	Features     []string `json:"features,omitempty"`
}

// ReadMetaHub reads and parses the manifest.yml at path.
func ReadMetaHub(path string) (*MetaHub, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrManifestFile, err)
	}
	m, err := ParseMetaHub(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ParseMetaHub parses a MetaHub manifest: unknown fields are errors, every
// entry needs an image, and its platform features must be readable.
func ParseMetaHub(data []byte) (*MetaHub, error) {
	var m MetaHub
	if err := yaml.UnmarshalStrict(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrManifestFile, err)
	}
	if len(m.Manifests) == 0 {
		return nil, fmt.Errorf("%w: no manifests: listed", ErrManifestFile)
	}
	for i, e := range m.Manifests {
		if e.Image == "" {
			return nil, fmt.Errorf("%w: manifests[%d] has no image", ErrManifestFile, i)
		}
		if _, err := e.Requirements(); err != nil {
			return nil, fmt.Errorf("%w: manifests[%d] (%s): %w", ErrManifestFile, i, e.Image, err)
		}
	}
	return &m, nil
}

// Requirements reads the entry's platform (features cpu:TARGET, nvcap:X.Y,
// or a level variant) as requirements.
func (e MetaHubEntry) Requirements() (requirement.Requirements, error) {
	p := e.Platform
	d := v1.Descriptor{Platform: &v1.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, Features: p.Features}}
	return requirement.FromDescriptor(d)
}

// ImportMetaHub resolves every image of m into a source whose requirements
// are its platform's. An entry whose os/architecture disagrees with its
// image's config is an error.
func ImportMetaHub(ctx context.Context, m *MetaHub, opts ...Option) ([]Source, error) {
	out := make([]Source, 0, len(m.Manifests))
	for i, e := range m.Manifests {
		s, err := Resolve(ctx, e.Image, opts...)
		if err != nil {
			return nil, fmt.Errorf("manifests[%d]: %w", i, err)
		}
		got := s.Descriptor.Platform
		if (e.Platform.OS != "" && e.Platform.OS != got.OS) || (e.Platform.Architecture != "" && e.Platform.Architecture != got.Architecture) {
			return nil, fmt.Errorf("%w: manifests[%d] (%s) says %s/%s, its image config says %s/%s", ErrInvalidEntry, i, e.Image, e.Platform.OS, e.Platform.Architecture, got.OS, got.Architecture)
		}
		if s.Requirements, err = e.Requirements(); err != nil {
			return nil, fmt.Errorf("manifests[%d] (%s): %w", i, e.Image, err)
		}
		out = append(out, s)
	}
	return out, nil
}
