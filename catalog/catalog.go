package catalog

import (
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
)

// ErrUnknownTarget is returned (wrapped) when a name is not in the catalog.
var ErrUnknownTarget = errors.New("unknown target")

// GenericVendor is the vendor of targets any vendor's CPU can implement
// (x86_64, x86_64_v3, aarch64, armv8.2a, ...).
const GenericVendor = "generic"

// FlagEntry is the compiler flags for one range of compiler versions.
// Versions is "min:max", either side may be empty; max is inclusive and
// matches as a prefix ("4.8:11.0" accepts 11.0.4).
type FlagEntry struct {
	Versions string `json:"versions"`
	Flags    string `json:"flags"`
}

// Target is one microarchitecture of the catalog. Targets are shared and
// immutable: their facts are read through methods, and what a method
// returns is the caller's own (a slice is a copy; an iterator yields
// values), so no caller can change the catalog for another.
type Target struct {
	name       string
	vendor     string
	parents    []string
	generation int
	cpuParts   []string
	features   []string
	flags      []compilerFlags

	// Derived once, when the catalog is first used.
	ancestors []string
	depth     int
	family    string
	nFeatures int // distinct
	// genericDepth is the depth of the deepest generic target in t's lineage.
	genericDepth int
}

// compilerFlags are one compiler's flags for a target.
type compilerFlags struct {
	compiler string
	entries  []FlagEntry
}

// namedAlias is one feature alias of the generated catalog.
type namedAlias struct {
	name  string
	alias FeatureAlias
}

// Name is the target's archspec name (haswell, zen4, neoverse_v2).
func (t *Target) Name() string { return t.name }

// Vendor is the CPU vendor as /proc/cpuinfo names it (GenuineIntel,
// AuthenticAMD, ARM, ...), or GenericVendor.
func (t *Target) Vendor() string { return t.vendor }

// Parents are the targets t directly descends from (a copy).
func (t *Target) Parents() []string { return slices.Clone(t.parents) }

// Generation is the POWER generation (9 for power9); 0 elsewhere.
func (t *Target) Generation() int { return t.generation }

// CPUParts are the ARM "CPU part" codes of t (a copy).
func (t *Target) CPUParts() []string { return slices.Clone(t.cpuParts) }

// HasCPUPart reports whether part is one of t's ARM "CPU part" codes.
func (t *Target) HasCPUPart(part string) bool { return slices.Contains(t.cpuParts, part) }

// Features yields every feature t requires (Linux /proc/cpuinfo names), in
// the catalog's order.
func (t *Target) Features() iter.Seq[string] { return slices.Values(t.features) }

// FeatureList is Features as a new slice.
func (t *Target) FeatureList() []string { return slices.Clone(t.features) }

// NumFeatures is the number of distinct features t requires (a few
// archspec lists name one twice).
func (t *Target) NumFeatures() int { return t.nFeatures }

// FeatureAlias describes a feature name that is satisfied by other features
// or implied by an architecture family (archspec's feature_aliases).
type FeatureAlias struct {
	AnyOf    []string `json:"any_of,omitempty"`
	Families []string `json:"families,omitempty"`
}

// The catalog's derived tables, built once by load from the generated
// data (targets_gen.go).
var (
	loadOnce sync.Once
	byName   map[string]*Target
	aliases  map[string]FeatureAlias
	vendors  map[string]string
	darwin   map[string]string
)

// load derives what the generated data does not hold: each target's
// fallback chain, depth and family, and the lookup maps.
func load() {
	loadOnce.Do(func() {
		byName = make(map[string]*Target, len(targets))
		// targets lists parents before children, so one pass derives everything.
		for _, t := range targets {
			for _, p := range t.parents {
				if byName[p] == nil {
					panic(fmt.Sprintf("catalog: target %q listed before its parent %q", t.name, p))
				}
			}
			t.ancestors = computeAncestors(t)
			t.family = t.name
			for _, p := range t.parents {
				t.depth = max(t.depth, byName[p].depth+1)
				t.family = byName[p].family
			}
			t.nFeatures = len(slices.Compact(slices.Clone(t.features))) // sorted: duplicates are neighbours
			if t.Generic() {
				t.genericDepth = t.depth
			}
			for _, a := range t.ancestors {
				if g := byName[a]; g.Generic() {
					t.genericDepth = max(t.genericDepth, g.depth)
				}
			}
			byName[t.name] = t
		}
		aliases = make(map[string]FeatureAlias, len(featureAliases))
		for _, a := range featureAliases {
			aliases[a.name] = a.alias
		}
		vendors = pairs(armVendors)
		darwin = pairs(darwinFlags)
	})
}

