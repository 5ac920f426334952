package detect

import (
	"slices"
	"strings"
	"testing"
)

const (
	haswellFlags = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand lahf_lm abm fsgsbase bmi1 avx2 smep bmi2 erms invpcid xsaveopt"
	n2Features   = "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop sha3 sm3 sm4 asimddp sha512 sve asimdfhm uscat ilrcpc flagm ssbs sb paca pacg dcpodp sve2 flagm2 frint svei8mm svebf16 i8mm bf16"
	n1Features   = "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs"
)

func x86CPUInfo(vendor, flags string) string {
	return "processor\t: 0\nvendor_id\t: " + vendor + "\nmodel name\t: Test CPU\nflags\t\t: " + flags + "\n\nprocessor\t: 1\n"
}

func armCPUInfo(implementer, part, features string) string {
	s := "processor\t: 0\nFeatures\t: " + features + "\n"
	if implementer != "" {
		s += "CPU implementer\t: " + implementer + "\n"
	}
	if part != "" {
		s += "CPU part\t: " + part + "\n"
	}
	return s
}

func powerCPUInfo(cpu string) string {
	return "processor\t: 0\ncpu\t\t: " + cpu + "\nclock\t\t: 3000.000000MHz\n"
}

func without(flags string, drop ...string) string {
	return strings.Join(slices.DeleteFunc(strings.Fields(flags), func(f string) bool { return slices.Contains(drop, f) }), " ")
}

