package catalog

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestAncestors(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"x86_64", nil},
		{"x86_64_v3", []string{"x86_64_v2", "x86_64"}},
		{"haswell", []string{"ivybridge", "sandybridge", "westmere", "nehalem", "core2", "x86_64_v3", "nocona", "x86_64_v2", "x86_64"}},
		{"zen4", []string{"zen3", "zen2", "zen", "x86_64_v4", "x86_64_v3", "x86_64_v2", "x86_64"}},
		{"neoverse_v2", []string{"armv9.0a", "armv8.5a", "armv8.4a", "neoverse_n1", "armv8.3a", "armv8.2a", "cortex_a72", "armv8.1a", "aarch64"}},
		{"power9le", []string{"power8le", "ppc64le"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MustLookup(tt.name).Ancestors()
			if !slices.Equal(got, tt.want) {
				t.Errorf("Ancestors(%s) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestLevelVariantPlatform(t *testing.T) {
	tests := []struct {
		name     string
		level    int
		platform string
		family   string
	}{
		{"x86_64", 1, "linux/amd64", "x86_64"},
		{"core2", 1, "linux/amd64", "x86_64"},
		{"nehalem", 2, "linux/amd64/v2", "x86_64"},
		{"haswell", 3, "linux/amd64/v3", "x86_64"},
		{"zen", 3, "linux/amd64/v3", "x86_64"},
		{"skylake_avx512", 4, "linux/amd64/v4", "x86_64"},
		{"sapphirerapids", 4, "linux/amd64/v4", "x86_64"},
		{"mic_knl", 3, "linux/amd64/v3", "x86_64"},
		{"aarch64", 0, "linux/arm64/v8", "aarch64"},
		{"neoverse_n1", 0, "linux/arm64/v8.2", "aarch64"},
		{"neoverse_v2", 0, "linux/arm64/v9.0", "aarch64"},
		{"m1", 0, "linux/arm64/v8.4", "aarch64"},
		{"power9le", 0, "linux/ppc64le", "ppc64le"},
		{"power9", 0, "linux/ppc64", "ppc64"},
		{"u74mc", 0, "linux/riscv64", "riscv64"},
		{"pentium4", 0, "linux/386", "x86"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := MustLookup(tt.name)
			if got := tg.Level(); got != tt.level {
				t.Errorf("Level(%s) = %d, want %d", tt.name, got, tt.level)
			}
			if got := tg.Platform().String(); got != tt.platform {
				t.Errorf("Platform(%s) = %s, want %s", tt.name, got, tt.platform)
			}
			if got := tg.Family(); got != tt.family {
				t.Errorf("Family(%s) = %s, want %s", tt.name, got, tt.family)
			}
		})
	}
}

func TestLevelTargetRoundTrip(t *testing.T) {
	for _, tg := range All() {
		if !tg.Generic() || tg.Variant() == "" {
			continue
		}
		back, err := LevelTarget(tg.Architecture(), tg.Variant())
		if err != nil || back.Name() != tg.Name() {
			t.Errorf("LevelTarget(%s, %s) = %v, %v; want %s", tg.Architecture(), tg.Variant(), back, err, tg.Name())
		}
	}
	for _, bad := range [][2]string{{"amd64", "v9"}, {"arm64", "v7.3"}, {"mips", ""}, {"amd64", "x"}} {
		if _, err := LevelTarget(bad[0], bad[1]); !errors.Is(err, ErrUnknownTarget) {
			t.Errorf("LevelTarget(%q, %q) error = %v, want ErrUnknownTarget", bad[0], bad[1], err)
		}
	}
}

func TestCompilerFlags(t *testing.T) {
	tests := []struct {
		target, compiler, version, want string
	}{
		{"haswell", "gcc", "12.2.0", "-march=haswell -mtune=haswell"},
		{"haswell", "gcc", "4.8.5", "-march=core-avx2 -mtune=core-avx2"},
		{"x86_64_v3", "gcc", "12.2.0", "-march=x86-64-v3 -mtune=generic"},
		{"x86_64_v3", "gcc", "9.4.0", "-march=x86-64 -mtune=generic -mcx16 -msahf -mpopcnt -msse3 -msse4.1 -msse4.2 -mssse3 -mavx -mavx2 -mbmi -mbmi2 -mf16c -mfma -mlzcnt -mmovbe -mxsave"},
		{"x86_64_v3", "gcc", "11.0.4", "-march=x86-64 -mtune=generic -mcx16 -msahf -mpopcnt -msse3 -msse4.1 -msse4.2 -mssse3 -mavx -mavx2 -mbmi -mbmi2 -mf16c -mfma -mlzcnt -mmovbe -mxsave"},
		{"zen4", "gcc", "12.2.0", "-march=znver3 -mtune=znver3 -mavx512f -mavx512dq -mavx512ifma -mavx512cd -mavx512bw -mavx512vl -mavx512vbmi -mavx512vbmi2 -mavx512vnni -mavx512bitalg"},
		{"zen4", "gcc", "13.1", "-march=znver4 -mtune=znver4"},
		{"m1", "gcc", "15.1", "-mcpu=apple-m1"},
		{"m1", "gcc", "9.1", "-march=armv8.4-a -mtune=generic"},
		{"neoverse_v2", "clang", "17.0.6", "-mcpu=neoverse-v2"},
	}
	for _, tt := range tests {
		got, err := MustLookup(tt.target).CompilerFlags(tt.compiler, tt.version)
		if err != nil || got != tt.want {
			t.Errorf("CompilerFlags(%s, %s %s) = %q, %v; want %q", tt.target, tt.compiler, tt.version, got, err, tt.want)
		}
	}
	for _, bad := range [][3]string{{"zen4", "gcc", "9.1"}, {"haswell", "tcc", "1.0"}, {"haswell", "gcc", "twelve"}} {
		if _, err := MustLookup(bad[0]).CompilerFlags(bad[1], bad[2]); err == nil {
			t.Errorf("CompilerFlags(%s, %s %s) succeeded, want an error", bad[0], bad[1], bad[2])
		}
	}
}

func TestLookupUnknown(t *testing.T) {
	if _, err := Lookup("zen9"); !errors.Is(err, ErrUnknownTarget) {
		t.Errorf("Lookup(zen9) error = %v, want ErrUnknownTarget", err)
	}
}

func TestEveryTargetHasArchitectureAndGccOrClangFlags(t *testing.T) {
	for _, tg := range All() {
		if tg.Architecture() == "" {
			t.Errorf("%s (family %s) has no OCI architecture", tg.Name(), tg.Family())
		}
	}
}

func BenchmarkAncestorsAndLevels(b *testing.B) {
	all := All()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, tg := range all {
			_ = tg.Ancestors()
			_ = tg.Level()
			_ = tg.Platform()
		}
	}
}

// TestImmutable: what the catalog hands out is the caller's own; changing
// it changes nothing for the next caller.
func TestImmutable(t *testing.T) {
	h := MustLookup("haswell")
	h.FeatureList()[0] = "MUTATED"
	h.Parents()[0] = "MUTATED"
	MustLookup("neoverse_n1").CPUParts()[0] = "MUTATED"
	h.FlagEntries("gcc")[0].Flags = "MUTATED"
	FeatureAliases()["sse3"] = FeatureAlias{AnyOf: []string{"MUTATED"}}
	if a, ok := LookupFeatureAlias("sse3"); ok {
		a.AnyOf[0] = "MUTATED"
	}
	DarwinFlags()["avx1.0"] = "MUTATED"
	All()[0] = nil

	again := MustLookup("haswell")
	for f := range again.Features() {
		if f == "MUTATED" {
			t.Error("haswell's features changed through a caller's slice")
		}
	}
	if again.Parents()[0] == "MUTATED" || MustLookup("neoverse_n1").CPUParts()[0] == "MUTATED" {
		t.Error("parents or CPU parts changed through a caller's slice")
	}
	if fl, _ := again.CompilerFlags("gcc", "12.2"); strings.Contains(fl, "MUTATED") {
		t.Error("compiler flags changed through a caller's copy")
	}
	if a, _ := LookupFeatureAlias("sse3"); len(a.AnyOf) > 0 && a.AnyOf[0] == "MUTATED" {
		t.Error("feature aliases changed through a caller's copy")
	}
	if DarwinFlags()["avx1.0"] == "MUTATED" || All()[0] == nil {
		t.Error("darwin flags or the target list changed through a caller's copy")
	}
}

func TestLookupNames(t *testing.T) {
	for in, want := range map[string]string{"x86-64": "x86_64", "x86-64-v3": "x86_64_v3", "haswell": "haswell"} {
		if got, err := Lookup(in); err != nil || got.Name() != want {
			t.Errorf("Lookup(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for in, hint := range map[string]string{
		"haswel": "did you mean haswell?", "zen33": "did you mean zen3?", "skylake_avx51": "did you mean skylake_avx512?",
		"nosuchcpu": "see 'tailor targets'",
	} {
		_, err := Lookup(in)
		if !errors.Is(err, ErrUnknownTarget) || !strings.Contains(err.Error(), hint) {
			t.Errorf("Lookup(%q) = %v; want ErrUnknownTarget saying %q", in, err, hint)
		}
	}
	if _, err := Lookup("nosuchcpu"); strings.Contains(err.Error(), "did you mean") {
		t.Errorf("Lookup(nosuchcpu) suggests a far name: %v", err)
	}
	if !IsFeature("avx512f") || !IsFeature("sse3") || IsFeature("avx513") {
		t.Error("IsFeature disagrees with the catalog")
	}
}
