package detect

import (
	"errors"
	"fmt"
	"slices"

	"github.com/tailor-dev/tailor/catalog"
)

// Target returns the catalog target that best describes the CPU, by
// archspec's algorithm (archspec.cpu.detect.host):
//  1. the compatible targets are found (see Compatible);
//  2. the best generic one among them is chosen;
//  3. on aarch64, when some compatible target lists the CPU's part code,
//     only those targets stay in the running: the part names the core
//     exactly and tells apart cores whose features the catalog does not
//     (neoverse_n2 and neoverse_v2, m2 and m3);
//  4. the answer is the best remaining target that strictly descends from
//     the best generic one, or that generic target when none does.
//
// "Best" is the most ancestors in the catalog DAG, then the most features;
// a tie goes to the target archspec lists first (see tieOrder).
func Target(info *CPUInfo) (*catalog.Target, error) {
	cands, err := Compatible(info)
	if err != nil {
		return nil, err
	}
	generic := best(slices.DeleteFunc(slices.Clone(cands), func(t *catalog.Target) bool { return !t.Generic() }))
	if generic == nil {
		return nil, fmt.Errorf("%w: no generic %s target fits the CPU", ErrNoTarget, info.Machine)
	}
	if byPart := slices.DeleteFunc(slices.Clone(cands), func(t *catalog.Target) bool { return !partFits(info, t) }); len(byPart) > 0 {
		cands = byPart
	}
	cands = slices.DeleteFunc(cands, func(t *catalog.Target) bool { return t == generic || !t.IsDescendantOf(generic.Name()) })
	if len(cands) == 0 {
		return generic, nil
	}
	return best(cands), nil
}

// best returns the best of ts (nil for none): the first that no other
// outranks.
func best(ts []*catalog.Target) *catalog.Target {
	var out *catalog.Target
	for _, t := range ts {
		if out == nil || better(t, out) {
			out = t
		}
	}
	return out
}

// better reports whether a ranks strictly above b: more ancestors, then
// more features, then first in archspec's order on a tie.
func better(a, b *catalog.Target) bool {
	if na, nb := len(a.Ancestors()), len(b.Ancestors()); na != nb {
		return na > nb
	}
	if na, nb := featureCount(a), featureCount(b); na != nb {
		return na > nb
	}
	ia, ib := slices.Index(tieOrder, a.Name()), slices.Index(tieOrder, b.Name())
	return ia >= 0 && ib >= 0 && ia < ib
}

// featureCount is the number of distinct features of t. archspec holds
// features in a set; the catalog keeps archspec's lists as written, and a
// few name a feature twice (zen, bulldozer...piledriver list cx16 twice,
// icelake and sapphirerapids sha_ni, mic_knl avx2): NumFeatures counts
// each once.
func featureCount(t *catalog.Target) int { return t.NumFeatures() }

// tieOrder lists, in archspec's order, the targets of one family that rank
// equal (same number of ancestors and of features) and can be compatible
// together. archspec takes the first of equals in the order of its
// microarchitectures.json, which the catalog does not keep; so a CPU with
// the features of neoverse_n2 and a part code the catalog does not list
// (a Cortex-A710, a newer core) is neoverse_v2 there, and here. Targets
// outside this list keep catalog order on a tie. TestTieOrder checks the
// list against ../shared/archspec/microarchitectures.json.
var tieOrder = []string{"neoverse_v2", "neoverse_n2"}

// partFits reports whether t lists the CPU's ARM part code.
func partFits(info *CPUInfo, t *catalog.Target) bool {
	return info.Part != "" && t.HasCPUPart(info.Part)
}

// Compatible returns, in catalog order, every target of the CPU's family
// whose code the CPU runs, by the rule of that family:
//   - x86_64: the target's vendor is the CPU's or generic, and every target
//     feature is a CPU flag;
//   - aarch64: the same, except that Arm architecture versions are never
//     chosen, and on macOS the Apple model decides (see compatibleARM);
//   - ppc64, ppc64le: the target's POWER generation is at most the CPU's;
//   - riscv64: the generic root, or the target the cpuinfo names.
func Compatible(info *CPUInfo) ([]*catalog.Target, error) {
	if info == nil {
		return nil, fmt.Errorf("%w: no CPU information", ErrNoTarget)
	}
	family, err := NormalizeMachine(info.Machine)
	if err != nil {
		return nil, err
	}
	rule, err := ruleFor(info, family)
	if err != nil {
		return nil, err
	}
	var out []*catalog.Target
	for _, t := range catalog.All() {
		if t.Family() == family && rule(t) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no %s target fits the CPU", ErrNoTarget, family)
	}
	return out, nil
}

// errAppleModel is returned for a macOS Apple silicon dump naming no model
// the catalog can place.
var errAppleModel = errors.New("Apple silicon model not in the catalog")

// ruleFor returns the compatibility rule for the CPU's family.
func ruleFor(info *CPUInfo, family string) (func(*catalog.Target) bool, error) {
	have := make(map[string]bool, len(info.Features))
	for _, f := range info.Features {
		have[f] = true
	}
	switch family {
	case MachineX86_64:
		return func(t *catalog.Target) bool { return vendorFits(info, t) && featuresFit(have, t) }, nil
	case MachineAArch64:
		var model *catalog.Target
		if info.OS == OSDarwin && info.Name != "" {
			if model = appleModel(info.Name); model == nil {
				return nil, fmt.Errorf("%w: %w: %q", ErrNoTarget, errAppleModel, info.Name)
			}
		}
		return func(t *catalog.Target) bool { return compatibleARM(info, have, t, model) }, nil
	case MachinePPC64, MachinePPC64LE:
		return func(t *catalog.Target) bool { return t.Generation() <= info.Generation }, nil
	case MachineRISCV64:
		return func(t *catalog.Target) bool { return compatibleRISCV(info, t) }, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownMachine, family)
}

// vendorFits reports whether t is generic or of the CPU's vendor.
func vendorFits(info *CPUInfo, t *catalog.Target) bool {
	return t.Generic() || t.Vendor() == info.Vendor
}

// featuresFit reports whether the CPU, with the features in have, has
// every feature t requires. As in archspec's detection, this is a plain
// subset test: the catalog's feature aliases (sse3 satisfied by ssse3, ...)
// serve queries on targets, not detection. A Linux kernel prints pni for
// sse3, so nocona and prescott never fit a Linux dump, as in archspec;
// core2, their descendant, needs no sse3 and still does.
func featuresFit(have map[string]bool, t *catalog.Target) bool {
	for f := range t.Features() {
		if !have[f] {
			return false
		}
	}
	return true
}
