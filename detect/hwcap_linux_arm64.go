package detect

import (
	"golang.org/x/sys/unix"
)

// Auxiliary vector keys (linux/auxvec.h); x/sys/unix does not name them.
const (
	atHWCAP  = 16
	atHWCAP2 = 26
)

// midr reads MIDR_EL1 (hwcap_linux_arm64.s); call it only when the kernel
// emulates ID register reads (HWCAP_CPUID), or it traps.
func midr() uint64

// ProbeHWCAP reads AT_HWCAP and AT_HWCAP2 from this process's auxiliary
// vector, and MIDR_EL1 when the kernel lets user space read it. Under
// qemu-aarch64 these describe the emulated CPU. ok is false when the
// auxiliary vector cannot be read.
func ProbeHWCAP() (h HWCAP, ok bool) {
	auxv, err := unix.Auxv()
	if err != nil {
		return HWCAP{}, false
	}
	for _, kv := range auxv {
		switch kv[0] {
		case atHWCAP:
			h.HWCAP = uint64(kv[1])
		case atHWCAP2:
			h.HWCAP2 = uint64(kv[1])
		}
	}
	if h.HWCAP&hwcapCPUID != 0 {
		h.MIDR = midr()
	}
	return h, true
}
