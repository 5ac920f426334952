package build

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ErrBase is returned (wrapped) when the base image cannot be had.
var ErrBase = errors.New("base image")

// baseImages fetches the base image once per architecture of jobs, before
// anything is built.
func (o *options) baseImages(ctx context.Context, base string, jobs []Job) (map[string]v1.Image, error) {
	out := map[string]v1.Image{}
	for _, j := range jobs {
		arch := j.Target.Architecture()
		if out[arch] != nil {
			continue
		}
		img, err := o.baseImage(ctx, base, arch)
		if err != nil {
			return nil, err
		}
		out[arch] = img
	}
	return out, nil
}

func (o *options) baseImage(ctx context.Context, base, arch string) (v1.Image, error) {
	if base == "scratch" {
		img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
		return mutate.ConfigMediaType(img, types.OCIConfigJSON), nil
	}
	ref, err := o.parse(base)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBase, base, err)
	}
	// The image's layers are read later, while packing and pushing, with
	// the context it was fetched with: the timeout ends the fetch of its
	// manifest and config, not that context.
	fctx, stop := o.phase(ctx)
	defer stop()
	p := v1.Platform{OS: "linux", Architecture: arch}
	img, err := remote.Image(ref, o.remoteOptions(fctx, []remote.Option{remote.WithPlatform(p)})...)
	if err != nil {
		return nil, fmt.Errorf("%w %q for linux/%s: %w", ErrBase, base, arch, timedOut(fctx, err))
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("%w %q: reading its config: %w", ErrBase, base, timedOut(fctx, err))
	}
	if cf.Architecture != arch {
		return nil, fmt.Errorf("%w %q is %s/%s, a %s build needs linux/%s", ErrBase, base, cf.OS, cf.Architecture, arch, arch)
	}
	return img, nil
}

// pack puts the files of dir on base as one layer under c.Prefix and sets
// the config: platform, entrypoint, cmd. The layer is reproducible: sorted
// entries, zero times, root owner.
func pack(base v1.Image, job Job, c *Config, dir string) (v1.Image, error) {
	data, err := tarDir(dir, c.Prefix)
	if err != nil {
		return nil, fmt.Errorf("packing %s of %s: %w", c.Output, job.Label, err)
	}
	mt, err := base.MediaType()
	if err != nil {
		return nil, err
	}
	layerType := types.OCILayer
	if mt == types.DockerManifestSchema2 {
		layerType = types.DockerLayer
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(layerType))
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:   layer,
		History: v1.History{CreatedBy: "tailor build " + job.Label, Comment: c.Command},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	p := job.Requirements.Platform("linux", job.Target.Architecture())
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	if c.Entrypoint != nil {
		cf.Config.Entrypoint = c.Entrypoint
	}
	if c.Cmd != nil {
		cf.Config.Cmd = c.Cmd
	}
	if cf.Config.Labels == nil {
		cf.Config.Labels = map[string]string{}
	}
	cf.Config.Labels["dev.tailor.build.target"] = job.Label
	return mutate.ConfigFile(img, cf)
}

func tarDir(dir, prefix string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	prefix = strings.Trim(path.Clean("/"+prefix), "/")
	if prefix != "" {
		parts := strings.Split(prefix, "/")
		for i := range parts {
			h := &tar.Header{Name: strings.Join(parts[:i+1], "/") + "/", Typeflag: tar.TypeDir, Mode: 0o755}
			if err := tw.WriteHeader(h); err != nil {
				return nil, err
			}
		}
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		return addToTar(tw, p, path.Join(prefix, filepath.ToSlash(rel)), d)
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func addToTar(tw *tar.Writer, p, name string, d fs.DirEntry) error {
	info, err := d.Info()
	if err != nil {
		return err
	}
	h := &tar.Header{Name: name, Mode: int64(info.Mode().Perm())}
	switch {
	case d.IsDir():
		h.Typeflag, h.Name = tar.TypeDir, name+"/"
		return tw.WriteHeader(h)
	case info.Mode()&fs.ModeSymlink != 0:
		link, err := os.Readlink(p)
		if err != nil {
			return err
		}
		h.Typeflag, h.Linkname = tar.TypeSymlink, link
		return tw.WriteHeader(h)
	case info.Mode().IsRegular():
		h.Typeflag, h.Size = tar.TypeReg, info.Size()
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	}
	return nil
}
