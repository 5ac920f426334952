package stack

import (
	"context"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/requirement"
)

// Difference is what changed between two published indexes of a stack.
type Difference struct {
	Old string `json:"old"`
	New string `json:"new"`
	// Added and Removed are entries only in New, only in Old.
	Added   []EntryRef `json:"added"`
	Removed []EntryRef `json:"removed"`
	// Changed are entries in both whose image differs, with the
	// components whose layers differ.
	Changed []Change `json:"changed"`
	// Unchanged are entries whose image is the same.
	Unchanged []EntryRef `json:"unchanged"`
}

// EntryRef names an entry of an index.
type EntryRef struct {
	// Name is the entry's name (the AnnotationEntry of its manifest, or
	// its requirements when it has none).
	Name string `json:"name"`
	// Key is what identifies the entry across indexes: its platform and
	// requirements.
	Key    string  `json:"key"`
	Digest v1.Hash `json:"digest"`
}

// Change is an entry whose image changed.
type Change struct {
	EntryRef
	Old v1.Hash `json:"old_digest"`
	// Components are those whose layers differ, in layer order; "config"
	// when only the image config did.
	Components []string `json:"components"`
}

// Diff compares the indexes old and new (references c reads: registry
// references or OCI layouts, oci:DIR[:TAG]) entry by
// entry: an entry is the same entry in both when its platform and
// requirements are; its components are the layers' AnnotationComponent
// (the base image's layers are the manifest's AnnotationBase).
func Diff(ctx context.Context, c *remote.Client, old, new string) (*Difference, error) {
	oldEntries, oldRef, err := entries(ctx, c, old)
	if err != nil {
		return nil, err
	}
	newEntries, newRef, err := entries(ctx, c, new)
	if err != nil {
		return nil, err
	}
	d := &Difference{Old: oldRef, New: newRef}
	for _, n := range newEntries {
		i := slices.IndexFunc(oldEntries, func(o indexEntry) bool { return o.key == n.key })
		if i < 0 {
			d.Added = append(d.Added, n.ref())
			continue
		}
		o := oldEntries[i]
		if o.digest == n.digest {
			d.Unchanged = append(d.Unchanged, n.ref())
			continue
		}
		ch := Change{EntryRef: n.ref(), Old: o.digest}
		ch.Components = changedComponents(o.layers, n.layers)
		d.Changed = append(d.Changed, ch)
	}
	for _, o := range oldEntries {
		if !slices.ContainsFunc(newEntries, func(n indexEntry) bool { return n.key == o.key }) {
			d.Removed = append(d.Removed, o.ref())
		}
	}
	return d, nil
}

// indexEntry is one entry of an index, its image's layers by component.
type indexEntry struct {
	name, key string
	digest    v1.Hash
	layers    []componentLayer
}

func (e indexEntry) ref() EntryRef { return EntryRef{Name: e.name, Key: e.key, Digest: e.digest} }

// componentLayer is one layer of an image and the component it is of.
type componentLayer struct {
	component string
	digest    v1.Hash
}

// entries reads the index ref and the manifest of each of its images.
func entries(ctx context.Context, c *remote.Client, ref string) ([]indexEntry, string, error) {
	m, err := c.Get(ctx, ref)
	if err != nil {
		return nil, "", err
	}
	im, err := m.IndexManifest()
	if err != nil {
		return nil, "", err
	}
	var out []indexEntry
	for _, d := range im.Manifests {
		if d.Platform != nil && d.Platform.OS == "unknown" {
			continue // an attestation, no entry
		}
		r, err := requirement.FromDescriptor(d)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", ref, err)
		}
		e := indexEntry{key: platformKey(d.Platform) + " " + r.String(), digest: d.Digest}
		child, err := c.Get(ctx, byDigest(m, d.Digest))
		if err != nil {
			return nil, "", err
		}
		mf, err := child.ImageManifest()
		if err != nil {
			return nil, "", err
		}
		e.name = mf.Annotations[AnnotationEntry]
		if e.name == "" {
			e.name = e.key
		}
		e.layers = layersOf(mf)
		out = append(out, e)
	}
	return out, byDigest(m, m.Digest), nil
}

// byDigest names the manifest with digest h where m came from: its
// registry repository or its OCI layout.
func byDigest(m *remote.Manifest, h v1.Hash) string {
	if m.Ref != nil {
		return m.Ref.Context().Digest(h.String()).String()
	}
	l, err := remote.ParseLayoutRef(m.Source)
	if err != nil {
		return m.Source + "@" + h.String() // not reached: m was read by this reference
	}
	return l.Repository() + "@" + h.String()
}

func platformKey(p *v1.Platform) string {
	if p == nil {
		return "?"
	}
	return p.OS + "/" + p.Architecture
}

// layersOf names the component of each layer of mf: its
// AnnotationComponent; the base image's (unannotated, first) layers are
// the manifest's AnnotationBase, or "layer N" for an image tailor did not
// build.
func layersOf(mf *v1.Manifest) []componentLayer {
	out := make([]componentLayer, len(mf.Layers))
	for i, l := range mf.Layers {
		name := l.Annotations[AnnotationComponent]
		switch {
		case name != "":
		case mf.Annotations[AnnotationBase] != "":
			name = mf.Annotations[AnnotationBase]
		default:
			name = fmt.Sprintf("layer %d", i+1)
		}
		out[i] = componentLayer{component: name, digest: l.Digest}
	}
	return out
}

// changedComponents lists, in layer order, the components whose layers
// differ between a and b (present in one only, or other digests), or
// "config" when every layer is the same.
func changedComponents(a, b []componentLayer) []string {
	var order []string
	byName := func(ls []componentLayer) map[string]string {
		m := map[string]string{}
		for _, l := range ls {
			if !slices.Contains(order, l.component) {
				order = append(order, l.component)
			}
			m[l.component] += l.digest.String() + ","
		}
		return m
	}
	ma, mb := byName(a), byName(b)
	var out []string
	for _, c := range order {
		if ma[c] != mb[c] {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		out = []string{"config"}
	}
	return out
}

// String is the difference for people, one line per entry that changed.
func (d *Difference) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "old %s\nnew %s\n", d.Old, d.New)
	for _, e := range d.Added {
		fmt.Fprintf(&b, "added      %s\n", e.Name)
	}
	for _, e := range d.Removed {
		fmt.Fprintf(&b, "removed    %s\n", e.Name)
	}
	for _, c := range d.Changed {
		fmt.Fprintf(&b, "changed    %s: %s\n", c.Name, strings.Join(c.Components, ", "))
	}
	fmt.Fprintf(&b, "unchanged  %d entries\n", len(d.Unchanged))
	return b.String()
}
