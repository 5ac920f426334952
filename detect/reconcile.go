package detect

import (
	"slices"
)

// Disagreement records where /proc/cpuinfo and what the CPU says to this
// process (CPUID on x86-64, HWCAP on arm64) differ. The CPU wins: it is
// what the process can execute. They differ under user-mode emulators
// (qemu-user passes the host's /proc/cpuinfo through), in some sandboxes
// and VMs, and behind lxcfs-style views.
type Disagreement struct {
	// Target is the target /proc/cpuinfo alone gives; empty when it could
	// not be read or gives none.
	Target string
	// Model is the model name /proc/cpuinfo gives, when it differs.
	Model string
	// Missing are flags /proc/cpuinfo lists that this process cannot use.
	Missing []string
	// Extra are flags this process can use that /proc/cpuinfo does not list.
	Extra []string
	// Unreadable says why /proc/cpuinfo could not be read at all (another
	// architecture's text under an emulator, say); the CPU alone decided.
	Unreadable string
}

// Reconcile returns what the process can really execute: fromFile (the
// /proc/cpuinfo reading) with every flag the CPU can tell (known, such as
// CPUIDFlagNames) taken from cpu, and the CPU's vendor and model where it
// gives them. Flags the CPU cannot tell (kernel-derived ones such as
// constant_tsc) stay as /proc/cpuinfo lists them. The result carries a
// Disagreement when the two differ in a flag, the vendor or the model.
// fromFile and cpu are not modified; a nil fromFile (an unreadable
// /proc/cpuinfo) gives cpu itself.
func Reconcile(fromFile, cpu *CPUInfo, known []string) *CPUInfo {
	out := cpu.clone()
	if fromFile == nil {
		return out
	}
	out.OS, out.Part, out.Generation, out.Name = fromFile.OS, fromFile.Part, fromFile.Generation, fromFile.Name
	if out.Vendor == "" {
		out.Vendor = fromFile.Vendor
	}
	if out.Model == "" {
		out.Model = fromFile.Model
	}
	if out.Hypervisor == "" {
		out.Hypervisor = fromFile.Hypervisor
	}
	var d Disagreement
	features := slices.Clone(cpu.Features)
	for _, f := range fromFile.Features {
		switch {
		case !slices.Contains(known, f):
			features = append(features, f) // the CPU cannot tell: keep
		case !cpu.HasFeature(f):
			d.Missing = append(d.Missing, f)
		}
	}
	for _, f := range cpu.Features {
		if !fromFile.HasFeature(f) {
			d.Extra = append(d.Extra, f)
		}
	}
	out.setFeatures(features)
	if fromFile.Model != out.Model {
		d.Model = fromFile.Model
	}
	if len(d.Missing) > 0 || len(d.Extra) > 0 || d.Model != "" || fromFile.Vendor != out.Vendor {
		if t, err := Target(fromFile); err == nil {
			d.Target = t.Name()
		}
		out.Disagreement = &d
	}
	return out
}

// unreadable returns cpu marked as decided alone, /proc/cpuinfo having
// failed with err.
func unreadable(cpu *CPUInfo, err error) *CPUInfo {
	out := cpu.clone()
	out.Disagreement = &Disagreement{Unreadable: err.Error()}
	return out
}
