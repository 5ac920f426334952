package verify

import (
	"context"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/tailor-dev/tailor/remote"
)

// Report is the verdicts on an index (or a single image).
type Report struct {
	// Reference is what was verified, as given.
	Reference string `json:"reference"`
	// Digest is the digest of the index (or image) verified.
	Digest v1.Hash `json:"digest"`
	// Results are the verdicts, in index order.
	Results []*Result `json:"results"`

	manifest *remote.Manifest
}

// Mislabeled reports whether any entry is mislabeled.
func (r *Report) Mislabeled() bool {
	for _, res := range r.Results {
		if res.Verdict == Mislabeled {
			return true
		}
	}
	return false
}

// Images verifies entries, Jobs at a time, and returns their results in
// order. An error is one the verification could not go on after (a layer
// that cannot be read); a mislabeled entry is a result, not an error.
func Images(ctx context.Context, entries []Entry, opts ...Option) ([]*Result, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	out := make([]*Result, len(entries))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(o.jobs)
	for i, e := range entries {
		g.Go(func() error {
			r, err := o.verifyEntry(ctx, i, e)
			out[i] = r
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// Reference verifies every image entry of the index ref names (a registry
// reference or an oci:DIR[:TAG] layout), or the single image it names.
// Entries that are no image for a host (attestations, nested indexes) get
// an unverified result saying so.
func Reference(ctx context.Context, c *remote.Client, ref string, opts ...Option) (*Report, error) {
	m, err := c.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	rep := &Report{Reference: ref, Digest: m.Digest, manifest: m}
	var descs []v1.Descriptor
	if m.IsIndex() {
		im, err := m.IndexManifest()
		if err != nil {
			return nil, err
		}
		descs = im.Manifests
	} else {
		// The config's platform, read within verify's bound (an entry
		// over it is unverified by verifyEntry).
		d := m.Descriptor()
		img, err := c.Image(ctx, m, m.Digest)
		if err != nil {
			return nil, err
		}
		cf, err := readConfig(img)
		var big *configTooLarge
		switch {
		case errors.As(err, &big):
		case err != nil:
			return nil, err
		default:
			d.Platform = cf.Platform()
		}
		descs = []v1.Descriptor{d}
	}
	var entries []Entry
	var at []int
	rep.Results = make([]*Result, len(descs))
	for i, d := range descs {
		if why := notAnImage(d); why != "" {
			rep.Results[i] = &Result{Index: i, Digest: d.Digest, Verdict: Unverified, Reasons: []string{why}}
			continue
		}
		img, err := c.Image(ctx, m, d.Digest)
		if err != nil {
			return nil, fmt.Errorf("entry %d (%s): %w", i, d.Digest, err)
		}
		entries = append(entries, Entry{Descriptor: d, Image: img})
		at = append(at, i)
	}
	results, err := Images(ctx, entries, opts...)
	if err != nil {
		return nil, err
	}
	for k, r := range results {
		r.Index = at[k]
		rep.Results[at[k]] = r
	}
	return rep, nil
}

// notAnImage says why an index entry is no image to verify, "" when it is one.
func notAnImage(d v1.Descriptor) string {
	switch {
	case d.MediaType.IsIndex():
		return "a nested index, not an image"
	case d.Annotations["vnd.docker.reference.type"] == "attestation-manifest":
		return "an attestation manifest, not an image to run"
	case d.Platform != nil && (d.Platform.OS == "unknown" || d.Platform.Architecture == "unknown"):
		return "platform unknown/unknown: an artifact, not an image to run"
	case !d.MediaType.IsImage() && d.MediaType != "":
		return fmt.Sprintf("a %s, not an image", d.MediaType)
	}
	return ""
}
