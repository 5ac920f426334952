package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/distspec"
)

// LayoutPrefix starts a reference to an OCI image layout on disk:
// oci:DIR, oci:DIR:TAG or oci:DIR@sha256:HEX.
const LayoutPrefix = "oci:"

// AnnotationRefName names an image in an OCI layout's index.json.
const AnnotationRefName = "org.opencontainers.image.ref.name"

// maxLayoutManifest bounds what is read as one manifest from a layout, as
// a registry bounds what it serves.
const maxLayoutManifest = distspec.MaxManifestSize

// ValidTag reports whether s is a tag by the OCI distribution spec:
// [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}. (Written out rather than as a regular
// expression: the counted repetition compiles to a program of over 100 kB,
// built at every process start.)
func ValidTag(s string) bool {
	if len(s) == 0 || len(s) > 128 || s[0] == '.' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// LayoutRef names a manifest in an OCI image layout.
type LayoutRef struct {
	// Path is the layout's directory.
	Path string
	// Tag selects the index.json entry whose org.opencontainers.image.ref.name
	// it is; empty with no Digest: the layout's only entry (or index.json
	// itself, when it lists images of several platforms).
	Tag string
	// Digest selects a manifest blob of the layout by digest.
	Digest *v1.Hash
}

// IsLayout reports whether s is an OCI layout reference (oci:...).
func IsLayout(s string) bool { return strings.HasPrefix(s, LayoutPrefix) }

// ParseLayoutRef reads oci:DIR, oci:DIR:TAG or oci:DIR@sha256:HEX. The text
// after the last colon of DIR:TAG must be a valid tag: a directory whose
// name has a colon is named through a path without one (./a:b/dir is
// refused, as its "tag" b/dir is no tag).
func ParseLayoutRef(s string) (LayoutRef, error) {
	rest, ok := strings.CutPrefix(s, LayoutPrefix)
	if !ok || rest == "" {
		return LayoutRef{}, fmt.Errorf("%w: %q: want oci:DIR[:TAG] or oci:DIR@sha256:HEX", ErrBadReference, s)
	}
	if dir, dg, ok := strings.Cut(rest, "@"); ok {
		h, err := v1.NewHash(dg)
		if err != nil || dir == "" {
			return LayoutRef{}, fmt.Errorf("%w: %q: %q is not a digest (want sha256:<64 hex>)", ErrBadReference, s, dg)
		}
		return LayoutRef{Path: dir, Digest: &h}, nil
	}
	i := strings.LastIndex(rest, ":")
	switch {
	case i < 0:
		return LayoutRef{Path: rest}, nil
	case i == 0:
		return LayoutRef{}, fmt.Errorf("%w: %q: no directory before the tag", ErrBadReference, s)
	case !ValidTag(rest[i+1:]):
		return LayoutRef{}, fmt.Errorf("%w: %q: %q is not a valid tag", ErrBadReference, s, rest[i+1:])
	}
	return LayoutRef{Path: rest[:i], Tag: rest[i+1:]}, nil
}

// String spells l as ParseLayoutRef reads it.
func (l LayoutRef) String() string {
	switch {
	case l.Digest != nil:
		return LayoutPrefix + l.Path + "@" + l.Digest.String()
	case l.Tag != "":
		return LayoutPrefix + l.Path + ":" + l.Tag
	}
	return LayoutPrefix + l.Path
}

// Repository is the layout itself, without tag or digest: oci:DIR.
func (l LayoutRef) Repository() string { return LayoutPrefix + l.Path }

// layoutOrigin reads images and blobs of one OCI layout.
type layoutOrigin struct {
	path layout.Path
	ref  LayoutRef
}

var _ origin = (*layoutOrigin)(nil)

func (o *layoutOrigin) name() string { return o.ref.String() }

// image reads the image with manifest h from the layout's blobs, wherever
// it is listed (ggcr's layout.Path.Image finds only top-level entries).
func (o *layoutOrigin) image(_ context.Context, h v1.Hash) (v1.Image, error) {
	m, err := o.manifest(h, "")
	if err != nil {
		return nil, err
	}
	if m.IsIndex() {
		return nil, fmt.Errorf("%w: %s: %s is an index, not an image", ErrBadManifest, o.ref.Repository(), h)
	}
	return partial.CompressedToImage(&layoutImage{o: o, m: m})
}

// layoutImage is an image whose manifest and blobs are in an OCI layout.
type layoutImage struct {
	o *layoutOrigin
	m *Manifest
}

var _ partial.CompressedImageCore = (*layoutImage)(nil)

func (i *layoutImage) RawManifest() ([]byte, error)        { return i.m.Raw, nil }
func (i *layoutImage) MediaType() (types.MediaType, error) { return i.m.MediaType, nil }

func (i *layoutImage) RawConfigFile() ([]byte, error) {
	mf, err := i.m.ImageManifest()
	if err != nil {
		return nil, err
	}
	return i.o.path.Bytes(mf.Config.Digest)
}

func (i *layoutImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	mf, err := i.m.ImageManifest()
	if err != nil {
		return nil, err
	}
	for _, l := range mf.Layers {
		if l.Digest == h {
			return &layoutLayer{o: i.o, desc: l}, nil
		}
	}
	if mf.Config.Digest == h {
		return &layoutLayer{o: i.o, desc: mf.Config}, nil
	}
	return nil, fmt.Errorf("%w: %s: image %s has no layer %s", ErrNotFound, i.o.ref.Repository(), i.m.Digest, h)
}

// layoutLayer is a blob of an OCI layout described by its manifest.
type layoutLayer struct {
	o    *layoutOrigin
	desc v1.Descriptor
}

var _ partial.CompressedLayer = (*layoutLayer)(nil)

func (l *layoutLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *layoutLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *layoutLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *layoutLayer) Compressed() (io.ReadCloser, error) {
	return l.o.blob(context.Background(), l.desc.Digest)
}

func (o *layoutOrigin) blob(_ context.Context, h v1.Hash) (io.ReadCloser, error) {
	rc, err := o.path.Blob(h)
	if err != nil {
		return nil, o.missing(h, err)
	}
	return rc, nil
}

// missing classifies a failed blob read of the layout.
func (o *layoutOrigin) missing(h v1.Hash, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s has no blob %s", ErrNotFound, o.ref.Repository(), h)
	}
	return fmt.Errorf("%w: %s: blob %s: %w", ErrBadManifest, o.ref.Repository(), h, err)
}

