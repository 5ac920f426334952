package detect

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/catalog"
)

// The round-trip tests synthesise, for every specific (not generic) target
// T of the families detection knows, the dump of a machine that is exactly
// T, and check that T is detected. Where archspec's algorithm itself cannot
// answer T from such a dump, roundTripExceptions says what it answers and
// why; a dump of any other target that does not come back is a rule bug.

// x86BaseFlags are flags every x86_64 Linux kernel prints on any machine,
// virtual ones included, that no catalog target requires beyond the basics.
const x86BaseFlags = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx lm constant_tsc rep_good nopl xtopology cpuid pni"

// armBaseFeatures are features every arm64 Linux kernel prints.
const armBaseFeatures = "fp asimd evtstrm cpuid"

// linuxFlag is the name a Linux kernel prints for a catalog feature: sse3
// is pni in /proc/cpuinfo; every other catalog name is the kernel's.
func linuxFlag(f string) string {
	if f == "sse3" {
		return "pni"
	}
	return f
}

// roundTrip names a dump kind and the target it is made from.
type roundTrip struct{ kind, target string }

// roundTripExceptions lists the dumps of one target that archspec's
// algorithm answers with another, and why. The tests fail when an entry is
// no longer needed, so the list stays exact.
var roundTripExceptions = map[roundTrip]struct{ want, why string }{
	{"cpuinfo", "nocona"}: {"x86_64", "Linux prints sse3 as pni and archspec does not alias it when it detects, so nocona never fits a Linux dump"},
	// Without the CPU part line, targets with identical vendor and
	// features rank by ancestors, then archspec's order.
	{"cpuinfo-nopart", "m2"}:          {"m3", "m3 has m2's vendor and features and one more ancestor; only m2's part 0x032 tells them apart"},
	{"cpuinfo-nopart", "neoverse_n2"}: {"neoverse_v2", "same vendor, features and ancestors; archspec lists neoverse_v2 first; only the parts 0xd49/0xd4f tell them apart"},
}

// specificTargets returns the targets of the families detection knows that
// are not generic, in catalog order.
func specificTargets() []*catalog.Target {
	var out []*catalog.Target
	for _, t := range catalog.All() {
		switch t.Family() {
		case MachineX86_64, MachineAArch64, MachinePPC64, MachinePPC64LE, MachineRISCV64:
			if !t.Generic() {
				out = append(out, t)
			}
		}
	}
	return out
}

// armImplementer returns the CPU implementer code of vendor.
func armImplementer(vendor string) string {
	for code := range 256 {
		s := fmt.Sprintf("0x%02x", code)
		if v, ok := catalog.ARMVendor(s); ok && v == vendor {
			return s
		}
	}
	return ""
}

// linuxDump returns the /proc/cpuinfo of two processors of a machine that
// is exactly t, with the CPU part of t (when it has one and withPart).
func linuxDump(t *catalog.Target, withPart bool) string {
	var b strings.Builder
	for cpu := range 2 {
		fmt.Fprintf(&b, "processor\t: %d\n", cpu)
		switch t.Family() {
		case MachineX86_64:
			var flags []string
			for _, f := range t.FeatureList() {
				flags = append(flags, linuxFlag(f))
			}
			fmt.Fprintf(&b, "vendor_id\t: %s\ncpu family\t: 6\nmodel name\t: %s test CPU\nflags\t\t: %s %s\nbugs\t\t: spectre_v1\n",
				t.Vendor(), t.Name(), x86BaseFlags, strings.Join(flags, " "))
		case MachineAArch64:
			fmt.Fprintf(&b, "BogoMIPS\t: 50.00\nFeatures\t: %s %s\nCPU implementer\t: %s\nCPU architecture: 8\nCPU variant\t: 0x1\n",
				armBaseFeatures, strings.Join(t.FeatureList(), " "), armImplementer(t.Vendor()))
			if withPart && len(t.CPUParts()) > 0 {
				fmt.Fprintf(&b, "CPU part\t: %s\n", t.CPUParts()[0])
			}
			b.WriteString("CPU revision\t: 1\n")
		case MachinePPC64, MachinePPC64LE:
			fmt.Fprintf(&b, "cpu\t\t: POWER%d (raw), altivec supported\nclock\t\t: 2750.000000MHz\nrevision\t: 2.2 (pvr 004e 1202)\n", t.Generation())
		case MachineRISCV64:
			fmt.Fprintf(&b, "hart\t\t: %d\nisa\t\t: rv64imafdc_zicsr_zifencei\nmmu\t\t: sv39\nuarch\t\t: %s,%s\n", cpu, strings.ToLower(t.Vendor()), t.Name())
		}
		b.WriteString("\n")
	}
	return b.String()
}

