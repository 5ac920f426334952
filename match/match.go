package match

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/profile"
)

// Match judges every entry of an index for host p (DESIGN.md §3) and
// returns one Candidate per entry: the fitting ones first, best first
// (Rank 1, 2, ...; ordered by Less), then those that do not fit, in index
// order. Each candidate's Checks record every requirement checked, held or
// failed, with the reason.
//
// An entry fits when its platform fits the host (os and architecture after
// normalisation, a variant at or below the host's level) and every
// requirement holds: CPU target, extra CPU features, CUDA code and driver,
// ROCm code, labels. Entries with no platform, platform unknown/unknown, or
// marked as attestation manifests never fit.
//
// An entry whose requirements cannot be read makes Match fail, naming the
// entry, unless Lenient is given. A nil or invalid profile is an error. The
// result is deterministic and entries is not modified.
func Match(entries []v1.Descriptor, p *profile.Profile, opts ...Option) ([]Candidate, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	h, err := newHost(p)
	if err != nil {
		return nil, err
	}
	reqs := newReqCache()
	cands := make([]Candidate, len(entries))
	for i, d := range entries {
		if cands[i], err = h.evaluate(i, d, o, reqs); err != nil {
			return nil, err
		}
	}
	rank(cands)
	return cands, nil
}

// Best is Match that also returns the rank-1 candidate. When no entry
// fits, the error is a *NoMatchError (errors.Is(err, ErrNoMatch)) naming,
// per entry, the requirements that failed; the candidates are returned
// with it.
func Best(entries []v1.Descriptor, p *profile.Profile, opts ...Option) (Candidate, []Candidate, error) {
	all, err := Match(entries, p, opts...)
	if err != nil {
		return Candidate{}, nil, err
	}
	if len(all) == 0 || !all[0].Fits {
		return Candidate{}, all, &NoMatchError{Candidates: all}
	}
	return all[0], all, nil
}

// evaluate checks entry i against the host.
func (h *host) evaluate(i int, d v1.Descriptor, o *options, reqs *reqCache) (Candidate, error) {
	c := Candidate{Index: i, Descriptor: d}
	pc, runnable := h.checkPlatform(d)
	c.Checks = append(make([]Check, 0, 4), pc)
	if !runnable {
		return c, nil
	}
	r, err := reqs.get(d)
	if err != nil {
		if !o.lenient {
			return c, fmt.Errorf("match: entry %d: %w", i, err)
		}
		c.Checks = append(c.Checks, Check{Requirement: CheckRequirements, Detail: err.Error()})
		return c, nil
	}
	c.Reqs = r
	if !pc.OK {
		return c, nil
	}
	var t *catalog.Target
	if r.Target != "" {
		c.Checks = append(c.Checks, h.checkCPU(r.Target))
		t, _ = catalog.Lookup(r.Target) // FromDescriptor validated it
	}
	if len(r.Features) > 0 {
		c.Checks = append(c.Checks, h.checkFeatures(r.Features))
	}
	s := score{index: i}
	if len(r.CUDA) > 0 || r.CUDAVersion != "" {
		checks, gs := h.checkCUDA(r)
		c.Checks = append(c.Checks, checks...)
		s.gpu = gs
	}
	if len(r.ROCm) > 0 {
		check, gs := h.checkROCm(r.ROCm)
		c.Checks = append(c.Checks, check)
		if gs.compare(s.gpu) < 0 {
			s.gpu = gs
		}
	}
	c.Checks = append(c.Checks, h.checkLabels(r)...)
	c.Fits = true
	for _, ch := range c.Checks {
		c.Fits = c.Fits && ch.OK
	}
	if c.Fits {
		s.avoid, s.prefer = policy(o, r, t)
		cpuScore(&s, r, t)
		c.score = s
	}
	return c, nil
}
