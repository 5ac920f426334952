package stack

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tailor-dev/tailor/requirement"
)

// ErrStack is returned (wrapped) for a stack that cannot be expanded: an
// unknown axis, a duplicate value, conflicting requirements, entries no
// host could tell apart.
var ErrStack = errors.New("invalid stack")

// Axis names with a meaning of their own; every other axis is a label axis.
const (
	AxisCPU  = "cpu"
	AxisCUDA = "cuda"
	AxisROCm = "rocm"
	// KeyArch in an exclude rule matches an entry's OCI architecture.
	KeyArch = "arch"
	// Any in an exclude rule matches every value of its axis.
	Any = "*"
)

// Value is one value of an axis.
type Value struct {
	// Name is the value as the stack file writes it (x86_64_v3, ucx,
	// sm_80+sm_90); unique within its axis.
	Name string `json:"name"`
	// Requirements are what an entry with this value needs from a host
	// (the zero value: nothing, such as fabric tcp).
	Requirements requirement.Requirements `json:"requirements"`
	// Arch is the OCI architecture the value implies (cpu values only).
	Arch string `json:"arch,omitempty"`
}

// Axis is a dimension of the matrix.
type Axis struct {
	Name   string  `json:"name"`
	Values []Value `json:"values"`
}

// Component is one layer source of every entry, in layer order.
type Component struct {
	Name string `json:"name"`
	// Varies are the axes the component is built along.
	Varies []string `json:"varies,omitempty"`
	// PerArch builds the component once per architecture even where it
	// varies on no cpu value (the layers of a base image).
	PerArch bool `json:"per_arch,omitempty"`
}

// Rule excludes the combinations where every key matches: an axis name
// (or KeyArch) to the values it matches (Any: all).
type Rule map[string][]string

// String is the rule as k=v|w,k2=v2, keys sorted.
func (r Rule) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(r)) {
		parts = append(parts, k+"="+strings.Join(r[k], "|"))
	}
	return strings.Join(parts, ",")
}

// Stack is the input of Expand.
type Stack struct {
	Axes       []Axis      `json:"axes"`
	Components []Component `json:"components"`
	Exclude    []Rule      `json:"exclude,omitempty"`
}

// axis returns the index of the axis called name, or -1.
func (s *Stack) axis(name string) int {
	return slices.IndexFunc(s.Axes, func(a Axis) bool { return a.Name == name })
}

// validate checks names: axes and their values unique and not empty,
// components unique and varying on known axes, rules on known axes and
// values.
func (s *Stack) validate() error {
	if len(s.Axes) == 0 {
		return fmt.Errorf("%w: no axes", ErrStack)
	}
	if len(s.Components) == 0 {
		return fmt.Errorf("%w: no components", ErrStack)
	}
	for i, a := range s.Axes {
		if err := validateAxis(a); err != nil {
			return err
		}
		if s.axis(a.Name) != i {
			return fmt.Errorf("%w: axis %q is listed twice", ErrStack, a.Name)
		}
	}
	seen := map[string]bool{}
	for _, c := range s.Components {
		if c.Name == "" || seen[c.Name] {
			return fmt.Errorf("%w: component name %q is empty or listed twice", ErrStack, c.Name)
		}
		seen[c.Name] = true
		for _, v := range c.Varies {
			if s.axis(v) < 0 {
				return fmt.Errorf("%w: component %s varies on %q, which is no axis (axes: %s)", ErrStack, c.Name, v, s.axisNames())
			}
		}
	}
	for _, r := range s.Exclude {
		if err := s.validateRule(r); err != nil {
			return err
		}
	}
	return nil
}

func validateAxis(a Axis) error {
	if a.Name == "" || a.Name == KeyArch {
		return fmt.Errorf("%w: axis name %q is empty or reserved", ErrStack, a.Name)
	}
	if len(a.Values) == 0 {
		return fmt.Errorf("%w: axis %s has no values", ErrStack, a.Name)
	}
	names := map[string]bool{}
	for _, v := range a.Values {
		if v.Name == "" || v.Name == Any || names[v.Name] {
			return fmt.Errorf("%w: axis %s: value %q is empty, reserved or listed twice", ErrStack, a.Name, v.Name)
		}
		names[v.Name] = true
		if err := v.Requirements.Validate(); err != nil {
			return fmt.Errorf("%w: axis %s value %s: %w", ErrStack, a.Name, v.Name, err)
		}
	}
	return nil
}

func (s *Stack) validateRule(r Rule) error {
	if len(r) == 0 {
		return fmt.Errorf("%w: an empty exclude rule would exclude everything", ErrStack)
	}
	for k, vals := range r {
		if k == KeyArch {
			continue
		}
		i := s.axis(k)
		if i < 0 {
			return fmt.Errorf("%w: exclude rule %s: %q is no axis (axes: %s, or arch)", ErrStack, r, k, s.axisNames())
		}
		for _, v := range vals {
			if v != Any && !slices.ContainsFunc(s.Axes[i].Values, func(x Value) bool { return x.Name == v }) {
				return fmt.Errorf("%w: exclude rule %s: %s has no value %q", ErrStack, r, k, v)
			}
		}
	}
	return nil
}

func (s *Stack) axisNames() string {
	names := make([]string, len(s.Axes))
	for i, a := range s.Axes {
		names[i] = a.Name
	}
	return strings.Join(names, ", ")
}

// matches reports whether rule r excludes the combination of values vs
// (one per axis of s) on architecture arch.
func (s *Stack) matches(r Rule, vs []Value, arch string) bool {
	for k, vals := range r {
		got := arch
		if k != KeyArch {
			got = vs[s.axis(k)].Name
		}
		if !slices.Contains(vals, Any) && !slices.Contains(vals, got) {
			return false
		}
	}
	return true
}

// Annotations tailor build puts on what it builds, which Diff reads.
const (
	// AnnotationComponent, on a layer's descriptor in an image manifest,
	// names the component the layer is of.
	AnnotationComponent = "dev.tailor.stack.component"
	// AnnotationBuild, beside it, names the build (num[x86_64_v3]).
	AnnotationBuild = "dev.tailor.stack.build"
	// AnnotationBase, on an image manifest, names the image component
	// whose layers come first (they carry no annotation of their own).
	AnnotationBase = "dev.tailor.stack.base"
	// AnnotationEntry, on an image manifest, names the entry
	// (x86_64_v3+ucx).
	AnnotationEntry = "dev.tailor.stack.entry"
)
