package ui

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tailor-dev/tailor/remote"
)

// Repository is one repository the view lists, with its tags.
type Repository struct {
	Name string
	Tags []string
}

// Index is an index as stored, untouched: its digest, media type and
// entries.
type Index struct {
	Digest    v1.Hash
	MediaType types.MediaType
	Manifests []v1.Descriptor
}

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

// ErrNotIndex is returned (wrapped) by Source.Index for a single image.
var ErrNotIndex = fmt.Errorf("not an index")

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
		return nil, err
	}
	if !m.IsIndex() {
		return nil, fmt.Errorf("%s: %w", ref, ErrNotIndex)
	}
	im, err := m.IndexManifest()
	if err != nil {
		return nil, err
	}
	return &Index{Digest: m.Digest, MediaType: m.MediaType, Manifests: im.Manifests}, nil
}
