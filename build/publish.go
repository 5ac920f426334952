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
	"github.com/google/go-containerregistry/pkg/v1/match"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/remote"
	"golang.org/x/sync/errgroup"
)

// Publish puts the images and the index where dest says, and returns the
// index's reference by digest: oci:DIR[:TAG] writes them into the OCI
// layout at DIR (created if missing), the index listed in index.json
// under TAG (default: the tag of the file's image:, else latest),
// replacing an entry of that name; REPO[:TAG] pushes every image by
// digest and then the index to the tag, with the options Run was given
// (the client's timeout bounds each image's push and the index's).
//
// This is the one place where what Run built leaves the build.
func (r *Result) Publish(ctx context.Context, dest string) (string, error) {
	if remote.IsLayout(dest) {
		l, err := ParseLayoutDest(dest)
		if err != nil {
			return "", err
		}
		if l.Tag == "" {
			l.Tag = r.tag
		}
		desc, err := r.writeLayout(l.Path, l.Tag)
		if err != nil {
			return "", err
		}
		return l.Repository() + "@" + desc.Digest.String(), nil
	}
	ref, err := r.o.client.ParseReference(dest)
	if err != nil {
		return "", err
	}
	d, err := r.push(ctx, ref)
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// push pushes every image by digest to ref's repository (in parallel; a
// blob shared by several images goes up once, one the registry has is not
// sent again), then the index to ref.
func (r *Result) push(ctx context.Context, ref name.Reference) (name.Digest, error) {
	o := r.o
	pusher, err := ggcr.NewPusher(o.client.Options(ctx)...)
	if err != nil {
		return name.Digest{}, err
	}
	repo := ref.Context()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.jobs)
	for _, b := range r.Images {
		g.Go(func() error {
			d, err := b.Image.Digest()
			if err != nil {
				return err
			}
			err = o.bounded(gctx, func(ctx context.Context) error { return pusher.Push(ctx, repo.Digest(d.String()), b.Image) })
			if err != nil {
				return fmt.Errorf("pushing the %s image: %w", b.Entry.Name, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return name.Digest{}, err
	}
	err = o.bounded(ctx, func(ctx context.Context) error { return pusher.Push(ctx, ref, r.Index) })
	if err != nil {
		return name.Digest{}, fmt.Errorf("pushing the index to %q: %w", ref, err)
	}
	return repo.Digest(r.Index.Digest().String()), nil
}

// writeLayout writes every image and the index to the OCI layout at dir
// and lists the index in index.json under tag, in place of any entry
// already called so.
func (r *Result) writeLayout(dir, tag string) (v1.Descriptor, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return v1.Descriptor{}, fmt.Errorf("creating OCI layout %s: %w", dir, err)
		}
	}
	for _, b := range r.Images {
		if err := p.WriteImage(b.Image); err != nil {
			return v1.Descriptor{}, fmt.Errorf("writing the %s image to %s: %w", b.Entry.Name, dir, err)
		}
	}
	raw, _ := r.Index.RawManifest()
	h := r.Index.Digest()
	if err := p.WriteBlob(h, io.NopCloser(bytes.NewReader(raw))); err != nil {
		return v1.Descriptor{}, fmt.Errorf("writing the index to %s: %w", dir, err)
	}
	d := v1.Descriptor{MediaType: types.OCIImageIndex, Size: int64(len(raw)), Digest: h,
		Annotations: map[string]string{remote.AnnotationRefName: tag}}
	if err := p.RemoveDescriptors(match.Annotation(remote.AnnotationRefName, tag)); err != nil {
		return v1.Descriptor{}, fmt.Errorf("unlisting the old %s in %s/index.json: %w", tag, dir, err)
	}
	if err := p.AppendDescriptor(d); err != nil {
		return v1.Descriptor{}, fmt.Errorf("listing the index in %s/index.json: %w", dir, err)
	}
	return d, nil
}

// ParseLayoutDest reads an OCI layout destination, oci:DIR[:TAG]
// (remote.ParseLayoutRef, without a digest: a build writes a tag).
func ParseLayoutDest(dest string) (remote.LayoutRef, error) {
	l, err := remote.ParseLayoutRef(dest)
	if err == nil && l.Digest != nil {
		err = fmt.Errorf("%w: %q: a build is written under a tag: want oci:DIR[:TAG]", remote.ErrBadReference, dest)
	}
	return l, err
}

// layoutTag is the tag of image (latest when it has none).
func layoutTag(image string) string {
	if t, err := name.NewTag(image); err == nil {
		return t.TagStr()
	}
	return "latest"
}
