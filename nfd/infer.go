package nfd

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tailor-dev/tailor/catalog"
)

// Keys of NFD's cpu-model labels (decimal family and model id, as
// klauspost/cpuid computes them: extended family and model included).
const (
	nfdFamily = "feature.node.kubernetes.io/cpu-model.family"
	nfdModel  = "feature.node.kubernetes.io/cpu-model.id"
)

// nfdHidden are the x86-64 flags, in Linux naming, that NFD's default
// configuration leaves out of its cpu-cpuid labels (the attributeBlacklist
// of its cpu source: SSE…SSE4.2, SSSE3, POPCNT, BMI1/2, LZCNT, CMOV, CX16,
// F16C, MMX, MMXEXT, CLMUL, RDRAND, RDSEED, RDTSCP, ERMS, HTT, NX, SGX).
// Their absence from NFD's labels says nothing.
var nfdHidden = map[string]bool{
	"sse": true, "sse2": true, "pni": true, "ssse3": true, "sse4_1": true, "sse4_2": true,
	"popcnt": true, "bmi1": true, "bmi2": true, "abm": true, "cmov": true, "cx16": true,
	"f16c": true, "mmx": true, "mmxext": true, "pclmulqdq": true, "rdrand": true, "rdseed": true,
	"rdtscp": true, "erms": true, "ht": true, "nx": true, "sgx": true,
}

// implied are, for a flag NFD shows, the hidden flags every real x86-64 CPU
// with it has: AVX came after SSE4.2, POPCNT and CMPXCHG16B on every
// vendor (Sandy Bridge, Bulldozer), AVX2 after BMI1/2, LZCNT, F16C and
// PCLMULQDQ (Haswell, Excavator), so AVX2 implies the v2 and v3 baselines.
// The empty key is what AMD64 itself mandates.
var implied = []struct {
	flag  string
	hides []string
}{
	{"", []string{"cmov", "mmx", "sse", "sse2"}},
	{"avx", []string{"pni", "ssse3", "sse4_1", "sse4_2", "popcnt", "cx16"}},
	{"avx2", []string{"pni", "ssse3", "sse4_1", "sse4_2", "popcnt", "cx16", "bmi1", "bmi2", "abm", "f16c", "pclmulqdq"}},
	{"avx512f", []string{"pni", "ssse3", "sse4_1", "sse4_2", "popcnt", "cx16", "bmi1", "bmi2", "abm", "f16c", "pclmulqdq"}},
}

// models names, per vendor and family, the microarchitecture (catalog
// name) of each model id, as archspec names the cores: the CPU a target
// describes. A model maps to the most capable target its parts can be;
// inferModel walks down to one whose visible flags the node has.
var models = map[string]map[int]func(model int) string{
	"GenuineIntel": {6: intelFamily6},
	"AuthenticAMD": {
		0x10: func(int) string { return "k10" },
		0x15: func(m int) string {
			switch {
			case m <= 0x01:
				return "bulldozer"
			case m == 0x02 || (m >= 0x10 && m <= 0x1f):
				return "piledriver"
			case m >= 0x30 && m <= 0x3f:
				return "steamroller"
			case m >= 0x60 && m <= 0x7f:
				return "excavator"
			}
			return ""
		},
		0x17: func(m int) string {
			if m < 0x30 {
				return "zen"
			}
			return "zen2"
		},
		0x19: func(m int) string {
			switch {
			case m <= 0x0f || (m >= 0x20 && m <= 0x5f):
				return "zen3"
			case (m >= 0x10 && m <= 0x1f) || (m >= 0x60 && m <= 0x7f) || (m >= 0xa0 && m <= 0xaf):
				return "zen4"
			}
			return ""
		},
		0x1a: func(int) string { return "zen5" },
	},
}

