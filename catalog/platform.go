package catalog

import (
	"fmt"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ociArch maps a family root to its OCI/GOARCH architecture name.
var ociArch = map[string]string{
	"x86_64":  "amd64",
	"x86":     "386",
	"aarch64": "arm64",
	"arm":     "arm",
	"ppc64le": "ppc64le",
	"ppc64":   "ppc64",
	"ppcle":   "ppcle",
	"ppc":     "ppc",
	"riscv64": "riscv64",
	"sparc64": "sparc64",
	"sparc":   "sparc",
}

// Architecture is the OCI architecture of t's family (amd64, arm64, ...).
func (t *Target) Architecture() string { return ociArch[t.family] }

// Level is the x86-64 microarchitecture level (1-4) of t: the highest
// x86_64_vN in its lineage. Targets outside the x86_64 family have level 0.
func (t *Target) Level() int {
	if t.family != "x86_64" {
		return 0
	}
	level := 1
	for _, n := range t.Lineage() {
		if rest, ok := strings.CutPrefix(n, "x86_64_v"); ok {
			if v, err := strconv.Atoi(rest); err == nil && v > level {
				level = v
			}
		}
	}
	return level
}

// Variant is the OCI platform variant t's code needs at most: the x86-64
// level on amd64 ("v3"; empty for v1, as containerd normalises it), the
// highest Arm architecture version in t's lineage on arm64 ("v8", "v8.2",
// "v9.0"), empty elsewhere.
func (t *Target) Variant() string {
	switch t.family {
	case "x86_64":
		if l := t.Level(); l > 1 {
			return "v" + strconv.Itoa(l)
		}
	case "aarch64":
		return t.armVersion()
	}
	return ""
}

// armVersion is "v8" for plain aarch64, else the newest armvX.Ya ancestor.
func (t *Target) armVersion() string {
	best, bestMajor, bestMinor := "v8", 8, 0
	for _, n := range t.Lineage() {
		rest, ok := strings.CutPrefix(n, "armv")
		if !ok {
			continue
		}
		rest = strings.TrimSuffix(rest, "a")
		majS, minS, _ := strings.Cut(rest, ".")
		maj, err1 := strconv.Atoi(majS)
		minor, err2 := strconv.Atoi(minS)
		if err1 != nil || err2 != nil {
			continue
		}
		if maj > bestMajor || (maj == bestMajor && minor > bestMinor) {
			best, bestMajor, bestMinor = "v"+majS+"."+minS, maj, minor
		}
	}
	return best
}

// Platform is the OCI platform of a Linux image built for t
// (linux/amd64/v3, linux/arm64/v8.2, linux/ppc64le).
func (t *Target) Platform() v1.Platform {
	return v1.Platform{OS: "linux", Architecture: t.Architecture(), Variant: t.Variant()}
}

// LevelTarget returns the generic target that stands for an OCI
// architecture and variant: amd64/v3 is x86_64_v3, arm64/v8.2 is armv8.2a,
// arm64 (or v8) is aarch64. It is how an index entry that carries only a
// platform variant is read as a CPU requirement.
func LevelTarget(arch, variant string) (*Target, error) {
	var name string
	switch arch {
	case "amd64", "x86_64":
		switch variant {
		case "", "v1":
			name = "x86_64"
		default:
			name = "x86_64_" + variant
		}
	case "arm64", "aarch64":
		switch variant {
		case "", "v8", "v8.0", "8":
			name = "aarch64"
		case "v9", "v9.0":
			name = "armv9.0a"
		default:
			name = "armv" + strings.TrimPrefix(variant, "v") + "a"
		}
	default:
		for fam, a := range ociArch {
			if a == arch && variant == "" {
				name = fam
			}
		}
	}
	if name == "" {
		return nil, fmtUnknownPlatform(arch, variant)
	}
	t, err := Lookup(name)
	if err != nil {
		return nil, fmtUnknownPlatform(arch, variant)
	}
	return t, nil
}

// FamilyOf returns the family root whose OCI architecture is arch
// (arm64 -> aarch64), accepting uname -m spellings too.
func FamilyOf(arch string) (string, bool) {
	switch arch {
	case "x86_64", "aarch64", "ppc64le", "ppc64", "riscv64", "sparc64":
		return arch, true
	}
	for fam, a := range ociArch {
		if a == arch {
			return fam, true
		}
	}
	return "", false
}

func fmtUnknownPlatform(arch, variant string) error {
	p := arch
	if variant != "" {
		p += "/" + variant
	}
	return fmt.Errorf("%w: no catalog target stands for platform %q", ErrUnknownTarget, p)
}
