package detect

import (
	"fmt"
	"slices"

	"github.com/tailor-dev/tailor/catalog"
)

// hwcapNames are the arm64 AT_HWCAP bits, in bit order, by the names Linux
// prints in the Features line of /proc/cpuinfo
// (arch/arm64/include/uapi/asm/hwcap.h, arch/arm64/kernel/cpuinfo.c).
var hwcapNames = []string{
	"fp", "asimd", "evtstrm", "aes", "pmull", "sha1", "sha2", "crc32",
	"atomics", "fphp", "asimdhp", "cpuid", "asimdrdm", "jscvt", "fcma", "lrcpc",
	"dcpop", "sha3", "sm3", "sm4", "asimddp", "sha512", "sve", "asimdfhm",
	"dit", "uscat", "ilrcpc", "flagm", "ssbs", "sb", "paca", "pacg",
}

// hwcap2Names are the AT_HWCAP2 bits, likewise.
var hwcap2Names = []string{
	"dcpodp", "sve2", "sveaes", "svepmull", "svebitperm", "svesha3", "svesm4", "flagm2",
	"frint", "svei8mm", "svef32mm", "svef64mm", "svebf16", "i8mm", "bf16", "dgh",
	"rng", "bti", "mte", "ecv", "afp", "rpres", "mte3", "sme",
	"smei16i64", "smef64f64", "smei8i32", "smef16f32", "smeb16f32", "smef32f32", "smefa64", "wfxt",
	"ebf16", "sveebf16", "cssc", "rprfm", "sve2p1", "sme2", "sme2p1", "smei16i32",
	"smebi32i32", "smeb16b16", "smef16f16", "mops", "hbc",
}

// hwcapCPUID is HWCAP_CPUID: the kernel emulates reads of the ID registers
// (MIDR_EL1 among them) from user space.
const hwcapCPUID = 1 << 11

// evtstrm is HWCAP_EVTSTRM: the kernel's timer event stream, a setting of
// the kernel (on by default), not an instruction any code needs. archspec's
// targets list it, and qemu-user never sets it, so it is not judged by
// HWCAP: a CPU told by HWCAP alone is taken to have it, and /proc/cpuinfo
// keeps its say on it.
const evtstrm = "evtstrm"

// HWCAPFlagNames returns the Features names HWCAP and HWCAP2 can tell,
// sorted: the flags on which the CPU overrides /proc/cpuinfo on arm64.
func HWCAPFlagNames() []string {
	out := slices.Concat(hwcapNames, hwcap2Names)
	out = slices.DeleteFunc(out, func(f string) bool { return f == evtstrm })
	slices.Sort(out)
	return out
}

// HWCAP is what the arm64 Linux kernel tells this process about its CPU:
// the AT_HWCAP and AT_HWCAP2 words of the auxiliary vector, and MIDR_EL1
// (0 when it could not be read).
type HWCAP struct {
	HWCAP, HWCAP2 uint64
	MIDR          uint64
}

// Features returns the Features names of the set bits, sorted.
func (h HWCAP) Features() []string {
	var out []string
	for i, n := range hwcapNames {
		if h.HWCAP&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	for i, n := range hwcap2Names {
		if h.HWCAP2&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// Info returns what the kernel and MIDR_EL1 say as a CPUInfo of an
// aarch64 Linux host: features (evtstrm always, see there), and vendor
// and part from MIDR when read.
func (h HWCAP) Info() *CPUInfo {
	info := &CPUInfo{OS: OSLinux, Machine: MachineAArch64}
	info.setFeatures(append(h.Features(), evtstrm))
	if h.MIDR != 0 {
		implementer := fmt.Sprintf("0x%02x", h.MIDR>>24&0xff)
		if v, ok := catalog.ARMVendor(implementer); ok {
			info.Vendor = v
		}
		info.Part = fmt.Sprintf("0x%03x", h.MIDR>>4&0xfff)
	}
	return info
}
