package match

import (
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

type fitCase struct {
	name  string
	host  string
	entry v1.Descriptor
	fits  bool
	// why is a substring of the failed checks' details (or, when the entry
	// fits, of all details).
	why string
}

func runFitCases(t *testing.T, cases []fitCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cands, err := Match([]v1.Descriptor{tc.entry}, mustProfile(t, tc.host))
			if err != nil {
				t.Fatalf("Match(%s) error: %v", tc.name, err)
			}
			c := cands[0]
			if c.Fits != tc.fits {
				t.Fatalf("Match(%s on %s).Fits = %v, want %v (%s)", tc.name, tc.host, c.Fits, tc.fits, details(c))
			}
			got := details(c)
			if !tc.fits {
				got = failedDetails(c)
			}
			if !strings.Contains(got, tc.why) {
				t.Errorf("Match(%s on %s) reasons = %q, want them to contain %q", tc.name, tc.host, got, tc.why)
			}
			if tc.fits && c.Rank != 1 || !tc.fits && c.Rank != 0 {
				t.Errorf("Match(%s).Rank = %d with Fits %v", tc.name, c.Rank, c.Fits)
			}
		})
	}
}

func TestMatchPlatform(t *testing.T) {
	runFitCases(t, []fitCase{
		{"generic amd64", "cpu=haswell", desc("a", "linux/amd64", ""), true, "platform linux/amd64 fits host linux/amd64/v3"},
		{"x86_64 spelling", "cpu=haswell", desc("a", "linux/x86_64", ""), true, "fits"},
		{"amd64/v1 is amd64", "cpu=ivybridge", desc("a", "linux/amd64/v1", ""), true, "platform linux/amd64 fits"},
		{"aarch64 spelling", "cpu=neoverse_n1", desc("a", "linux/aarch64", ""), true, "fits"},
		{"arm64/v8 is arm64", "cpu=neoverse_n1", desc("a", "linux/arm64/v8", ""), true, "fits"},
		{"level v3 on haswell", "cpu=haswell", desc("a", "linux/amd64/v3", ""), true, "level x86_64_v3 is in target haswell's lineage"},
		{"level v3 on ivybridge", "cpu=ivybridge", desc("a", "linux/amd64/v3", ""), false, "platform linux/amd64/v3 needs level x86_64_v3, host linux/amd64/v2 (target ivybridge) is below it"},
		{"level v4 on zen3", "cpu=zen3", desc("a", "linux/amd64/v4", ""), false, "needs level x86_64_v4"},
		{"level v4 on zen4", "cpu=zen4", desc("a", "linux/amd64/v4", ""), true, "fits"},
		{"arm64 v8.2 on neoverse_n1", "cpu=neoverse_n1", desc("a", "linux/arm64/v8.2", ""), true, "armv8.2a"},
		{"arm64 v9.0 on neoverse_n1", "cpu=neoverse_n1", desc("a", "linux/arm64/v9.0", ""), false, "needs level armv9.0a"},
		{"arm64 v9.0 on neoverse_v2", "cpu=neoverse_v2", desc("a", "linux/arm64/v9.0", ""), true, "fits"},
		{"arm64 entry on amd64", "cpu=haswell", desc("a", "linux/arm64", ""), false, "platform linux/arm64 does not fit host linux/amd64/v3"},
		{"windows entry", "cpu=haswell", desc("a", "windows/amd64", ""), false, "platform windows/amd64 does not fit"},
		{"no platform", "cpu=haswell", desc("a", "", ""), false, "no platform"},
		{"unknown/unknown", "cpu=haswell", desc("a", "unknown/unknown", ""), false, "platform unknown/unknown"},
		{"attestation annotation", "cpu=haswell", desc("a", "linux/amd64", "vnd.docker.reference.type=attestation-manifest"), false, "attestation manifest"},
	})
}

