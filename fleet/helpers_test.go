package fleet

import (
	"context"
	"os"
	"testing"

	"github.com/tailor-dev/tailor/detect"
	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/internal/sharedtest"
	"github.com/tailor-dev/tailor/nfd"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/requirement"
	"github.com/tailor-dev/tailor/resolve/resolvetest"
)

// gpuNodes are GPU nodes: a corpus CPU with GPUs and host labels.
var gpuNodes = []struct{ name, cpu, gpus string }{
	{"h100-spr", "linux-unknown-sapphirerapids", "gpu=9.0+9.0+9.0+9.0,driver=550.54.14,label.mpi=openmpi"},
	{"a100-zen4", "linux-rocky8.5-zen4", "gpu=8.0+8.6,driver=535.104.05"},
	{"gh200", "linux-unknown-neoverse_v2", "gpu=9.0,driver=560.28.03"},
	{"v100-old-driver", "linux-centos7-cascadelake", "gpu=7.0,driver=418.39"},
	{"l4-cuda-only", "linux-rhel7-broadwell", "gpu=8.9,cuda=12.2"},
	{"b200-ptx", "linux-ubuntu24.04-alderlake", "gpu=10.0,driver=580.65.06"},
	{"mi250-zen", "linux-rhel7-zen", "gpu=gfx90a+gfx90a"},
	{"mixed-gpus", "linux-rhel9-neoverse_n2", "gpu=9.0+gfx942,driver=550.54.14,label.fabric=infiniband"},
}

// testFleet returns nodes labelled as `tailor detect -o nfd` labels them,
// one per Linux dump of the CPU corpus and the GPU nodes, with the profile
// each was labelled from.
func testFleet(t testing.TB) ([]Node, map[string]*profile.Profile) {
	t.Helper()
	profiles := map[string]*profile.Profile{}
	for _, d := range sharedtest.Corpus(t) {
		if d.Kind != "cpuinfo" {
			continue
		}
		p, err := detect.Host(context.Background(), detect.WithCPUInfo(d.Data, d.Machine), detect.WithLabelsFile(os.DevNull))
		if err != nil {
			t.Fatalf("%s: %v", d.File, err)
		}
		profiles[d.File] = p
	}
	for _, g := range gpuNodes {
		cpu, ok := profiles[g.cpu]
		if !ok {
			t.Fatalf("no corpus dump %s", g.cpu)
		}
		spec, err := profile.ParseSpec("cpu=" + cpu.CPU.Microarchitecture + "," + g.gpus)
		if err != nil {
			t.Fatal(err)
		}
		p := *cpu
		p.GPUs, p.Labels = spec.GPUs, spec.Labels
		profiles[g.name] = &p
	}
	var nodes []Node
	for name, p := range profiles {
		labels, skipped := nfd.Labels(p)
		if len(skipped) > 0 {
			t.Fatalf("%s: labels %v skipped", name, skipped)
		}
		labels["kubernetes.io/hostname"] = name
		labels["kubernetes.io/arch"] = p.Architecture
		labels["kubernetes.io/os"] = "linux"
		nodes = append(nodes, Node{Name: name, Labels: labels})
	}
	return nodes, profiles
}

