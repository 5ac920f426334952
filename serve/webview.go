package serve

import (
	"context"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/serve/ui"
)

// maxUIRepositories bounds the repositories the web view lists.
const maxUIRepositories = 500

// viewSource is the web view's Source: the embedded registry's
// repositories, and any index read through the backends as the untailored
// view reads it (in-process, so the view needs no login).
type viewSource struct{ s *Server }

var _ ui.Source = viewSource{}

func (v viewSource) Repositories(ctx context.Context) ([]ui.Repository, error) {
	if v.s.emb == nil {
		return nil, nil // a mirror: the view lists what it served
	}
	names, err := v.s.emb.reg.Repositories(ctx)
	if err != nil {
		return nil, err
	}
	if len(names) > maxUIRepositories {
		names = names[:maxUIRepositories]
	}
	out := make([]ui.Repository, 0, len(names))
	for _, n := range names {
		tags, err := v.s.emb.reg.Tags(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, ui.Repository{Name: n, Tags: tags})
	}
	return out, nil
}

// Index reads repo:tag; on a mirror, repo starts with the upstream's name,
// as viewName recorded it.
func (v viewSource) Index(ctx context.Context, repo, tag string) (*ui.Index, error) {
	rt := &route{repo: repo, ref: tag}
	if v.s.emb != nil {
		rt.be = v.s.emb
	} else if up, rest, ok := strings.Cut(repo, "/"); ok && v.s.remotes[up] != nil {
		rt.be, rt.repo = v.s.remotes[up], rest
	} else {
		return nil, fmt.Errorf("%s: not an upstream of this mirror", repo)
	}
	src, err := v.s.source(ctx, rt)
	if err != nil {
		return nil, err
	}
	if !isIndex(src.m.mediaType) {
		return nil, fmt.Errorf("%s:%s: %w", repo, tag, ui.ErrNotIndex)
	}
	idx := src.idx
	if idx == nil {
		if idx, err = v1.ParseIndexManifest(strings.NewReader(string(src.m.body))); err != nil {
			return nil, err
		}
	}
	d, err := v1.NewHash(src.m.digest.String())
	if err != nil {
		return nil, err
	}
	return &ui.Index{Digest: d, MediaType: types.MediaType(src.m.mediaType), Manifests: idx.Manifests}, nil
}

// viewName is the repository a manifest-by-tag answer is logged under:
// the embedded registry's name, or the upstream's name and the repository.
func viewName(rt *route) string {
	if _, ok := rt.be.(*embedded); ok {
		return rt.repo
	}
	return rt.be.name() + "/" + rt.repo
}

// viewProfile names the profile an answer is logged under: none, a named
// profile's name, else its spec form.
func (s *Server) viewProfile(p *profile.Profile) string {
	if p == untailored {
		return ProfileNone
	}
	for n, q := range s.o.profiles {
		if q == p {
			return n
		}
	}
	return p.String()
}
