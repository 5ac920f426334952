package detect

import (
	"slices"
	"testing"
)

const darwinHaswell = `machdep.cpu.vendor: GenuineIntel
machdep.cpu.brand_string: Intel(R) Core(TM) i7-4980HQ CPU @ 2.80GHz
machdep.cpu.features: FPU VME MMX SSE SSE2 SSE3 PCLMULQDQ SSSE3 FMA CX16 SSE4.1 SSE4.2 MOVBE POPCNT AES XSAVE OSXSAVE AVX1.0 RDRAND F16C
machdep.cpu.leaf7_features: BMI1 AVX2 BMI2 ERMS INVPCID
machdep.cpu.extfeatures: SYSCALL XD EM64T LAHF LZCNT RDTSCP
hw.ncpu: 8
`

// rosettaSysctl is what macOS 12 on an M1 prints: the features Rosetta 2
// emulates, no machdep.cpu.vendor, an Apple brand string.
const rosettaSysctl = `hw.ncpu: 8
hw.optional.arm64: 1
hw.optional.sse4_2: 1
machdep.cpu.brand_string: Apple M1
machdep.cpu.features: FPU VME DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE MCA CMOV PAT PSE36 CLFSH DS ACPI MMX FXSR SSE SSE2 SS HTT TM PBE SSE3 PCLMULQDQ DTSE64 MON DSCPL VMX EST TM2 SSSE3 CX16 TPR PDCM SSE4.1 SSE4.2 AES SEGLIM64
machdep.cpu.family: 6
`

func appleSysctl(brand string) string {
	return "machdep.cpu.brand_string: " + brand + "\nhw.optional.floatingpoint: 1\nhw.optional.neon: 1\nhw.optional.arm.FEAT_SHA3: 1\nhw.optional.arm.FEAT_BF16: 0\nhw.optional.arm64: 1\n"
}

func TestParseSysctlTarget(t *testing.T) {
	tests := []struct {
		name, machine, sysctl, want string
	}{
		{"intel haswell", "x86_64", darwinHaswell, "haswell"},
		{"intel inferred", "", darwinHaswell, "haswell"},
		{"m1 generic brand", "arm64", appleSysctl("Apple processor"), "m1"},
		{"m2 pro", "arm64", appleSysctl("Apple M2 Pro"), "m2"},
		{"m3 max", "aarch64", appleSysctl("Apple M3 Max"), "m3"},
		{"m4 inferred", "", appleSysctl("Apple M4"), "m4"},
		{"newer than the catalog", "arm64", appleSysctl("Apple M9 Ultra"), "m4"},
		{"rosetta 2 read as x86_64", "x86_64", rosettaSysctl, "core2"},
		{"rosetta 2 dump, machine inferred", "", rosettaSysctl, "m1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := ParseSysctl([]byte(tt.sysctl), tt.machine)
			if err != nil {
				t.Fatalf("ParseSysctl: %v", err)
			}
			got, err := Target(info)
			if err != nil {
				t.Fatalf("Target: %v", err)
			}
			if got.Name() != tt.want {
				t.Errorf("Target(%s) = %s, want %s", tt.name, got.Name(), tt.want)
			}
		})
	}
}

func TestParseSysctlFeatures(t *testing.T) {
	info, err := ParseSysctl([]byte(darwinHaswell), "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	// translated: avx1.0->avx, sse4.1->sse4_1, lahf->lahf_lm, popcnt+lzcnt->abm, xsave->xsavec xsaveopt.
	for _, f := range []string{"avx", "sse4_1", "sse4_2", "lahf_lm", "abm", "xsavec", "xsaveopt", "avx2", "fma"} {
		if !info.HasFeature(f) {
			t.Errorf("ParseSysctl(haswell) lacks %s: %v", f, info.Features)
		}
	}
	if info.OS != "darwin" || info.Vendor != "GenuineIntel" {
		t.Errorf("ParseSysctl(haswell) = %s %s, want darwin GenuineIntel", info.OS, info.Vendor)
	}

	noLZCNT := `machdep.cpu.vendor: GenuineIntel
machdep.cpu.features: POPCNT SSE2
`
	info, err = ParseSysctl([]byte(noLZCNT), "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	if info.HasFeature("abm") {
		t.Errorf("abm needs popcnt AND lzcnt, got %v", info.Features)
	}

	info, err = ParseSysctl([]byte(appleSysctl("Apple M2")), "arm64")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"asimd", "fp", "sha3"}
	if !slices.Equal(info.Features, want) || info.Vendor != "Apple" || info.Name != "m2" {
		t.Errorf("ParseSysctl(M2) = %v %s %s, want %v Apple m2", info.Features, info.Vendor, info.Name, want)
	}
	target, err := Target(info)
	if err != nil {
		t.Fatal(err)
	}
	p := CPUProfile(info, target)
	if !p.HasFeature("i8mm") || p.Platform != "darwin/arm64/v8.5" || p.CPU.Model != "Apple M2" {
		t.Errorf("CPUProfile(M2) = %+v, want m2 features, darwin/arm64/v8.5, model Apple M2", p)
	}
}
