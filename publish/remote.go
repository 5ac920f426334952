package publish

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/requirement"
)

// Option configures the registry calls of this package.
type Option func(*options)

// options: by default the default keychain, no extra remote options and a
// discarding logger.
type options struct {
	remote []remote.Option
	parse  func(string) (name.Reference, error)
	log    *slog.Logger
}

// WithReferenceParser parses image references with f (default
// name.ParseReference), such as a client's that knows insecure registries.
func WithReferenceParser(f func(string) (name.Reference, error)) Option {
	return func(opts *options) { opts.parse = f }
}

// WithRemoteOptions adds go-containerregistry remote options (transport,
// auth, retries); the context is always the one passed to the call.
func WithRemoteOptions(o ...remote.Option) Option {
	return func(opts *options) { opts.remote = append(opts.remote, o...) }
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(opts *options) { opts.log = l }
}

func newOptions(ctx context.Context, opts []Option) *options {
	o := &options{log: slog.New(slog.DiscardHandler), parse: func(s string) (name.Reference, error) { return name.ParseReference(s) }}
	for _, opt := range opts {
		opt(o)
	}
	o.remote = append([]remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain)}, o.remote...)
	o.remote = append(o.remote, remote.WithContext(ctx))
	return o
}

// Source is an image found in a registry, ready to become an index entry.
type Source struct {
	Entry
	// Ref is the image by digest, where Push copies it from when it is
	// not in the index's repository.
	Ref name.Digest
}

// Resolve fetches the image ref names and describes it as an index entry:
// its manifest descriptor, os/architecture from its config, and as
// requirements the level its config's variant names (none for a plain
// amd64 or arm64 image). ref must name one image, not an index.
func Resolve(ctx context.Context, ref string, opts ...Option) (Source, error) {
	o := newOptions(ctx, opts)
	r, err := o.parse(ref)
	if err != nil {
		return Source{}, fmt.Errorf("parsing reference %q: %w", ref, err)
	}
	desc, err := remote.Get(r, o.remote...)
	if err != nil {
		return Source{}, fmt.Errorf("fetching %q: %w", ref, err)
	}
	if !isImageManifest(desc.MediaType) {
		return Source{}, fmt.Errorf("%w: %q is a %s, want one image (name an entry of it by digest)", ErrInvalidEntry, ref, desc.MediaType)
	}
	img, err := desc.Image()
	if err != nil {
		return Source{}, fmt.Errorf("reading image %q: %w", ref, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return Source{}, fmt.Errorf("reading config of %q: %w", ref, err)
	}
	p := &v1.Platform{OS: cf.OS, Architecture: cf.Architecture, OSVersion: cf.OSVersion}
	s := Source{
		Entry: Entry{
			Name:       ref,
			Descriptor: v1.Descriptor{MediaType: desc.MediaType, Size: desc.Size, Digest: desc.Digest, Platform: p},
		},
		Ref: r.Context().Digest(desc.Digest.String()),
	}
	if t, err := catalog.LevelTarget(cf.Architecture, cf.Variant); err == nil && cf.Variant != "" {
		s.Requirements = requirement.Requirements{Target: t.Name(), Source: requirement.SourceVariant}
	}
	o.log.Debug("resolved entry", "ref", ref, "digest", desc.Digest, "platform", p.OS+"/"+p.Architecture)
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
	o := newOptions(ctx, opts)
	r, err := o.parse(ref)
	if err != nil {
		return name.Digest{}, fmt.Errorf("parsing reference %q: %w", ref, err)
	}
	repo := r.Context()
	for _, s := range sources {
		if err := copyInto(repo, s, o); err != nil {
			return name.Digest{}, err
		}
	}
	if err := remote.Put(r, idx, o.remote...); err != nil {
		return name.Digest{}, fmt.Errorf("pushing index to %q: %w", ref, err)
	}
	d := repo.Digest(idx.Digest().String())
	o.log.Debug("pushed index", "ref", d.String())
	return d, nil
}

func copyInto(repo name.Repository, s Source, o *options) error {
	if s.Ref.Context().String() == repo.String() || s.Ref.DigestStr() == "" {
		return nil
	}
	dst := repo.Digest(s.Ref.DigestStr())
	if _, err := remote.Head(dst, o.remote...); err == nil {
		return nil
	}
	img, err := remote.Image(s.Ref, o.remote...)
	if err != nil {
		return fmt.Errorf("reading %s: %w", s.Ref, err)
	}
	o.log.Debug("copying entry", "from", s.Ref.String(), "to", dst.String())
	if err := remote.Write(dst, img, o.remote...); err != nil {
		return fmt.Errorf("copying %s into %s: %w", s.Ref, repo, err)
	}
	return nil
}

// FetchIndex reads the index ref names: its bytes and manifest, and its
// digest reference.
func FetchIndex(ctx context.Context, ref string, opts ...Option) (*v1.IndexManifest, name.Digest, error) {
	o := newOptions(ctx, opts)
	r, err := o.parse(ref)
	if err != nil {
		return nil, name.Digest{}, fmt.Errorf("parsing reference %q: %w", ref, err)
	}
	desc, err := remote.Get(r, o.remote...)
	if err != nil {
		return nil, name.Digest{}, fmt.Errorf("fetching %q: %w", ref, err)
	}
	if !desc.MediaType.IsIndex() {
		return nil, name.Digest{}, fmt.Errorf("%q is a %s, not an index", ref, desc.MediaType)
	}
	m, err := v1.ParseIndexManifest(bytesReader(desc.Manifest))
	if err != nil {
		return nil, name.Digest{}, fmt.Errorf("parsing index %q: %w", ref, err)
	}
	return m, r.Context().Digest(desc.Digest.String()), nil
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
	o := newOptions(ctx, opts)
	tagged, err := o.parse(repo)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing repository %q: %w", repo, err)
	}
	r := tagged.Context()
	tags, err := remote.List(r, o.remote...)
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
