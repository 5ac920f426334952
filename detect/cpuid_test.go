package detect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/catalog"
)

// readCPUID reads a recorded CPUID of testdata/cpuid (made by
// detect/internal/cpuidrec, under qemu-x86_64 -cpu MODEL or on a host).
func readCPUID(t *testing.T, name string) *CPUID {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "cpuid", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var c CPUID
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &c
}

// TestCPUIDRecorded: recorded CPUs give the target of their model. TCG
// emulates no AVX-512 and not every feature of newer models, so qemu's
// Skylake and Broadwell models are haswell to a process there, and its EPYC
// models x86_64_v3 (no clzero, which zen needs): what code really runs on
// them.
func TestCPUIDRecorded(t *testing.T) {
	cases := []struct {
		file, target, vendor, model, hypervisor string
		has, lacks                              []string
	}{
		{"qemu-qemu64", "x86_64", "AuthenticAMD", "QEMU Virtual CPU version 2.5+", "QEMU (TCG)", []string{"sse2", "pni", "cx16"}, []string{"ssse3", "popcnt", "avx"}},
		{"qemu-Nehalem", "nehalem", "GenuineIntel", "Intel Core i7 9xx (Nehalem Class Core i7)", "QEMU (TCG)", []string{"sse4_2", "popcnt", "lahf_lm"}, []string{"avx", "pclmulqdq", "aes"}},
		{"qemu-Westmere", "westmere", "GenuineIntel", "Westmere E56xx/L56xx/X56xx (Nehalem-C)", "QEMU (TCG)", []string{"aes", "pclmulqdq"}, []string{"avx"}},
		{"qemu-SandyBridge", "sandybridge", "GenuineIntel", "Intel Xeon E312xx (Sandy Bridge)", "QEMU (TCG)", []string{"avx", "xsave"}, []string{"avx2", "f16c"}},
		{"qemu-IvyBridge", "ivybridge", "GenuineIntel", "Intel Xeon E3-12xx v2 (Ivy Bridge)", "QEMU (TCG)", []string{"f16c", "rdrand"}, []string{"avx2"}},
		{"qemu-Haswell", "haswell", "GenuineIntel", "Intel Core Processor (Haswell)", "QEMU (TCG)", []string{"avx2", "fma", "bmi2", "movbe", "abm"}, []string{"avx512f"}},
		{"qemu-Broadwell", "haswell", "GenuineIntel", "Intel Core Processor (Broadwell)", "QEMU (TCG)", []string{"avx2", "adx"}, []string{"rdseed", "avx512f"}},
		{"qemu-Skylake-Server", "haswell", "GenuineIntel", "Intel Xeon Processor (Skylake)", "QEMU (TCG)", []string{"avx2", "clwb"}, []string{"avx512f", "avx512bw"}},
		{"qemu-EPYC-Rome", "x86_64_v3", "AuthenticAMD", "AMD EPYC-Rome Processor", "QEMU (TCG)", []string{"avx2", "sse4a"}, []string{"clzero", "avx512f"}},
		{"qemu-Opteron_G4", "x86_64_v2", "AuthenticAMD", "AMD Opteron 62xx class CPU", "QEMU (TCG)", []string{"avx", "sse4a"}, []string{"avx2"}},
		{"kvm-sapphirerapids", "icelake", "GenuineIntel", "Intel(R) Xeon(R) Processor", "KVM", []string{"avx512f", "avx512_fp16", "amx_tile", "avx_vnni"}, []string{"3dnow"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			cpu := readCPUID(t, c.file)
			info, err := cpu.Info()
			if err != nil {
				t.Fatal(err)
			}
			tg, err := Target(info)
			if err != nil {
				t.Fatal(err)
			}
			if tg.Name() != c.target || info.Vendor != c.vendor || info.Model != c.model || cpu.Hypervisor() != c.hypervisor {
				t.Errorf("target, vendor, model, hypervisor = %s, %s, %q, %q; want %s, %s, %q, %q", tg.Name(), info.Vendor, info.Model, cpu.Hypervisor(), c.target, c.vendor, c.model, c.hypervisor)
			}
			for _, f := range c.has {
				if !info.HasFeature(f) {
					t.Errorf("features lack %s: %v", f, info.Features)
				}
			}
			for _, f := range c.lacks {
				if info.HasFeature(f) {
					t.Errorf("features have %s", f)
				}
			}
		})
	}
}

