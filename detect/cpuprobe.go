package detect

// probeCPU asks the processor what this process can execute: CPUID and
// XGETBV on x86-64, the kernel's HWCAP (and MIDR) on arm64 Linux. known
// are the flags that source can tell; ok is false where there is none.
func probeCPU() (cpu *CPUInfo, known []string, ok bool) {
	if c, ok := ProbeCPUID(); ok {
		if info, err := c.Info(); err == nil {
			info.Hypervisor = c.Hypervisor()
			return info, CPUIDFlagNames(), true
		}
	}
	if h, ok := ProbeHWCAP(); ok {
		return h.Info(), HWCAPFlagNames(), true
	}
	return nil, nil, false
}

// liveInfo decides what a live Linux host's CPU is from its /proc/cpuinfo
// reading (fromFile, or the error reading it gave) and what the CPU says
// (cpu, with the flags it can tell; nil when it was not asked). The CPU
// wins where they disagree (Reconcile); when /proc/cpuinfo cannot be read
// (another architecture's text under an emulator), the CPU decides alone.
// A CPU of another family than machine (a 32-bit process, say) is not
// used.
func liveInfo(fromFile *CPUInfo, fileErr error, machine string, cpu *CPUInfo, known []string) (*CPUInfo, error) {
	family, err := NormalizeMachine(machine)
	if err != nil || cpu == nil || cpu.Machine != family {
		return fromFile, fileErr
	}
	if fileErr != nil {
		return unreadable(cpu, fileErr), nil
	}
	return Reconcile(fromFile, cpu, known), nil
}
