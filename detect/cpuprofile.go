package detect

import (
	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/profile"
)

// CPUProfile returns a profile with the CPU part filled from info and its
// detected target t: os, architecture, variant, platform, vendor, model,
// microarchitecture, fallback chain and features. GPUs and labels are left
// empty. On Apple silicon Macs, whose sysctl does not list every feature,
// the features of the model's target are added, as archspec reports them.
func CPUProfile(info *CPUInfo, t *catalog.Target) *profile.Profile {
	p := &profile.Profile{OS: info.OS, GPUs: []profile.GPU{}}
	if p.OS == "" {
		p.OS = OSLinux
	}
	p.CPU.Vendor = info.Vendor
	p.CPU.Model = info.Model
	features := info.Features
	if info.OS == OSDarwin && info.Machine == MachineAArch64 {
		features = append(append([]string(nil), features...), t.FeatureList()...)
	}
	p.SetCPU(t, features)
	if info.Generation > 0 {
		p.CPU.Generation = info.Generation
	}
	p.CPU.Hypervisor = info.Hypervisor
	if d := info.Disagreement; d != nil {
		p.CPU.CPUInfo = &profile.CPUInfoDisagreement{Target: d.Target, Model: d.Model, Missing: d.Missing, Extra: d.Extra, Unreadable: d.Unreadable}
	}
	return p
}

// Profile detects the target of info and returns its CPUProfile.
func Profile(info *CPUInfo) (*profile.Profile, error) {
	t, err := Target(info)
	if err != nil {
		return nil, err
	}
	return CPUProfile(info, t), nil
}
