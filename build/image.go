package build

import (
	"context"
	"errors"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/stack"
)

// ErrBase is returned (wrapped) when a base image cannot be had.
var ErrBase = errors.New("base image")

// scratch is the empty OCI image.
func scratch() v1.Image {
	return mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
}

// baseImage fetches the image of ref for linux/arch through the client:
// a registry reference or an OCI layout (oci:DIR[:TAG]), an index (its
// linux/arch entry) or one image. The image's layers are read later, while
// packing and pushing, with the context it was fetched with: the
// client's timeout ends the fetch of its manifest and config, not that
// context.
func (o *options) baseImage(ctx context.Context, ref, arch string) (v1.Image, error) {
	fctx, stop := o.phase(ctx)
	defer stop()
	m, err := o.client.Get(fctx, ref)
	if err != nil {
		return nil, fmt.Errorf("%w %q for linux/%s: %w", ErrBase, ref, arch, timedOut(fctx, err))
	}
	dgst := m.Digest
	if m.IsIndex() {
		if dgst, err = platformEntry(m, arch); err != nil {
			return nil, fmt.Errorf("%w %q: %w", ErrBase, ref, err)
		}
	}
	img, err := o.client.Image(fctx, m, dgst)
	if err != nil {
		return nil, fmt.Errorf("%w %q for linux/%s: %w", ErrBase, ref, arch, timedOut(fctx, err))
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("%w %q: reading its config: %w", ErrBase, ref, timedOut(fctx, err))
	}
	if cf.Architecture != arch {
		return nil, fmt.Errorf("%w %q is %s/%s, a %s build needs linux/%s", ErrBase, ref, cf.OS, cf.Architecture, arch, arch)
	}
	return img, nil
}

// platformEntry is the digest of the index m's linux/arch image (the one
// without a variant when there are several).
func platformEntry(m *remote.Manifest, arch string) (v1.Hash, error) {
	im, err := m.IndexManifest()
	if err != nil {
		return v1.Hash{}, err
	}
	var found []v1.Descriptor
	for _, d := range im.Manifests {
		if p := d.Platform; p != nil && p.OS == "linux" && p.Architecture == arch {
			found = append(found, d)
		}
	}
	if len(found) == 0 {
		return v1.Hash{}, fmt.Errorf("no linux/%s image in the index", arch)
	}
	for _, d := range found {
		if d.Platform.Variant == "" {
			return d.Digest, nil
		}
	}
	return found[0].Digest, nil
}

// part is one component's contribution to an entry.
type part struct {
	component string
	key       string
	layer     v1.Layer
}

// assemble makes entry e's image: base (scratch, or the image
// component's), then one layer per other component, annotated with its
// component and build, dated at epoch; the config's platform is the
// entry's, its entrypoint and cmd the file's; the manifest names the
// entry and the base component.
func assemble(base v1.Image, baseName string, parts []part, e stack.Entry, c *Config, epoch time.Time) (v1.Image, error) {
	mt, err := base.MediaType()
	if err != nil {
		return nil, err
	}
	adds := make([]mutate.Addendum, len(parts))
	for i, p := range parts {
		l := p.layer
		if mt == types.DockerManifestSchema2 {
			l = typedLayer{Layer: l, mt: types.DockerLayer}
		}
		adds[i] = mutate.Addendum{
			Layer:       l,
			History:     v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "tailor build " + p.key},
			Annotations: map[string]string{stack.AnnotationComponent: p.component, stack.AnnotationBuild: p.key},
		}
	}
	img, err := mutate.Append(base, adds...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = e.Platform.OS, e.Platform.Architecture, e.Platform.Variant
	cf.Created = v1.Time{Time: epoch}
	if c.Entrypoint != nil {
		cf.Config.Entrypoint = c.Entrypoint
	}
	if c.Cmd != nil {
		cf.Config.Cmd = c.Cmd
	}
	if cf.Config.Labels == nil {
		cf.Config.Labels = map[string]string{}
	}
	cf.Config.Labels["dev.tailor.build.target"] = e.Name
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	ann := map[string]string{stack.AnnotationEntry: e.Name}
	if baseName != "" {
		ann[stack.AnnotationBase] = baseName
	}
	return mutate.Annotations(img, ann).(v1.Image), nil
}
