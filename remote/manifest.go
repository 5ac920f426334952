package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Manifest is one manifest as the registry (or the OCI layout) served it.
type Manifest struct {
	// Source is the reference it was fetched by, as given: a registry
	// reference or an OCI layout reference (oci:DIR[:TAG]).
	Source string
	// Ref is the registry reference it was fetched by; nil when it was read
	// from an OCI layout.
	Ref name.Reference
	// Raw is the manifest's bytes, exactly as served.
	Raw []byte
	// MediaType is the manifest's type, from the response (or, for a
	// registry that labels it generically, from the manifest's mediaType).
	MediaType types.MediaType
	// Digest is the sha256 of Raw.
	Digest v1.Hash

	// from is where the manifest came from: its images and blobs are
	// read there.
	from origin
}

// origin is a place manifests come from: a registry repository or an OCI
// layout.
type origin interface {
	// name spells the reference the manifest was fetched by.
	name() string
	// image is the image with manifest digest h.
	image(ctx context.Context, h v1.Hash) (v1.Image, error)
	// blob opens the blob with digest h.
	blob(ctx context.Context, h v1.Hash) (io.ReadCloser, error)
}

// newManifestFrom checks that raw, of type mt, is a manifest tailor reads.
func newManifestFrom(o origin, raw []byte, mt types.MediaType, h v1.Hash) (*Manifest, error) {
	ref := o.name()
	m := &Manifest{Source: ref, Raw: raw, MediaType: mt, Digest: h, from: o}
	if r, ok := o.(*registryOrigin); ok {
		m.Ref = r.ref
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(m.Raw, &obj); err != nil {
		return nil, fmt.Errorf("%w: %s: manifest is not JSON (%d bytes, %s): %w", ErrBadManifest, ref, len(m.Raw), mt, err)
	}
	m.MediaType = MediaTypeOf(raw, string(mt))
	switch {
	case m.MediaType == types.DockerManifestSchema1 || m.MediaType == types.DockerManifestSchema1Signed:
		return nil, fmt.Errorf("%w: %s: Docker schema 1 manifests are not supported", ErrBadManifest, ref)
	case !known(m.MediaType):
		return nil, fmt.Errorf("%w: %s: unknown manifest type %q", ErrBadManifest, ref, m.MediaType)
	}
	return m, nil
}

// MediaTypeOf is the media type of a manifest body served as contentType:
// its mediaType field, else the Content-Type unless that is a generic
// JSON or octet-stream type, else what the content's shape says (manifests:
// an index; fsLayers or schemaVersion 1: Docker schema 1; otherwise an OCI
// image manifest, whose mediaType field is optional). It is the one rule
// the client and the server share; contentType itself is returned for a
// body that is not JSON.
func MediaTypeOf(body []byte, contentType string) types.MediaType {
	var probe struct {
		MediaType     types.MediaType `json:"mediaType"`
		SchemaVersion int             `json:"schemaVersion"`
		Manifests     json.RawMessage `json:"manifests"`
		FSLayers      json.RawMessage `json:"fsLayers"`
	}
	err := json.Unmarshal(body, &probe)
	if err == nil && probe.MediaType != "" {
		return probe.MediaType
	}
	if mt, _, perr := mime.ParseMediaType(contentType); perr == nil && mt != "application/json" && mt != "application/octet-stream" {
		return types.MediaType(mt)
	}
	switch {
	case err != nil:
		return types.MediaType(contentType)
	case probe.SchemaVersion == 1 || probe.FSLayers != nil:
		return types.DockerManifestSchema1
	case probe.Manifests != nil:
		return types.OCIImageIndex
	}
	return types.OCIManifestSchema1
}

// known are the manifest types tailor reads (plus schema 1, refused by name).
func known(mt types.MediaType) bool {
	switch mt {
	case types.OCIImageIndex, types.DockerManifestList, types.OCIManifestSchema1,
		types.DockerManifestSchema2, types.DockerManifestSchema1, types.DockerManifestSchema1Signed:
		return true
	}
	return false
}

// IsIndex reports whether m is an image index (OCI index or Docker
// manifest list).
func (m *Manifest) IsIndex() bool { return m.MediaType.IsIndex() }

// IndexManifest parses m as an index. ggcr's types keep each entry's
// platform.features and annotations.
func (m *Manifest) IndexManifest() (*v1.IndexManifest, error) {
	if !m.IsIndex() {
		return nil, fmt.Errorf("%w: %s is an image (%s), not an index", ErrBadManifest, m.Source, m.MediaType)
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(m.Raw))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: index: %w", ErrBadManifest, m.Source, err)
	}
	return im, nil
}

// ImageManifest parses m as an image manifest.
func (m *Manifest) ImageManifest() (*v1.Manifest, error) {
	if m.IsIndex() {
		return nil, fmt.Errorf("%w: %s is an index, not an image", ErrBadManifest, m.Source)
	}
	mf, err := v1.ParseManifest(bytes.NewReader(m.Raw))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: image manifest: %w", ErrBadManifest, m.Source, err)
	}
	return mf, nil
}

// Descriptor describes m as an entry of an index would: media type,
// digest, size (no platform: that is in an image's config).
func (m *Manifest) Descriptor() v1.Descriptor {
	return v1.Descriptor{MediaType: m.MediaType, Digest: m.Digest, Size: int64(len(m.Raw))}
}
