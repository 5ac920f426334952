package match

import (
	"cmp"
	"maps"
	"slices"

	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/requirement"
)

// gpuScore rates how an entry uses the host's GPUs.
type gpuScore struct {
	runs     bool // it runs code on a host GPU
	native   bool // native SASS (or ROCm code object), not PTX JIT
	distance int  // how far below the GPU's compute capability the code is; 0 = exact
	specific int  // sm_XYa 2, sm_XYf 1, plain 0
}

// compare is negative when s ranks before o.
func (s gpuScore) compare(o gpuScore) int {
	if s.runs != o.runs {
		return boolFirst(s.runs)
	}
	if s.native != o.native {
		return boolFirst(s.native)
	}
	if c := cmp.Compare(s.distance, o.distance); c != 0 {
		return c
	}
	return cmp.Compare(o.specific, s.specific)
}

// score is every ranking key of a fitting entry (DESIGN.md §3), in order.
type score struct {
	gpu      gpuScore
	avoid    int // avoided targets and features it uses (fewer first)
	prefer   int // preferred targets and features it uses (more first)
	level    int // catalog depth of its target's ISA level (GenericDepth); -1 for none
	depth    int // catalog depth of its target; -1 for none (generic)
	features int // CPU features it needs: its target's and the extra ones
	labels   int // labels it requires, all present since it fits
	index    int // position in the index
}

// compare is negative when s ranks before o; it is a total order, the
// index breaking every tie.
func (s score) compare(o score) int {
	if c := s.gpu.compare(o.gpu); c != 0 {
		return c
	}
	switch {
	case s.avoid != o.avoid:
		return cmp.Compare(s.avoid, o.avoid)
	case s.prefer != o.prefer:
		return cmp.Compare(o.prefer, s.prefer)
	case s.level != o.level:
		return cmp.Compare(o.level, s.level)
	case s.depth != o.depth:
		return cmp.Compare(o.depth, s.depth)
	case s.features != o.features:
		return cmp.Compare(o.features, s.features)
	case s.labels != o.labels:
		return cmp.Compare(o.labels, s.labels)
	}
	return cmp.Compare(s.index, o.index)
}

func boolFirst(b bool) int {
	if b {
		return -1
	}
	return 1
}

// Less reports whether a ranks before b among the candidates of one Match
// call: a fitting entry before one that does not fit; among fitting ones,
// in the order of the keys of DESIGN.md §3 — GPU use (native code, then the
// closest compute capability), host policy (WithAvoid, WithPrefer), CPU
// specificity (the highest ISA level its target needs, then the deepest
// target in the catalog, then most features; no target is the lowest),
// more required labels, then index order. Entries
// that do not fit keep index order. Match sorts with it; it is exported for
// callers that merge or re-sort candidates, as containerd's
// platforms.MatchComparer and regclient's platform.Better are.
func Less(a, b Candidate) bool {
	if a.Fits != b.Fits {
		return a.Fits
	}
	if !a.Fits {
		return a.Index < b.Index
	}
	return a.score.compare(b.score) < 0
}

// cpuScore fills the CPU keys of s for requirements r.
func cpuScore(s *score, r requirement.Requirements, t *catalog.Target) {
	s.level, s.depth = -1, -1
	if t != nil {
		s.level, s.depth = t.GenericDepth(), t.Depth()
		s.features = t.NumFeatures()
	}
	for _, f := range r.Features {
		if t == nil || !t.HasFeature(f) {
			s.features++
		}
	}
	s.labels = len(r.Labels)
}

// policy counts the avoided and preferred targets and features an entry
// uses (see WithAvoid and WithPrefer).
func policy(o *options, r requirement.Requirements, t *catalog.Target) (avoid, prefer int) {
	for _, name := range o.avoidTargets {
		if t != nil && t.IsDescendantOf(name) {
			avoid++
		}
	}
	for _, f := range o.avoidFeatures {
		if needsFeature(r, t, f) {
			avoid++
		}
	}
	for _, name := range o.preferTargets {
		if t != nil && t.Name() == name {
			prefer++
		}
	}
	for _, f := range o.preferFeatures {
		if needsFeature(r, t, f) {
			prefer++
		}
	}
	return avoid, prefer
}

// needsFeature reports whether an entry needs feature f, or, for an alias
// such as avx512, any feature the alias stands for.
func needsFeature(r requirement.Requirements, t *catalog.Target, f string) bool {
	names := []string{f}
	if a, ok := catalog.LookupFeatureAlias(f); ok {
		names = append(names, a.AnyOf...)
	}
	for _, n := range names {
		if t != nil && t.HasFeature(n) || slices.Contains(r.Features, n) {
			return true
		}
	}
	return false
}

// rank returns the positions of js in order: fitting entries by their
// scores, then the rest in index order; and how many fit. The score order is
// total (the index breaks ties), so the result is deterministic. Only the
// fitting entries are sorted: the others are already in index order.
func rank(js []judged) (order []int, fits int) {
	order = make([]int, 0, len(js))
	for i := range js {
		if js[i].v.fits {
			order = append(order, i)
		}
	}
	fits = len(order)
	for i := range js {
		if !js[i].v.fits {
			order = append(order, i)
		}
	}
	slices.SortFunc(order[:fits], func(x, y int) int { return js[x].score.compare(js[y].score) })
	return order, fits
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
