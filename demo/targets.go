package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	"github.com/tailor-dev/tailor/build"
	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/examples/forces"
)

// command builds the example statically (so the image runs from scratch),
// and dynamically where no static libc is installed.
const command = "$CC $CFLAGS -O3 -static -DTAILOR_TARGET=$TAILOR_TARGET -o $TAILOR_OUT/forces forces.c -lm" +
	" || $CC $CFLAGS -O3 -DTAILOR_TARGET=$TAILOR_TARGET -o $TAILOR_OUT/forces forces.c -lm"

// levels are the generic targets of arch the demo builds: the family
// root (the generic entry, required) and, on amd64 and arm64, levels
// (optional).
func levels(arch string) []string {
	switch arch {
	case "amd64":
		return []string{"x86_64", "x86_64_v2", "x86_64_v3", "x86_64_v4"}
	case "arm64":
		return []string{"aarch64", "armv8.2a", "armv8.4a", "armv9.0a"}
	}
	if fam, ok := catalog.FamilyOf(arch); ok {
		return []string{fam}
	}
	return []string{arch}
}

// namedCandidates are the named microarchitectures of host's lineage
// (host first, then its ancestors, most specific first): the builds a
// publisher would add for machines like this one.
func namedCandidates(host *catalog.Target) []string {
	var out []string
	for _, n := range host.Lineage() {
		if t, err := catalog.Lookup(n); err == nil && !t.Generic() {
			out = append(out, n)
		}
	}
	return out
}

// chooseNamed keeps, of the candidates the local compiler can build
// (buildable), the most specific one of each platform variant (x86-64
// level, Arm version): for an icelake host icelake (v4), skylake (v3),
// ivybridge (v2) and core2 (v1). One per level keeps the demo short and
// still shows a named build beside every level it refines.
func chooseNamed(candidates []string, buildable func(string) bool) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range candidates {
		t, err := catalog.Lookup(n)
		if err != nil || !buildable(n) || seen[t.Variant()] {
			continue
		}
		seen[t.Variant()] = true
		out = append(out, n)
	}
	return out
}

// demoConfig is the build file of the demo: forces from src for the
// levels and the named targets, every one but the generic optional.
func demoConfig(src string, levels, named []string) *build.Config {
	cfg := &build.Config{
		Name:       "forces",
		Base:       "scratch",
		Command:    command,
		Context:    src,
		Output:     "out",
		Prefix:     "/",
		Entrypoint: []string{"/forces"},
	}
	for i, l := range slices.Concat(levels, named) {
		cfg.Targets = append(cfg.Targets, build.TargetSpec{CPU: l, Optional: i > 0})
	}
	return cfg
}

// writeSource puts the example's source into dir/src.
func writeSource(dir string) (string, error) {
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	code, err := forces.FS.ReadFile("src/forces.c")
	if err != nil {
		return "", err
	}
	return src, os.WriteFile(filepath.Join(src, "forces.c"), code, 0o644)
}

// targetSet is what the demo builds.
type targetSet struct {
	levels, named []string
	plan          *build.Plan
}

// planTargets plans the levels of this architecture and the named
// targets of host's lineage, asking the build (the one judge of what the
// local compiler knows, from the catalog's flags per compiler version)
// which it can build, then keeps one named target per level.
func planTargets(ctx context.Context, src string, host *catalog.Target, opts []build.Option) (*targetSet, error) {
	ts := &targetSet{levels: levels(runtime.GOARCH)}
	var cands []string
	if host.Architecture() == runtime.GOARCH {
		cands = namedCandidates(host)
	}
	first, err := build.NewPlan(ctx, demoConfig(src, ts.levels, cands), opts...)
	if err != nil {
		return nil, fmt.Errorf("planning the example: %w", err)
	}
	skipped := map[string]bool{}
	for _, s := range first.Skipped {
		skipped[s.Value] = true
	}
	ts.named = chooseNamed(cands, func(n string) bool { return !skipped[n] })
	if ts.plan, err = build.NewPlan(ctx, demoConfig(src, ts.levels, ts.named), opts...); err != nil {
		return nil, fmt.Errorf("planning the example: %w", err)
	}
	return ts, nil
}
