package match

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/profile"
)

// Platforms judges bare platforms (os/architecture/variant, no
// annotations) for one host, as Match judges an entry's platform. It reads
// only immutable host facts, so it is safe for concurrent use.
type Platforms struct{ h *host }

// NewPlatforms returns the platform judge of host p.
func NewPlatforms(p *profile.Profile) (*Platforms, error) {
	h, err := newHost(p)
	if err != nil {
		return nil, err
	}
	return &Platforms{h}, nil
}

// Fits reports whether code for pl runs on the host: its os/architecture
// is the host's (after containerd's normalisation: x86_64 is amd64,
// aarch64 arm64) and its variant is none or at or below the host's level
// (amd64 v1-v4, arm64 v8.x/v9.x).
func (ps *Platforms) Fits(pl v1.Platform) bool {
	os, arch, variant := normalize(pl)
	ok, _ := ps.h.platformFits(os, arch, variant)
	return ok
}

// Level is the catalog depth of pl's level target (x86_64_v3 for
// amd64/v3); 0 for a platform without a known level.
func (ps *Platforms) Level(pl v1.Platform) int {
	_, arch, variant := normalize(pl)
	t, err := catalog.LevelTarget(arch, variant)
	if err != nil {
		return 0
	}
	return t.Depth()
}

// normalize spells pl as the host does.
func normalize(pl v1.Platform) (os, arch, variant string) {
	arch = normalizeArch(pl.Architecture)
	return normalizeOS(pl.OS), arch, normalizeVariant(arch, pl.Variant)
}
