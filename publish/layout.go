package publish

import (
	"bytes"
	"context"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/remote"
)

// PushTo puts idx at ref, a registry reference (Push) or an OCI layout
// oci:DIR[:TAG] (created when missing; TAG latest by default): every
// source image is written into the layout, and the index is listed in
// its index.json under TAG, in place of an entry already called so. It
// returns the index's reference by digest, as it is printed.
func PushTo(ctx context.Context, ref string, idx *Index, sources []Source, opts ...Option) (string, error) {
	if !remote.IsLayout(ref) {
		d, err := Push(ctx, ref, idx, sources, opts...)
		if err != nil {
			return "", err
		}
		return d.String(), nil
	}
	o, err := newOptions(opts)
	if err != nil {
		return "", err
	}
	l, err := remote.ParseLayoutRef(ref)
	if err != nil {
		return "", err
	}
	if l.Digest != nil {
		return "", fmt.Errorf("%w: %q names a digest: an index is written under a tag, oci:DIR[:TAG]", remote.ErrBadReference, ref)
	}
	tag := l.Tag
	if tag == "" {
		tag = "latest"
	}
	p, err := layout.FromPath(l.Path)
	if err != nil {
		if p, err = layout.Write(l.Path, empty.Index); err != nil {
			return "", fmt.Errorf("creating OCI layout %s: %w", l.Path, err)
		}
	}
	for _, s := range sources {
		if s.from == nil {
			continue
		}
		img, err := o.client.Image(ctx, s.from, s.from.Digest)
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", s.from.Source, err)
		}
		if err := p.WriteImage(img); err != nil {
			return "", fmt.Errorf("writing %s into %s: %w", s.from.Source, l.Path, err)
		}
	}
	raw, err := idx.RawManifest()
	if err != nil {
		return "", err
	}
	h := idx.Digest()
	if err := p.WriteBlob(h, io.NopCloser(bytes.NewReader(raw))); err != nil {
		return "", fmt.Errorf("writing the index into %s: %w", l.Path, err)
	}
	d := v1.Descriptor{MediaType: types.OCIImageIndex, Size: int64(len(raw)), Digest: h,
		Annotations: map[string]string{remote.AnnotationRefName: tag}}
	if err := p.RemoveDescriptors(match.Annotation(remote.AnnotationRefName, tag)); err != nil {
		return "", fmt.Errorf("unlisting the old %s in %s/index.json: %w", tag, l.Path, err)
	}
	if err := p.AppendDescriptor(d); err != nil {
		return "", fmt.Errorf("listing the index in %s/index.json: %w", l.Path, err)
	}
	o.log.Debug("wrote index", "layout", l.Path, "tag", tag, "digest", h)
	return remote.LayoutRef{Path: l.Path, Digest: &h}.String(), nil
}