// TestCPUIDOSState: vector extensions count only when the OS saves their
// registers, whatever the feature bits say.
func TestCPUIDOSState(t *testing.T) {
	base := readCPUID(t, "kvm-sapphirerapids")
	cases := []struct {
		name  string
		edit  func(c *CPUID)
		has   []string
		lacks []string
	}{
		{"as recorded", func(*CPUID) {}, []string{"avx", "avx2", "avx512f", "amx_tile"}, nil},
		{"no AVX-512 state", func(c *CPUID) { c.XCR0 &^= 0xe0 }, []string{"avx", "avx2", "fma", "vaes"}, []string{"avx512f", "avx512vl", "avx512_bf16"}},
		{"no AMX state", func(c *CPUID) { c.XCR0 &^= 3 << 17 }, []string{"avx512f"}, []string{"amx_tile", "amx_int8"}},
		{"no AVX state", func(c *CPUID) { c.XCR0 = 3 }, []string{"sse4_2", "popcnt", "bmi2"}, []string{"avx", "avx2", "fma", "f16c", "avx512f"}},
		{"no OSXSAVE", func(c *CPUID) {
			for i := range c.Leaves {
				if c.Leaves[i].EAX == 1 {
					c.Leaves[i].Out[regECX] &^= 1 << osxsaveBit
				}
			}
		}, []string{"xsave", "bmi1"}, []string{"avx", "avx2", "avx512f"}},
		{"leaf 7 beyond the maximum", func(c *CPUID) {
			for i := range c.Leaves {
				if c.Leaves[i].EAX == 0 {
					c.Leaves[i].Out[regEAX] = 6
				}
			}
		}, []string{"avx", "sse4_2"}, []string{"avx2", "bmi1", "avx512f"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cpu := *base
			cpu.Leaves = slices.Clone(base.Leaves)
			c.edit(&cpu)
			fs := cpu.Features()
			for _, f := range c.has {
				if !slices.Contains(fs, f) {
					t.Errorf("Features() lacks %s", f)
				}
			}
			for _, f := range c.lacks {
				if slices.Contains(fs, f) {
					t.Errorf("Features() has %s", f)
				}
			}
		})
	}
}

// TestCPUIDFlagsCoverCatalog: every x86-64 feature a catalog target needs
// is told by the CPU, so the CPU alone can reach every target (the
// catalog's sse3 is Linux's pni).
func TestCPUIDFlagsCoverCatalog(t *testing.T) {
	known := CPUIDFlagNames()
	for _, tg := range catalog.All() {
		if tg.Family() != MachineX86_64 {
			continue
		}
		for f := range tg.Features() {
			if f == "sse3" {
				f = "pni"
			}
			if !slices.Contains(known, f) {
				t.Errorf("target %s needs %s, which no CPUID bit of the table tells", tg.Name(), f)
			}
		}
	}
	seen := map[string]bool{}
	for _, f := range cpuidFlags {
		if seen[f.name] {
			t.Errorf("flag %s is in the table twice", f.name)
		}
		seen[f.name] = true
	}
}

func TestCPUIDJSONRoundTrip(t *testing.T) {
	c := readCPUID(t, "qemu-Haswell")
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back CPUID
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Features(), c.Features()) || back.XCR0 != c.XCR0 || back.Brand() != c.Brand() {
		t.Errorf("round trip changed the CPU: %v vs %v", back.Features(), c.Features())
	}
	for _, bad := range []string{`{"xcr0":"x","leaves":{}}`, `{"xcr0":"0x7","leaves":{"1":["0","0","0","0"]}}`, `{"xcr0":"0x7","leaves":{"0x1.0":["0","zz","0","0"]}}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil || !strings.Contains(err.Error(), "CPUID record") {
			t.Errorf("Unmarshal(%s) = %v, want a CPUID record error", bad, err)
		}
	}
}

// TestCPUIDHypervisor reads the signatures of leaf 0x40000000.
func TestCPUIDHypervisor(t *testing.T) {
	sig := func(s string) [4]uint32 {
		b := make([]byte, 12)
		copy(b, s)
		le := func(i int) uint32 { return uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16 | uint32(b[i+3])<<24 }
		return [4]uint32{0x40000001, le(0), le(4), le(8)}
	}
	cases := map[string]string{"KVMKVMKVM": "KVM", "Microsoft Hv": "Hyper-V", "VMwareVMware": "VMware", "NewHyperXYZ0": "NewHyperXYZ0", "\x01\x02": "unknown hypervisor"}
	for s, want := range cases {
		c := &CPUID{Leaves: []CPUIDLeaf{{EAX: 1, Out: [4]uint32{0, 0, 1 << 31, 0}}, {EAX: 0x40000000, Out: sig(s)}}}
		if got := c.Hypervisor(); got != want {
			t.Errorf("Hypervisor(%q) = %q, want %q", s, got, want)
		}
	}
	bare := &CPUID{Leaves: []CPUIDLeaf{{EAX: 1}, {EAX: 0x40000000, Out: sig("KVMKVMKVM")}}}
	if got := bare.Hypervisor(); got != "" {
		t.Errorf("Hypervisor with leaf 1 bit 31 clear = %q, want none", got)
	}
	if _, err := (&CPUID{}).Info(); err == nil {
		t.Error("Info of an empty CPUID: want an error")
	}
}
