package stack

import (
	"errors"
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/match"
	"github.com/tailor-dev/tailor/profile"
)

// Host is one machine of a fleet.
type Host struct {
	// Name says where the host came from (a file, a spec string).
	Name    string
	Profile *profile.Profile
}

// Assignment is the entry a host would be given.
type Assignment struct {
	Host  string `json:"host"`
	Entry string `json:"entry,omitempty"`
}

// Pruning is what Prune decided.
type Pruning struct {
	// Given holds each host's entry; Entry is empty for a host no entry fits.
	Given []Assignment `json:"given"`
	// Kept are the entries kept, Pruned those no host would be given.
	Kept   []string `json:"kept"`
	Pruned []string `json:"pruned"`
}

// Unserved are the hosts no entry of the matrix fits.
func (p *Pruning) Unserved() []string {
	var out []string
	for _, a := range p.Given {
		if a.Entry == "" {
			out = append(out, a.Host)
		}
	}
	return out
}

// Prune keeps the entries of m that some host would be given (the best
// entry for its profile, DESIGN.md §3, among all of m's) and the generic
// entries (what a client that knows nothing of tailor takes), and drops
// the builds no kept entry takes. Removing entries a host would not be
// given changes no host's choice. A host no entry fits is recorded, not an
// error.
func Prune(m *Matrix, hosts []Host) (*Matrix, *Pruning, error) {
	order := indexOrder(m.Entries)
	descs := make([]v1.Descriptor, len(order))
	for i, e := range order {
		descs[i] = descriptor(m.Entries[e])
	}
	keep := make([]bool, len(m.Entries))
	p := &Pruning{}
	for _, h := range hosts {
		best, _, err := match.Best(descs, h.Profile)
		a := Assignment{Host: h.Name}
		switch {
		case err == nil:
			e := order[best.Index]
			keep[e] = true
			a.Entry = m.Entries[e].Name
		case !isNoMatch(err):
			return nil, nil, fmt.Errorf("host %s: %w", h.Name, err)
		}
		p.Given = append(p.Given, a)
	}
	out := &Matrix{Stack: m.Stack, Excluded: m.Excluded}
	for i, e := range m.Entries {
		if keep[i] || e.Generic() {
			out.Entries = append(out.Entries, e)
			p.Kept = append(p.Kept, e.Name)
		} else {
			p.Pruned = append(p.Pruned, e.Name)
		}
	}
	out.Builds = out.Stack.builds(out.Entries)
	return out, p, nil
}

func isNoMatch(err error) bool { return errors.Is(err, match.ErrNoMatch) }

// indexOrder is the order the index lists entries in (publish.NewIndex:
// generic entries first), as indexes into entries: ranking ties keep index
// order, so Prune must see that order.
func indexOrder(entries []Entry) []int {
	var order []int
	for _, generic := range []bool{true, false} {
		for i, e := range entries {
			if e.Generic() == generic {
				order = append(order, i)
			}
		}
	}
	return order
}

// descriptor is e's descriptor in the index, without a digest.
func descriptor(e Entry) v1.Descriptor {
	p := e.Platform
	return v1.Descriptor{MediaType: types.OCIManifestSchema1, Platform: &p, Annotations: e.Annotations}
}

// Generic reports whether m has an entry a client that knows nothing of
// tailor can take (no requirement).
func (m *Matrix) Generic() bool {
	return slices.ContainsFunc(m.Entries, func(e Entry) bool { return e.Generic() })
}
