package publish

import (
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/requirement"
)

// Annotate returns m with the requirements of the entry whose digest
// starts with digest (sha256:abc... or abc...; it must name exactly one
// entry) replaced by r: its dev.tailor.* annotations rewritten and its
// platform variant set by the level-only rule. The other entries keep
// their requirements, now written as annotations; the result is ordered
// generic first and checked like NewIndex. An index a tailor server cut
// down for one client is refused (ErrTailoredIndex).
func Annotate(m *v1.IndexManifest, digest string, r requirement.Requirements) (*Index, error) {
	if err := checkNotTailored(m); err != nil {
		return nil, err
	}
	i, err := findEntry(m.Manifests, digest)
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, len(m.Manifests))
	for j, d := range m.Manifests {
		e := Entry{Name: d.Digest.String(), Descriptor: d}
		if j == i {
			e.Requirements = r
		} else if !isPassthrough(d) {
			if e.Requirements, err = requirement.FromDescriptor(d); err != nil {
				return nil, err
			}
		}
		entries[j] = e
	}
	return NewIndex(entries, WithAnnotations(m.Annotations))
}

func findEntry(ds []v1.Descriptor, digest string) (int, error) {
	want := digest
	if !strings.Contains(want, ":") {
		want = "sha256:" + want
	}
	found := -1
	for i, d := range ds {
		if strings.HasPrefix(d.Digest.String(), want) {
			if found >= 0 {
				return -1, fmt.Errorf("digest %q names several entries (%s, %s); give more of it", digest, ds[found].Digest, d.Digest)
			}
			found = i
		}
	}
	if found < 0 {
		var have []string
		for _, d := range ds {
			have = append(have, d.Digest.String())
		}
		return -1, fmt.Errorf("no entry of the index has digest %q (entries: %s)", digest, strings.Join(have, ", "))
	}
	return found, nil
}
