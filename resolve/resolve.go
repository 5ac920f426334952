package resolve

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/match"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/remote"
)

// ErrNoProfile is returned when Resolve is given no host profile.
var ErrNoProfile = errors.New("resolve: no host profile")

// Option configures Resolve and Pull.
type Option func(*options)

type options struct {
	match []match.Option
}

// WithMatch passes options to the matcher (host policy: match.WithPrefer,
// match.WithAvoid; match.Lenient).
func WithMatch(opts ...match.Option) Option {
	return func(o *options) { o.match = append(o.match, opts...) }
}

func newOptions(opts []Option) *options {
	o := &options{}
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
	return o
}

// Result is the entry chosen for a host.
type Result struct {
	// Repository is the reference's repository as the caller spelled it
	// (localhost:5000/app, ubuntu).
	Repository string `json:"repository"`
	// Reference is Repository@Digest: what to pull or run.
	Reference string `json:"reference"`
	// Digest is the chosen image manifest's digest.
	Digest v1.Hash `json:"digest"`
	// Index is the digest of the index the image was chosen from; nil when
	// the reference named a single image.
	Index *v1.Hash `json:"index,omitempty"`
	// Platform is the chosen entry's platform.
	Platform *v1.Platform `json:"platform,omitempty"`
	// Chosen is the chosen entry's verdict.
	Chosen match.Candidate `json:"chosen"`
	// Candidates are every entry's verdicts, best first (see match.Match).
	Candidates []match.Candidate `json:"candidates"`

	// from is the manifest the result was resolved from: where its image
	// is read.
	from *remote.Manifest
}

// Resolve chooses, for host p, the entry of the index ref names (a tag or
// the digest of an index) that fits best, at the cost of one manifest GET.
// A ref that names a single image resolves to itself, once its config's
// platform (one blob GET) is checked against p. When no entry fits, the
// error wraps a *match.NoMatchError with every entry's verdict.
func Resolve(ctx context.Context, c *remote.Client, ref string, p *profile.Profile, opts ...Option) (*Result, error) {
	if p == nil {
		return nil, ErrNoProfile
	}
	e, err := Fetch(ctx, c, ref)
	if err != nil {
		return nil, err
	}
	return e.Resolve(p, opts...)
}

// Entries are the entries of a reference, fetched once, to resolve for
// many hosts (Resolve is Fetch then Entries.Resolve).
type Entries struct {
	ref   string
	m     *remote.Manifest
	descs []v1.Descriptor
	index *v1.Hash
}

// Fetch reads the entries ref names: an index's, or a single image
// described by its config's platform.
func Fetch(ctx context.Context, c *remote.Client, ref string) (*Entries, error) {
	m, err := c.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	descs, index, err := candidatesOf(ctx, c, m)
	if err != nil {
		return nil, err
	}
	return &Entries{ref: ref, m: m, descs: descs, index: index}, nil
}

// Digest is the digest of the manifest the reference names.
func (e *Entries) Digest() v1.Hash { return e.m.Digest }

// Resolve chooses the entry that fits host p best, as the package's
// Resolve does, with no I/O.
func (e *Entries) Resolve(p *profile.Profile, opts ...Option) (*Result, error) {
	if p == nil {
		return nil, ErrNoProfile
	}
	o := newOptions(opts)
	best, all, err := match.Best(e.descs, p, o.match...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.ref, err)
	}
	repo := Repository(e.ref)
	return &Result{
		Repository: repo,
		Reference:  repo + "@" + best.Descriptor.Digest.String(),
		Digest:     best.Descriptor.Digest,
		Index:      e.index,
		Platform:   best.Descriptor.Platform,
		Chosen:     best,
		Candidates: all,
		from:       e.m,
	}, nil
}

// candidatesOf returns the entries to match: an index's, or the single
// image itself described with its config's platform.
func candidatesOf(ctx context.Context, c *remote.Client, m *remote.Manifest) ([]v1.Descriptor, *v1.Hash, error) {
	if m.IsIndex() {
		im, err := m.IndexManifest()
		if err != nil {
			return nil, nil, err
		}
		d := m.Digest
		return im.Manifests, &d, nil
	}
	d, err := imageDescriptor(ctx, c, m)
	if err != nil {
		return nil, nil, err
	}
	return []v1.Descriptor{d}, nil, nil
}

// imageDescriptor describes a single image as an index entry would: its
// config's platform, its manifest's annotations.
func imageDescriptor(ctx context.Context, c *remote.Client, m *remote.Manifest) (v1.Descriptor, error) {
	mf, err := m.ImageManifest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	cf, err := c.Config(ctx, m)
	if err != nil {
		return v1.Descriptor{}, err
	}
	d := m.Descriptor()
	d.Platform = cf.Platform()
	d.Annotations = mf.Annotations
	return d, nil
}

// Repository returns the repository part of a reference as spelled:
// without its tag or digest ("localhost:5000/app:1" → "localhost:5000/app",
// "oci:DIR:1" → "oci:DIR").
func Repository(ref string) string {
	if l, err := remote.ParseLayoutRef(ref); err == nil {
		return l.Repository()
	}
	repo, _, _ := strings.Cut(ref, "@")
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	return repo
}

// Descriptors returns the entries, in index order (a copy).
func (e *Entries) Descriptors() []v1.Descriptor { return slices.Clone(e.descs) }
