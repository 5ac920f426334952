package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"sigs.k8s.io/yaml"

	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/match"
	"github.com/tailor-dev/tailor/nfd"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/resolve/resolvetest"
)

// syntheticNodes adds to the fleet a node for every catalog target (its
// catalog features) and a grid of NVIDIA GPUs and drivers, so every
// requirement meets nodes on both sides of its edge.
func syntheticNodes(t *testing.T, nodes []Node, profiles map[string]*profile.Profile) ([]Node, map[string]*profile.Profile) {
	t.Helper()
	add := func(name string, p *profile.Profile) {
		labels, _ := nfd.Labels(p)
		labels[nfd.KeyKubeArch], labels[nfd.KeyKubeOS] = p.Architecture, "linux"
		nodes = append(nodes, Node{Name: name, Labels: labels})
		profiles[name] = p
	}
	for _, target := range catalog.Names() {
		p, err := profile.New(target)
		if err != nil {
			t.Fatal(err)
		}
		add("target-"+target, p)
	}
	for _, cc := range []string{"3.5", "7.0", "8.0", "8.6", "8.9", "9.0", "10.0", "12.0", "7.5+9.0", "8.0+8.6"} {
		for _, gpuDriver := range []string{"driver=418.39", "driver=525.60.12", "driver=525.60.13", "driver=570.26", "driver=580.65.06", "cuda=11.8", "cuda=12.4", ""} {
			for _, cpu := range []string{"x86_64_v4", "neoverse_v2"} {
				spec := fmt.Sprintf("cpu=%s,gpu=%s", cpu, cc)
				if gpuDriver != "" {
					spec += "," + gpuDriver
				}
				p, err := profile.ParseSpec(spec)
				if err != nil {
					t.Fatal(err)
				}
				add(spec, p)
			}
		}
	}
	for _, spec := range []string{"cpu=zen,gpu=gfx90a", "cpu=zen4,gpu=gfx942,label.fabric=infiniband", "cpu=neoverse_n2,gpu=gfx942,label.fabric=infiniband", "cpu=haswell,label.mpi=openmpi", "cpu=haswell,label.mpi=mpich"} {
		p, err := profile.ParseSpec(spec)
		if err != nil {
			t.Fatal(err)
		}
		add(spec, p)
	}
	return nodes, profiles
}

// TestAffinityExact: for every entry of the test indexes on its own, and
// for each whole index, the affinity admits a node exactly when match
// fits the profile its labels were written from.
func TestAffinityExact(t *testing.T) {
	nodes, profiles := testFleet(t)
	nodes, profiles = syntheticNodes(t, nodes, profiles)
	for _, set := range [][]resolvetest.Variant{mixed, noGeneric} {
		idx, _, err := resolvetest.Index(set)
		if err != nil {
			t.Fatal(err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range im.Manifests {
			checkAffinity(t, set[i].Name, []v1.Descriptor{d}, nodes, profiles)
		}
		checkAffinity(t, "index of "+set[0].Name+"...", im.Manifests, nodes, profiles)
	}
}

func checkAffinity(t *testing.T, name string, descs []v1.Descriptor, nodes []Node, profiles map[string]*profile.Profile) {
	t.Helper()
	a, err := AffinityOf(descs)
	if errors.Is(err, ErrNoNode) {
		a = &Affinity{}
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	admitted := 0
	for _, n := range nodes {
		cands, err := match.Match(descs, profiles[n.Name])
		if err != nil {
			t.Fatal(err)
		}
		fits := len(cands) > 0 && cands[0].Fits
		if got := a.Admits(n.Labels); got != fits {
			t.Errorf("%s: node %s: affinity admits %v, match fits %v\n%s", name, n.Name, got, fits, terms(a))
		}
		if fits {
			admitted++
		}
	}
	t.Logf("%s: %d of %d nodes, %d terms", name, admitted, len(nodes), len(a.Terms))
}

func terms(a *Affinity) string {
	var b strings.Builder
	for _, tm := range a.Terms {
		fmt.Fprintf(&b, "  %v\n", tm.MatchExpressions)
	}
	return b.String()
}

func TestAffinityYAML(t *testing.T) {
	c, _, ref := pushIndexes(t)
	a, err := AffinityFor(context.Background(), c, ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Generic) != 0 {
		t.Errorf("noGeneric index: generic architectures %v", a.Generic)
	}
	out, err := a.YAML()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Affinity struct {
			NodeAffinity struct {
				Required struct {
					Terms []Term `json:"nodeSelectorTerms"`
				} `json:"requiredDuringSchedulingIgnoredDuringExecution"`
			} `json:"nodeAffinity"`
		} `json:"affinity"`
	}
	if err := yaml.UnmarshalStrict(out, &doc); err != nil {
		t.Fatalf("YAML does not read back: %v\n%s", err, out)
	}
	if got := doc.Affinity.NodeAffinity.Required.Terms; len(got) != len(a.Terms) || len(got) == 0 {
		t.Errorf("YAML has %d terms, want %d:\n%s", len(got), len(a.Terms), out)
	}
	for _, want := range []string{"tailor.dev/cpu.target.zen4", "operator: Exists", "tailor.dev/label.mpi", "tailor.dev/gpu.nvidia.cc.9"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("YAML lacks %q:\n%s", want, out)
		}
	}
}

func TestAffinityGenericAndErrors(t *testing.T) {
	idx, _, err := resolvetest.Index(mixed)
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	a, err := AffinityOf(im.Manifests)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(a.Generic, ",") != "amd64,arm64,ppc64le" {
		t.Errorf("generic architectures %v, want amd64, arm64, ppc64le", a.Generic)
	}
	// An unlabelled amd64 node runs the generic entry.
	if !a.Admits(map[string]string{nfd.KeyKubeArch: "amd64", nfd.KeyKubeOS: "linux"}) {
		t.Errorf("an unlabelled amd64 node is not admitted though the index has a generic amd64 entry")
	}
	win := v1.Descriptor{Platform: &v1.Platform{OS: "windows", Architecture: "amd64"}}
	if _, err := AffinityOf([]v1.Descriptor{win}); !errors.Is(err, ErrNoNode) {
		t.Errorf("windows-only index: err %v, want ErrNoNode", err)
	}
	bad := v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}, Annotations: map[string]string{"dev.tailor.cpu.target": "pentium9"}}
	if _, err := AffinityOf([]v1.Descriptor{bad}); err == nil || !strings.Contains(err.Error(), "entry 0") {
		t.Errorf("malformed entry: err %v, want one naming entry 0", err)
	}
}