func pairs(ps [][2]string) map[string]string {
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		m[p[0]] = p[1]
	}
	return m
}

// computeAncestors gives the fallback chain, most specific first: deepest
// in the DAG first, ties in archspec's order (each parent followed by its
// own ancestors, first occurrence kept). archspec's plain order would put
// aarch64 before armv9.0a for neoverse_v2; a fallback chain must not.
func computeAncestors(t *Target) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range t.parents {
		for _, n := range append([]string{p}, byName[p].ancestors...) {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return byName[b].depth - byName[a].depth })
	return out
}

// Lookup returns the target called name. The x86-64 levels may also be
// spelled as the psABI does (x86-64-v3 for x86_64_v3). The error for an
// unknown name suggests the closest target names.
func Lookup(name string) (*Target, error) {
	load()
	t, ok := byName[canonicalName(name)]
	if !ok {
		return nil, unknownTarget(name)
	}
	return t, nil
}

// MustLookup is Lookup for names known at compile time; it panics on an unknown name.
func MustLookup(name string) *Target {
	t, err := Lookup(name)
	if err != nil {
		panic(err)
	}
	return t
}

// All returns every target, parents before children.
func All() []*Target {
	load()
	return slices.Clone(targets)
}

// Names returns every target name, sorted.
func Names() []string {
	load()
	names := make([]string, 0, len(targets))
	for _, t := range targets {
		names = append(names, t.name)
	}
	sort.Strings(names)
	return names
}

// Children returns the targets that list t as a parent, in catalog order.
func (t *Target) Children() []*Target {
	load()
	var out []*Target
	for _, c := range targets {
		if slices.Contains(c.parents, t.name) {
			out = append(out, c)
		}
	}
	return out
}

// Ancestors returns the fallback chain of t, most specific first, not
// including t itself (archspec's order).
func (t *Target) Ancestors() []string { return slices.Clone(t.ancestors) }

// Lineage returns t followed by its ancestors.
func (t *Target) Lineage() []string {
	return append(append(make([]string, 0, len(t.ancestors)+1), t.name), t.ancestors...)
}

// IsDescendantOf reports whether other is t or one of t's ancestors, that is
// whether code built for other runs where t runs (within the DAG).
func (t *Target) IsDescendantOf(other string) bool {
	return t.name == other || slices.Contains(t.ancestors, other)
}

// Depth is the length of the longest path from t to the root of its family.
func (t *Target) Depth() int { return t.depth }

// GenericDepth is the depth of the most capable vendor-neutral target in
// t's lineage (t itself when it is one): the ISA level its code needs,
// x86_64_v3 for haswell, armv8.2a for neoverse_n1. It tells builds apart
// by capability where depth alone misleads: ivybridge is deeper in the DAG
// than x86_64_v3, yet its code uses no AVX2.
func (t *Target) GenericDepth() int { return t.genericDepth }

// Family is the root of t's DAG: x86_64, aarch64, ppc64le, ppc64, riscv64, ...
func (t *Target) Family() string { return t.family }

// Generic reports whether t is vendor-neutral (a family root or a level).
func (t *Target) Generic() bool { return t.vendor == GenericVendor }

// HasFeature reports whether t requires feature f (its own list only; the
// catalog lists every feature of a target, not just the new ones).
func (t *Target) HasFeature(f string) bool {
	_, ok := slices.BinarySearch(t.features, f) // the generator sorts them
	return ok
}

// LookupFeatureAlias returns (a copy of) the alias named f, if f is one.
func LookupFeatureAlias(f string) (FeatureAlias, bool) {
	load()
	a, ok := aliases[f]
	return FeatureAlias{AnyOf: slices.Clone(a.AnyOf), Families: slices.Clone(a.Families)}, ok
}

// FeatureAliases returns (a copy of) the catalog's feature aliases.
func FeatureAliases() map[string]FeatureAlias {
	load()
	out := make(map[string]FeatureAlias, len(aliases))
	for k, a := range aliases {
		out[k] = FeatureAlias{AnyOf: slices.Clone(a.AnyOf), Families: slices.Clone(a.Families)}
	}
	return out
}

// ARMVendor maps an ARM "CPU implementer" code (0x41) to a vendor name (ARM).
func ARMVendor(code string) (string, bool) {
	load()
	v, ok := vendors[strings.ToLower(code)]
	return v, ok
}

// DarwinFlags maps macOS sysctl feature names to Linux cpuinfo names (a
// copy).
func DarwinFlags() map[string]string {
	load()
	return maps.Clone(darwin)
}
