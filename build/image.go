package build

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/resolve"
	"github.com/tailor-dev/tailor/stack"
)

// ErrBase is returned (wrapped) when a base image cannot be had.
var ErrBase = errors.New("base image")

// scratch is the empty OCI image.
func scratch() v1.Image {
	return mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
}

// baseImage fetches ref for linux/arch: from a registry, or from an OCI
// layout (oci:DIR[:TAG]), an index or one image.
func (o *options) baseImage(ctx context.Context, ref, arch string) (v1.Image, error) {
	var img v1.Image
	var err error
	fctx, stop := o.phase(ctx)
	defer stop()
	if strings.HasPrefix(ref, "oci:") {
		img, err = layoutImage(ref, arch)
	} else {
		img, err = o.registryImage(fctx, ref, arch)
	}
	if err != nil {
		return nil, err
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

// registryImage fetches ref with the client's credentials and settings.
// The image's layers are read later, while packing and pushing, with the
// context it was fetched with: the timeout ends the fetch of its manifest
// and config, not that context.
func (o *options) registryImage(ctx context.Context, ref, arch string) (v1.Image, error) {
	r, err := o.client.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBase, ref, err)
	}
	opts := append(o.client.Options(ctx), ggcr.WithPlatform(v1.Platform{OS: "linux", Architecture: arch}))
	img, err := ggcr.Image(r, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w %q for linux/%s: %w", ErrBase, ref, arch, timedOut(ctx, err))
	}
	return img, nil
}

// layoutImage reads the image for linux/arch of the layout oci:DIR[:TAG]:
// the entry of index.json named TAG (the only entry when there is no TAG).
func layoutImage(ref, arch string) (v1.Image, error) {
	d, err := resolve.ParseDest(ref)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBase, ref, err)
	}
	p, err := layout.FromPath(d.Path)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBase, ref, err)
	}
	top, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBase, ref, err)
	}
	im, err := top.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBase, ref, err)
	}
	var found []v1.Descriptor
	for _, m := range im.Manifests {
		if d.Tag == "" || m.Annotations[refNameAnnotation] == d.Tag {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("%w %q: %d entries of %s/index.json match, want one (name it oci:DIR:TAG)", ErrBase, ref, len(found), d.Path)
	}
	if !found[0].MediaType.IsIndex() {
		return top.Image(found[0].Digest)
	}
	idx, err := top.ImageIndex(found[0].Digest)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBase, ref, err)
	}
	children, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBase, ref, err)
	}
	for _, c := range children.Manifests {
		if c.Platform != nil && c.Platform.OS == "linux" && c.Platform.Architecture == arch {
			return idx.Image(c.Digest)
		}
	}
	return nil, fmt.Errorf("%w %q has no linux/%s image", ErrBase, ref, arch)
}

// refNameAnnotation names an entry of an OCI layout's index.json.
const refNameAnnotation = "org.opencontainers.image.ref.name"

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
