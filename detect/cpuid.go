package detect

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// CPUIDLeaf is the answer of the CPUID instruction to one query.
type CPUIDLeaf struct {
	// EAX and ECX are the query: the leaf and the sub-leaf.
	EAX, ECX uint32
	// Out is what CPUID returned in EAX, EBX, ECX, EDX.
	Out [4]uint32
}

// CPUID is what an x86-64 processor says about itself to this process: the
// CPUID leaves detection reads and the XCR0 register (XGETBV), which tells
// the register state the operating system saves and so which vector
// extensions a process may really use. It is plain data: probes fill it on
// the live host, tests from recordings.
type CPUID struct {
	// Leaves are the answers, by query.
	Leaves []CPUIDLeaf
	// XCR0 is the extended control register 0; meaningful only when the
	// OS enabled XSAVE (leaf 1 ECX bit 27, OSXSAVE).
	XCR0 uint64
}

// CPUIDQueries are the (leaf, sub-leaf) pairs a probe records; leaves above
// the processor's maximum (leaf 0 EAX, leaf 0x80000000 EAX) are skipped.
var CPUIDQueries = [][2]uint32{
	{0, 0}, {1, 0}, {7, 0}, {7, 1}, {0xd, 1},
	{0x40000000, 0},
	{0x80000000, 0}, {0x80000001, 0}, {0x80000002, 0}, {0x80000003, 0}, {0x80000004, 0}, {0x80000008, 0},
}

// leaf returns the answer to (eax, ecx), zeros when it was not recorded.
func (c *CPUID) leaf(eax, ecx uint32) [4]uint32 {
	for _, l := range c.Leaves {
		if l.EAX == eax && l.ECX == ecx {
			return l.Out
		}
	}
	return [4]uint32{}
}

// Registers of a CPUID answer, as indexes of CPUIDLeaf.Out.
const (
	regEAX = iota
	regEBX
	regECX
	regEDX
)

// osState is the XCR0 state components a feature needs the OS to save.
type osState uint64

const (
	stateNone osState = 0
	// stateAVX: SSE and AVX (YMM upper halves), XCR0 bits 1 and 2.
	stateAVX osState = 1<<1 | 1<<2
	// stateAVX512: AVX plus opmask, ZMM0-15 upper halves, ZMM16-31, bits 5-7.
	stateAVX512 osState = stateAVX | 1<<5 | 1<<6 | 1<<7
	// stateAMX: AMX tile config and data, bits 17 and 18.
	stateAMX osState = 1<<17 | 1<<18
)

// cpuidFlag is one feature bit: the Linux /proc/cpuinfo name of the
// feature, where CPUID reports it, and the OS state it needs.
type cpuidFlag struct {
	name     string
	eax, ecx uint32
	reg, bit int
	state    osState
}

