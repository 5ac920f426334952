package build

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tailor-dev/tailor/internal/lazyre"
	"github.com/tailor-dev/tailor/requirement"
	"github.com/tailor-dev/tailor/stack"
)

// Axes are the axes of a stack. In the file, a map from axis name to its
// values: cpu (targets, as in targets:), cuda, rocm, and label axes of the
// publisher's choosing. The matrix lists them in that order: cpu, cuda,
// rocm, then the label axes by name.
type Axes struct {
	CPU    []TargetSpec `json:"cpu,omitempty"`
	CUDA   []GPUValue   `json:"cuda,omitempty"`
	ROCm   []GPUValue   `json:"rocm,omitempty"`
	Labels []LabelAxis  `json:"labels,omitempty"`
}

// GPUValue is a value of the cuda or rocm axis: "none" (no GPU code, no
// requirement), a list of architectures (sm_80+sm_90, gfx90a+gfx942), or a
// map {name:, arch:, version:, optional:}. version is the CUDA toolkit
// (dev.tailor.cuda.version); name defaults to the arch list. An optional
// value is skipped when its toolchain (nvcc, hipcc) is missing.
type GPUValue struct {
	Name     string `json:"name,omitempty"`
	Arch     string `json:"arch,omitempty"`
	Version  string `json:"version,omitempty"`
	Optional bool   `json:"optional,omitempty"`
}

// UnmarshalJSON accepts a string or a map.
func (g *GPUValue) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*g = GPUValue{Name: s}
		if s != "none" {
			g.Arch = s
		}
		return nil
	}
	type plain GPUValue
	var p plain
	if err := strictJSON(b, &p); err != nil {
		return fmt.Errorf("GPU value %s: %w (want none, sm_80+sm_90, or {name:, arch:, version:, optional:})", b, err)
	}
	*g = GPUValue(p)
	if g.Name == "" {
		g.Name = g.Arch
	}
	if g.Name == "" {
		g.Name = "none"
	}
	return nil
}

// archs splits the arch list (+, comma or space separated).
func (g GPUValue) archs() []string {
	return strings.FieldsFunc(g.Arch, func(r rune) bool { return r == '+' || r == ',' || r == ' ' })
}

// LabelAxis is an axis of the publisher's choosing, mapped to
// dev.tailor.requires.
type LabelAxis struct {
	Name   string       `json:"name"`
	Values []LabelValue `json:"values"`
}

// LabelValue is a value of a label axis: a string (ucx: the entry requires
// AXIS=ucx), or a map {value:, requires:} where requires is none (no
// requirement: tcp, which a host without the label, and a stock client,
// gets) or a list of labels k=v,k2=v2.
type LabelValue struct {
	Value    string `json:"value"`
	Requires string `json:"requires,omitempty"`
}

// UnmarshalJSON accepts a string or a map.
func (l *LabelValue) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = LabelValue{Value: s}
		return nil
	}
	type plain LabelValue
	var p plain
	if err := strictJSON(b, &p); err != nil {
		return fmt.Errorf("label value %s: %w (want a word, or {value:, requires: none|k=v,...})", b, err)
	}
	*l = LabelValue(p)
	return nil
}

// axisName is a label axis name: it becomes TAILOR_<NAME> in builds.
var axisName = lazyre.New(`^[a-z][a-z0-9_]{0,31}$`)

// reservedAxes would collide with the variables every build gets.
var reservedAxes = []string{"target", "out", "root", "component", "arch", "gpu"}

// UnmarshalJSON reads the map of axes.
func (a *Axes) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("axes: %w (want a map from axis name to values)", err)
	}
	*a = Axes{}
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		var err error
		switch k {
		case stack.AxisCPU:
			err = json.Unmarshal(raw[k], &a.CPU)
		case stack.AxisCUDA:
			err = json.Unmarshal(raw[k], &a.CUDA)
		case stack.AxisROCm:
			err = json.Unmarshal(raw[k], &a.ROCm)
		default:
			if !axisName.MatchString(k) || slices.Contains(reservedAxes, k) {
				return fmt.Errorf("axis %q: want a lower-case word (a-z, 0-9, _) other than %s", k, strings.Join(reservedAxes, ", "))
			}
			l := LabelAxis{Name: k}
			err = json.Unmarshal(raw[k], &l.Values)
			a.Labels = append(a.Labels, l)
		}
		if err != nil {
			return fmt.Errorf("axis %s: %w", k, err)
		}
	}
	return nil
}

// labelRequirements are what value v of label axis axis requires.
func labelRequirements(axis string, v LabelValue) (requirement.Requirements, error) {
	switch v.Requires {
	case "":
		return requirement.Requirements{Labels: map[string]string{axis: v.Value}}, nil
	case "none":
		return requirement.Requirements{}, nil
	}
	labels := map[string]string{}
	for _, kv := range strings.Split(v.Requires, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || k == "" || val == "" {
			return requirement.Requirements{}, fmt.Errorf("%w: axis %s value %s: requires %q: want none or k=v,k2=v2", ErrConfig, axis, v.Value, v.Requires)
		}
		labels[k] = val
	}
	return requirement.Requirements{Labels: labels}, nil
}

// gpuRequirements are what value g of the cuda or rocm axis requires.
func gpuRequirements(axis string, g GPUValue) (requirement.Requirements, error) {
	var r requirement.Requirements
	if axis == stack.AxisROCm {
		if g.Version != "" {
			return r, fmt.Errorf("%w: rocm value %s: version: is for CUDA only", ErrConfig, g.Name)
		}
		r.ROCm = g.archs()
		return r, nil
	}
	for _, s := range g.archs() {
		a, err := requirement.ParseCUDAArch(s)
		if err != nil {
			return r, fmt.Errorf("%w: cuda value %s: %w", ErrConfig, g.Name, err)
		}
		r.CUDA = append(r.CUDA, a)
	}
	r.CUDAVersion = g.Version
	if g.Version != "" && len(r.CUDA) == 0 {
		return r, fmt.Errorf("%w: cuda value %s: a version without arch: (sm_80, ...)", ErrConfig, g.Name)
	}
	return r, nil
}
