package build

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Push pushes every image of r to ref's repository by digest, then the
// index to ref, and returns the index's REPO@sha256:... reference. ref is
// parsed, and the registry reached, with the options Run was given
// (WithReferenceParser, WithRemoteOptions, WithTimeout for each image and
// the index); opts add registry options.
func (r *Result) Push(ctx context.Context, ref string, opts ...remote.Option) (name.Digest, error) {
	o := r.o
	if o == nil {
		o, _ = newOptions(nil)
	}
	tag, err := o.parse(ref)
	if err != nil {
		return name.Digest{}, fmt.Errorf("parsing reference %q: %w", ref, err)
	}
	repo := tag.Context()
	for _, b := range r.Images {
		d, err := b.Image.Digest()
		if err != nil {
			return name.Digest{}, err
		}
		err = o.bounded(ctx, func(ctx context.Context) error {
			return remote.Write(repo.Digest(d.String()), b.Image, o.remoteOptions(ctx, opts)...)
		})
		if err != nil {
			return name.Digest{}, fmt.Errorf("pushing the %s image: %w", b.Job.Label, err)
		}
	}
	err = o.bounded(ctx, func(ctx context.Context) error {
		return remote.Put(tag, r.Index, o.remoteOptions(ctx, opts)...)
	})
	if err != nil {
		return name.Digest{}, fmt.Errorf("pushing the index to %q: %w", ref, err)
	}
	return repo.Digest(r.Index.Digest().String()), nil
}

// WriteLayout writes every image and the index to the OCI layout at dir
// (created if missing), the index listed in index.json under refName
// (org.opencontainers.image.ref.name), and returns its descriptor.
func (r *Result) WriteLayout(dir, refName string) (v1.Descriptor, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return v1.Descriptor{}, fmt.Errorf("creating OCI layout %s: %w", dir, err)
		}
	}
	for _, b := range r.Images {
		if err := p.WriteImage(b.Image); err != nil {
			return v1.Descriptor{}, fmt.Errorf("writing the %s image to %s: %w", b.Job.Label, dir, err)
		}
	}
	raw, _ := r.Index.RawManifest()
	h := r.Index.Digest()
	if err := p.WriteBlob(h, io.NopCloser(bytes.NewReader(raw))); err != nil {
		return v1.Descriptor{}, fmt.Errorf("writing the index to %s: %w", dir, err)
	}
	d := v1.Descriptor{MediaType: types.OCIImageIndex, Size: int64(len(raw)), Digest: h}
	if refName != "" {
		d.Annotations = map[string]string{"org.opencontainers.image.ref.name": refName}
	}
	if err := p.AppendDescriptor(d); err != nil {
		return v1.Descriptor{}, fmt.Errorf("listing the index in %s/index.json: %w", dir, err)
	}
	return d, nil
}
