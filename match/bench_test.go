package match

import (
	"fmt"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// index10000 is an index of 10,000 entries: generic, level-only,
// named-target, CUDA (several archs and toolkit versions), ROCm, labelled
// and MetaHub-style entries, for amd64 and arm64, each with its own digest.
func index10000() []v1.Descriptor {
	targets := []string{"haswell", "skylake", "skylake_avx512", "icelake", "sapphirerapids", "zen2", "zen3", "zen4", "x86_64_v3", "broadwell"}
	cudas := []string{"sm_80", "sm_86", "sm_90", "sm_90a", "sm_80,sm_90,compute_90", "compute_80", "sm_100f"}
	entries := make([]v1.Descriptor, 0, 10000)
	for i := range 10000 {
		seed := fmt.Sprint(i)
		var d v1.Descriptor
		switch i % 8 {
		case 0:
			d = desc(seed, "linux/amd64", "")
		case 1:
			d = desc(seed, fmt.Sprintf("linux/amd64/v%d", 2+i%3), "")
		case 2, 3:
			d = desc(seed, "linux/amd64", "cpu.target="+targets[i%len(targets)])
		case 4:
			d = desc(seed, "linux/amd64", fmt.Sprintf("cpu.target=%s;cuda.arch=%s;cuda.version=12.%d", targets[i%len(targets)], cudas[i%len(cudas)], i%9))
		case 5:
			d = desc(seed, "linux/amd64", "rocm.arch=gfx90a,gfx942;requires=mpi=openmpi")
		case 6:
			d = withFeatures(desc(seed, "linux/amd64", ""), "cpu:"+targets[i%len(targets)], "nvcap:8.0")
		case 7:
			d = desc(seed, "linux/arm64", "cpu.target=neoverse_v2;cuda.arch=sm_90")
		}
		entries = append(entries, d)
	}
	return entries
}

func BenchmarkMatch10000(b *testing.B) {
	entries := index10000()
	p := mustProfile(b, "cpu=sapphirerapids,gpu=9.0,driver=550.54.14,label.mpi=openmpi")
	b.ReportAllocs()
	for b.Loop() {
		cands, err := Match(entries, p)
		if err != nil || !cands[0].Fits {
			b.Fatalf("Match: %v", err)
		}
	}
}
