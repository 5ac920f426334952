package serve

import (
	"crypto/sha256"
	"encoding/json"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/requirement"
)

// A tailored answer is a function of the source index's bytes and of the
// profile's content, whatever its spelling: the choice of entry is kept
// per (index digest, profile class), so a tag read again costs two map
// look-ups instead of a match over every entry. An index that changes
// has another digest, hence other keys: nothing is ever invalidated, the
// least recently used keys fall out.

// Bounds of the memoized answers.
const (
	// maxChoices bounds the (index, profile class) choices kept.
	maxChoices = 16384
	// maxClasses bounds the profiles whose class is kept (by pointer:
	// the config's profiles and the parsed client specs, themselves
	// bounded by maxSpecs).
	maxClasses = 2 * maxSpecs
)

// choiceKey names one choice: a source index and a profile class.
type choiceKey struct {
	source digest.Digest
	class  string
}

// choice is what choose said for a key: the entry and its target, or the
// error (no entry fits: as much a function of the key as an answer).
type choice struct {
	index  int
	target string
	needs  requirement.Requirements
	err    error
}

// answerMemo holds the memoized profile classes and choices (parsed
// sources are kept by digest in the server's sourceCache).
type answerMemo struct {
	classes *lru.Cache[*profile.Profile, string]
	choices *lru.Cache[choiceKey, choice]
}

func newAnswerMemo() *answerMemo {
	a := &answerMemo{}
	a.classes, _ = lru.New[*profile.Profile, string](maxClasses)
	a.choices, _ = lru.New[choiceKey, choice](maxChoices)
	return a
}

// class is p's profile class: the sha256 of its content, canonical (the
// JSON of the parsed profile: features sorted, derived fields filled), so
// two spellings of one profile share their answers. Computed once per
// profile value.
func (a *answerMemo) class(p *profile.Profile) string {
	if c, ok := a.classes.Get(p); ok {
		return c
	}
	b, err := json.Marshal(p)
	if err != nil {
		b = []byte(p.String()) // cannot happen: a Profile is plain data
	}
	sum := sha256.Sum256(b)
	c := string(sum[:])
	a.classes.Add(p, c)
	return c
}

// choose is choose(src, p), kept per (src's digest, p's class).
func (a *answerMemo) choose(src *source, p *profile.Profile) (int, string, requirement.Requirements, error) {
	key := choiceKey{src.m.digest, a.class(p)}
	if c, ok := a.choices.Get(key); ok {
		return c.index, c.target, c.needs, c.err
	}
	i, target, needs, err := choose(src, p)
	a.choices.Add(key, choice{i, target, needs, err})
	return i, target, needs, err
}

// sourceOf is m parsed for tailoring (parseSource), kept by m's digest in
// s.sources: an index is parsed once while it is read again and again,
// whichever tag or backend names it.
func (s *Server) sourceOf(m *manifest) (*source, error) {
	if src, ok := s.sources.get(m.digest); ok {
		return src, nil
	}
	src, err := parseSource(m)
	if err != nil {
		return nil, err
	}
	s.sources.add(src)
	return src, nil
}
