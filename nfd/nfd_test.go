package nfd

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/detect"
	"github.com/tailor-dev/tailor/internal/sharedtest"
	"github.com/tailor-dev/tailor/profile"
)

// corpusProfiles detects the profile of every Linux dump of the CPU corpus.
func corpusProfiles(t *testing.T) map[string]*profile.Profile {
	t.Helper()
	out := map[string]*profile.Profile{}
	for _, d := range sharedtest.Corpus(t) {
		if d.Kind != "cpuinfo" {
			continue
		}
		p, err := detect.Host(context.Background(), detect.WithCPUInfo(d.Data, d.Machine), detect.WithLabelsFile(os.DevNull))
		if err != nil {
			t.Fatalf("%s: %v", d.File, err)
		}
		out[d.File] = p
	}
	if len(out) < 25 {
		t.Fatalf("corpus has %d Linux dumps, want at least 25", len(out))
	}
	return out
}

// sameForMatching fails unless got carries everything matching reads
// from want.
func sameForMatching(t *testing.T, name string, got, want *profile.Profile) {
	t.Helper()
	if got.OS != want.OS || got.Platform != want.Platform || got.Architecture != want.Architecture || got.Variant != want.Variant {
		t.Errorf("%s: platform %s %s, want %s %s", name, got.OS, got.Platform, want.OS, want.Platform)
	}
	if got.CPU.Microarchitecture != want.CPU.Microarchitecture || !slices.Equal(got.CPU.Ancestors, want.CPU.Ancestors) || got.CPU.Level != want.CPU.Level {
		t.Errorf("%s: cpu %s %v, want %s %v", name, got.CPU.Microarchitecture, got.CPU.Ancestors, want.CPU.Microarchitecture, want.CPU.Ancestors)
	}
	if !strings.EqualFold(got.CPU.Vendor, want.CPU.Vendor) {
		t.Errorf("%s: vendor %q, want %q", name, got.CPU.Vendor, want.CPU.Vendor)
	}
	// Features as matching sees them (HasFeature): an alias name such as
	// altivec on POWER may be dropped, being derived from the family.
	for _, f := range want.CPU.Features {
		if !got.HasFeature(f) {
			t.Errorf("%s: read-back profile lacks feature %s", name, f)
		}
	}
	for _, f := range got.CPU.Features {
		if !want.HasFeature(f) {
			t.Errorf("%s: read-back profile has feature %s the original lacks", name, f)
		}
	}
	key := func(gs []profile.GPU) []string {
		var out []string
		for _, g := range gs {
			out = append(out, g.Vendor+"/"+g.ComputeCapability+g.GFX+"/"+g.Driver+"/"+g.CUDAVersion)
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(key(got.GPUs), key(want.GPUs)) {
		t.Errorf("%s: GPUs %v, want %v", name, key(got.GPUs), key(want.GPUs))
	}
	if len(got.Labels) != len(want.Labels) {
		t.Errorf("%s: labels %v, want %v", name, got.Labels, want.Labels)
	}
	for k, v := range want.Labels {
		if got.Labels[k] != v {
			t.Errorf("%s: label %s=%q, want %q", name, k, got.Labels[k], v)
		}
	}
}

func TestRoundTripCorpus(t *testing.T) {
	for name, p := range corpusProfiles(t) {
		labels, skipped := Labels(p)
		if len(skipped) > 0 {
			t.Errorf("%s: skipped %v", name, skipped)
		}
		for k, v := range labels {
			if !validKey(k) || !validValue(v) {
				t.Errorf("%s: label %s=%s is not a valid Kubernetes label", name, k, v)
			}
		}
		got, src, err := Profile(labels)
		if err != nil {
			t.Fatalf("%s: Profile(Labels(p)): %v", name, err)
		}
		if src != SourceTailor {
			t.Errorf("%s: source %s, want tailor", name, src)
		}
		sameForMatching(t, name, got, p)
	}
}

func TestRoundTripGPUs(t *testing.T) {
	specs := []string{
		"cpu=zen3,gpu=8.0,driver=550.54.14",
		"cpu=sapphirerapids,gpu=9.0+9.0+8.6,driver=535.104.05,label.mpi=openmpi,label.fabric=infiniband",
		"cpu=neoverse_v2,gpu=9.0,cuda=12.4",
		"cpu=zen4,gpu=gfx90a+gfx942",
		"cpu=icelake,gpu=12.0+8.9+gfx1100,driver=580.65.06",
	}
	for _, s := range specs {
		p, err := profile.ParseSpec(s)
		if err != nil {
			t.Fatal(err)
		}
		labels, _ := Labels(p)
		got, _, err := Profile(labels)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		sameForMatching(t, s, got, p)
	}
}

func TestLabelsSpecific(t *testing.T) {
	p, err := profile.ParseSpec("cpu=sapphirerapids,gpu=9.0+9.0+8.6,driver=535.104.05,label.mpi=openmpi,label.a/b=c")
	if err != nil {
		t.Fatal(err)
	}
	l, skipped := Labels(p)
	want := map[string]string{
		KeyTarget:                            "sapphirerapids",
		KeyLevel:                             "v4",
		KeyArch:                              "amd64",
		KeyVariant:                           "v4",
		TargetKey("skylake_avx512"):          "true",
		TargetKey("x86_64_v3"):               "true",
		FeatureKey("avx512f"):                "true",
		VendorKey("GenuineIntel"):            "true",
		KeyNVIDIACount:                       "3",
		KeyNVIDIACC:                          "9.0",
		KeyNVIDIACCNumber:                    "90",
		CCKey(9, 0):                          "2",
		CCKey(8, 6):                          "1",
		MajorKey(8):                          "6",
		MajorKey(9):                          "0",
		KeyDriver:                            "535.104.05",
		KeyDriverNumber:                      "535010400050000",
		KeyCUDA:                              "12.2",
		KeyCUDAMajor:                         "12",
		HostLabelKey("mpi"):                  "openmpi",
		"tailor.dev/cpu.vendor.genuineintel": "true",
	}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("label %s = %q, want %q", k, l[k], v)
		}
	}
	if _, ok := l[TargetKey("zen4")]; ok {
		t.Errorf("sapphirerapids labelled as running zen4 code")
	}
	if !slices.Equal(skipped, []string{"a/b"}) {
		t.Errorf("skipped = %v, want [a/b]", skipped)
	}
	var b bytes.Buffer
	if err := Write(&b, l); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		k, v, _ := strings.Cut(line, "=")
		if l[k] != v {
			t.Errorf("Write: line %q, want %s=%s", line, k, l[k])
		}
		keys = append(keys, k)
	}
	if len(keys) != len(l) || !slices.IsSorted(keys) {
		t.Errorf("Write: %d lines (want %d), sorted %v", len(keys), len(l), slices.IsSorted(keys))
	}
}

