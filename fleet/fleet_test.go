package fleet

import (
	"context"
	"errors"
	"testing"

	"github.com/tailor-dev/tailor/match"
	"github.com/tailor-dev/tailor/resolve"
)

// TestPlanAgreesWithResolve: for every node of a fleet of real CPUs (the
// corpus) and GPU nodes, the build Plan names from the node's labels is the
// one resolve names from the profile the labels were written from.
func TestPlanAgreesWithResolve(t *testing.T) {
	ctx := context.Background()
	nodes, profiles := testFleet(t)
	c, mixedRef, noGenericRef := pushIndexes(t)
	refs := []string{mixedRef, noGenericRef}
	pls, err := Plan(ctx, c, refs, nodes)
	if err != nil {
		t.Fatal(err)
	}
	if len(pls) != len(nodes)*len(refs) {
		t.Fatalf("%d placements, want %d", len(pls), len(nodes)*len(refs))
	}
	fits, none := 0, 0
	targets := map[string]bool{}
	for _, pl := range pls {
		res, err := resolve.Resolve(ctx, c, pl.Image, profiles[pl.Node])
		var nm *match.NoMatchError
		switch {
		case errors.As(err, &nm):
			none++
			if pl.Fits() {
				t.Errorf("%s %s: fleet gives %s, resolve finds nothing fits", pl.Node, pl.Image, pl.Digest)
			}
			if pl.Why == "" || pl.Target != "" || pl.Entry != nil {
				t.Errorf("%s %s: no fit but why %q, target %q", pl.Node, pl.Image, pl.Why, pl.Target)
			}
		case err != nil:
			t.Fatal(err)
		default:
			fits++
			targets[pl.Target] = true
			if !pl.Fits() || *pl.Digest != res.Digest || pl.Reference != res.Reference {
				t.Errorf("%s %s: fleet gives %v (%s), resolve %s (%s)", pl.Node, pl.Image, pl.Digest, pl.Target, res.Digest, res.Chosen.Reqs)
			}
		}
	}
	// The fleet must exercise both outcomes and many different builds.
	if fits < len(nodes) || none < 5 || len(targets) < 12 {
		t.Errorf("fits %d, none %d, distinct targets %d: the test fleet does not spread", fits, none, len(targets))
	}
	t.Logf("%d nodes, %d fits, %d none, targets %v", len(nodes), fits, none, targets)
}

func TestPlanLabelSources(t *testing.T) {
	c, mixedRef, _ := pushIndexes(t)
	nodes := []Node{
		{Name: "bare", Labels: map[string]string{"kubernetes.io/arch": "amd64"}},
		{Name: "nfd-only", Labels: map[string]string{"kubernetes.io/arch": "amd64",
			"feature.node.kubernetes.io/cpu-cpuid.AVX512F": "true", "feature.node.kubernetes.io/cpu-cpuid.AVX512BW": "true",
			"feature.node.kubernetes.io/cpu-cpuid.AVX512FP16": "true"}},
		{Name: "broken", Labels: map[string]string{"tailor.dev/cpu.target": "pentium9"}},
		{Name: "unlabelled"},
	}
	pls, err := Plan(context.Background(), c, []string{mixedRef}, nodes)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"bare": "generic", "nfd-only": "features=avx512_fp16", "broken": "", "unlabelled": ""}
	for _, pl := range pls {
		if pl.Target != want[pl.Node] {
			t.Errorf("%s: target %q (%s), want %q", pl.Node, pl.Target, pl.Why, want[pl.Node])
		}
		if pl.Node == "nfd-only" && pl.Requirements != "features=avx512_fp16" {
			t.Errorf("nfd-only: requirements %q, want the avx512_fp16 build NFD's labels admit", pl.Requirements)
		}
		if (pl.Node == "broken" || pl.Node == "unlabelled") && (pl.Fits() || pl.Why == "") {
			t.Errorf("%s: %+v, want no fit with a reason", pl.Node, pl)
		}
	}
}

func TestCompare(t *testing.T) {
	nodes, _ := testFleet(t)
	c, mixedRef, noGenericRef := pushIndexes(t)
	changes, err := Compare(context.Background(), c, mixedRef, noGenericRef, nodes)
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	for _, ch := range changes {
		differ := ch.Old.Fits() != ch.New.Fits() || (ch.Old.Fits() && *ch.Old.Digest != *ch.New.Digest)
		if ch.Changed != differ {
			t.Errorf("%s: changed %v, but old %v new %v", ch.Node, ch.Changed, ch.Old.Digest, ch.New.Digest)
		}
		if ch.Changed {
			changed++
		}
	}
	if changed == 0 || changed == len(changes) {
		t.Errorf("%d of %d nodes change: want some, not all", changed, len(changes))
	}
	same, err := Compare(context.Background(), c, mixedRef, mixedRef, nodes)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range same {
		if ch.Changed {
			t.Errorf("%s changes between an index and itself", ch.Node)
		}
	}
}
