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
	AnnotationSelectedTarget = "dev.tailor.selected.target"
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
	if !distinguishable(idx.Manifests) {
		return &source{m: m}, nil
	}
	return &source{m: m, idx: idx}, nil
}

// choose is the entry of src the best for p, and its target.
func choose(src *source, p *profile.Profile) (int, string, error) {
	best, _, err := match.Best(src.idx.Manifests, p, match.Lenient())
	if err != nil {
		var nm *match.NoMatchError
		if errors.As(err, &nm) {
			return 0, "", newError(http.StatusNotFound, codeManifestUnknown,
				"no entry of the index runs on profile "+p.String(), err.Error())
		}
		return 0, "", newError(http.StatusBadRequest, codeManifestUnknown, "cannot match profile "+p.String(), err.Error())
	}
	target := best.Reqs.Target
	if target == "" {
		target = "generic"
	}
	return best.Index, target, nil
}

// answer is the tailored index of src with entry chosen selected.
func answer(src *source, chosen int, target string) (*tailored, error) {
	out := rewrite(src.idx, chosen, target, src.m.digest)
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
// are.
func rewrite(idx *v1.IndexManifest, chosen int, target string, source digest.Digest) *v1.IndexManifest {
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

// distinguishable reports whether some os/arch of the index has entries
// with different requirements: only then is there anything to tailor.
func distinguishable(entries []v1.Descriptor) bool {
	seen := map[string]string{}
	for _, d := range entries {
		key := match.PlatformKey(d.Platform)
		r, err := requirement.FromDescriptor(d)
		req := r.String()
		if err != nil {
			req = "error: " + err.Error()
		} else if r.IsGeneric() {
			req = ""
		}
		if prev, ok := seen[key]; ok && prev != req {
			return true
		}
		seen[key] = req
	}
	return false
}
