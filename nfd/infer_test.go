package nfd

import (
	"bufio"
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/internal/sharedtest"
)

// nfdBlacklist is NFD's default attributeBlacklist of its cpu source
// (deployment/components/worker-config/nfd-worker.conf.example and
// source/cpu/cpu.go), in NFD's own naming.
var nfdBlacklist = []string{"AVX10", "BMI1", "BMI2", "CLMUL", "CMOV", "CX16", "ERMS", "F16C", "HTT", "LZCNT", "MMX", "MMXEXT", "NX", "POPCNT", "RDRAND", "RDSEED", "RDTSCP", "SGX", "SGXLC", "SSE", "SSE2", "SSE3", "SSE4", "SSE42", "SSSE3", "TDX_GUEST"}

// defaultNFDLabels is what a stock NFD (default config) labels the x86-64
// machine of a /proc/cpuinfo dump with: its flags in NFD's naming less the
// blacklist, cpu-model vendor_id, family and id, and kubernetes.io/arch.
func defaultNFDLabels(t *testing.T, dump []byte) map[string]string {
	t.Helper()
	toNFD := map[string]string{}
	for n, linux := range cpuidNames {
		if n != "AESARM" && n != "ARMCPUID" {
			toNFD[linux] = n
		}
	}
	labels := map[string]string{KeyKubeArch: "amd64", KeyKubeOS: "linux"}
	fields := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(dump))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		k = strings.TrimSpace(k)
		if !ok || fields[k] != "" {
			continue
		}
		fields[k] = strings.TrimSpace(v)
	}
	for _, f := range strings.Fields(fields["flags"]) {
		n, ok := toNFD[f]
		if !ok {
			n = strings.ToUpper(f)
		}
		if !slices.Contains(nfdBlacklist, n) {
			labels[nfdCPUIDPrefix+n] = "true"
		}
	}
	labels[nfdVendor] = map[string]string{"GenuineIntel": "Intel", "AuthenticAMD": "AMD"}[fields["vendor_id"]]
	labels[nfdFamily] = fields["cpu family"]
	labels[nfdModel] = fields["model"]
	return labels
}

// TestDefaultNFDCorpus: every x86-64 machine of the corpus, labelled as a
// stock NFD labels it (baseline flags hidden), is read as the target its
// full /proc/cpuinfo detects, and never with a flag it lacks.
func TestDefaultNFDCorpus(t *testing.T) {
	full := corpusProfiles(t)
	n := 0
	for _, d := range sharedtest.Corpus(t) {
		if d.Kind != "cpuinfo" || d.Machine != "x86_64" {
			continue
		}
		n++
		want := full[d.File]
		labels := defaultNFDLabels(t, d.Data)
		r, err := Read(labels)
		if err != nil {
			t.Errorf("%s: %v", d.File, err)
			continue
		}
		if r.Source != SourceNFD {
			t.Errorf("%s: source %s, want nfd", d.File, r.Source)
		}
		got := r.Profile
		if got.CPU.Microarchitecture != want.CPU.Microarchitecture || got.CPU.Level != want.CPU.Level {
			t.Errorf("%s: read as %s (v%d), cpuinfo says %s (v%d); inferred %q", d.File, got.CPU.Microarchitecture, got.CPU.Level, want.CPU.Microarchitecture, want.CPU.Level, r.Inferred)
		}
		for _, f := range got.CPU.Features {
			if !want.HasFeature(f) {
				t.Errorf("%s: read with feature %s the machine lacks", d.File, f)
			}
		}
		if len(r.Warnings) > 0 {
			t.Errorf("%s: warnings %q", d.File, r.Warnings)
		}
	}
	if n < 10 {
		t.Fatalf("%d x86-64 dumps in the corpus, want at least 10", n)
	}
}

// TestDefaultNFDMasked: what a hypervisor masks keeps a model id from
// naming its core: a Haswell id without AES (the corpus's x86_64_v3 dump is
// one) is read by its flags, and an id tailor does not know adds nothing.
func TestDefaultNFDMasked(t *testing.T) {
	labels := map[string]string{KeyKubeArch: "amd64", nfdVendor: "Intel", nfdFamily: "6", nfdModel: "63"}
	for _, f := range []string{"AVX", "AVX2", "FMA3", "MOVBE", "OSXSAVE", "XSAVE", "LAHF", "CMPXCHG8", "X87"} {
		labels[nfdCPUIDPrefix+f] = "true"
	}
	r, err := Read(labels)
	if err != nil {
		t.Fatal(err)
	}
	if r.Profile.CPU.Microarchitecture != "x86_64_v3" || r.Profile.HasFeature("aes") || r.Profile.HasFeature("rdrand") {
		t.Errorf("Haswell id without AES: %s %v, want x86_64_v3 without aes or rdrand", r.Profile.CPU.Microarchitecture, r.Profile.CPU.Features)
	}
	labels[nfdModel] = "9999"
	labels[nfdCPUIDPrefix+"AESNI"] = "true"
	if r, err = Read(labels); err != nil || r.Profile.HasFeature("rdrand") {
		t.Errorf("unknown model id: %v %v, want no rdrand", r, err)
	}
}

func TestReadWarnings(t *testing.T) {
	labels := map[string]string{KeyKubeArch: "amd64", nfdVendor: "Intel", nfdFamily: "six", nfdModel: "63",
		nfdCPUIDPrefix + "AVX2": "yes", nfdCPUIDPrefix + "AVX": "true", nfdCPUIDPrefix + "LAHF": "true"}
	r, err := Read(labels)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) != 2 || !strings.Contains(r.Warnings[0], "cpu-cpuid.AVX2") || !strings.Contains(r.Warnings[1], "cpu-model.family") {
		t.Errorf("warnings %q, want the AVX2 value and the family", r.Warnings)
	}
	if r.Profile.HasFeature("avx2") || r.Profile.CPU.Level != 2 {
		t.Errorf("profile %s %v: want v2 from AVX alone", r.Profile.CPU.Microarchitecture, r.Profile.CPU.Features)
	}
}
