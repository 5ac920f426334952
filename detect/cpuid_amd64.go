package detect

// cpuid executes the CPUID instruction (cpuid_amd64.s).
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

// xgetbv reads XCR0 (cpuid_amd64.s); call it only when OSXSAVE is set.
func xgetbv() (eax, edx uint32)

// ProbeCPUID asks the processor this process runs on: every query of
// CPUIDQueries up to the maximum leaves it reports, and XCR0 when the OS
// enabled XSAVE. Under an emulator (qemu-user) or a hypervisor that masks
// features, this is the CPU the process really gets, whatever
// /proc/cpuinfo says. ok is false on other architectures.
func ProbeCPUID() (c *CPUID, ok bool) {
	c = &CPUID{}
	max, _, _, _ := cpuid(0, 0)
	maxExt, _, _, _ := cpuid(0x80000000, 0)
	for _, q := range CPUIDQueries {
		if q[0] < 0x40000000 && q[0] > max || q[0] >= 0x80000000 && q[0] > maxExt {
			continue
		}
		a, b, cx, d := cpuid(q[0], q[1])
		c.Leaves = append(c.Leaves, CPUIDLeaf{EAX: q[0], ECX: q[1], Out: [4]uint32{a, b, cx, d}})
	}
	if c.leaf(1, 0)[regECX]&(1<<osxsaveBit) != 0 {
		lo, hi := xgetbv()
		c.XCR0 = uint64(hi)<<32 | uint64(lo)
	}
	return c, true
}
