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

// Annotations tailor writes on a tailored index.
const (
	// AnnotationSelectedFrom is the digest of the upstream entry chosen.
	AnnotationSelectedFrom = "dev.tailor.selected.from"
	// AnnotationSelectedProfile is the profile spec it was chosen for.
	AnnotationSelectedProfile = "dev.tailor.selected.profile"
	// AnnotationSelectedTarget is the chosen entry's CPU target ("generic" for none).
	AnnotationSelectedTarget = "dev.tailor.selected.target"
	// AnnotationSourceIndex is the digest of the upstream index.
	AnnotationSourceIndex = "dev.tailor.source.index"
)

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

// tailor answers m for profile p: m itself when it is no index or an
// index tailor cannot tell apart, else the tailored index of DESIGN.md §4.
func tailor(m *manifest, p *profile.Profile) (*tailored, error) {
	if !isIndex(m.mediaType) {
		return &tailored{manifest: m, passthrough: true}, nil
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(m.body))
	if err != nil {
		return nil, newError(http.StatusBadGateway, codeManifestInvalid, "malformed index upstream", err.Error())
	}
	if !distinguishable(idx.Manifests) {
		return &tailored{manifest: m, passthrough: true}, nil
	}
	best, _, err := match.Best(idx.Manifests, p, match.Lenient())
	if err != nil {
		var nm *match.NoMatchError
		if errors.As(err, &nm) {
			return nil, newError(http.StatusNotFound, codeManifestUnknown,
				"no entry of the index runs on profile "+p.String(), err.Error())
		}
		return nil, newError(http.StatusBadRequest, codeManifestUnknown, "cannot match profile "+p.String(), err.Error())
	}
	target := best.Reqs.Target
	if target == "" {
		target = "generic"
	}
	out := rewrite(idx, best.Index, p.String(), target, m.digest)
	body, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	t := &manifest{body: body, mediaType: m.mediaType, digest: digest.FromBytes(body)}
	return &tailored{manifest: t, selected: idx.Manifests[best.Index], target: target}, nil
}

// rewrite keeps, of the entries of the chosen entry's os/arch, only the
// chosen one (platform reduced to os/arch, selection annotated), at the
// place of the first of them; other entries stay as they are.
func rewrite(idx *v1.IndexManifest, chosen int, spec, target string, source digest.Digest) *v1.IndexManifest {
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
		e.Annotations[AnnotationSelectedProfile] = spec
		e.Annotations[AnnotationSelectedTarget] = target
		out.Manifests = append(out.Manifests, e)
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
