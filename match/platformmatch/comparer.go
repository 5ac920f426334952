package platformmatch

import (
	"github.com/containerd/platforms"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tailor-dev/tailor/match"
	"github.com/tailor-dev/tailor/profile"
)

// platformComparer is the platforms.MatchComparer of Comparer. It reads
// only immutable host facts, so it is safe for concurrent use.
type platformComparer struct{ ps *match.Platforms }

var _ platforms.MatchComparer = platformComparer{}

// Comparer returns a containerd platforms.MatchComparer for host p, for
// programs that see only platforms: Match holds for an os/architecture that
// is the host's (after containerd's normalisation) with no variant or a
// variant at or below the host's level (amd64 v1-v4, arm64 v8.x/v9.x); Less
// puts matching platforms first, the highest level first. It knows nothing
// of tailor's annotations: among an index's entries it picks the best pure
// level, never a named-target build (use NewDescriptorComparer for that).
func Comparer(p *profile.Profile) (platforms.MatchComparer, error) {
	ps, err := match.NewPlatforms(p)
	if err != nil {
		return nil, err
	}
	return platformComparer{ps}, nil
}

// Match reports whether code for platform pl runs on the host.
func (c platformComparer) Match(pl ocispec.Platform) bool {
	return c.ps.Fits(toV1Platform(pl))
}

// Less reports whether a is preferred to b: a matching platform before one
// that does not, then the higher level.
func (c platformComparer) Less(a, b ocispec.Platform) bool {
	ma, mb := c.Match(a), c.Match(b)
	if ma != mb {
		return ma
	}
	return ma && c.ps.Level(toV1Platform(a)) > c.ps.Level(toV1Platform(b))
}

func toV1Platform(p ocispec.Platform) v1.Platform {
	return v1.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion, OSFeatures: p.OSFeatures}
}

// DescriptorComparer ranks the children of one image index as match.Match does,
// for programs that hold image-spec descriptors (containerd's
// images.Children, a handler choosing which manifest to fetch).
//
// It is built from the whole list of children, since tailor's choice
// depends on every entry's annotations, not on platforms alone; it then
// answers for any of those children, identified by digest:
//   - Match(d) holds when d fits the host (every occurrence of d's digest
//     in the list fits);
//   - Less(a, b) holds when a ranks before b (a fits and b does not, or
//     both fit and a has the better rank; a digest listed twice takes its
//     worse rank);
//   - Best returns the rank-1 child, or a *NoMatchError.
//
// Descriptors it was not built from never match. image-spec's Platform has
// no features field, so MetaHub-style platform.features requirements are
// not seen: such entries count as the plain builds their platform says.
// It is safe for concurrent use once built.
type DescriptorComparer struct {
	children []ocispec.Descriptor
	cands    []match.Candidate
	rank     map[string]int // digest -> rank; 0 = does not fit
}

// NewDescriptorComparer judges children (an index's manifests) for host p
// with match.Match's rules and options.
func NewDescriptorComparer(children []ocispec.Descriptor, p *profile.Profile, opts ...match.Option) (*DescriptorComparer, error) {
	entries := make([]v1.Descriptor, len(children))
	for i, d := range children {
		entries[i] = toV1(d)
	}
	cands, err := match.Match(entries, p, opts...)
	if err != nil {
		return nil, err
	}
	c := &DescriptorComparer{children: children, cands: cands, rank: make(map[string]int, len(cands))}
	for _, cand := range cands {
		key := children[cand.Index].Digest.String()
		prev, seen := c.rank[key]
		switch {
		case !seen:
			c.rank[key] = cand.Rank
		case prev == 0 || cand.Rank == 0:
			c.rank[key] = 0
		default:
			c.rank[key] = max(prev, cand.Rank)
		}
	}
	return c, nil
}

// Match reports whether child d fits the host.
func (c *DescriptorComparer) Match(d ocispec.Descriptor) bool {
	return c.rank[d.Digest.String()] > 0
}

// Less reports whether child a ranks before child b.
func (c *DescriptorComparer) Less(a, b ocispec.Descriptor) bool {
	ra, rb := c.rank[a.Digest.String()], c.rank[b.Digest.String()]
	switch {
	case ra == 0:
		return false
	case rb == 0:
		return true
	}
	return ra < rb
}

// Best returns the rank-1 child, or a *NoMatchError when none fits.
// A digest listed twice with verdicts that disagree is skipped (see match.Match).
func (c *DescriptorComparer) Best() (ocispec.Descriptor, error) {
	for _, cand := range c.cands {
		if d := c.children[cand.Index]; cand.Fits && c.Match(d) {
			return d, nil
		}
	}
	return ocispec.Descriptor{}, &match.NoMatchError{Candidates: c.cands}
}

// Candidates returns the verdict on every child, as match.Match orders them.
func (c *DescriptorComparer) Candidates() []match.Candidate {
	return append([]match.Candidate(nil), c.cands...)
}

// toV1 converts an image-spec descriptor to go-containerregistry's.
func toV1(d ocispec.Descriptor) v1.Descriptor {
	out := v1.Descriptor{
		MediaType:    types.MediaType(d.MediaType),
		Size:         d.Size,
		URLs:         d.URLs,
		Annotations:  d.Annotations,
		Data:         d.Data,
		ArtifactType: d.ArtifactType,
	}
	if h, err := v1.NewHash(d.Digest.String()); err == nil {
		out.Digest = h
	}
	if p := d.Platform; p != nil {
		pl := toV1Platform(*p)
		out.Platform = &pl
	}
	return out
}
