package match

import (
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/requirement"
)

// FuzzMatch feeds random platforms, annotations and MetaHub features to
// Match: it must never panic, must return one candidate per entry, number
// the fitting ones 1..n first, and a Lenient call must never fail.
func FuzzMatch(f *testing.F) {
	f.Add("linux", "amd64", "v3", "haswell", "avx512f", "sm_80,compute_90", "12.4", "gfx90a", "mpi=openmpi", "cpu:skylake,nvcap:5.2", "cpu=zen3,gpu=8.6,driver=550.54")
	f.Add("linux", "arm64", "v8.2", "neoverse_v2", "", "sm_90a", "", "", "", "", "cpu=neoverse_n2")
	f.Add("unknown", "unknown", "", "", "", "", "", "", "", "", "cpu=haswell")
	f.Add("linux", "x86_64", "v9", "zen9", "a,,b", "sm_1000f", "999.999.999", "gfx", "=x", "nvcap:", "cpu=zen4,gpu=10.3+gfx942")
	f.Fuzz(func(t *testing.T, os, arch, variant, target, features, cuda, cudaVersion, rocm, labels, metahub, host string) {
		p, err := parseHost(host)
		if err != nil {
			t.Skip()
		}
		ann := map[string]string{}
		for k, v := range map[string]string{
			requirement.AnnotationCPUTarget: target, requirement.AnnotationCPUFeatures: features,
			requirement.AnnotationCUDAArch: cuda, requirement.AnnotationCUDAVersion: cudaVersion,
			requirement.AnnotationROCmArch: rocm, requirement.AnnotationRequires: labels,
		} {
			if v != "" {
				ann[k] = v
			}
		}
		plat := &v1.Platform{OS: os, Architecture: arch, Variant: variant}
		if metahub != "" {
			plat.Features = strings.Split(metahub, ",")
		}
		entries := []v1.Descriptor{
			{Platform: plat, Annotations: ann},
			{Platform: plat},
			{Platform: &v1.Platform{OS: os, Architecture: arch, Variant: variant, Features: plat.Features}},
			{Annotations: ann},
		}
		cands, err := Match(entries, p, Lenient())
		if err != nil {
			t.Fatalf("Match(Lenient()) error: %v", err)
		}
		if len(cands) != len(entries) {
			t.Fatalf("Match returned %d candidates for %d entries", len(cands), len(entries))
		}
		for i, c := range cands {
			if c.Fits && c.Rank != i+1 || !c.Fits && c.Rank != 0 || c.Fits != (len(c.Failed()) == 0) {
				t.Fatalf("candidate %d: Fits %v Rank %d with %d failed checks", i, c.Fits, c.Rank, len(c.Failed()))
			}
			if i > 0 && c.Fits && !cands[i-1].Fits {
				t.Fatalf("candidate %d fits after one that does not", i)
			}
		}
		_, _ = Match(entries, p)
		_, _, _ = Best(entries, p, WithAvoid("avx512f"), WithPrefer(target))
	})
}