// checkRoundTrip parses dump, detects its target and checks it against
// the target it was made from, or the exception listed for it.
func checkRoundTrip(t *testing.T, rt roundTrip, got *catalog.Target, err error, used map[roundTrip]bool) bool {
	t.Helper()
	if err != nil {
		t.Errorf("%s of %s: %v", rt.kind, rt.target, err)
		return false
	}
	want := rt.target
	if ex, ok := roundTripExceptions[rt]; ok {
		want = ex.want
		used[rt] = true
	}
	if got.Name() != want {
		t.Errorf("Target(%s of %s) = %s, want %s", rt.kind, rt.target, got.Name(), want)
		return false
	}
	return got.Name() == rt.target
}

func detectCPUInfo(dump, machine string) (*catalog.Target, error) {
	info, err := ParseCPUInfo([]byte(dump), machine)
	if err != nil {
		return nil, err
	}
	return Target(info)
}

func TestRoundTripCPUInfo(t *testing.T) {
	used := map[roundTrip]bool{}
	total, exact := 0, 0
	for _, target := range specificTargets() {
		kinds := []string{"cpuinfo"}
		if len(target.CPUParts()) > 0 {
			kinds = append(kinds, "cpuinfo-nopart")
		}
		for _, kind := range kinds {
			rt := roundTrip{kind, target.Name()}
			dump := linuxDump(target, kind == "cpuinfo")
			got, err := detectCPUInfo(dump, target.Family())
			total++
			if checkRoundTrip(t, rt, got, err, used) {
				exact++
			}
			for name, rewrite := range corpusVariants {
				if v, err := detectCPUInfo(rewrite(dump), target.Family()); err != nil || got == nil || v != got {
					t.Errorf("Target(%s of %s, %s) = %v, %v; want %v as without it", kind, target.Name(), name, v, err, got)
				}
			}
		}
	}
	checkExceptionsUsed(t, used, "cpuinfo")
	t.Logf("cpuinfo round trips: %d/%d dumps detected as the target they were made from", exact, total)
}

// checkExceptionsUsed fails on listed exceptions of kinds that no dump
// needed.
func checkExceptionsUsed(t *testing.T, used map[roundTrip]bool, prefix string) {
	t.Helper()
	for rt := range roundTripExceptions {
		if strings.HasPrefix(rt.kind, prefix) && !used[rt] {
			t.Errorf("roundTripExceptions lists %s of %s, which no longer needs it", rt.kind, rt.target)
		}
	}
}

// TestDetectionIsSound drops each feature in turn from the dump of every
// specific x86_64 and aarch64 target, as a virtual machine or a BIOS
// setting hides flags, and checks that the answer never needs a feature
// the dump lacks nor is of another vendor.
func TestDetectionIsSound(t *testing.T) {
	for _, target := range specificTargets() {
		if target.Family() != MachineX86_64 && target.Family() != MachineAArch64 {
			continue
		}
		for _, drop := range target.FeatureList() {
			info, err := ParseCPUInfo([]byte(linuxDump(target, true)), target.Family())
			if err != nil {
				t.Fatalf("%s: %v", target.Name(), err)
			}
			info.Features = slices.DeleteFunc(info.Features, func(f string) bool { return f == linuxFlag(drop) })
			got, err := Target(info)
			if err != nil {
				t.Fatalf("Target(%s without %s): %v", target.Name(), drop, err)
			}
			if !got.Generic() && got.Vendor() != target.Vendor() {
				t.Errorf("Target(%s without %s) = %s of vendor %s", target.Name(), drop, got.Name(), got.Vendor())
			}
			for _, f := range got.FeatureList() {
				if !info.HasFeature(f) {
					t.Errorf("Target(%s without %s) = %s, which needs %s", target.Name(), drop, got.Name(), f)
				}
			}
			if got == target {
				t.Errorf("Target(%s without %s) = %s", target.Name(), drop, got.Name())
			}
		}
	}
}

