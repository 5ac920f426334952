package match

import (
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestVerified: what `tailor verify --record` found an entry needs holds
// besides what it declares; a lie recorded as unknown fits nowhere.
func TestVerified(t *testing.T) {
	entries := []v1.Descriptor{
		desc("generic", "linux/amd64", ""),
		desc("v4 as haswell", "linux/amd64", "cpu.target=haswell;verified=mislabeled;verified.needs=features=avx+avx2+fma+avx512f"),
		desc("v3 as nehalem", "linux/amd64", "cpu.target=nehalem;verified=mislabeled;verified.needs=features=avx+avx2+fma"),
		desc("z v3 plain", "linux/amd64", "verified=mislabeled;verified.needs=cpu=x86_64_v3"),
		desc("sigill, unknown", "linux/amd64", "cpu.target=westmere;verified=mislabeled"),
		desc("honest v3", "linux/amd64/v3", "verified=ok;verified.needs=features=avx+avx2+fma"),
	}
	cases := map[string][]int{
		// Nehalem gets the generic build: every other needs more.
		"cpu=nehalem": {0},
		// Haswell: never the AVX-512 build labelled haswell.
		"cpu=haswell": {2, 5, 3, 0},
		// Skylake-X runs everything that is not an unknown lie.
		"cpu=skylake_avx512": {1, 2, 5, 3, 0},
	}
	for spec, want := range cases {
		cands, err := Match(entries, mustProfile(t, spec))
		if err != nil {
			t.Fatal(err)
		}
		got := fitting(cands)
		slices.Sort(got)
		w := slices.Clone(want)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("%s: fitting %v, want %v", spec, fitting(cands), want)
		}
		for _, c := range cands {
			if c.Index == 4 && (c.Fits || !strings.Contains(failedDetails(c), "what it needs is unknown")) {
				t.Errorf("%s: unknown lie: %s", spec, details(c))
			}
			if c.Index == 1 && spec == "cpu=haswell" && !strings.Contains(failedDetails(c), "tailor verify found its code needs features=avx+avx2+fma+avx512f") {
				t.Errorf("haswell explain for the v4 build: %s", failedDetails(c))
			}
		}
	}
}

func TestVerifiedMalformed(t *testing.T) {
	for _, ann := range []string{"verified=maybe", "verified=ok;verified.needs=cpu=pentium9000", "verified=ok;verified.needs=cpu=neoverse_n1"} {
		entries := []v1.Descriptor{desc("e", "linux/amd64", ann)}
		if _, err := Match(entries, mustProfile(t, "cpu=haswell")); err == nil {
			t.Errorf("%s: want an error", ann)
		}
		cands, err := Match(entries, mustProfile(t, "cpu=haswell"), Lenient())
		if err != nil || cands[0].Fits {
			t.Errorf("%s lenient: %v, %v", ann, cands, err)
		}
	}
}
