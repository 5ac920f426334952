package publish

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/requirement"
)

// Option configures the registry calls of this package.
type Option func(*options)

// options: by default a remote.Client with its defaults and a discarding
// logger.
type options struct {
	client *remote.Client
	log    *slog.Logger
}

// WithClient makes every registry call go through c (its credentials,
// insecure registries, retries and timeouts; and OCI layouts for reading).
func WithClient(c *remote.Client) Option {
	return func(opts *options) { opts.client = c }
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(opts *options) { opts.log = l }
}

func newOptions(opts []Option) (*options, error) {
	o := &options{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(o)
	}
	if o.client == nil {
		c, err := remote.New()
		if err != nil {
			return nil, err
		}
		o.client = c
	}
	return o, nil
}

// Source is an image found in a registry (or an OCI layout), ready to
// become an index entry.
type Source struct {
	Entry
	// from is the image's manifest, read where Push copies it from when
	// it is not in the index's repository.
	from *remote.Manifest
}

// Resolve fetches the image ref names (a registry reference or
// oci:DIR[:TAG]) and describes it as an index entry: its manifest
// descriptor, os/architecture from its config, and as requirements the
// level its config's variant names (none for a plain amd64 or arm64
// image). ref must name one image, not an index.
func Resolve(ctx context.Context, ref string, opts ...Option) (Source, error) {
	o, err := newOptions(opts)
	if err != nil {
		return Source{}, err
	}
	m, err := o.client.Get(ctx, ref)
	if err != nil {
		return Source{}, fmt.Errorf("fetching %q: %w", ref, err)
	}
	if m.IsIndex() {
		return Source{}, fmt.Errorf("%w: %q is a %s, want one image (name an entry of it by digest)", ErrInvalidEntry, ref, m.MediaType)
	}
	cf, err := o.client.Config(ctx, m)
	if err != nil {
		return Source{}, fmt.Errorf("reading config of %q: %w", ref, err)
	}
	p := &v1.Platform{OS: cf.OS, Architecture: cf.Architecture, OSVersion: cf.OSVersion}
	d := m.Descriptor()
	d.Platform = p
	s := Source{Entry: Entry{Name: ref, Descriptor: d}, from: m}
	if t, err := catalog.LevelTarget(cf.Architecture, cf.Variant); err == nil && cf.Variant != "" {
		s.Requirements = requirement.Requirements{Target: t.Name(), Source: requirement.SourceVariant}
	}
	o.log.Debug("resolved entry", "ref", ref, "digest", m.Digest, "platform", p.OS+"/"+p.Architecture)
	return s, nil
}

// Entries returns the entries of sources.
func Entries(sources []Source) []Entry {
	out := make([]Entry, len(sources))
	for i, s := range sources {
		out[i] = s.Entry
	}
	return out
}

// Push copies every source image that is not yet in ref's repository there
// (by digest, bytes unchanged), then puts idx at ref. It returns the
// index's REPO@sha256:... reference.
func Push(ctx context.Context, ref string, idx *Index, sources []Source, opts ...Option) (name.Digest, error) {
	o, err := newOptions(opts)
	if err != nil {
		return name.Digest{}, err
	}
	r, err := o.client.ParseReference(ref)
	if err != nil {
		return name.Digest{}, err
	}
	repo := r.Context()
	for _, s := range sources {
		if err := copyInto(ctx, repo, s, o); err != nil {
			return name.Digest{}, err
		}
	}
	if err := ggcr.Put(r, idx, o.client.Options(ctx)...); err != nil {
		return name.Digest{}, fmt.Errorf("pushing index to %q: %w", ref, err)
	}
	d := repo.Digest(idx.Digest().String())
	o.log.Debug("pushed index", "ref", d.String())
	return d, nil
}

func copyInto(ctx context.Context, repo name.Repository, s Source, o *options) error {
	if s.from == nil || (s.from.Ref != nil && s.from.Ref.Context().String() == repo.String()) {
		return nil
	}
	dst := repo.Digest(s.from.Digest.String())
	if _, err := ggcr.Head(dst, o.client.Options(ctx)...); err == nil {
		return nil
	}
	img, err := o.client.Image(ctx, s.from, s.from.Digest)
	if err != nil {
		return fmt.Errorf("reading %s: %w", s.from.Source, err)
	}
	o.log.Debug("copying entry", "from", s.from.Source, "to", dst.String())
	if err := ggcr.Write(dst, img, o.client.Options(ctx)...); err != nil {
		return fmt.Errorf("copying %s into %s: %w", s.from.Source, repo, err)
	}
	return nil
}

// FetchIndex reads the index ref names (a registry reference or
// oci:DIR[:TAG]): its manifest and digest.
func FetchIndex(ctx context.Context, ref string, opts ...Option) (*v1.IndexManifest, v1.Hash, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, v1.Hash{}, err
	}
	m, err := o.client.Get(ctx, ref)
	if err != nil {
		return nil, v1.Hash{}, fmt.Errorf("fetching %q: %w", ref, err)
	}
	if !m.IsIndex() {
		return nil, v1.Hash{}, fmt.Errorf("%q is a %s, not an index", ref, m.MediaType)
	}
	im, err := m.IndexManifest()
	if err != nil {
		return nil, v1.Hash{}, err
	}
	return im, m.Digest, nil
}

// TagVerdict is what ImportTags made of one tag.
type TagVerdict struct {
	Tag          string
	Requirements requirement.Requirements
	// Recognised is true when the tag became an entry.
	Recognised bool
	// Reason says why a tag was skipped.
	Reason string
}

// ImportTags reads the tags of repo (those match accepts; nil accepts all)
// and turns the tag conventions of ParseTag into sources for one index.
// Every tag gets a verdict, recognised or skipped with a reason.
func ImportTags(ctx context.Context, repo string, match *regexp.Regexp, opts ...Option) ([]Source, []TagVerdict, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, nil, err
	}
	tagged, err := o.client.ParseReference(repo)
	if err != nil {
		return nil, nil, err
	}
	r := tagged.Context()
	tags, err := ggcr.List(r, o.client.Options(ctx)...)
	if err != nil {
		return nil, nil, fmt.Errorf("listing tags of %q: %w", repo, err)
	}
	slices.Sort(tags)
	var sources []Source
	var verdicts []TagVerdict
	for _, tag := range tags {
		if match != nil && !match.MatchString(tag) {
			continue
		}
		v, s := importTag(ctx, r, tag, opts)
		verdicts = append(verdicts, v)
		if v.Recognised {
			sources = append(sources, s)
		}
	}
	return sources, verdicts, nil
}

func importTag(ctx context.Context, repo name.Repository, tag string, opts []Option) (TagVerdict, Source) {
	v := TagVerdict{Tag: tag}
	reqs, err := ParseTag(tag)
	if err != nil {
		v.Reason = err.Error()
		return v, Source{}
	}
	s, err := Resolve(ctx, repo.Tag(tag).String(), opts...)
	if err != nil {
		v.Reason = err.Error()
		return v, Source{}
	}
	s.Name = tag
	if reqs.Target == "" && !reqs.IsGeneric() {
		reqs.Target = s.Requirements.Target
	}
	if _, err := canonical(reqs, s.Descriptor.Platform.Architecture); err != nil {
		v.Reason = err.Error()
		return v, Source{}
	}
	s.Requirements = reqs
	v.Requirements, v.Recognised = reqs, true
	return v, s
}