func TestMatchCPU(t *testing.T) {
	runFitCases(t, []fitCase{
		{"own target", "cpu=haswell", desc("a", "linux/amd64", "cpu.target=haswell"), true, "target haswell is the host's target"},
		{"ancestor", "cpu=skylake_avx512", desc("a", "linux/amd64", "cpu.target=haswell"), true, "target haswell is an ancestor of host target skylake_avx512"},
		{"descendant", "cpu=haswell", desc("a", "linux/amd64", "cpu.target=skylake"), false, "target skylake is not an ancestor of host target haswell and needs"},
		// neoverse_v2 and neoverse_n2 are siblings (both children of
		// neoverse_n1 and armv9.0a) and the catalog, like archspec, gives
		// them the same 34 features and the same vendor (ARM): the sibling
		// rule lets a v2 build run on an n2 host, and the reverse.
		{"sibling n2 host v2 entry", "cpu=neoverse_n2", desc("a", "linux/arm64", "cpu.target=neoverse_v2"), true, "target neoverse_v2 is a sibling of host target neoverse_n2"},
		{"sibling v2 host n2 entry", "cpu=neoverse_v2", desc("a", "linux/arm64", "cpu.target=neoverse_n2"), true, "sibling"},
		// neoverse_v1 lacks the Armv9 features of neoverse_n2 (sve2, ...).
		{"n2 entry on v1 host", "cpu=neoverse_v1", desc("a", "linux/arm64", "cpu.target=neoverse_n2"), false, "sve2"},
		{"vendor mismatch zen4 on sapphirerapids", "cpu=sapphirerapids", desc("a", "linux/amd64", "cpu.target=zen4"), false,
			"target zen4 (AuthenticAMD) is not an ancestor of host target sapphirerapids and its vendor differs"},
		// haswell's features are nearly a subset of zen3's, but a target of
		// another vendor never fits by the sibling rule.
		{"vendor mismatch haswell on zen3", "cpu=zen3", desc("a", "linux/amd64", "cpu.target=haswell"), false, "target haswell (GenuineIntel) is not an ancestor of host target zen3 and its vendor differs"},
		{"generic level target not in lineage", "cpu=zen3", desc("a", "linux/amd64", "cpu.target=x86_64_v4"), false, "avx512f"},
		{"level target by annotation", "cpu=zen3", desc("a", "linux/amd64", "cpu.target=x86_64_v3"), true, "ancestor"},
		{"a64fx on neoverse_n1 (vendor)", "cpu=neoverse_n1", desc("a", "linux/arm64", "cpu.target=a64fx"), false, "vendor differs"},
		{"extra feature missing", "cpu=skylake", desc("a", "linux/amd64", "cpu.target=haswell;cpu.features=avx512f"), false, "needs avx512f, host lacks it"},
		{"extra features missing", "cpu=haswell", desc("a", "linux/amd64", "cpu.features=avx512f,avx512bw"), false, "needs avx512f, avx512bw, host lacks them"},
		{"extra feature present", "cpu=skylake_avx512", desc("a", "linux/amd64", "cpu.features=avx512f"), true, "host has avx512f"},
		{"extra feature by alias", "cpu=haswell", desc("a", "linux/amd64", "cpu.features=sse4.1"), true, "host has sse4.1"},
		{"host features beyond target", "cpu=haswell,features=avx512f", desc("a", "linux/amd64", "cpu.features=avx512f"), true, "host has avx512f"},
		{"metahub cpu:skylake on skylake_avx512", "cpu=skylake_avx512", withFeatures(desc("a", "linux/amd64", ""), "cpu:skylake"), true, "ancestor"},
		{"metahub cpu:skylake on haswell", "cpu=haswell", withFeatures(desc("a", "linux/amd64", ""), "cpu:skylake"), false, "target skylake is not an ancestor"},
	})
}

