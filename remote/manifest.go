package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"strings"
	"sync/atomic"

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
	// index is the index parsed by newManifestFrom with the rest (one
	// parse per manifest), handed to the first IndexManifest call, which
	// owns it; later calls parse Raw again.
	index atomic.Pointer[v1.IndexManifest]
}

// descriptor is a v1.Descriptor as an index entry is parsed: its digest
// read in place (v1.Hash's UnmarshalJSON runs a whole json.Unmarshal per
// entry, a tenth of a large index's parse).
type descriptor struct {
	MediaType    types.MediaType   `json:"mediaType"`
	Size         int64             `json:"size"`
	Digest       digestText        `json:"digest"`
	Data         []byte            `json:"data,omitempty"`
	URLs         []string          `json:"urls,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	Platform     *v1.Platform      `json:"platform,omitempty"`
	ArtifactType string            `json:"artifactType,omitempty"`
}

// digestText is a digest's JSON string; bad is set for what v1.Hash
// refuses to read (null, a string that is no digest).
type digestText struct {
	h   v1.Hash
	bad bool
}

func (d *digestText) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && !bytes.ContainsAny(b[1:len(b)-1], `"`) {
		s = string(b[1 : len(b)-1])
	} else if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if hex, ok := strings.CutPrefix(s, "sha256:"); ok && len(hex) == 64 && isLowerHex(hex) {
		d.h = v1.Hash{Algorithm: "sha256", Hex: hex} // what v1.NewHash makes of it, without its allocations
		return nil
	}
	h, err := v1.NewHash(s)
	if err != nil || string(b) == "null" {
		d.bad = true
		return nil
	}
	d.h = h
	return nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// shape is what one parse of a manifest reads: the fields that tell its
// type and, for an index, the whole index (an image manifest's layers are
// skipped).
type shape struct {
	SchemaVersion int64             `json:"schemaVersion"`
	MediaType     types.MediaType   `json:"mediaType,omitempty"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Manifests     []descriptor      `json:"manifests"`
	Annotations   map[string]string `json:"annotations,omitempty"`
	Subject       *v1.Descriptor    `json:"subject,omitempty"`
	FSLayers      json.RawMessage   `json:"fsLayers"`
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
	var idx *v1.IndexManifest
	var err error
	if m.MediaType, idx, err = parseShape(raw, string(mt)); err != nil {
		return nil, fmt.Errorf("%w: %s: manifest is not JSON (%d bytes, %s): %w", ErrBadManifest, ref, len(m.Raw), mt, err)
	}
	if idx != nil {
		m.index.Store(idx)
	}
	switch {
	case m.MediaType == types.DockerManifestSchema1 || m.MediaType == types.DockerManifestSchema1Signed:
		return nil, fmt.Errorf("%w: %s: Docker schema 1 manifests are not supported", ErrBadManifest, ref)
	case !known(m.MediaType):
		return nil, fmt.Errorf("%w: %s: unknown manifest type %q", ErrBadManifest, ref, m.MediaType)
	}
	return m, nil
}

// parseShape reads a manifest body served as contentType in one parse:
// its media type by MediaTypeOf's rule and, for an index, the index (nil
// when its entries do not parse: IndexManifest then says why). An error
// means the body is not a JSON object.
func parseShape(raw []byte, contentType string) (types.MediaType, *v1.IndexManifest, error) {
	var sh shape
	// A large index's entries are decoded into room made for them: the
	// slice's doublings were a tenth of its parse's memory.
	// Counted by the end of "size" (every descriptor has one): a rare
	// first byte, so the count skips through the bytes.
	n := bytes.Count(raw, []byte(`ze"`))
	if n > 64 {
		sh.Manifests = make([]descriptor, 0, n)
	}
	perr := json.Unmarshal(raw, &sh)
	if perr == nil && n > 64 && len(sh.Manifests) == 0 && sh.Manifests != nil {
		// No entry: "manifests": [] and no field at all look alike here.
		sh = shape{}
		perr = json.Unmarshal(raw, &sh)
	}
	if perr != nil {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return "", nil, err
		}
		// A JSON object of another shape: typed by the shared rule, its
		// fields' errors are IndexManifest's and ImageManifest's to tell.
		return MediaTypeOf(raw, contentType), nil, nil
	}
	var mt types.MediaType
	if sh.Manifests == nil && sh.MediaType == "" {
		// "manifests": null and no field at all read alike here, not by
		// MediaTypeOf's rule: it decides (rare: no mediaType field).
		mt = MediaTypeOf(raw, contentType)
	} else {
		mt = typeOf(sh.MediaType, sh.SchemaVersion, sh.Manifests != nil, sh.FSLayers != nil, nil, contentType)
	}
	if !mt.IsIndex() {
		return mt, nil, nil
	}
	idx := &v1.IndexManifest{SchemaVersion: sh.SchemaVersion, MediaType: sh.MediaType,
		Annotations: sh.Annotations, Subject: sh.Subject, ArtifactType: sh.ArtifactType}
	if sh.Manifests != nil {
		idx.Manifests = make([]v1.Descriptor, len(sh.Manifests))
	}
	for i, d := range sh.Manifests {
		if d.Digest.bad {
			return mt, nil, nil // IndexManifest's parse says what is wrong
		}
		idx.Manifests[i] = v1.Descriptor{MediaType: d.MediaType, Size: d.Size, Digest: d.Digest.h, Data: d.Data,
			URLs: d.URLs, Annotations: d.Annotations, Platform: d.Platform, ArtifactType: d.ArtifactType}
	}
	return mt, idx, nil
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
	return typeOf(probe.MediaType, int64(probe.SchemaVersion), probe.Manifests != nil, probe.FSLayers != nil, err, contentType)
}

// typeOf is MediaTypeOf's rule on a manifest's parsed fields (err: the
// body is not JSON).
func typeOf(field types.MediaType, schemaVersion int64, manifests, fsLayers bool, err error, contentType string) types.MediaType {
	if err == nil && field != "" {
		return field
	}
	if mt, _, perr := mime.ParseMediaType(contentType); perr == nil && mt != "application/json" && mt != "application/octet-stream" {
		return types.MediaType(mt)
	}
	switch {
	case err != nil:
		return types.MediaType(contentType)
	case schemaVersion == 1 || fsLayers:
		return types.DockerManifestSchema1
	case manifests:
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
	if im := m.index.Swap(nil); im != nil {
		return im, nil
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