// getLayout reads the manifest l names from its layout.
func getLayout(l LayoutRef) (*Manifest, error) {
	if _, err := os.Stat(filepath.Join(l.Path, "index.json")); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s: %s is not an OCI layout (no index.json)", ErrNotFound, l, l.Path)
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrUnreachable, l, err)
	}
	p, err := layout.FromPath(l.Path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadManifest, l, err)
	}
	o := &layoutOrigin{path: p, ref: l}
	if l.Digest != nil {
		return o.manifest(*l.Digest, "")
	}
	top, err := readBounded(filepath.Join(l.Path, "index.json"))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadManifest, l, err)
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(top))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: index.json: %w", ErrBadManifest, l, err)
	}
	d, whole, err := pickEntry(l, idx)
	if err != nil {
		return nil, err
	}
	if whole {
		h, _, _ := v1.SHA256(bytes.NewReader(top))
		return newManifestFrom(o, top, types.OCIImageIndex, h)
	}
	return o.manifest(d.Digest, d.MediaType)
}

// pickEntry chooses the entry of index.json l names: by tag, else the only
// entry. A top level that lists several images and no tags is itself the
// index (whole), as `crane pull --format oci` and ggcr's layout.Write of an
// index leave it.
func pickEntry(l LayoutRef, idx *v1.IndexManifest) (d v1.Descriptor, whole bool, err error) {
	var tags []string
	for _, m := range idx.Manifests {
		t := m.Annotations[AnnotationRefName]
		if t == "" {
			continue
		}
		if l.Tag != "" && (t == l.Tag || strings.HasSuffix(t, ":"+l.Tag)) {
			return m, false, nil
		}
		tags = append(tags, t)
	}
	switch {
	case l.Tag != "":
		return d, false, fmt.Errorf("%w: %s: no image tagged %q in the layout (tags: %s)", ErrNotFound, l, l.Tag, list(tags))
	case len(idx.Manifests) == 1:
		return idx.Manifests[0], false, nil
	case len(idx.Manifests) == 0:
		return d, false, fmt.Errorf("%w: %s: the layout is empty", ErrNotFound, l)
	case len(tags) == 0 && allImages(idx.Manifests):
		return d, true, nil
	}
	return d, false, fmt.Errorf("%w: %s: the layout holds %d entries; name one: %s:TAG (tags: %s)",
		ErrBadReference, l, len(idx.Manifests), l, list(tags))
}

func allImages(ds []v1.Descriptor) bool {
	for _, d := range ds {
		if d.MediaType.IsIndex() || d.Platform == nil {
			return false
		}
	}
	return true
}

func list(tags []string) string {
	if len(tags) == 0 {
		return "none"
	}
	return strings.Join(tags, ", ")
}

// manifest reads blob h of the layout as a manifest; mt is its media type
// as the referring descriptor gives it, if any.
func (o *layoutOrigin) manifest(h v1.Hash, mt types.MediaType) (*Manifest, error) {
	rc, err := o.blob(context.Background(), h)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// Read into a buffer of the file's size: io.ReadAll's doublings left
	// twice a large index's bytes behind, and their page faults.
	var buf bytes.Buffer
	if f, ok := rc.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if st, err := f.Stat(); err == nil && st.Size() <= maxLayoutManifest {
			buf.Grow(int(st.Size()) + bytes.MinRead)
		}
	}
	if _, err := buf.ReadFrom(io.LimitReader(rc, maxLayoutManifest+1)); err != nil {
		return nil, fmt.Errorf("%w: %s: read %s: %w", ErrBadManifest, o.ref, h, err)
	}
	raw := buf.Bytes()
	if len(raw) > maxLayoutManifest {
		return nil, fmt.Errorf("%w: %s: blob %s is over %d bytes: not a manifest", ErrBadManifest, o.ref, h, maxLayoutManifest)
	}
	if got, _, _ := v1.SHA256(bytes.NewReader(raw)); got != h {
		return nil, fmt.Errorf("%w: %s: blob %s has digest %s: the layout is corrupt", ErrBadManifest, o.ref, h, got)
	}
	if mt == "" {
		var probe struct {
			MediaType types.MediaType `json:"mediaType"`
		}
		_ = json.Unmarshal(raw, &probe)
		mt = probe.MediaType
	}
	return newManifestFrom(o, raw, mt, h)
}

// readBounded reads a file of at most maxLayoutManifest bytes.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxLayoutManifest+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxLayoutManifest {
		return nil, fmt.Errorf("%s is over %d bytes", path, maxLayoutManifest)
	}
	return b, nil
}