// cpuidFlags maps CPUID bits to the flag names Linux prints in
// /proc/cpuinfo (arch/x86/include/asm/cpufeatures.h), the names the
// catalog uses: every x86-64 catalog feature is here (a test checks), and
// TestCPUIDFlagsReference checks the positions against archspec's
// cpuid.json. Flags with no CPUID bit of their own (constant_tsc, rep_good,
// ...) are not here: detection keeps what /proc/cpuinfo says of them.
// Vector extensions count only when the OS saves their registers (XCR0):
// a CPU that has AVX-512 under a kernel that does not enable it cannot run
// AVX-512 code, whatever CPUID's feature bits say.
var cpuidFlags = []cpuidFlag{
	// Leaf 1.
	{"mmx", 1, 0, regEDX, 23, stateNone},
	{"sse", 1, 0, regEDX, 25, stateNone},
	{"sse2", 1, 0, regEDX, 26, stateNone},
	{"pni", 1, 0, regECX, 0, stateNone}, // SSE3; Linux prints pni
	{"pclmulqdq", 1, 0, regECX, 1, stateNone},
	{"ssse3", 1, 0, regECX, 9, stateNone},
	{"fma", 1, 0, regECX, 12, stateAVX},
	{"cx16", 1, 0, regECX, 13, stateNone},
	{"sse4_1", 1, 0, regECX, 19, stateNone},
	{"sse4_2", 1, 0, regECX, 20, stateNone},
	{"movbe", 1, 0, regECX, 22, stateNone},
	{"popcnt", 1, 0, regECX, 23, stateNone},
	{"aes", 1, 0, regECX, 25, stateNone},
	{"xsave", 1, 0, regECX, 26, stateNone},
	{"avx", 1, 0, regECX, 28, stateAVX},
	{"f16c", 1, 0, regECX, 29, stateAVX},
	{"rdrand", 1, 0, regECX, 30, stateNone},
	{"hypervisor", 1, 0, regECX, 31, stateNone},
	// Leaf 7, sub-leaf 0.
	{"fsgsbase", 7, 0, regEBX, 0, stateNone},
	{"tsc_adjust", 7, 0, regEBX, 1, stateNone},
	{"bmi1", 7, 0, regEBX, 3, stateNone},
	{"avx2", 7, 0, regEBX, 5, stateAVX},
	{"bmi2", 7, 0, regEBX, 8, stateNone},
	{"erms", 7, 0, regEBX, 9, stateNone},
	{"avx512f", 7, 0, regEBX, 16, stateAVX512},
	{"avx512dq", 7, 0, regEBX, 17, stateAVX512},
	{"rdseed", 7, 0, regEBX, 18, stateNone},
	{"adx", 7, 0, regEBX, 19, stateNone},
	{"avx512ifma", 7, 0, regEBX, 21, stateAVX512},
	{"clflushopt", 7, 0, regEBX, 23, stateNone},
	{"clwb", 7, 0, regEBX, 24, stateNone},
	{"avx512pf", 7, 0, regEBX, 26, stateAVX512},
	{"avx512er", 7, 0, regEBX, 27, stateAVX512},
	{"avx512cd", 7, 0, regEBX, 28, stateAVX512},
	{"sha_ni", 7, 0, regEBX, 29, stateNone},
	{"avx512bw", 7, 0, regEBX, 30, stateAVX512},
	{"avx512vl", 7, 0, regEBX, 31, stateAVX512},
	{"avx512vbmi", 7, 0, regECX, 1, stateAVX512},
	{"pku", 7, 0, regECX, 3, stateNone},
	{"waitpkg", 7, 0, regECX, 5, stateNone},
	{"avx512_vbmi2", 7, 0, regECX, 6, stateAVX512},
	{"gfni", 7, 0, regECX, 8, stateNone},
	{"vaes", 7, 0, regECX, 9, stateAVX},
	{"vpclmulqdq", 7, 0, regECX, 10, stateAVX},
	{"avx512_vnni", 7, 0, regECX, 11, stateAVX512},
	{"avx512_bitalg", 7, 0, regECX, 12, stateAVX512},
	{"avx512_vpopcntdq", 7, 0, regECX, 14, stateAVX512},
	{"rdpid", 7, 0, regECX, 22, stateNone},
	{"cldemote", 7, 0, regECX, 25, stateNone},
	{"movdiri", 7, 0, regECX, 27, stateNone},
	{"movdir64b", 7, 0, regECX, 28, stateNone},
	{"fsrm", 7, 0, regEDX, 4, stateNone},
	{"avx512_vp2intersect", 7, 0, regEDX, 8, stateAVX512},
	{"serialize", 7, 0, regEDX, 14, stateNone},
	{"amx_bf16", 7, 0, regEDX, 22, stateAMX},
	{"avx512_fp16", 7, 0, regEDX, 23, stateAVX512},
	{"amx_tile", 7, 0, regEDX, 24, stateAMX},
	{"amx_int8", 7, 0, regEDX, 25, stateAMX},
	{"flush_l1d", 7, 0, regEDX, 28, stateNone},
	// Leaf 7, sub-leaf 1.
	{"sha512", 7, 1, regEAX, 0, stateAVX},
	{"sm3", 7, 1, regEAX, 1, stateAVX},
	{"sm4", 7, 1, regEAX, 2, stateAVX},
	{"avx_vnni", 7, 1, regEAX, 4, stateAVX},
	{"avx512_bf16", 7, 1, regEAX, 5, stateAVX512},
	{"cmpccxadd", 7, 1, regEAX, 7, stateNone},
	{"avx_ifma", 7, 1, regEAX, 23, stateAVX},
	{"avx_vnni_int8", 7, 1, regEDX, 4, stateAVX},
	{"avx_ne_convert", 7, 1, regEDX, 5, stateAVX},
	{"avx_vnni_int16", 7, 1, regEDX, 10, stateAVX},
	// Leaf 0xd, sub-leaf 1.
	{"xsaveopt", 0xd, 1, regEAX, 0, stateNone},
	{"xsavec", 0xd, 1, regEAX, 1, stateNone},
	{"xgetbv1", 0xd, 1, regEAX, 2, stateNone},
	{"xsaves", 0xd, 1, regEAX, 3, stateNone},
	// Leaf 0x80000001.
	{"syscall", 0x80000001, 0, regEDX, 11, stateNone},
	{"nx", 0x80000001, 0, regEDX, 20, stateNone},
	{"mmxext", 0x80000001, 0, regEDX, 22, stateNone},
	{"pdpe1gb", 0x80000001, 0, regEDX, 26, stateNone},
	{"rdtscp", 0x80000001, 0, regEDX, 27, stateNone},
	{"lm", 0x80000001, 0, regEDX, 29, stateNone},
	{"3dnowext", 0x80000001, 0, regEDX, 30, stateNone},
	{"3dnow", 0x80000001, 0, regEDX, 31, stateNone},
	{"lahf_lm", 0x80000001, 0, regECX, 0, stateNone},
	{"abm", 0x80000001, 0, regECX, 5, stateNone}, // LZCNT
	{"sse4a", 0x80000001, 0, regECX, 6, stateNone},
	{"misalignsse", 0x80000001, 0, regECX, 7, stateNone},
	{"3dnowprefetch", 0x80000001, 0, regECX, 8, stateNone},
	{"xop", 0x80000001, 0, regECX, 11, stateAVX},
	{"fma4", 0x80000001, 0, regECX, 16, stateAVX},
	{"tbm", 0x80000001, 0, regECX, 21, stateNone},
	// Leaf 0x80000008.
	{"clzero", 0x80000008, 0, regEBX, 0, stateNone},
}