// darwinName returns the tokens macOS sysctl prints for a Linux flag,
// through the catalog's darwin flag table read backwards (abm is POPCNT
// and LZCNT, avx is AVX1.0, ...); other flags are upper-cased.
func darwinName(f string) string {
	for from, to := range catalog.DarwinFlags() {
		if slices.Contains(strings.Fields(to), f) {
			return strings.ToUpper(from)
		}
	}
	return strings.ToUpper(f)
}

// darwinDump returns the sysctl output of an Intel Mac that is exactly t.
func darwinDump(t *catalog.Target) string {
	var fs []string
	for _, f := range t.FeatureList() {
		fs = append(fs, darwinName(f))
	}
	return "machdep.cpu.vendor: " + t.Vendor() + "\nmachdep.cpu.brand_string: " + t.Name() + " test CPU\n" +
		"machdep.cpu.features: FPU VME DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE MCA CMOV PAT PSE36 CLFSH DS ACPI MMX FXSR SSE SSE2 SS HTT TM PBE SSE3\n" +
		"machdep.cpu.leaf7_features: " + strings.Join(fs, " ") + "\n" +
		"machdep.cpu.extfeatures: SYSCALL XD EM64T\nhw.ncpu: 8\n"
}

func TestRoundTripSysctlX86(t *testing.T) {
	used := map[roundTrip]bool{}
	total, exact := 0, 0
	for _, target := range specificTargets() {
		if target.Family() != MachineX86_64 {
			continue
		}
		rt := roundTrip{"sysctl", target.Name()}
		info, err := ParseSysctl([]byte(darwinDump(target)), "")
		var got *catalog.Target
		if err == nil {
			got, err = Target(info)
		}
		total++
		if checkRoundTrip(t, rt, got, err, used) {
			exact++
		}
	}
	checkExceptionsUsed(t, used, "sysctl")
	t.Logf("sysctl round trips: %d/%d Intel Mac dumps detected as the target they were made from", exact, total)
}

func TestAppleBrands(t *testing.T) {
	tests := map[string]string{
		"Apple M1": "m1", "Apple M1 Pro": "m1", "Apple M1 Max": "m1", "Apple M1 Ultra": "m1",
		"Apple M2": "m2", "Apple M2 Pro": "m2", "Apple M2 Max": "m2", "Apple M2 Ultra": "m2",
		"Apple M3": "m3", "Apple M3 Pro": "m3", "Apple M3 Max": "m3", "Apple M3 Ultra": "m3",
		"Apple M4": "m4", "Apple M4 Pro": "m4", "Apple M4 Max": "m4",
		"Apple M5": "m4", "Apple M12 Ultra": "m4", // newer than the catalog: the newest before
		"Apple processor":        "m1", // the first macOS releases on M1
		"Apple  M2":              "m2", // any white space, as archspec reads it
		"apple m3 max":           "m3",
		"Apple M0":               "aarch64",
		"Apple A12Z":             "aarch64", // a Developer Transition Kit: no M model
		"VirtualApple @ 2.50GHz": "aarch64",
	}
	for brand, want := range tests {
		info, err := ParseSysctl([]byte(appleSysctl(brand)), "arm64")
		if err != nil {
			t.Errorf("ParseSysctl(%q): %v", brand, err)
			continue
		}
		got, err := Target(info)
		if err != nil {
			t.Errorf("Target(%q): %v", brand, err)
			continue
		}
		if got.Name() != want {
			t.Errorf("Target(%q) = %s, want %s", brand, got.Name(), want)
		}
	}
}
