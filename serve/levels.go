package serve

import (
	"maps"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/match"
	"github.com/tailor-dev/tailor/requirement"
)

// levelEntries are the entries a tailored answer lists after the chosen
// one (whose platform is reduced to os/arch) in the chosen entry's
// os/arch, so that a client that asks for a platform variant itself finds
// one:
//
//   - the chosen entry again, with its level's variant (linux/amd64/v4 for
//     an icelake build): clients that detect the host's level and prefer it
//     (classic Docker 28: linux/amd64/v4 on such a host, then v3, v2, v1)
//     still get the tailored build, as do clients that ask for that level;
//   - each level-only entry of a lower level of the chosen target's lineage,
//     as published (x86_64_v3 as linux/amd64/v3): `docker pull --platform
//     linux/amd64/v3` (docker 20.10 wants the variant exactly, containerd
//     and podman prefer it) gets that build.
//
// Levels above the chosen entry's are left out: the profile chose below
// them, and a client whose matcher ranks its own level first would pass
// the tailored build over for them. Docker 20.10, containerd and podman
// without --platform want linux/amd64 and get the first entry of it, the
// tailored one. The result depends on idx and the chosen entry only, as
// every tailored answer must.
func levelEntries(idx *v1.IndexManifest, chosen int, target string) []v1.Descriptor {
	t, err := catalog.Lookup(target)
	if err != nil {
		return nil // generic or unknown: no level below it
	}
	sel := idx.Manifests[chosen]
	group := match.PlatformKey(sel.Platform)
	var out []v1.Descriptor
	own := t.Variant()
	if own != "" && !baseVariant(sel.Platform.Architecture, own) {
		d := sel
		d.Platform = &v1.Platform{OS: sel.Platform.OS, Architecture: sel.Platform.Architecture, Variant: own}
		d.Annotations = maps.Clone(sel.Annotations)
		out = append(out, d)
	}
	lineage := t.Lineage()
	seen := map[string]bool{own: true}
	for j, d := range idx.Manifests {
		if j == chosen || d.Platform == nil || match.PlatformKey(d.Platform) != group {
			continue
		}
		v := d.Platform.Variant
		if v == "" || seen[v] || baseVariant(d.Platform.Architecture, v) {
			continue
		}
		r, err := requirement.FromDescriptor(d)
		if err != nil || !r.IsLevelOnly() || !slices.Contains(lineage, r.Target) {
			continue
		}
		lt, err := catalog.Lookup(r.Target)
		if err != nil || lt.Variant() != v {
			continue
		}
		seen[v] = true
		out = append(out, d)
	}
	return out
}

// baseVariant reports whether variant means an architecture's base level,
// which clients normalise away (amd64/v1, arm64/v8).
func baseVariant(arch, variant string) bool {
	switch arch {
	case "amd64", "x86_64":
		return variant == "v1"
	case "arm64", "aarch64":
		return variant == "v8"
	}
	return false
}