func TestMatchCUDA(t *testing.T) {
	const cuda = "linux/amd64"
	runFitCases(t, []fitCase{
		{"sm_80 on 8.6", "cpu=zen3,gpu=8.6", desc("a", cuda, "cuda.arch=sm_80"), true, "sm_80 runs on 8.6"},
		{"sm_86 on 8.0", "cpu=zen3,gpu=8.0", desc("a", cuda, "cuda.arch=sm_86"), false, "sm_86 runs on 8.x with x >= 6, host GPU is 8.0"},
		{"sm_80 on 9.0", "cpu=zen3,gpu=9.0", desc("a", cuda, "cuda.arch=sm_80"), false, "host GPU is 9.0"},
		{"compute_80 on 9.0", "cpu=zen3,gpu=9.0", desc("a", cuda, "cuda.arch=compute_80"), true, "compute_80 JIT-compiles for 9.0"},
		{"compute_90 on 8.9", "cpu=zen3,gpu=8.9", desc("a", cuda, "cuda.arch=compute_90"), false, "compute_90 needs compute capability >= 9.0, host GPU is 8.9"},
		{"sm_90a on 9.0", "cpu=zen3,gpu=9.0", desc("a", cuda, "cuda.arch=sm_90a"), true, "sm_90a runs on 9.0"},
		{"sm_90a on 8.9", "cpu=zen3,gpu=8.9", desc("a", cuda, "cuda.arch=sm_90a"), false, "sm_90a runs only on 9.0, host GPU is 8.9"},
		{"sm_100f on 10.3", "cpu=zen3,gpu=10.3", desc("a", cuda, "cuda.arch=sm_100f"), true, "sm_100f runs on 10.3"},
		{"sm_100f on 12.0", "cpu=zen3,gpu=12.0", desc("a", cuda, "cuda.arch=sm_100f"), false, "host GPU is 12.0"},
		{"compute_90a on 10.0", "cpu=zen3,gpu=10.0", desc("a", cuda, "cuda.arch=compute_90a"), false, "compute_90a runs only on 9.0, host GPU is 10.0"},
		{"one of several archs", "cpu=zen3,gpu=8.9", desc("a", cuda, "cuda.arch=sm_80,sm_90"), true, "sm_80 runs on 8.9"},
		{"second GPU runs it", "cpu=zen3,gpu=7.5+9.0", desc("a", cuda, "cuda.arch=sm_90"), true, "sm_90 runs on 9.0"},
		{"no GPU", "cpu=zen3", desc("a", cuda, "cuda.arch=sm_80"), false, "needs an NVIDIA GPU, host has none"},
		{"AMD GPU only", "cpu=zen3,gpu=gfx942", desc("a", cuda, "cuda.arch=sm_80"), false, "needs an NVIDIA GPU, host has none"},
		{"driver too old for 12.x", "cpu=zen3,gpu=8.0,driver=470.82", desc("a", cuda, "cuda.arch=sm_80;cuda.version=12.4"), false, "CUDA 12.4 needs driver >= 525.60.13, host has 470.82"},
		{"driver fine for 12.x", "cpu=zen3,gpu=8.0,driver=550.54.14", desc("a", cuda, "cuda.arch=sm_80;cuda.version=12.4"), true, "CUDA 12.4 needs driver >= 525.60.13, host has 550.54.14"},
		{"driver 470 fine for 11.x", "cpu=zen3,gpu=8.0,driver=470.82", desc("a", cuda, "cuda.arch=sm_80;cuda.version=11.8"), true, "450.80.02"},
		{"13.x needs 580", "cpu=zen3,gpu=9.0,driver=575.51.03", desc("a", cuda, "cuda.arch=sm_90;cuda.version=13.0"), false, "CUDA 13.0 needs driver >= 580, host has 575.51.03"},
		{"no driver in a hand-written profile", "cpu=zen3,gpu=8.0", desc("a", cuda, "cuda.arch=sm_80;cuda.version=12.4"), true, "the profile names no driver for GPU 8.0 (hand-written), taken to be new enough"},
		{"driver unknown, cuda known", "cpu=zen3,gpu=8.0,cuda=12.2", desc("a", cuda, "cuda.arch=sm_80;cuda.version=12.4"), true, "it supports CUDA 12.2"},
		{"driver unknown, cuda older major", "cpu=zen3,gpu=8.0,cuda=11.8", desc("a", cuda, "cuda.arch=sm_80;cuda.version=12.4"), false, "supports only CUDA 11.8"},
		{"metahub nvcap:5.2 on 5.2", "cpu=broadwell,gpu=5.2", withFeatures(desc("a", cuda, ""), "cpu:broadwell", "nvcap:5.2"), true, "sm_52 runs on 5.2"},
		{"metahub nvcap:5.2 on 6.0", "cpu=broadwell,gpu=6.0", withFeatures(desc("a", cuda, ""), "cpu:broadwell", "nvcap:5.2"), false, "sm_52 runs on 5.x"},
	})
}

func TestMatchROCmAndLabels(t *testing.T) {
	runFitCases(t, []fitCase{
		{"rocm in list", "cpu=zen3,gpu=gfx942", desc("a", "linux/amd64", "rocm.arch=gfx90a,gfx942"), true, "gfx942 runs on host GPU gfx942"},
		{"rocm not in list", "cpu=zen3,gpu=gfx1100", desc("a", "linux/amd64", "rocm.arch=gfx90a,gfx942"), false, "needs one of gfx90a, gfx942, host GPU is gfx1100"},
		{"rocm no AMD GPU", "cpu=zen3,gpu=9.0", desc("a", "linux/amd64", "rocm.arch=gfx90a"), false, "needs an AMD GPU (gfx90a), host has none"},
		{"label present", "cpu=zen3,label.mpi=openmpi", desc("a", "linux/amd64", "requires=mpi=openmpi"), true, "host has label mpi=openmpi"},
		{"label differs", "cpu=zen3,label.mpi=mpich", desc("a", "linux/amd64", "requires=mpi=openmpi"), false, "needs label mpi=openmpi, host has mpi=mpich"},
		{"label absent", "cpu=zen3,label.mpi=openmpi", desc("a", "linux/amd64", "requires=mpi=openmpi,fabric=infiniband"), false, "needs label fabric=infiniband, host has no label fabric"},
	})
}