func TestDriverNumberOrders(t *testing.T) {
	vs := []string{"410.48", "450.80.02", "525.60.13", "535.104.05", "550.54", "550.54.14", "580.65.06", "1000.1"}
	prev := int64(-1)
	for i, v := range vs {
		n, ok := DriverNumber(v)
		if !ok {
			t.Fatalf("DriverNumber(%q) not ok", v)
		}
		if n <= prev {
			t.Errorf("DriverNumber(%q) = %d, not above %s's %d", v, n, vs[i-1], prev)
		}
		prev = n
	}
	a, _ := DriverNumber("550.54")
	b, _ := DriverNumber("550.54.0")
	if a != b {
		t.Errorf("550.54 and 550.54.0 differ: %d, %d", a, b)
	}
	for _, bad := range []string{"", "x", "1.2.3.4.5", "1.10000", "-1", "1234567.1"} {
		if _, ok := DriverNumber(bad); ok {
			t.Errorf("DriverNumber(%q) ok, want not", bad)
		}
	}
}

func TestProfileFromNFD(t *testing.T) {
	labels := map[string]string{
		KeyKubeArch: "amd64",
		nfdVendor:   "Intel",
	}
	// A Haswell as a stock NFD labels it, its default blacklist hiding
	// SSE4.2, POPCNT, BMI, ...: AVX2 implies them (the v3 baseline).
	for _, f := range []string{"AVX", "AVX2", "FMA3", "AESNI", "MOVBE", "OSXSAVE", "XSAVE", "LAHF", "CMPXCHG8", "X87"} {
		labels[nfdCPUIDPrefix+f] = "true"
	}
	r, err := Read(labels)
	if err != nil {
		t.Fatal(err)
	}
	if r.Source != SourceNFD {
		t.Errorf("source %s, want nfd", r.Source)
	}
	p := r.Profile
	for _, f := range []string{"avx2", "fma", "aes", "cx8", "fpu", "sse4_2", "popcnt", "bmi2"} {
		if !p.HasFeature(f) {
			t.Errorf("features %v lack %s", p.CPU.Features, f)
		}
	}
	if p.CPU.Microarchitecture != "x86_64_v3" || len(r.Inferred) == 0 {
		t.Errorf("read as %s, inferred %q: want x86_64_v3, saying what AVX2 implies", p.CPU.Microarchitecture, r.Inferred)
	}
	// With NFD's cpu-model labels, family 6 id 63 names the core: haswell.
	labels[nfdFamily], labels[nfdModel] = "6", "63"
	if r, err = Read(labels); err != nil {
		t.Fatal(err)
	}
	if r.Profile.CPU.Microarchitecture != "haswell" || !r.Profile.HasFeature("rdrand") || !strings.Contains(strings.Join(r.Inferred, ";"), "is haswell") {
		t.Errorf("read as %s, inferred %q: want haswell from cpu-model", r.Profile.CPU.Microarchitecture, r.Inferred)
	}
	// With the flags NFD hides by default listed too, the same.
	for _, f := range []string{"SSE", "SSE2", "SSE3", "SSSE3", "SSE4", "SSE42", "POPCNT", "CX16", "BMI1", "BMI2", "F16C", "LZCNT", "CMOV", "MMX", "SYSCALL", "CLMUL", "RDRAND"} {
		labels[nfdCPUIDPrefix+f] = "true"
	}
	p, _, err = Profile(labels)
	if err != nil {
		t.Fatal(err)
	}
	if p.CPU.Level != 3 || p.CPU.Microarchitecture != "haswell" {
		t.Errorf("level %d (target %s), want haswell", p.CPU.Level, p.CPU.Microarchitecture)
	}
	// tailor's labels win for the target; NFD's add features.
	labels[KeyTarget] = "haswell"
	labels[nfdCPUIDPrefix+"AVX512F"] = "true"
	p, src, err := Profile(labels)
	if err != nil || src != SourceTailor || p.CPU.Microarchitecture != "haswell" || !p.HasFeature("avx512f") {
		t.Errorf("Profile = %v %s %v, want haswell from tailor with avx512f", p, src, err)
	}
}