func TestTargetRules(t *testing.T) {
	tests := []struct {
		name, machine, cpuinfo, want string
	}{
		{"intel haswell", "x86_64", x86CPUInfo("GenuineIntel", haswellFlags), "haswell"},
		{"amd vendor cannot be haswell", "x86_64", x86CPUInfo("AuthenticAMD", haswellFlags), "x86_64_v3"},
		{"unknown vendor gets a level", "x86_64", x86CPUInfo("HygonGenuine", haswellFlags), "x86_64_v3"},
		{"missing avx2 drops a level", "x86_64", x86CPUInfo("GenuineIntel", without(haswellFlags, "avx2")), "ivybridge"},
		{"missing avx2 on amd", "amd64", x86CPUInfo("AuthenticAMD", without(haswellFlags, "avx2")), "x86_64_v2"},
		{"bare x86_64", "x86_64", x86CPUInfo("GenuineIntel", "fpu lm"), "x86_64"},
		{"sse3 alias: ssse3 stands for it", "x86_64", x86CPUInfo("GenuineIntel", "fpu mmx sse sse2 ssse3 lm"), "core2"},
		{"neoverse n1", "aarch64", armCPUInfo("0x41", "0xd0c", n1Features), "neoverse_n1"},
		{"arm part picks n2", "aarch64", armCPUInfo("0x41", "0xd49", n2Features), "neoverse_n2"},
		{"arm part picks v2 with the same features", "aarch64", armCPUInfo("0x41", "0xd4f", n2Features), "neoverse_v2"},
		{"arm no part: archspec order of equals", "aarch64", armCPUInfo("0x41", "", n2Features), "neoverse_v2"},
		{"arm unlisted part: archspec order of equals", "aarch64", armCPUInfo("0x41", "0xd47", n2Features), "neoverse_v2"},
		{"arm64 spelling", "arm64", armCPUInfo("0x41", "0xd0c", n1Features), "neoverse_n1"},
		{"arm vendor mismatch", "aarch64", armCPUInfo("0x99", "0xd0c", n1Features), "aarch64"},
		{"arm no implementer", "aarch64", armCPUInfo("", "", n1Features), "aarch64"},
		{"cavium with n1 features", "aarch64", armCPUInfo("0x43", "0x0af", n1Features), "thunderx2"},
		{"arm missing feature", "aarch64", armCPUInfo("0x41", "0xd0c", without(n1Features, "asimddp")), "cortex_a72"},
		{"power9 le", "ppc64le", powerCPUInfo("POWER9 (raw), altivec supported"), "power9le"},
		{"power9 be", "ppc64", powerCPUInfo("POWER9, altivec supported"), "power9"},
		{"power8nvl", "ppc64le", powerCPUInfo("POWER8NVL (raw), altivec supported"), "power8le"},
		{"power11 runs power10 code", "ppc64le", powerCPUInfo("POWER11 (architected), altivec supported"), "power10le"},
		{"power7 on le has no target", "ppc64le", powerCPUInfo("POWER7 (architected)"), "ppc64le"},
		{"emulated power", "ppc64le", powerCPUInfo("QEMU virtual"), "ppc64le"},
		{"riscv uarch", "riscv64", "processor : 0\nisa : rv64imafdc\nuarch : sifive,u74-mc\n", "u74mc"},
		{"riscv unknown uarch", "riscv64", "processor : 0\nisa : rv64imafdc\nuarch : thead,c910\n", "riscv64"},
		{"riscv model name", "riscv64", "processor : 0\nisa : rv64imafdcv_zba\nmodel name : Spacemit(R) X60\n", "x60"},
		{"riscv isa only", "riscv64", "processor : 0\nisa : rv64imafdc\n", "riscv64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := ParseCPUInfo([]byte(tt.cpuinfo), tt.machine)
			if err != nil {
				t.Fatalf("ParseCPUInfo: %v", err)
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

func TestParseCPUInfoFields(t *testing.T) {
	info, err := ParseCPUInfo([]byte(armCPUInfo("0x41", "0xD4F", "fp asimd")), "aarch64")
	if err != nil {
		t.Fatal(err)
	}
	if info.Vendor != "ARM" || info.Part != "0xd4f" || info.Machine != "aarch64" || info.OS != "linux" {
		t.Errorf("ParseCPUInfo = %+v, want vendor ARM, part 0xd4f, aarch64 linux", info)
	}
	info, err = ParseCPUInfo([]byte(x86CPUInfo("GenuineIntel", "sse2 fpu sse2")), "")
	if err != nil {
		t.Fatal(err)
	}
	if info.Machine != "x86_64" || info.Model != "Test CPU" || !slices.Equal(info.Features, []string{"fpu", "sse2"}) {
		t.Errorf("ParseCPUInfo = %+v, want inferred x86_64, model Test CPU, features [fpu sse2]", info)
	}
	info, err = ParseCPUInfo([]byte(powerCPUInfo("POWER10 (architected), altivec supported")), "ppc64le")
	if err != nil {
		t.Fatal(err)
	}
	if info.Generation != 10 || info.Vendor != "IBM" || !info.HasFeature("altivec") {
		t.Errorf("ParseCPUInfo = %+v, want POWER10 IBM altivec", info)
	}
	info, err = ParseCPUInfo([]byte("processor : 0\nisa : rv64imac_zicsr\nuarch : sifive,u74-mc\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "u74mc" || info.Vendor != "SiFive" || !slices.Equal(info.Features, []string{"a", "c", "i", "m", "zicsr"}) {
		t.Errorf("ParseCPUInfo = %+v, want u74mc SiFive [a c i m zicsr]", info)
	}
}

func TestCompatible(t *testing.T) {
	info, err := ParseCPUInfo([]byte(x86CPUInfo("GenuineIntel", haswellFlags)), "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	cands, err := Compatible(info)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cands {
		names = append(names, c.Name())
	}
	for fit, list := range map[bool][]string{
		true: {"x86_64", "x86_64_v2", "x86_64_v3", "core2", "nehalem", "ivybridge", "haswell"},
		// nocona needs sse3, which Linux prints as pni: archspec does not
		// apply feature aliases when it detects.
		false: {"nocona", "x86_64_v4", "broadwell", "zen", "aarch64", "skylake_avx512"},
	} {
		for _, n := range list {
			if slices.Contains(names, n) != fit {
				t.Errorf("Compatible(haswell) has %s = %v, want %v (got %v)", n, !fit, fit, names)
			}
		}
	}
}
