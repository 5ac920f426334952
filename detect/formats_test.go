package detect

import (
	"strings"
	"testing"
)

// The format tests feed real-world variants of dumps: line endings, white
// space, key casing, several processors, virtual machines, vendors the
// catalog has no targets for, heterogeneous ARM systems.

// corpusVariants are rewritings that must not change what a dump says.
var corpusVariants = map[string]func(string) string{
	"crlf":            func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") },
	"trailing spaces": func(s string) string { return strings.ReplaceAll(s, "\n", "  \n") },
	"trailing tabs":   func(s string) string { return strings.ReplaceAll(s, "\n", "\t\n") },
	"spaces not tabs": func(s string) string { return strings.ReplaceAll(s, "\t", " ") },
	"tight colons": func(s string) string {
		var b strings.Builder
		for line := range strings.Lines(s) {
			k, v, ok := strings.Cut(line, ":")
			if ok {
				line = strings.TrimSpace(k) + ":" + strings.TrimLeft(v, " \t")
			}
			b.WriteString(line)
		}
		return b.String()
	},
	"byte order mark":     func(s string) string { return "\ufeff" + s },
	"no final newline":    func(s string) string { return strings.TrimRight(s, "\n") },
	"leading blank lines": func(s string) string { return "\n\n" + s },
}

func TestCorpusVariants(t *testing.T) {
	for _, c := range loadCorpus(t) {
		for name, rewrite := range corpusVariants {
			v := c
			v.data = []byte(rewrite(string(c.data)))
			info, err := v.parse()
			if err != nil {
				t.Errorf("%s, %s: %v", c.file, name, err)
				continue
			}
			got, err := Target(info)
			if err != nil {
				t.Errorf("%s, %s: Target: %v", c.file, name, err)
				continue
			}
			if got.Name() != c.want {
				t.Errorf("Target(%s, %s) = %s, want %s", c.file, name, got.Name(), c.want)
			}
		}
	}
}

const (
	// rk3588Features is what Linux prints, in every block, for the
	// Cortex-A55 and Cortex-A76 cores of an RK3588: the hwcaps the
	// system has, not each core's.
	rk3588Features = "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp"

	cascadelakeFlags   = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology nonstop_tsc cpuid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch invpcid_single pti fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid mpx avx512f avx512dq rdseed adx smap clflushopt clwb avx512cd avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves ida arat pku ospke avx512_vnni"
	zen2Flags          = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc cpuid extd_apicid aperfmperf pni pclmulqdq monitor ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand lahf_lm cmp_legacy svm extapic cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw skinit wdt tce topoext perfctr_core perfctr_nb bpext perfctr_llc mwaitx cpb hw_pstate sme ssbd sev ibpb vmmcall fsgsbase bmi1 avx2 smep bmi2 rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 xsaves clzero irperf xsaveerptr rdpru wbnoinvd arat npt lbrv svm_lock nrip_save tsc_scale vmcb_clean flushbyasid decodeassists pausefilter pfthreshold avic v_vmsave_vmload vgif umip rdpid overflow_recov succor smca"
	graniteRapidsFlags = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc art arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc cpuid aperfmperf tsc_known_freq pni pclmulqdq dtes64 monitor ds_cpl vmx smx est tm2 ssse3 sdbg fma cx16 xtpr pdcm pcid dca sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand lahf_lm abm 3dnowprefetch cpuid_fault epb cat_l3 cat_l2 cdp_l3 intel_ppin cdp_l2 ssbd mba ibrs ibpb stibp ibrs_enhanced tpr_shadow flexpriority ept vpid ept_ad fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid cqm rdt_a avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb intel_pt avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves cqm_llc cqm_occup_llc cqm_mbm_total cqm_mbm_local split_lock_detect avx_vnni avx512_bf16 wbnoinvd dtherm ida arat pln pts hwp hwp_act_window hwp_epp hwp_pkg_req hfi vnmi avx512vbmi umip pku ospke waitpkg avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg tme avx512_vpopcntdq la57 rdpid bus_lock_detect cldemote movdiri movdir64b enqcmd fsrm md_clear serialize tsxldtrk pconfig arch_lbr ibt amx_bf16 avx512_fp16 amx_tile amx_int8 flush_l1d arch_capabilities"
	arrowLakeSFlags    = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc art arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc cpuid aperfmperf tsc_known_freq pni pclmulqdq dtes64 monitor ds_cpl vmx smx est tm2 ssse3 sdbg fma cx16 xtpr pdcm pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand lahf_lm abm 3dnowprefetch cpuid_fault epb ssbd ibrs ibpb stibp ibrs_enhanced tpr_shadow flexpriority ept vpid ept_ad fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid rdt_a rdseed adx smap clflushopt clwb intel_pt sha_ni xsaveopt xsavec xgetbv1 xsaves split_lock_detect user_shstk avx_vnni avx_vnni_int8 avx_vnni_int16 avx_ne_convert avx_ifma cmpccxadd sha512 sm3 sm4 lam wbnoinvd dtherm ida arat pln pts hwp hwp_notify hwp_act_window hwp_epp hwp_pkg_req hfi vnmi umip pku ospke waitpkg gfni vaes vpclmulqdq rdpid bus_lock_detect movdiri movdir64b fsrm md_clear serialize pconfig arch_lbr ibt flush_l1d arch_capabilities"
	zhaoxinFlags       = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx rdtscp lm constant_tsc rep_good nopl xtopology nonstop_tsc cpuid aperfmperf pni pclmulqdq dtes64 monitor ds_cpl vmx smx est tm2 ssse3 cx16 xtpr pdcm sse4_1 sse4_2 x2apic popcnt tsc_deadline_timer aes xsave rdrand lahf_lm 3dnowprefetch rng rng_en ace ace_en ace2 ace2_en phe phe_en pmm pmm_en"
)

