package match

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/requirement"
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
	cache := newVerdictCache()
	js := make([]judged, len(entries))
	for i, d := range entries {
		if js[i], err = h.evaluate(i, d, o, cache); err != nil {
			return nil, err
		}
	}
	order, fits := rank(js)
	// One backing array for every candidate's checks, each capped so an
	// append by the caller copies rather than overwrites its neighbour's.
	total := 0
	for _, j := range js {
		total += len(j.v.checks)
	}
	buf := make([]Check, total)
	cands := make([]Candidate, len(js))
	for n, i := range order {
		r := 0
		if n < fits {
			r = n + 1
		}
		cands[n], buf = js[i].candidate(entries[i], r, buf)
	}
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

// judge checks entry i against the host. Requirements that cannot be read
// are an error, or under Lenient a failed check (and a verdict with no
// Source, which the cache skips).
func (h *host) judge(i int, d v1.Descriptor, o *options) (verdict, error) {
	var c verdict
	pc, runnable := h.checkPlatform(d)
	c.checks = append(make([]Check, 0, 4), pc)
	if !runnable {
		return c, nil
	}
	r, err := requirement.FromDescriptor(d)
	if err != nil {
		if !o.lenient {
			return c, fmt.Errorf("match: entry %d: %w", i, err)
		}
		c.checks = append(c.checks, Check{Requirement: CheckRequirements, Detail: err.Error()})
		return c, nil
	}
	c.reqs = r
	if !pc.OK {
		return c, nil
	}
	var t *catalog.Target
	if r.Target != "" {
		c.checks = append(c.checks, h.checkCPU(r.Target))
		t, _ = catalog.Lookup(r.Target) // FromDescriptor validated it
	}
	if len(r.Features) > 0 {
		c.checks = append(c.checks, h.checkFeatures(r.Features))
	}
	var s score
	if len(r.CUDA) > 0 || r.CUDAVersion != "" {
		checks, gs := h.checkCUDA(r)
		c.checks = append(c.checks, checks...)
		s.gpu = gs
	}
	if len(r.ROCm) > 0 {
		check, gs := h.checkROCm(r.ROCm)
		c.checks = append(c.checks, check)
		if gs.compare(s.gpu) < 0 {
			s.gpu = gs
		}
	}
	c.checks = append(c.checks, h.checkLabels(r)...)
	if v, ok, err := requirement.Verified(d); err != nil {
		if !o.lenient {
			return c, fmt.Errorf("match: entry %d: %w", i, err)
		}
		c.checks = append(c.checks, Check{Requirement: CheckVerified, Detail: err.Error()})
	} else if ok {
		c.checks = append(c.checks, h.checkVerified(v))
	}
	c.fits = true
	for _, ch := range c.checks {
		c.fits = c.fits && ch.OK
	}
	if c.fits {
		s.avoid, s.prefer = policy(o, r, t)
		cpuScore(&s, r, t)
		c.score = s
	}
	return c, nil
}
