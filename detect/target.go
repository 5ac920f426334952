package detect

import (
	"errors"
	"fmt"
	"slices"

	"github.com/tailor-dev/tailor/catalog"
)

// Target returns the catalog target that best describes the CPU, as
// archspec picks it: among the compatible targets (see Compatible), the
// best generic one is found first; the answer is the best target that
// descends from it, or that generic target when none does. "Best" is the
// most ancestors in the catalog DAG, then the most features; remaining ties
// keep catalog order. An ARM CPU part names the core exactly, so a
// compatible target that lists the CPU's part wins over the others: it
// tells apart cores whose features the catalog does not (neoverse_n2 and
// neoverse_v2, m2 and m3).
func Target(info *CPUInfo) (*catalog.Target, error) {
	cands, err := Compatible(info)
	if err != nil {
		return nil, err
	}
	var generic *catalog.Target
	for _, t := range cands {
		if t.Generic() && (generic == nil || better(t, generic)) {
			generic = t
		}
	}
	if generic == nil {
		return nil, fmt.Errorf("%w: no generic %s target fits the CPU", ErrNoTarget, info.Machine)
	}
	best := generic
	for _, t := range cands {
		if t == generic || !t.IsDescendantOf(generic.Name) {
			continue
		}
		if outranks(info, t, best) {
			best = t
		}
	}
	return best, nil
}

// outranks reports whether t is a better answer than best for this CPU: a
// match of the ARM CPU part first, then better.
func outranks(info *CPUInfo, t, best *catalog.Target) bool {
	if tp, bp := partFits(info, t), partFits(info, best); tp != bp {
		return tp
	}
	return better(t, best)
}

// better reports whether a ranks strictly above b: more ancestors, then
// more features.
func better(a, b *catalog.Target) bool {
	if na, nb := len(a.Ancestors()), len(b.Ancestors()); na != nb {
		return na > nb
	}
	if na, nb := len(a.Features), len(b.Features); na != nb {
		return na > nb
	}
	return false
}

// partFits reports whether t lists the CPU's ARM part code.
func partFits(info *CPUInfo, t *catalog.Target) bool {
	return info.Part != "" && slices.Contains(t.CPUParts, info.Part)
}

// Compatible returns, in catalog order, every target of the CPU's family
// whose code the CPU runs, by the rule of that family:
//   - x86_64: the target's vendor is the CPU's or generic, and every target
//     feature is a CPU flag (catalog feature aliases honoured);
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
		return func(t *catalog.Target) bool { return vendorFits(info, t) && featuresFit(family, have, t) }, nil
	case MachineAArch64:
		var model *catalog.Target
		if info.OS == OSDarwin && info.Name != "" {
			if model = appleModel(info.Name); model == nil {
				return nil, fmt.Errorf("%w: %w: %q", ErrNoTarget, errAppleModel, info.Name)
			}
		}
		return func(t *catalog.Target) bool { return compatibleARM(info, have, t, model) }, nil
	case MachinePPC64, MachinePPC64LE:
		return func(t *catalog.Target) bool { return t.Generation <= info.Generation }, nil
	case MachineRISCV64:
		return func(t *catalog.Target) bool { return compatibleRISCV(info, t) }, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownMachine, family)
}

// vendorFits reports whether t is generic or of the CPU's vendor.
func vendorFits(info *CPUInfo, t *catalog.Target) bool {
	return t.Generic() || t.Vendor == info.Vendor
}

// featuresFit reports whether a CPU of family with the features in have
// has every feature t requires. A feature the CPU does not list still holds
// when the catalog aliases it to one the CPU has (sse3 = ssse3) or to the
// CPU's family (neon on aarch64).
func featuresFit(family string, have map[string]bool, t *catalog.Target) bool {
	aliases := catalog.FeatureAliases()
	for _, f := range t.Features {
		if have[f] {
			continue
		}
		alias, ok := aliases[f]
		if !ok || !aliasHolds(family, have, alias) {
			return false
		}
	}
	return true
}

func aliasHolds(family string, have map[string]bool, alias catalog.FeatureAlias) bool {
	if slices.Contains(alias.Families, family) {
		return true
	}
	return slices.ContainsFunc(alias.AnyOf, func(f string) bool { return have[f] })
}
