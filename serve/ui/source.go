package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tailor-dev/tailor/remote"
)

// Repository is one repository the view lists, with its tags.
type Repository struct {
	Name string
	Tags []string
}

// Index is an index as stored, untouched: its digest, media type and
// entries. A tag that names a single image is an Index too: its media
// type is the image manifest's, Manifests is nil and Image holds it.
type Index struct {
	Digest    v1.Hash
	MediaType types.MediaType
	Manifests []v1.Descriptor
	// Annotations are the index's own.
	Annotations map[string]string
	// Image is the manifest of a single image (nil for an index).
	Image *v1.Manifest
}

// IsImage reports whether the tag names a single image.
func (i *Index) IsImage() bool { return i.Image != nil }

// Source is what the view reads from the server.
type Source interface {
	// Repositories lists the repositories and tags to show (an embedded
	// registry's); a mirror may return none, the view then lists the
	// images of its Log.
	Repositories(ctx context.Context) ([]Repository, error)
	// Index returns the untouched manifest repo:tag names; an error
	// wrapping ErrNotIndex when it is a single image.
	Index(ctx context.Context, repo, tag string) (*Index, error)
}

// ErrNotIndex was returned for a single image; sources now describe one
// (Index.Image). Kept for sources written against it: the view shows a
// plain page for it.
var ErrNotIndex = errors.New("not an index")

// ErrNotFound is returned (wrapped) by a Source for a repository or tag
// that does not exist: the view answers 404.
var ErrNotFound = errors.New("not found")

// ImageReader is implemented by sources that read one image of a
// repository by digest: its manifest and config (for sizes, dates and
// layers). The view reads a bounded number of them per index, and caches
// what it read by the index's digest.
type ImageReader interface {
	Image(ctx context.Context, repo string, d v1.Hash) (*Image, error)
}

// Image is an image as ImageReader reads it.
type Image struct {
	Manifest *v1.Manifest
	// Config is nil when it could not be read (or is too large).
	Config *v1.ConfigFile
}

// Size is the image's compressed size: config and layers.
func (i *Image) Size() int64 {
	if i == nil || i.Manifest == nil {
		return 0
	}
	n := i.Manifest.Config.Size
	for _, l := range i.Manifest.Layers {
		n += l.Size
	}
	return n
}

// Setting is one line of the server's settings the view shows.
type Setting struct{ Name, Value string }

// SettingsSource is implemented by sources that say how the server is
// set up: default profile, login, upstreams, cache use.
type SettingsSource interface {
	Settings() []Setting
}

// maxRepositories bounds what RemoteSource lists.
const maxRepositories = 500

type remoteSource struct {
	c        *remote.Client
	registry string
}

var _ Source = (*remoteSource)(nil)

// RemoteSource reads the registry at host[:port] with tailor's registry
// client (its catalog, tags and manifests; the untailored view of a tailor
// server).
func RemoteSource(c *remote.Client, registry string) Source {
	return &remoteSource{c: c, registry: registry}
}

func (s *remoteSource) Repositories(ctx context.Context) ([]Repository, error) {
	reg, err := s.c.ParseReference(s.registry + "/x")
	if err != nil {
		return nil, err
	}
	// Pages of 100: distribution refuses more by default.
	var names []string
	for len(names) < maxRepositories {
		last := ""
		if len(names) > 0 {
			last = names[len(names)-1]
		}
		page, err := ggcr.CatalogPage(reg.Context().Registry, last, 100, s.c.Options(ctx)...)
		if err != nil {
			return nil, fmt.Errorf("catalog of %s: %w", s.registry, err)
		}
		names = append(names, page...)
		if len(page) < 100 {
			break
		}
	}
	out := make([]Repository, 0, len(names))
	for _, n := range names {
		ref, err := s.c.ParseReference(s.registry + "/" + n)
		if err != nil {
			continue
		}
		tags, err := ggcr.List(ref.Context(), s.c.Options(ctx)...)
		if err != nil {
			return nil, fmt.Errorf("tags of %s: %w", n, err)
		}
		slices.Sort(tags)
		out = append(out, Repository{Name: n, Tags: tags})
	}
	return out, nil
}

func (s *remoteSource) Index(ctx context.Context, repo, tag string) (*Index, error) {
	ref := s.registry + "/" + repo + ":" + tag
	if _, err := name.ParseReference(ref); err != nil {
		return nil, fmt.Errorf("reference %q: %w", ref, err)
	}
	m, err := s.c.Get(ctx, ref)
	if err != nil {
		if notFound(err) {
			return nil, fmt.Errorf("%s: %w", ref, ErrNotFound)
		}
		return nil, err
	}
	if !m.IsIndex() {
		mf, err := v1.ParseManifest(bytes.NewReader(m.Raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		return &Index{Digest: m.Digest, MediaType: m.MediaType, Image: mf}, nil
	}
	im, err := m.IndexManifest()
	if err != nil {
		return nil, err
	}
	return &Index{Digest: m.Digest, MediaType: m.MediaType, Manifests: im.Manifests, Annotations: im.Annotations}, nil
}

// Image reads repo@d and its config.
func (s *remoteSource) Image(ctx context.Context, repo string, d v1.Hash) (*Image, error) {
	m, err := s.c.Get(ctx, s.registry+"/"+repo+"@"+d.String())
	if err != nil {
		return nil, err
	}
	mf, err := v1.ParseManifest(bytes.NewReader(m.Raw))
	if err != nil {
		return nil, err
	}
	img := &Image{Manifest: mf}
	if mf.Config.Size <= maxConfig {
		img.Config, _ = s.c.Config(ctx, m)
	}
	return img, nil
}

// maxConfig bounds the image configs the view reads.
const maxConfig = 1 << 20

// notFound reports whether err is a registry's 404.
func notFound(err error) bool {
	var te *transport.Error
	return errors.Is(err, remote.ErrNotFound) || errors.As(err, &te) && te.StatusCode == http.StatusNotFound
}
