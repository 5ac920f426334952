package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/internal/durable"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/requirement"
)

// ErrRecord is returned when verdicts cannot be recorded where asked.
var ErrRecord = errors.New("verify: cannot record")

// verification is what Record writes for r: nothing for an unverified
// entry.
func (r *Result) verification() (requirement.Verification, bool) {
	switch r.Verdict {
	case OK:
		return requirement.Verification{Verdict: requirement.VerdictOK, Needs: r.needs, Known: true}, true
	case Mislabeled:
		return requirement.Verification{Verdict: requirement.VerdictMislabeled, Needs: r.needs, Known: r.needsKnown}, true
	}
	return requirement.Verification{}, false
}

// Corrected returns the index of the report with what each verified entry
// really needs recorded in its annotations (dev.tailor.verified.*),
// replacing any earlier record; the entries, their order, platforms and
// declarations are unchanged, so the images are the same and only the
// index's digest changes.
func (rep *Report) Corrected() ([]byte, error) {
	if rep.manifest == nil || !rep.manifest.IsIndex() {
		return nil, fmt.Errorf("%w: %s is a single image; verdicts are recorded in an index", ErrRecord, rep.Reference)
	}
	im, err := rep.manifest.IndexManifest()
	if err != nil {
		return nil, err
	}
	if _, ok := im.Annotations[requirement.AnnotationSourceIndex]; ok {
		return nil, fmt.Errorf("%w: %s is an index tailor serve tailored for one client (it carries %s); verify and record the source index", ErrRecord, rep.Reference, requirement.AnnotationSourceIndex)
	}
	for i := range im.Manifests {
		d := &im.Manifests[i]
		a := maps.Clone(d.Annotations)
		if a == nil {
			a = map[string]string{}
		}
		delete(a, requirement.AnnotationVerified)
		delete(a, requirement.AnnotationVerifiedNeeds)
		if i < len(rep.Results) && rep.Results[i] != nil {
			if v, ok := rep.Results[i].verification(); ok {
				maps.Copy(a, v.Annotations())
			}
		}
		if len(a) == 0 {
			a = nil
		}
		d.Annotations = a
	}
	return json.Marshal(im)
}

// Record writes the corrected index (see Corrected) to dst: a registry
// tag (the one verified, when dst is empty) or an OCI layout
// (oci:DIR[:TAG]). It returns the new index's digest. The old index stays
// retrievable by its digest.
func (rep *Report) Record(ctx context.Context, c *remote.Client, dst string) (v1.Hash, error) {
	raw, err := rep.Corrected()
	if err != nil {
		return v1.Hash{}, err
	}
	if dst == "" {
		dst = rep.Reference
	}
	mt := rep.manifest.MediaType
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return v1.Hash{}, err
	}
	if remote.IsLayout(dst) {
		return h, recordLayout(dst, raw, mt, h)
	}
	r, err := c.ParseReference(dst)
	if err != nil {
		return v1.Hash{}, err
	}
	if _, ok := r.(name.Digest); ok {
		return v1.Hash{}, fmt.Errorf("%w: %s names the index by digest; give a tag to record to", ErrRecord, dst)
	}
	if err := ggcr.Put(r, rawManifest{raw, mt}, c.Options(ctx)...); err != nil {
		return v1.Hash{}, fmt.Errorf("pushing the corrected index to %s: %w", dst, err)
	}
	return h, nil
}

// rawManifest is a manifest to put as it is.
type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

var _ ggcr.Taggable = rawManifest{}

// RawManifest returns the manifest's bytes.
func (m rawManifest) RawManifest() ([]byte, error) { return m.raw, nil }

// MediaType returns the manifest's media type.
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

// recordLayout writes raw into the layout dst names: as the blob of the
// entry tagged TAG (oci:DIR:TAG), or as index.json itself when the layout
// is the index (oci:DIR whose index.json lists the images).
func recordLayout(dst string, raw []byte, mt types.MediaType, h v1.Hash) error {
	l, err := remote.ParseLayoutRef(dst)
	if err != nil {
		return err
	}
	if l.Digest != nil {
		return fmt.Errorf("%w: %s names the index by digest; give a tag to record to", ErrRecord, dst)
	}
	p, err := layout.FromPath(l.Path)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrRecord, dst, err)
	}
	if err := p.WriteBlob(h, io.NopCloser(bytes.NewReader(raw))); err != nil {
		return fmt.Errorf("writing the corrected index to %s: %w", l.Path, err)
	}
	d := v1.Descriptor{MediaType: mt, Size: int64(len(raw)), Digest: h}
	top, err := readIndexJSON(l.Path)
	if err != nil {
		return err
	}
	switch {
	case l.Tag != "":
		// The entry of that tag is replaced, or a new tag added.
		d.Annotations = map[string]string{remote.AnnotationRefName: l.Tag}
		tagged := func(e v1.Descriptor) bool { return e.Annotations[remote.AnnotationRefName] == l.Tag }
		if !slices.ContainsFunc(top.Manifests, tagged) {
			if slices.ContainsFunc(top.Manifests, func(e v1.Descriptor) bool { return e.MediaType.IsImage() }) {
				return fmt.Errorf("%w: %s/index.json is itself an index of images: a tag added to it would be one more entry of it; record to oci:%s, or to a layout of tagged indexes", ErrRecord, l.Path, l.Path)
			}
			top.Manifests = append(top.Manifests, d)
			raw, err := json.Marshal(top)
			if err != nil {
				return err
			}
			return writeIndexJSON(l.Path, raw)
		}
		return replaceEntry(l.Path, top, d, tagged)
	case len(top.Manifests) == 1 && top.Manifests[0].MediaType.IsIndex():
		d.Annotations = top.Manifests[0].Annotations
		return replaceEntry(l.Path, top, d, func(v1.Descriptor) bool { return true })
	}
	// index.json is the index itself.
	return writeIndexJSON(l.Path, raw)
}

// readIndexJSON reads a layout's index.json.
func readIndexJSON(dir string) (*v1.IndexManifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRecord, err)
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %s/index.json: %w", ErrRecord, dir, err)
	}
	return im, nil
}

// replaceEntry replaces the entries of index.json that match with d.
func replaceEntry(dir string, top *v1.IndexManifest, d v1.Descriptor, matches func(v1.Descriptor) bool) error {
	found := false
	for i, e := range top.Manifests {
		if matches(e) {
			top.Manifests[i], found = d, true
		}
	}
	if !found {
		return fmt.Errorf("%w: no entry of %s/index.json to replace", ErrRecord, dir)
	}
	raw, err := json.Marshal(top)
	if err != nil {
		return err
	}
	return writeIndexJSON(dir, raw)
}

// writeIndexJSON replaces a layout's index.json atomically.
func writeIndexJSON(dir string, raw []byte) error {
	return durable.WriteFile(durable.OS, filepath.Join(dir, "index.json"), "", raw, 0o644)
}
