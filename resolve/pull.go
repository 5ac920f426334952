package resolve

import (
	"context"
	"fmt"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	ggcrmatch "github.com/google/go-containerregistry/pkg/v1/match"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/remote"
)

// AnnotationRefName names an image in an OCI layout's index.
const AnnotationRefName = "org.opencontainers.image.ref.name"

// Pull resolves ref for host p and writes the chosen image to dest
// (oci:DIR[:TAG] or docker-archive:FILE, see ParseDest). When progress is
// not nil it receives the bytes of layers fetched so far, and is closed
// when Pull returns. An OCI layout that already exists is added to (an
// image of the same tag is replaced).
func Pull(ctx context.Context, c *remote.Client, ref string, p *profile.Profile, dest string, progress chan<- v1.Update, opts ...Option) (res *Result, err error) {
	var pr *counter
	if progress != nil {
		pr = &counter{ctx: ctx, updates: progress}
		defer func() { pr.finish(err) }()
	}
	d, err := ParseDest(dest)
	if err != nil {
		return nil, err
	}
	res, err = Resolve(ctx, c, ref, p, opts...)
	if err != nil {
		return nil, err
	}
	img, err := c.Image(ctx, res.ref, res.Digest)
	if err != nil {
		return nil, err
	}
	if pr != nil {
		if pr.total, err = layerBytes(img); err != nil {
			return nil, fmt.Errorf("pull %s: %w", res.Reference, err)
		}
		img = progressImage{Image: img, p: pr}
	}
	if err := write(d, res, img); err != nil {
		return nil, fmt.Errorf("pull %s to %s: %w", res.Reference, dest, err)
	}
	return res, nil
}

// layerBytes sums the compressed sizes of img's layers.
func layerBytes(img v1.Image) (int64, error) {
	mf, err := img.Manifest()
	if err != nil {
		return 0, err
	}
	var n int64
	for _, l := range mf.Layers {
		n += l.Size
	}
	return n, nil
}

func write(d Dest, res *Result, img v1.Image) error {
	switch d.Kind {
	case DestOCI:
		return writeLayout(d, res, img)
	case DestDockerArchive:
		return tarball.WriteToFile(d.Path, res.ref, img)
	}
	return fmt.Errorf("%w: unknown kind %q", ErrBadDest, d.Kind)
}

// writeLayout adds img to the OCI layout at d.Path, creating it if needed.
func writeLayout(d Dest, res *Result, img v1.Image) error {
	lp, err := layout.FromPath(d.Path)
	if err != nil {
		if _, statErr := os.Stat(d.Path + "/index.json"); statErr == nil {
			return fmt.Errorf("existing layout: %w", err)
		}
		if lp, err = layout.Write(d.Path, empty.Index); err != nil {
			return err
		}
	}
	var opts []layout.Option
	if res.Platform != nil {
		opts = append(opts, layout.WithPlatform(*res.Platform))
	}
	matcher := ggcrmatch.Digests(res.Digest)
	if d.Tag != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{AnnotationRefName: d.Tag}))
		matcher = ggcrmatch.Annotation(AnnotationRefName, d.Tag)
	}
	return lp.ReplaceImage(img, matcher, opts...)
}
