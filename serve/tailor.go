package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/match"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/requirement"
)

// Annotations tailor writes on a tailored index. None of them depends on
// how the client spelled its profile: a tailored answer is a function of
// the source index and the chosen entry alone, so one index has at most
// one answer per entry.
const (
	// AnnotationSelectedFrom is the digest of the upstream entry chosen.
	AnnotationSelectedFrom = "dev.tailor.selected.from"
	// AnnotationSelectedTarget is the chosen entry's CPU target ("generic" for none).
	AnnotationSelectedTarget = requirement.AnnotationSelectedTarget
	// AnnotationSourceIndex is the digest of the upstream index. Publishing
	// commands refuse an index that carries it: it is an answer, not a
	// published index.
	AnnotationSourceIndex = requirement.AnnotationSourceIndex
)

// source is an upstream index tailor can tell entries of apart, parsed.
type source struct {
	m     *manifest
	idx   *v1.IndexManifest // nil when m passes through untouched
	stale bool              // the upstream failed: m is the tag's last known manifest
}

// tailored is the answer to a manifest-by-tag request for one profile.
type tailored struct {
	// manifest is what is served: the tailored index, or the upstream
	// manifest itself when it passes through.
	manifest *manifest
	// passthrough is true when the upstream manifest is served untouched.
	passthrough bool
	// selected is the upstream entry chosen (zero for a pass-through).
	selected v1.Descriptor
	target   string
}

func isIndex(mediaType string) bool {
	return mediaType == mediaOCIIndex || mediaType == mediaDockerList
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// parseSource reads m: an index tailor can tell entries of apart gets
// its entries parsed, anything else passes through.
func parseSource(m *manifest) (*source, error) {
	if !isIndex(m.mediaType) {
		return &source{m: m}, nil
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(m.body))
	if err != nil {
		return nil, newError(http.StatusBadGateway, codeManifestInvalid, "malformed index upstream", nil)
	}
	if !tailorable(idx) {
		return &source{m: m}, nil
	}
	return &source{m: m, idx: idx}, nil
}

// choose is the entry of src the best for p, its target and its needs.
func choose(src *source, p *profile.Profile) (int, string, requirement.Requirements, error) {
	best, _, err := match.Best(src.idx.Manifests, p, match.Lenient())
	if err != nil {
		var nm *match.NoMatchError
		if errors.As(err, &nm) {
			return 0, "", requirement.Requirements{}, newError(http.StatusNotFound, codeManifestUnknown,
				"no entry of the index runs on profile "+p.String(), err.Error())
		}
		return 0, "", requirement.Requirements{}, newError(http.StatusBadRequest, codeManifestUnknown, "cannot match profile "+p.String(), err.Error())
	}
	target := best.Reqs.Target
	if target == "" {
		target = "generic"
	}
	return best.Index, target, best.Reqs, nil
}

// answer is the tailored index of src with entry chosen (needing needs)
// selected.
func answer(src *source, chosen int, target string, needs requirement.Requirements) (*tailored, error) {
	out := rewrite(src.idx, chosen, target, needs, src.m.digest)
	body, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	t := &manifest{body: body, mediaType: src.m.mediaType, digest: digest.FromBytes(body)}
	return &tailored{manifest: t, selected: src.idx.Manifests[chosen], target: target}, nil
}

// rewrite keeps, of the entries of the chosen entry's os/arch, the chosen
// one (platform reduced to os/arch, selection annotated) at the place of
// the first of them, followed by levelEntries; other entries stay as they
// are. The chosen entry carries its needs as dev.tailor.* annotations,
// whatever encoding the source used (a variant, MetaHub features): its
// platform no longer says them, and a copy of the answer must still match
// only hosts that run it (DESIGN.md §4).
func rewrite(idx *v1.IndexManifest, chosen int, target string, needs requirement.Requirements, source digest.Digest) *v1.IndexManifest {
	sel := idx.Manifests[chosen]
	group := match.PlatformKey(sel.Platform)
	out := &v1.IndexManifest{
		SchemaVersion: idx.SchemaVersion,
		MediaType:     idx.MediaType,
		Subject:       idx.Subject,
		Annotations:   maps.Clone(idx.Annotations),
	}
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	out.Annotations[AnnotationSourceIndex] = source.String()
	placed := false
	for _, d := range idx.Manifests {
		if d.Platform == nil || match.PlatformKey(d.Platform) != group {
			out.Manifests = append(out.Manifests, d)
			continue
		}
		if placed {
			continue
		}
		placed = true
		e := sel
		osName, arch, _ := strings.Cut(group, "/")
		e.Platform = &v1.Platform{OS: osName, Architecture: arch}
		e.Annotations = maps.Clone(sel.Annotations)
		if e.Annotations == nil {
			e.Annotations = map[string]string{}
		}
		maps.Copy(e.Annotations, needs.Annotations())
		e.Annotations[AnnotationSelectedFrom] = sel.Digest.String()
		e.Annotations[AnnotationSelectedTarget] = target
		out.Manifests = append(out.Manifests, e)
		for _, l := range levelEntries(idx, chosen, target) {
			if l.Digest == sel.Digest {
				l.Annotations = e.Annotations
			}
			out.Manifests = append(out.Manifests, l)
		}
	}
	return out
}

// tailorable reports whether an index has anything to match: an entry
// with requirements (or requirements that cannot be read), or the mark of
// a tailored answer. Such an index is matched however many entries it
// has: a one-entry index, a copy of an answer above all, is never passed
// through to a host its entry may not run on. An index of generic builds
// only passes through.
func tailorable(idx *v1.IndexManifest) bool {
	if idx.Annotations[AnnotationSourceIndex] != "" {
		return true
	}
	for _, d := range idx.Manifests {
		r, err := requirement.FromDescriptor(d)
		if err != nil || !r.IsGeneric() {
			return true
		}
	}
	return false
}
