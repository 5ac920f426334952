package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/tailor-dev/tailor/match"
	"github.com/tailor-dev/tailor/nfd"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/resolve"
)

// Option configures Plan and Compare.
type Option func(*options) error

type options struct {
	match  []match.Option
	limit  int
	logger *slog.Logger
}

// WithMatch passes host policy to the matcher (match.WithPrefer,
// match.WithAvoid), as resolve's --prefer and --avoid do.
func WithMatch(opts ...match.Option) Option {
	return func(o *options) error { o.match = append(o.match, opts...); return nil }
}

// WithConcurrency bounds how many references are fetched at once
// (default 4).
func WithConcurrency(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("fleet: concurrency %d: want at least 1", n)
		}
		o.limit = n
		return nil
	}
}

// WithLogger reports progress to l (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { o.logger = l; return nil }
}

func newOptions(opts []Option) (*options, error) {
	o := &options{limit: 4, logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// Placement is the build one node gets for one image.
type Placement struct {
	Node  string `json:"node"`
	Image string `json:"image"`
	// Digest is the chosen image manifest's; nil when no entry fits.
	Digest *v1.Hash `json:"digest"`
	// Target is what the chosen entry was built for (TargetOf); empty when
	// no entry fits.
	Target string `json:"target"`
	// Entry is the chosen entry's position in the index.
	Entry *int `json:"entry"`
	// Reference is REPO@DIGEST of the chosen build, as resolve prints it.
	Reference string `json:"reference,omitempty"`
	// Requirements are the chosen entry's, in the short form.
	Requirements string `json:"requirements,omitempty"`
	// Why says why this entry, or why none.
	Why string `json:"why"`
	// Profile is the node's profile as a spec string; Source the labels it
	// was read from.
	Profile string     `json:"profile,omitempty"`
	Source  nfd.Source `json:"source,omitempty"`
	// Inferred says what the profile holds that the node's labels do not
	// state (flags NFD hides by default, the core its cpu-model names).
	Inferred []string `json:"inferred,omitempty"`
	// Warnings are the node's labels whose values mean nothing, ignored.
	Warnings []string `json:"warnings,omitempty"`
}

// Fits reports whether some entry fits the node.
func (p Placement) Fits() bool { return p.Digest != nil }

// Plan fetches each reference once and returns, node by node and image by
// image in the order given, the entry each node gets. A node whose labels
// describe no profile, or that no entry fits, gets a Placement with a nil
// Digest and the reason. Fetching a reference that fails is an error.
// Nodes are matched once per class (Classes), so the cost follows the
// kinds of hardware, not the nodes.
func Plan(ctx context.Context, c *remote.Client, refs []string, nodes []Node, opts ...Option) ([]Placement, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	entries, err := fetchAll(ctx, c, refs, o)
	if err != nil {
		return nil, err
	}
	out := make([]Placement, len(nodes)*len(refs))
	for _, c := range Classes(nodes) {
		for i, ref := range refs {
			pl := place(c.Profile, ref, entries[i], o)
			for _, n := range c.Nodes {
				pl.Node = nodes[n].Name
				out[n*len(refs)+i] = pl
			}
		}
	}
	o.logger.Debug("planned", "nodes", len(nodes), "refs", len(refs))
	return out, nil
}

func fetchAll(ctx context.Context, c *remote.Client, refs []string, o *options) ([]*resolve.Entries, error) {
	entries := make([]*resolve.Entries, len(refs))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(o.limit)
	for i, ref := range refs {
		g.Go(func() error {
			e, err := resolve.Fetch(ctx, c, ref)
			if err != nil {
				return fmt.Errorf("fetch %s: %w", ref, err)
			}
			o.logger.Debug("fetched", "ref", ref, "digest", e.Digest())
			entries[i] = e
			return nil
		})
	}
	return entries, g.Wait()
}

// place resolves one image for one node.
func place(np NodeProfile, ref string, e *resolve.Entries, o *options) Placement {
	pl := Placement{Node: np.Node, Image: ref, Source: np.Source, Inferred: np.Inferred, Warnings: np.Warnings}
	if np.Err != nil {
		pl.Why = "node labels: " + np.Err.Error()
		return pl
	}
	pl.Profile = np.Profile.String()
	res, err := e.Resolve(np.Profile, resolve.WithMatch(o.match...))
	var nm *match.NoMatchError
	switch {
	case errors.As(err, &nm):
		pl.Why = noneWhy(nm.Candidates)
		return pl
	case err != nil:
		pl.Why = err.Error()
		return pl
	}
	d, idx := res.Digest, res.Chosen.Index
	pl.Digest, pl.Entry, pl.Reference = &d, &idx, res.Reference
	pl.Target = TargetOf(res.Chosen)
	pl.Requirements = res.Chosen.Reqs.String()
	pl.Why = fitWhy(res.Chosen)
	if np.Source != nfd.SourceTailor {
		pl.Why += fmt.Sprintf(" (profile from %s labels only)", np.Source)
	}
	return pl
}

// TargetOf names what a candidate was built for: its CPU target; for a
// build with no CPU target but other requirements (CUDA, ROCm, labels),
// those in the short form; "generic" for a build that needs nothing.
func TargetOf(c match.Candidate) string {
	switch {
	case c.Reqs.Target != "":
		return c.Reqs.Target
	case !c.Reqs.IsGeneric():
		return c.Reqs.String()
	}
	return "generic"
}

// fitWhy joins the reasons of the checks that chose c.
func fitWhy(c match.Candidate) string {
	var why []string
	for _, ch := range c.Checks {
		if ch.Requirement != match.CheckPlatform {
			why = append(why, ch.Detail)
		}
	}
	if len(why) == 0 {
		return "the generic build: it needs nothing beyond the platform"
	}
	return strings.Join(why, "; ")
}

// noneWhy says, per entry, the first requirement that failed.
func noneWhy(cands []match.Candidate) string {
	if len(cands) == 0 {
		return "the index has no entries"
	}
	var parts []string
	for _, c := range cands {
		reason := "does not fit"
		if f := c.Failed(); len(f) > 0 {
			reason = f[0].Detail
		}
		parts = append(parts, fmt.Sprintf("entry %d: %s", c.Index, reason))
	}
	return "no entry fits: " + strings.Join(parts, "; ")
}

// Change is what one node gets from two versions of an index.
type Change struct {
	Node string    `json:"node"`
	Old  Placement `json:"old"`
	New  Placement `json:"new"`
	// Changed is true when the node pulls a different build (or starts or
	// stops getting one): what a rollout of the new version touches.
	Changed bool `json:"changed"`
}

// Compare plans oldRef and newRef for every node and says which nodes
// change build.
func Compare(ctx context.Context, c *remote.Client, oldRef, newRef string, nodes []Node, opts ...Option) ([]Change, error) {
	pls, err := Plan(ctx, c, []string{oldRef, newRef}, nodes, opts...)
	if err != nil {
		return nil, err
	}
	out := make([]Change, 0, len(nodes))
	for i := 0; i+1 < len(pls); i += 2 {
		o, n := pls[i], pls[i+1]
		changed := o.Fits() != n.Fits() || (o.Fits() && *o.Digest != *n.Digest)
		out = append(out, Change{Node: o.Node, Old: o, New: n, Changed: changed})
	}
	return out, nil
}