// CPUIDFlagNames returns the /proc/cpuinfo flag names CPUID can tell,
// sorted: the flags on which the CPU overrides /proc/cpuinfo.
func CPUIDFlagNames() []string {
	out := make([]string, len(cpuidFlags))
	for i, f := range cpuidFlags {
		out[i] = f.name
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// osxsave is leaf 1 ECX bit 27: the OS enabled XSAVE, XGETBV may be read.
const osxsaveBit = 27

// Features returns the flags (Linux /proc/cpuinfo naming, sorted) this
// process can use: the CPUID bit is set and, for vector extensions, the OS
// saves the registers they need.
func (c *CPUID) Features() []string {
	max, maxExt := c.leaf(0, 0)[regEAX], c.leaf(0x80000000, 0)[regEAX]
	var xcr0 uint64
	if c.leaf(1, 0)[regECX]&(1<<osxsaveBit) != 0 {
		xcr0 = c.XCR0
	}
	var out []string
	for _, f := range cpuidFlags {
		if f.eax < 0x80000000 && f.eax > max || f.eax >= 0x80000000 && f.eax > maxExt {
			continue
		}
		if f.eax == 7 && f.ecx > c.leaf(7, 0)[regEAX] {
			continue // sub-leaf beyond what leaf 7 reports
		}
		if c.leaf(f.eax, f.ecx)[f.reg]&(1<<f.bit) == 0 {
			continue
		}
		if uint64(f.state)&xcr0 != uint64(f.state) {
			continue
		}
		out = append(out, f.name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Vendor returns the vendor string of leaf 0 (GenuineIntel, AuthenticAMD).
func (c *CPUID) Vendor() string {
	l := c.leaf(0, 0)
	return regString(l[regEBX], l[regEDX], l[regECX])
}

// Brand returns the processor brand string (leaves 0x80000002-4), trimmed;
// empty when the processor has none.
func (c *CPUID) Brand() string {
	if c.leaf(0x80000000, 0)[regEAX] < 0x80000004 {
		return ""
	}
	var regs []uint32
	for eax := uint32(0x80000002); eax <= 0x80000004; eax++ {
		l := c.leaf(eax, 0)
		regs = append(regs, l[:]...)
	}
	return strings.Join(strings.Fields(regString(regs...)), " ")
}

// Hypervisor names the hypervisor CPUID reports (leaf 1 ECX bit 31, and
// the signature of leaf 0x40000000), "" on bare metal. A signature it
// does not know is returned as it reads; a hypervisor bit with no
// signature is "unknown hypervisor".
func (c *CPUID) Hypervisor() string {
	if c.leaf(1, 0)[regECX]&(1<<31) == 0 {
		return ""
	}
	l := c.leaf(0x40000000, 0)
	sig := regString(l[regEBX], l[regECX], l[regEDX])
	if name, ok := hypervisors[sig]; ok {
		return name
	}
	if sig = strings.TrimSpace(sig); sig != "" && isPrintable(sig) {
		return sig
	}
	return "unknown hypervisor"
}

// hypervisors are the signatures of leaf 0x40000000 (EBX, ECX, EDX).
var hypervisors = map[string]string{
	"KVMKVMKVM":    "KVM",
	"TCGTCGTCGTCG": "QEMU (TCG)",
	"Microsoft Hv": "Hyper-V",
	"VMwareVMware": "VMware",
	"XenVMMXenVMM": "Xen",
	" lrpepyh  vr": "Parallels",
	"bhyve bhyve ": "bhyve",
	"ACRNACRNACRN": "ACRN",
	"VBoxVBoxVBox": "VirtualBox",
	"QNXQVMBSQG":   "QNX",
	"EVMMEVMMEVMM": "Intel KGT",
	"Apple VZ":     "Apple Virtualization",
}

// regString reads registers as the little-endian ASCII CPUID returns,
// dropping NUL bytes.
func regString(regs ...uint32) string {
	b := make([]byte, 4*len(regs))
	for i, r := range regs {
		binary.LittleEndian.PutUint32(b[4*i:], r)
	}
	return strings.ReplaceAll(string(b), "\x00", "")
}

func isPrintable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			return false
		}
	}
	return true
}

// Info returns what the CPU says as a CPUInfo of an x86_64 Linux host:
// vendor, brand string and the features this process can use.
func (c *CPUID) Info() (*CPUInfo, error) {
	vendor := c.Vendor()
	if vendor == "" {
		return nil, fmt.Errorf("%w: CPUID leaf 0 has no vendor", ErrMalformed)
	}
	info := &CPUInfo{OS: OSLinux, Machine: MachineX86_64, Vendor: vendor, Model: c.Brand()}
	info.setFeatures(c.Features())
	return info, nil
}