func TestFormats(t *testing.T) {
	tests := []struct {
		name, machine, cpuinfo, want string
	}{
		{"x86 several blocks, the first shorter", "x86_64",
			"processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: " + haswellFlags + "\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: Xeon\nflags\t\t: " + cascadelakeFlags + "\nbugs\t\t: spectre_v1\npower management:\n\n", "haswell"},
		{"x86 Flags key capitalised", "x86_64", "processor : 0\nvendor_id : GenuineIntel\nFlags : " + haswellFlags + "\n", "haswell"},
		{"x86 power management line empty", "x86_64", x86CPUInfo("GenuineIntel", haswellFlags) + "power management:\n", "haswell"},
		{"vm: cascadelake", "x86_64", x86CPUInfo("GenuineIntel", cascadelakeFlags), "cascadelake"},
		{"vm hides avx512_vnni", "x86_64", x86CPUInfo("GenuineIntel", without(cascadelakeFlags, "avx512_vnni")), "skylake_avx512"},
		{"vm hides avx512bw", "x86_64", x86CPUInfo("GenuineIntel", without(cascadelakeFlags, "avx512bw")), "skylake"},
		{"vm hides avx2", "x86_64", x86CPUInfo("GenuineIntel", without(cascadelakeFlags, "avx2")), "ivybridge"},
		{"vm hides xsave: ivybridge does not list it", "x86_64", x86CPUInfo("GenuineIntel", without(cascadelakeFlags, "xsave")), "ivybridge"},
		{"vm with a bare CPU model", "x86_64", x86CPUInfo("GenuineIntel", "fpu de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 syscall nx lm rep_good nopl cpuid pni hypervisor"), "x86_64"},
		{"qemu64 model", "x86_64", x86CPUInfo("AuthenticAMD", "fpu de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 syscall nx lm rep_good nopl cpuid pni cx16 x2apic popcnt hypervisor lahf_lm svm abm sse4a"), "x86_64"},
		{"granite rapids, newer than the catalog: sapphirerapids", "x86_64", x86CPUInfo("GenuineIntel", graniteRapidsFlags), "sapphirerapids"},
		{"arrow lake s", "x86_64", x86CPUInfo("GenuineIntel", arrowLakeSFlags), "arrowlake_s"},
		{"hygon: a level", "x86_64", x86CPUInfo("HygonGenuine", zen2Flags), "x86_64_v3"},
		{"amd zen2", "x86_64", x86CPUInfo("AuthenticAMD", zen2Flags), "zen2"},
		{"zhaoxin: a level", "x86_64", x86CPUInfo("CentaurHauls", zhaoxinFlags), "x86_64_v2"},
		{"zhaoxin shanghai: a level", "x86_64", x86CPUInfo("  Shanghai  ", zhaoxinFlags), "x86_64_v2"},
		{"intel with avx-512 fused off", "x86_64", x86CPUInfo("GenuineIntel", without(cascadelakeFlags, "avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl", "avx512_vnni")), "skylake"},
		{"arm part upper-case hex", "aarch64", armCPUInfo("0x41", "0xD0C", n1Features), "neoverse_n1"},
		{"arm part without leading zero", "aarch64", armCPUInfo("0x43", "0xaf", "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics cpuid asimdrdm"), "thunderx2"},
		{"arm implementer upper-case", "aarch64", armCPUInfo("0X41", "0xd0c", n1Features), "neoverse_n1"},
		{"arm features key lower-case", "aarch64", "processor : 0\nfeatures : " + n1Features + "\nCPU implementer : 0x41\nCPU part : 0xd0c\n", "neoverse_n1"},
		{"arm no model name, old kernel header", "aarch64", "Processor\t: AArch64 Processor rev 1 (aarch64)\nprocessor\t: 0\nprocessor\t: 1\nFeatures\t: " + n1Features + "\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU part\t: 0xd0c\n\nHardware\t: Board\n", "neoverse_n1"},
		{"big.LITTLE rk3588, little core first", "aarch64", armCPUInfo("0x41", "0xd05", rk3588Features) + "\n" + armCPUInfo("0x41", "0xd0b", rk3588Features), "neoverse_n1"},
		{"heterogeneous parts: the first block decides (n2)", "aarch64", armCPUInfo("0x41", "0xd49", n2Features) + "\n" + armCPUInfo("0x41", "0xd4f", n2Features), "neoverse_n2"},
		{"heterogeneous parts: the first block decides (v2)", "aarch64", armCPUInfo("0x41", "0xd4f", n2Features) + "\n" + armCPUInfo("0x41", "0xd49", n2Features), "neoverse_v2"},
		{"armv9 phone cores, no listed part: archspec's first of equals", "aarch64", armCPUInfo("0x41", "0xd46", n2Features) + "\n" + armCPUInfo("0x41", "0xd48", n2Features), "neoverse_v2"},
		{"asahi m1 performance core first", "aarch64", armCPUInfo("0x61", "0x023", "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop sha3 asimddp sha512 asimdfhm dit uscat ilrcpc flagm ssbs sb paca pacg dcpodp flagm2 frint"), "m1"},
		{"power10 architected", "ppc64le", powerCPUInfo("POWER10 (architected), altivec supported"), "power10le"},
		{"power10 raw", "ppc64le", powerCPUInfo("POWER10 (raw), altivec supported"), "power10le"},
		{"power11 architected", "ppc64le", powerCPUInfo("POWER11 (architected), altivec supported"), "power10le"},
		{"power11 big endian", "ppc64", powerCPUInfo("POWER11 (architected), altivec supported"), "power10"},
		{"power8e", "ppc64le", powerCPUInfo("POWER8E (raw), altivec supported"), "power8le"},
		{"power9 in a powervm lpar", "ppc64le", powerCPUInfo("POWER9 (architected), altivec supported") + "\ntimebase\t: 512000000\nplatform\t: pSeries\nmodel\t\t: IBM,9009-22A\nmachine\t\t: CHRP IBM,9009-22A\nMMU\t\t: Radix\n", "power9le"},
		{"riscv hart isa line of linux 6.8", "riscv64", "processor\t: 0\nhart\t\t: 1\nisa\t\t: rv64imafdc_zicntr_zicsr_zifencei_zihpm\nmmu\t\t: sv39\nuarch\t\t: sifive,u74-mc\nmvendorid\t: 0x489\nmarchid\t\t: 0x8000000000000007\nmimpid\t\t: 0x4210427\nhart isa\t: rv64imafdc_zicntr_zicsr_zifencei_zihpm\n", "u74mc"},
		{"riscv versioned isa", "riscv64", "processor : 0\nisa : rv64i2p1_m2p0_a2p1_f2p2_d2p2_c2p0\nuarch : sifive,u74-mc\n", "u74mc"},
		{"riscv x60 by uarch", "riscv64", "processor : 0\nisa : rv64imafdcv\nuarch : spacemit,x60\n", "x60"},
		{"riscv x60 by model name beside another uarch", "riscv64", "processor : 0\nisa : rv64imafdcv\nmodel name : Spacemit(R) X60\nuarch : thead,c908\n", "x60"},
		{"riscv thead", "riscv64", "processor : 0\nhart : 0\nisa : rv64imafdcv_xtheadvector\nmmu : sv39\nmodel name : T-HEAD C910\n", "riscv64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := detectCPUInfo(tt.cpuinfo, tt.machine)
			if err != nil {
				t.Fatalf("detect: %v", err)
			}
			if got.Name() != tt.want {
				t.Errorf("Target(%s) = %s, want %s", tt.name, got.Name(), tt.want)
			}
		})
	}
}

func TestSysctlFormats(t *testing.T) {
	full := "kern.version: Darwin Kernel Version 24.1.0\nkern.bootargs:\nsome.multiline: first\n  second line of it\n" + appleSysctl("Apple M3 Pro")
	for name, dump := range map[string]string{
		"continuation lines": full,
		"key = value":        strings.ReplaceAll(appleSysctl("Apple M3 Pro"), ": ", " = "),
		"crlf":               strings.ReplaceAll(appleSysctl("Apple M3 Pro"), "\n", "\r\n"),
	} {
		info, err := ParseSysctl([]byte(dump), "")
		if err != nil {
			t.Errorf("ParseSysctl(%s): %v", name, err)
			continue
		}
		if got, err := Target(info); err != nil || got.Name() != "m3" {
			t.Errorf("Target(%s) = %v, %v, want m3", name, got, err)
		}
	}
}