// mixed is an index with entries for every kind of requirement.
var mixed = []resolvetest.Variant{
	{Name: "generic", Arch: "amd64"},
	{Name: "v2", Arch: "amd64", Reqs: requirement.Requirements{Target: "x86_64_v2"}},
	{Name: "v3", Arch: "amd64", Reqs: requirement.Requirements{Target: "x86_64_v3"}, Annotations: map[string]string{}},
	{Name: "v4", Arch: "amd64", Reqs: requirement.Requirements{Target: "x86_64_v4"}},
	{Name: "haswell", Arch: "amd64", Reqs: requirement.Requirements{Target: "haswell"}},
	{Name: "skx", Arch: "amd64", Reqs: requirement.Requirements{Target: "skylake_avx512"}},
	{Name: "icelake-vnni", Arch: "amd64", Reqs: requirement.Requirements{Target: "icelake", Features: []string{"avx512_vnni"}}},
	{Name: "spr-amx", Arch: "amd64", Reqs: requirement.Requirements{Target: "sapphirerapids", Features: []string{"amx_tile", "amx_bf16"}}},
	{Name: "fp16-only", Arch: "amd64", Reqs: requirement.Requirements{Features: []string{"avx512_fp16"}}},
	{Name: "avx512-alias", Arch: "amd64", Reqs: requirement.Requirements{Features: []string{"avx512"}}},
	{Name: "zen2", Arch: "amd64", Reqs: requirement.Requirements{Target: "zen2"}},
	{Name: "zen4", Arch: "amd64", Reqs: requirement.Requirements{Target: "zen4"}},
	{Name: "mpi-v3", Arch: "amd64", Reqs: requirement.Requirements{Target: "x86_64_v3", Labels: map[string]string{"mpi": "openmpi"}}},
	{Name: "cuda-sm80", Arch: "amd64", Reqs: requirement.Requirements{Target: "x86_64_v3", CUDA: cuda("sm_80"), CUDAVersion: "12.0"}},
	{Name: "cuda-sm90", Arch: "amd64", Reqs: requirement.Requirements{Target: "x86_64_v4", CUDA: cuda("sm_90"), CUDAVersion: "12.4"}},
	{Name: "cuda-ptx", Arch: "amd64", Reqs: requirement.Requirements{CUDA: cuda("compute_90"), CUDAVersion: "12.8"}},
	{Name: "cuda-70", Arch: "amd64", Reqs: requirement.Requirements{CUDA: cuda("sm_70"), CUDAVersion: "11.0"}},
	{Name: "rocm", Arch: "amd64", Reqs: requirement.Requirements{Target: "zen", ROCm: []string{"gfx90a", "gfx942"}}},
	{Name: "arm64", Arch: "arm64"},
	{Name: "armv8.2", Arch: "arm64", Reqs: requirement.Requirements{Target: "armv8.2a"}, Annotations: map[string]string{}},
	{Name: "n1", Arch: "arm64", Reqs: requirement.Requirements{Target: "neoverse_n1"}},
	{Name: "v1", Arch: "arm64", Reqs: requirement.Requirements{Target: "neoverse_v1"}},
	{Name: "v2-sve2", Arch: "arm64", Reqs: requirement.Requirements{Target: "neoverse_v2", Features: []string{"sve2"}}},
	{Name: "gh-sm90a", Arch: "arm64", Reqs: requirement.Requirements{Target: "neoverse_v2", CUDA: cuda("sm_90a"), CUDAVersion: "12.4"}},
	{Name: "a64fx", Arch: "arm64", Reqs: requirement.Requirements{Target: "a64fx"}},
	{Name: "m1", Arch: "arm64", Reqs: requirement.Requirements{Target: "m1"}},
	{Name: "fabric", Arch: "arm64", Reqs: requirement.Requirements{Labels: map[string]string{"fabric": "infiniband"}, ROCm: []string{"gfx942"}}},
	{Name: "ppc64le", Arch: "ppc64le"},
	{Name: "power9", Arch: "ppc64le", Reqs: requirement.Requirements{Target: "power9le"}},
	{Name: "riscv", Arch: "riscv64", Reqs: requirement.Requirements{Target: "u74mc"}},
}

// noGeneric is an index without a generic entry: some nodes get nothing.
var noGeneric = []resolvetest.Variant{
	{Name: "v3", Arch: "amd64", Reqs: requirement.Requirements{Target: "x86_64_v3"}, Annotations: map[string]string{}},
	{Name: "zen4", Arch: "amd64", Reqs: requirement.Requirements{Target: "zen4"}},
	{Name: "icelake-vnni", Arch: "amd64", Reqs: requirement.Requirements{Target: "icelake", Features: []string{"avx512_vnni"}}},
	{Name: "v1", Arch: "arm64", Reqs: requirement.Requirements{Target: "neoverse_v1"}},
	{Name: "cuda-sm90", Arch: "arm64", Reqs: requirement.Requirements{CUDA: cuda("sm_90"), CUDAVersion: "12.4"}},
	{Name: "cuda-ptx", Arch: "amd64", Reqs: requirement.Requirements{Target: "x86_64_v2", CUDA: cuda("compute_80"), CUDAVersion: "12.0"}},
	{Name: "mpi", Arch: "amd64", Reqs: requirement.Requirements{Labels: map[string]string{"mpi": "openmpi"}}},
	{Name: "power9", Arch: "ppc64le", Reqs: requirement.Requirements{Target: "power9le"}},
}

func cuda(archs ...string) []requirement.CUDAArch {
	var out []requirement.CUDAArch
	for _, a := range archs {
		c, err := requirement.ParseCUDAArch(a)
		if err != nil {
			panic(err)
		}
		out = append(out, c)
	}
	return out
}

// pushIndexes starts a registry with the mixed and noGeneric indexes and
// returns a client and their references.
func pushIndexes(t testing.TB) (*remote.Client, string, string) {
	t.Helper()
	host := registrytest.New(t, t.TempDir())
	mixedRef, noGenericRef := host+"/app:mixed", host+"/app:nogeneric"
	if _, err := resolvetest.Push(mixedRef, mixed); err != nil {
		t.Fatal(err)
	}
	if _, err := resolvetest.Push(noGenericRef, noGeneric); err != nil {
		t.Fatal(err)
	}
	c, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	return c, mixedRef, noGenericRef
}
