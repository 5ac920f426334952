package resolve

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	ggcrmatch "github.com/google/go-containerregistry/pkg/v1/match"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/tailor-dev/tailor/internal/durable"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/remote"
)

// AnnotationRefName names an image in an OCI layout's index.
const AnnotationRefName = remote.AnnotationRefName

// ErrTimeout is returned (wrapped) when a pull runs past the client's
// timeout.
var ErrTimeout = errors.New("pull timed out")

// Pull resolves ref for host p and writes the chosen image to dest
// (oci:DIR[:TAG] or docker-archive:FILE[:TAG], see ParseDest). When
// progress is not nil it receives the bytes of layers fetched so far, and
// is closed when Pull returns. An OCI layout that already exists is added
// to (an image of the same tag is replaced).
//
// The client's timeout (remote.WithTimeout) bounds the whole pull, layers
// included. A pull that fails, times out or is cancelled leaves dest as it
// was: the layout's index.json does not list the image and none of its
// blobs that were not there before remain; no archive is written.
func Pull(ctx context.Context, c *remote.Client, ref string, p *profile.Profile, dest string, progress chan<- v1.Update, opts ...Option) (res *Result, err error) {
	if t := c.Timeout(); t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, t, fmt.Errorf("%w after %s, layers included", ErrTimeout, t))
		defer cancel()
	}
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
		return nil, timedOut(ctx, err)
	}
	img, err := c.Image(ctx, res.from, res.Digest)
	if err != nil {
		return nil, timedOut(ctx, err)
	}
	if pr != nil {
		if pr.total, err = layerBytes(img); err != nil {
			return nil, fmt.Errorf("pull %s: %w", res.Reference, err)
		}
		img = progressImage{Image: img, p: pr}
	}
	if err := write(d, res, img); err != nil {
		return nil, fmt.Errorf("pull %s to %s: %w", res.Reference, dest, timedOut(ctx, err))
	}
	return res, nil
}

// timedOut puts the cause first when ctx ran past Pull's timeout, so the
// one line says so rather than "context deadline exceeded" at its end.
func timedOut(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); errors.Is(cause, ErrTimeout) && !errors.Is(err, ErrTimeout) {
		return fmt.Errorf("%w: %w", cause, err)
	}
	return err
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
		return writeArchive(d, res, img)
	}
	return fmt.Errorf("%w: unknown kind %q", ErrBadDest, d.Kind)
}

// writeLayout adds img to the OCI layout at d.Path, creating it if needed.
// On failure the layout is left as it was: a directory this call created
// is removed, otherwise the blobs of img it did not hold before.
func writeLayout(d Dest, res *Result, img v1.Image) (err error) {
	_, statErr := os.Stat(d.Path)
	created := errors.Is(statErr, fs.ErrNotExist)
	lp, err := layout.FromPath(d.Path)
	if err != nil {
		if _, statErr := os.Stat(filepath.Join(d.Path, "index.json")); statErr == nil {
			return fmt.Errorf("existing layout: %w", err)
		}
		if lp, err = layout.Write(d.Path, empty.Index); err != nil {
			return err
		}
	}
	fresh, err := missingBlobs(d.Path, res.Digest, img)
	if err != nil {
		return err
	}
	defer func() {
		switch {
		case err == nil:
		case created:
			_ = os.RemoveAll(d.Path)
		default:
			for _, p := range fresh {
				_ = os.Remove(p)
			}
		}
	}()
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

// missingBlobs lists the paths of img's blobs (manifest, config, layers)
// that the layout at dir lacks.
func missingBlobs(dir string, manifest v1.Hash, img v1.Image) ([]string, error) {
	mf, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	hashes := []v1.Hash{manifest, mf.Config.Digest}
	for _, l := range mf.Layers {
		hashes = append(hashes, l.Digest)
	}
	var out []string
	for _, h := range hashes {
		p := filepath.Join(dir, "blobs", h.Algorithm, h.Hex)
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			out = append(out, p)
		}
	}
	return out, nil
}

// writeArchive writes img as a `docker load` tarball at d.Path, through a
// temporary file renamed into place when complete.
func writeArchive(d Dest, res *Result, img v1.Image) error {
	tag, err := archiveTag(d, res)
	if err != nil {
		return fmt.Errorf("%w: tag %q: %w", ErrBadDest, d.Tag, err)
	}
	f, err := os.CreateTemp(filepath.Dir(d.Path), "."+filepath.Base(d.Path)+".*.partial")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := tarball.Write(tag, img, f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	return durable.Commit(durable.OS, f, d.Path)
}
