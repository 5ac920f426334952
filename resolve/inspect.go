package resolve

import (
	"context"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/match"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/requirement"
)

// DefaultTargets is a spread of x86-64 and arm64 generations, oldest first:
// the hosts `tailor inspect` shows an index's choices for.
var DefaultTargets = []string{
	"x86_64", "core2", "x86_64_v2", "x86_64_v3", "haswell", "skylake", "x86_64_v4",
	"skylake_avx512", "icelake", "sapphirerapids", "zen2", "zen3", "zen4", "zen5",
	"aarch64", "neoverse_n1", "neoverse_v1", "neoverse_n2", "neoverse_v2", "a64fx", "m1",
}

// Matrix is the variant matrix of an index: its entries and, for a set of
// targets, the entry a host of exactly that target gets.
type Matrix struct {
	Reference string          `json:"reference"`
	Digest    v1.Hash         `json:"digest"`
	MediaType types.MediaType `json:"mediaType"`
	Entries   []Entry         `json:"entries"`
	Targets   []Assignment    `json:"targets"`
}

// Entry is one entry of an index with its requirements.
type Entry struct {
	Index        int                       `json:"index"`
	Digest       v1.Hash                   `json:"digest"`
	MediaType    types.MediaType           `json:"mediaType,omitempty"`
	Platform     *v1.Platform              `json:"platform,omitempty"`
	Requirements *requirement.Requirements `json:"requirements,omitempty"`
	// Error says why the requirements cannot be read.
	Error string `json:"error,omitempty"`
}

// Assignment is the entry a host of one target gets.
type Assignment struct {
	// Target is the target as given: a catalog name or a profile spec.
	Target string `json:"target"`
	// Entry is the index of the chosen entry; nil when none fits.
	Entry  *int     `json:"entry"`
	Digest *v1.Hash `json:"digest,omitempty"`
}

// Inspect fetches ref once and draws its matrix for targets (catalog
// names or profile spec strings such as cpu=sapphirerapids,gpu=9.0,
// driver=550.54.14; DefaultTargets when empty). An entry whose requirements cannot be
// read is shown with its error and never chosen. A ref naming a single
// image gives a one-entry matrix.
func Inspect(ctx context.Context, c *remote.Client, ref string, targets []string) (*Matrix, error) {
	profiles, err := targetProfiles(targets)
	if err != nil {
		return nil, err
	}
	m, err := c.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	descs, _, err := candidatesOf(ctx, c, m)
	if err != nil {
		return nil, err
	}
	return matrix(ref, m.Digest, m.MediaType, descs, targets, profiles), nil
}

// MatrixOf draws the matrix of an index already fetched (its digest,
// media type and entries) for targets, as Inspect does, with no I/O.
func MatrixOf(ref string, digest v1.Hash, mt types.MediaType, descs []v1.Descriptor, targets []string) (*Matrix, error) {
	profiles, err := targetProfiles(targets)
	if err != nil {
		return nil, err
	}
	return matrix(ref, digest, mt, descs, targets, profiles), nil
}

// targetProfiles reads Inspect's targets (DefaultTargets when empty).
func targetProfiles(targets []string) ([]*profile.Profile, error) {
	if len(targets) == 0 {
		targets = DefaultTargets
	}
	profiles := make([]*profile.Profile, len(targets))
	for i, t := range targets {
		p, err := targetProfile(t)
		if err != nil {
			return nil, fmt.Errorf("target %q: %w", t, err)
		}
		profiles[i] = p
	}
	return profiles, nil
}

func matrix(ref string, digest v1.Hash, mt types.MediaType, descs []v1.Descriptor, targets []string, profiles []*profile.Profile) *Matrix {
	if len(targets) == 0 {
		targets = DefaultTargets
	}
	mx := &Matrix{Reference: ref, Digest: digest, MediaType: mt, Entries: entries(descs)}
	for i, p := range profiles {
		a := Assignment{Target: targets[i]}
		best, _, err := match.Best(descs, p, match.Lenient())
		if err == nil {
			a.Entry, a.Digest = &best.Index, &best.Descriptor.Digest
		}
		mx.Targets = append(mx.Targets, a)
	}
	return mx
}

// targetProfile is the host a target of Inspect stands for: a profile
// spec string (it has a key=), or a catalog target's bare CPU.
func targetProfile(t string) (*profile.Profile, error) {
	if strings.Contains(t, "=") {
		return profile.ParseSpec(t)
	}
	return profile.New(t)
}

func entries(descs []v1.Descriptor) []Entry {
	out := make([]Entry, len(descs))
	for i, d := range descs {
		e := Entry{Index: i, Digest: d.Digest, MediaType: d.MediaType, Platform: d.Platform}
		if r, err := requirement.FromDescriptor(d); err != nil {
			e.Error = err.Error()
		} else {
			e.Requirements = &r
		}
		out[i] = e
	}
	return out
}
