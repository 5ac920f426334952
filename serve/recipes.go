package serve

import (
	"context"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/requirement"
)

// recipe says how a tailored answer was made: from which source index,
// with which entry chosen. An answer is a function of those two alone, so
// when the answer's bytes fell out of memory and the store (hostile
// indexes of 4 MiB under many tags evicted every answer in 30 requests),
// a pull by its digest makes it again from the source, which the content
// cache or the upstream still has, rather than answering 404. A recipe is
// a hundred bytes whatever the answer's size.
type recipe struct {
	source digest.Digest
	entry  int
}

// maxRecipes bounds the recipes kept (about 6 MiB).
const maxRecipes = 65536

func newRecipes() *lru.Cache[digest.Digest, recipe] {
	c, _ := lru.New[digest.Digest, recipe](maxRecipes)
	return c
}

// remake is the answer d made again from its recipe, read through rt's
// backend; nil when there is no recipe, the source is gone, or the bytes
// made are not d's (the server's matching changed since).
func (s *Server) remake(ctx context.Context, rt *route, d digest.Digest) *manifest {
	rc, ok := s.recipes.Get(d)
	if !ok {
		return nil
	}
	src, ok := s.sources.get(rc.source)
	if !ok {
		m, err := rt.be.getManifest(ctx, rt.repo, rc.source.String())
		if err != nil || m.digest != rc.source {
			return nil
		}
		if src, err = parseSource(m); err != nil {
			return nil
		}
	}
	if src.idx == nil || rc.entry < 0 || rc.entry >= len(src.idx.Manifests) {
		return nil
	}
	needs, err := requirement.FromDescriptor(src.idx.Manifests[rc.entry])
	if err != nil {
		return nil
	}
	target := needs.Target
	if target == "" {
		target = "generic"
	}
	t, err := answer(src, rc.entry, target, needs)
	if err != nil || t.manifest.digest != d {
		return nil
	}
	s.answers.add(d, t.manifest)
	if err := s.store.put(t.manifest); err != nil {
		s.m.storeErrors.Inc()
	}
	return t.manifest
}
