// Package detect provides host CPU detection that answers as archspec does:
// it reads a Linux /proc/cpuinfo or a macOS `sysctl -a machdep.cpu hw`
// dump, and picks the catalog target that best describes the processor.
//
// Detection is rule-based. A parser (ParseCPUInfo, ParseSysctl) turns a dump
// into a CPUInfo: vendor, model name, feature flags in Linux naming, the ARM
// CPU part, the POWER generation or the RISC-V core name. Target then keeps
// the catalog targets of the host's family that the CPU can run (vendor and
// feature subset on x86-64 and aarch64, generation on POWER, core name on
// RISC-V), finds the best generic one among them, narrows to the targets
// that list the CPU's ARM part when any does, and returns the most specific
// descendant of that generic target: the most ancestors in the catalog DAG,
// then the most features, then archspec's order. Where tailor reads a dump
// differently from archspec, the code says so and why.
//
// The parsers do no I/O and are table-tested on every host. Host assembles
// the profile of the machine it runs on (or of a dump given with
// WithCPUInfo or WithSysctl), with its GPUs and labels from
// /etc/tailor/labels.
package detect