// intelFamily6 maps Intel family 6 model ids to archspec's cores (client
// refreshes of a core share its target: Kaby/Coffee/Comet Lake are
// skylake, Raptor Lake is alderlake, Emerald Rapids is sapphirerapids).
func intelFamily6(m int) string {
	switch m {
	case 0x1a, 0x1e, 0x1f, 0x2e:
		return "nehalem"
	case 0x25, 0x2c, 0x2f:
		return "westmere"
	case 0x2a, 0x2d:
		return "sandybridge"
	case 0x3a, 0x3e:
		return "ivybridge"
	case 0x3c, 0x3f, 0x45, 0x46:
		return "haswell"
	case 0x3d, 0x47, 0x4f, 0x56:
		return "broadwell"
	case 0x4e, 0x5e, 0x8e, 0x9e, 0xa5, 0xa6:
		return "skylake"
	case 0x55: // Skylake-SP, Cascade Lake and Cooper Lake share the id.
		return "cascadelake"
	case 0x66:
		return "cannonlake"
	case 0x6a, 0x6c, 0x7d, 0x7e:
		return "icelake"
	case 0x8f, 0xcf:
		return "sapphirerapids"
	case 0x97, 0x9a, 0xb7, 0xba, 0xbf:
		return "alderlake"
	case 0xc5, 0xc6:
		return "arrowlake"
	}
	return ""
}

// inference is what infer adds to the features NFD's labels state.
type inference struct {
	features []string
	notes    []string
}

// infer returns the hidden x86-64 flags a node with these visible flags
// has: those its flags imply, and those of the microarchitecture its
// cpu-model family and id name, when every flag of that target NFD would
// show is among the node's (a hypervisor that masks AVX-512 keeps a
// Skylake-SP from being read as one; it then falls back to the target's
// ancestors). Never a flag NFD would show: those the labels state.
func infer(labels map[string]string, visible []string, vendor string) inference {
	var inf inference
	have := map[string]bool{}
	for _, f := range visible {
		have[f] = true
	}
	add := func(fs []string) []string {
		var added []string
		for _, f := range fs {
			if !have[f] {
				have[f] = true
				added = append(added, f)
				inf.features = append(inf.features, f)
			}
		}
		return added
	}
	for _, im := range implied {
		if im.flag != "" && !have[im.flag] {
			continue
		}
		if added := add(im.hides); len(added) > 0 {
			by := im.flag
			if by == "" {
				by = "x86-64"
			}
			inf.notes = append(inf.notes, fmt.Sprintf("%s implied by %s (NFD hides them by default)", strings.Join(added, " "), by))
		}
	}
	name, fam, model := modelTarget(labels, vendor)
	if name == "" {
		return inf
	}
	t, err := catalog.Lookup(name)
	if err != nil {
		return inf
	}
	for _, n := range t.Lineage() {
		c := catalog.MustLookup(n)
		if c.Generic() {
			break
		}
		if !visibleSubset(c, have) {
			continue
		}
		added := add(hiddenOf(c))
		note := fmt.Sprintf("cpu-model family %d id %d is %s", fam, model, name)
		if n != name {
			note += fmt.Sprintf(" (read as %s: the node lacks some of %s's flags)", n, name)
		}
		if len(added) > 0 {
			note += ": " + strings.Join(added, " ") + " from its target"
		}
		inf.notes = append(inf.notes, note)
		break
	}
	return inf
}

// modelTarget names the target of NFD's cpu-model labels, "" when they are
// absent or name no core tailor knows.
func modelTarget(labels map[string]string, vendor string) (name string, family, model int) {
	byFamily := models[vendor]
	if byFamily == nil {
		return "", 0, 0
	}
	family, err1 := strconv.Atoi(labels[nfdFamily])
	model, err2 := strconv.Atoi(labels[nfdModel])
	if err1 != nil || err2 != nil {
		return "", 0, 0
	}
	f := byFamily[family]
	if f == nil {
		return "", family, model
	}
	return f(model), family, model
}

// visibleSubset reports whether the node has every flag of t that NFD
// would have labelled.
func visibleSubset(t *catalog.Target, have map[string]bool) bool {
	for f := range t.Features() {
		if !nfdHidden[f] && !have[f] {
			return false
		}
	}
	return true
}

func hiddenOf(t *catalog.Target) []string {
	var out []string
	for f := range t.Features() {
		if nfdHidden[f] {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}
