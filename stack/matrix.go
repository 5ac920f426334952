package stack

import (
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/publish"
	"github.com/tailor-dev/tailor/requirement"
)

// Entry is one image of the matrix: a combination of axis values.
type Entry struct {
	// Name is the names of its values, joined by "+", for the axes with
	// more than one value (x86_64_v3+ucx).
	Name string `json:"name"`
	// Values holds one value per axis, in axis order.
	Values []Value `json:"-"`
	// Arch is the OCI architecture, from the cpu value.
	Arch string `json:"arch"`
	// Requirements are the union of the values', as the index states
	// them (a family root target such as x86_64 is no requirement).
	Requirements requirement.Requirements `json:"requirements"`
	// Platform and Annotations are what the entry's descriptor in the
	// index says (publish.Metadata of Requirements).
	Platform    v1.Platform       `json:"platform"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// Builds holds, per component, the key of the build it takes.
	Builds []string `json:"builds"`
}

// Generic reports whether e needs nothing of a host beyond its
// architecture (as the index writes it: the family root target, x86_64,
// is no requirement).
func (e Entry) Generic() bool { return len(e.Annotations) == 0 && e.Platform.Variant == "" }

// Build is one build of one component: a combination of the component's
// own axes, shared by every entry with those values.
type Build struct {
	// Key names the build: num[x86_64_v3], base, base[arm64].
	Key       string `json:"key"`
	Component string `json:"component"`
	// Values holds the component's axis values, by axis name.
	Values map[string]Value `json:"-"`
	// Arch is set for a PerArch component.
	Arch string `json:"arch,omitempty"`
	// Entries are the names of the entries that take the build.
	Entries []string `json:"entries"`
}

// Excluded is a combination an exclude rule removed.
type Excluded struct {
	Entry string `json:"entry"`
	Rule  string `json:"rule"`
}

// Matrix is an expanded stack.
type Matrix struct {
	Stack    Stack      `json:"-"`
	Entries  []Entry    `json:"entries"`
	Builds   []Build    `json:"builds"`
	Excluded []Excluded `json:"excluded,omitempty"`
}

// Expand computes the matrix of s: every combination of its axes' values
// (the first axis outermost), minus those an exclude rule matches, each
// with the union of its values' requirements, and the builds of every
// component. Conflicting requirements in a combination, and two entries
// no host could tell apart (same platform and requirements), are errors
// that name the combinations: exclude one of them.
func Expand(s Stack) (*Matrix, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	if n := combinations(s.Axes); n > MaxCombinations {
		return nil, fmt.Errorf("%w: the axes make %d combinations, more than %d: split the stack, or drop values", ErrStack, n, MaxCombinations)
	}
	m := &Matrix{Stack: s}
	seen := map[string]string{}
	for _, vs := range product(s.Axes) {
		e, err := s.entry(vs)
		if err != nil {
			return nil, err
		}
		if i := slices.IndexFunc(s.Exclude, func(r Rule) bool { return s.matches(r, vs, e.Arch) }); i >= 0 {
			m.Excluded = append(m.Excluded, Excluded{Entry: e.Name, Rule: s.Exclude[i].String()})
			continue
		}
		k := e.Platform.OS + "/" + e.Platform.Architecture + "/" + e.Platform.Variant + " " + annotationKey(e.Annotations)
		if other, ok := seen[k]; ok {
			return nil, fmt.Errorf("%w: entries %s and %s both need %s on %s: no host could tell them apart; exclude one, or give a value a requirement", ErrStack, other, e.Name, e.Requirements, e.Arch)
		}
		seen[k] = e.Name
		m.Entries = append(m.Entries, e)
	}
	if len(m.Entries) == 0 {
		return nil, fmt.Errorf("%w: the exclude rules leave no entry", ErrStack)
	}
	m.Builds = s.builds(m.Entries)
	return m, nil
}

// MaxCombinations bounds the product of a stack's axes (before the
// exclude rules): an index that large is a mistake, and expanding it would
// take the memory of the machine.
const MaxCombinations = 4096

// combinations is the size of the product of axes, capped above
// MaxCombinations.
func combinations(axes []Axis) int {
	n := 1
	for _, a := range axes {
		n *= len(a.Values)
		if n > MaxCombinations {
			return MaxCombinations + 1
		}
	}
	return n
}

// product lists every combination of one value per axis, the first axis
// outermost.
func product(axes []Axis) [][]Value {
	out := [][]Value{{}}
	for _, a := range axes {
		var next [][]Value
		for _, prefix := range out {
			for _, v := range a.Values {
				next = append(next, append(slices.Clip(prefix), v))
			}
		}
		out = next
	}
	return out
}

// entry makes the entry of the combination vs.
func (s *Stack) entry(vs []Value) (Entry, error) {
	e := Entry{Values: vs, Name: s.entryName(vs)}
	reqs := make([]requirement.Requirements, len(vs))
	for i, v := range vs {
		reqs[i] = v.Requirements
		if v.Arch != "" && e.Arch != "" && v.Arch != e.Arch {
			return Entry{}, fmt.Errorf("%w: %s: values of two architectures, %s and %s", ErrStack, e.Name, e.Arch, v.Arch)
		}
		if v.Arch != "" {
			e.Arch = v.Arch
		}
	}
	if e.Arch == "" {
		return Entry{}, fmt.Errorf("%w: %s: no value says the architecture (give the stack a cpu axis)", ErrStack, e.Name)
	}
	u, err := Union(reqs...)
	if err != nil {
		return Entry{}, fmt.Errorf("%s: %w; exclude the combination", e.Name, err)
	}
	e.Requirements = u
	p, ann, err := publish.Metadata(u, "linux", e.Arch)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: %s: %w", ErrStack, e.Name, err)
	}
	e.Platform, e.Annotations = p, ann
	// What the index will say, read back: the family root target
	// (x86_64) is no requirement.
	if e.Requirements, err = requirement.FromDescriptor(descriptor(e)); err != nil {
		return Entry{}, fmt.Errorf("%w: %s: %w", ErrStack, e.Name, err)
	}
	e.Requirements.Source = requirement.SourceShort
	if e.Requirements.IsGeneric() {
		e.Requirements.Source = requirement.SourceNone
	}
	for _, c := range s.Components {
		e.Builds = append(e.Builds, s.buildKey(c, vs, e.Arch))
	}
	return e, nil
}

// entryName joins the value names of the axes that have a choice.
func (s *Stack) entryName(vs []Value) string {
	var parts []string
	for i, a := range s.Axes {
		if len(a.Values) > 1 {
			parts = append(parts, vs[i].Name)
		}
	}
	if len(parts) == 0 {
		return vs[0].Name
	}
	return strings.Join(parts, "+")
}

// buildKey names the build of c for the combination vs.
func (s *Stack) buildKey(c Component, vs []Value, arch string) string {
	var parts []string
	for _, i := range s.variesIndexes(c) {
		parts = append(parts, vs[i].Name)
	}
	if c.PerArch && !slices.Contains(c.Varies, AxisCPU) {
		parts = append(parts, arch)
	}
	if len(parts) == 0 {
		return c.Name
	}
	return c.Name + "[" + strings.Join(parts, "+") + "]"
}

// variesIndexes are the indexes of c's axes, in axis order.
func (s *Stack) variesIndexes(c Component) []int {
	var out []int
	for i, a := range s.Axes {
		if slices.Contains(c.Varies, a.Name) {
			out = append(out, i)
		}
	}
	return out
}

// builds lists the builds entries take, in component order, then in the
// order of the first entry that takes each.
func (s *Stack) builds(entries []Entry) []Build {
	var out []Build
	for ci, c := range s.Components {
		at := map[string]int{}
		for _, e := range entries {
			k := e.Builds[ci]
			if i, ok := at[k]; ok {
				out[i].Entries = append(out[i].Entries, e.Name)
				continue
			}
			b := Build{Key: k, Component: c.Name, Values: map[string]Value{}, Entries: []string{e.Name}}
			for _, i := range s.variesIndexes(c) {
				b.Values[s.Axes[i].Name] = e.Values[i]
			}
			if c.PerArch {
				b.Arch = e.Arch
			}
			at[k] = len(out)
			out = append(out, b)
		}
	}
	return out
}

// annotationKey is annotations as one comparable string.
func annotationKey(a map[string]string) string { return labelsString(a) }

// Build returns the build called key.
func (m *Matrix) Build(key string) (Build, bool) {
	i := slices.IndexFunc(m.Builds, func(b Build) bool { return b.Key == key })
	if i < 0 {
		return Build{}, false
	}
	return m.Builds[i], true
}

// Naive is the number of layers the entries would have if no build were
// shared: entries × components.
func (m *Matrix) Naive() int { return len(m.Entries) * len(m.Stack.Components) }