func TestProfileFallbacks(t *testing.T) {
	p, src, err := Profile(map[string]string{KeyKubeArch: "arm64", "nvidia.com/gpu.compute.major": "9", "nvidia.com/gpu.compute.minor": "0",
		"nvidia.com/gpu.count": "4", "nvidia.com/cuda.driver.major": "550", "nvidia.com/cuda.driver.minor": "54", "nvidia.com/cuda.driver.rev": "14"})
	if err != nil {
		t.Fatal(err)
	}
	if src != SourceArch || p.CPU.Microarchitecture != "aarch64" || len(p.GPUs) != 4 || p.GPUs[0].Driver != "550.54.14" || p.GPUs[0].CUDAVersion != "12.4" {
		t.Errorf("Profile = %s %+v %+v", src, p.CPU, p.GPUs)
	}
}

func TestProfileErrors(t *testing.T) {
	cases := map[string]map[string]string{
		"nothing":        {"kubernetes.io/hostname": "n1"},
		"unknown target": {KeyTarget: "pentium9"},
		"arch mismatch":  {KeyTarget: "zen3", KeyArch: "arm64"},
		"bad cc count":   {KeyTarget: "zen3", CCKey(8, 0): "many"},
		"bad cc":         {KeyTarget: "zen3", Prefix + "gpu.nvidia.cc.8.x": "1"},
		"unknown arch":   {KeyKubeArch: "vax"},
	}
	for name, labels := range cases {
		if _, _, err := Profile(labels); !errors.Is(err, profile.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func FuzzProfile(f *testing.F) {
	f.Add("tailor.dev/cpu.target", "zen3", "tailor.dev/gpu.nvidia.cc.8.0", "2")
	f.Add("kubernetes.io/arch", "amd64", "feature.node.kubernetes.io/cpu-cpuid.AVX2", "true")
	f.Add("tailor.dev/cpu.target", "neoverse_v2", "nvidia.com/gpu.compute.major", "9")
	f.Add("feature.node.kubernetes.io/cpu-cpuid.AVX2", "true", "feature.node.kubernetes.io/cpu-model.id", "63")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		p, _, err := Profile(map[string]string{k1: v1, k2: v2})
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("Profile returned an invalid profile: %v", err)
		}
		if _, _, err := Profile(func() map[string]string { l, _ := Labels(p); return l }()); err != nil {
			t.Fatalf("labels of a profile read from labels do not read back: %v", err)
		}
	})
}
