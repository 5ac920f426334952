package build

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/internal/lazyre"
	"github.com/tailor-dev/tailor/requirement"
	"github.com/tailor-dev/tailor/stack"
)

// Plan is a build file resolved on this machine: the matrix (after the
// exclude rules, the optional values whose toolchain is missing, and the
// fleet's pruning) and what each build runs with.
type Plan struct {
	Name string
	// Matrix holds the entries and the builds of every component.
	Matrix *stack.Matrix
	// Components are the components, in layer order (for a targets:
	// file: the base image, when there is one, and the command).
	Components []ComponentSpec
	// Skipped are the optional values left out, with why.
	Skipped []Skipped
	// Pruning is what WithFleet decided (nil without a fleet).
	Pruning *stack.Pruning

	// values holds, per axis and value name, what builds need of it.
	values map[string]map[string]*valueInfo
	// host is the target "host" resolved to.
	host string
	// cfg and o are what NewPlan was given, for Run.
	cfg *Config
	o   *options
}

// Skipped is an optional axis value that cannot be built here.
type Skipped struct {
	Axis   string `json:"axis"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

// valueInfo is what a build that varies on a value gets.
type valueInfo struct {
	optional bool
	// target and compiler are a cpu value's.
	target   *catalog.Target
	compiler *Compiler
	// gpu is a cuda or rocm value's (nil for the other axes).
	gpu *GPUValue
	// env is what a build varying on the value's axis gets.
	env []string
	// cudaVersion is the CUDA release nvcc reports, for a cuda value that
	// names no version: it is published as dev.tailor.cuda.version.
	cudaVersion string
}

// Component returns the component called name.
func (p *Plan) Component(name string) ComponentSpec {
	i := slices.IndexFunc(p.Components, func(c ComponentSpec) bool { return c.Name == name })
	return p.Components[i]
}

// Compiler is the C compiler an entry's cpu value is built with (nil when
// no component compiles for the CPU).
func (p *Plan) Compiler(e stack.Entry) *Compiler {
	return p.values[stack.AxisCPU][e.Values[0].Name].compiler
}

// NewPlan resolves c into a Plan: catalog lookups, "host", the
// toolchains of the axes that command components vary on, the matrix and
// its pruning. A value whose toolchain is missing is an error unless it is
// optional; then it is skipped, and listed.
func NewPlan(ctx context.Context, c *Config, opts ...Option) (*Plan, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	return o.plan(ctx, c)
}

func (o *options) plan(ctx context.Context, c *Config) (*Plan, error) {
	p := &Plan{Name: c.Name, cfg: c, o: o, values: map[string]map[string]*valueInfo{}, Components: c.components()}
	axes, err := o.axes(ctx, c, p)
	if err != nil {
		return nil, err
	}
	if err := o.checkToolchains(ctx, p, axes); err != nil {
		return nil, err
	}
	s := stack.Stack{Axes: axes, Exclude: c.rules(p)}
	for _, comp := range p.Components {
		s.Components = append(s.Components, stack.Component{Name: comp.Name, Varies: comp.Varies, PerArch: comp.Kind() == KindImage})
	}
	for i, a := range s.Axes {
		s.Axes[i].Values = slices.DeleteFunc(a.Values, func(v stack.Value) bool { return p.skipped(a.Name, v.Name) })
		if len(s.Axes[i].Values) == 0 {
			return nil, fmt.Errorf("%w: none of the %s values can be built here", ErrNoCompiler, a.Name)
		}
	}
	m, err := stack.Expand(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if o.hosts != nil {
		if m, p.Pruning, err = stack.Prune(m, o.hosts); err != nil {
			return nil, err
		}
	}
	p.Matrix = m
	return p, nil
}

func (p *Plan) skipped(axis, value string) bool {
	return slices.ContainsFunc(p.Skipped, func(s Skipped) bool { return s.Axis == axis && s.Value == value })
}

// components are c's components; a targets: file has the base image (when
// it is not scratch) and the command, varying on cpu.
func (c *Config) components() []ComponentSpec {
	if c.IsStack() {
		return c.Components
	}
	var out []ComponentSpec
	if c.Base != "scratch" && c.Base != "" {
		out = append(out, ComponentSpec{Name: "base", Image: c.Base})
	}
	return append(out, ComponentSpec{
		Name: legacyName(c.Name), Varies: []string{stack.AxisCPU}, Command: c.Command,
		Context: c.Context, Output: c.Output, Prefix: c.Prefix,
	})
}

var notNameChar = lazyre.New(`[^a-z0-9_.-]+`)

// legacyName is the component name of a targets: file's command: its
// name, as a component name.
func legacyName(name string) string {
	n := strings.Trim(notNameChar.ReplaceAllString(strings.ToLower(name), "-"), "-._")
	if n == "" || n == "base" {
		return "app"
	}
	return n
}

// axes resolves the axes of c: cpu (targets, host, catalog), cuda, rocm,
// the label axes. A stack without a cpu axis gets one: this machine's
// architecture, no requirement.
func (o *options) axes(ctx context.Context, c *Config, p *Plan) ([]stack.Axis, error) {
	targets := c.Targets
	if c.Axes != nil {
		targets = c.Axes.CPU
	}
	cpu := stack.Axis{Name: stack.AxisCPU}
	p.values[stack.AxisCPU] = map[string]*valueInfo{}
	if len(targets) == 0 {
		targets = []TargetSpec{{}}
	}
	for _, spec := range targets {
		if spec.CUDA != "" && c.IsStack() {
			return nil, fmt.Errorf("%w: cpu value %s: in a stack, CUDA is an axis of its own (axes: cuda:)", ErrConfig, spec)
		}
		v, info, err := o.cpuValue(ctx, spec)
		if err != nil {
			return nil, err
		}
		if p.values[stack.AxisCPU][v.Name] != nil {
			return nil, fmt.Errorf("%w: target %s is listed twice", ErrConfig, v.Name)
		}
		if spec.CPU == "host" {
			p.host = v.Name
		}
		cpu.Values = append(cpu.Values, v)
		p.values[stack.AxisCPU][v.Name] = info
	}
	axes := []stack.Axis{cpu}
	if c.Axes == nil {
		return axes, nil
	}
	for _, g := range []struct {
		name   string
		values []GPUValue
	}{{stack.AxisCUDA, c.Axes.CUDA}, {stack.AxisROCm, c.Axes.ROCm}} {
		if len(g.values) == 0 {
			continue
		}
		a := stack.Axis{Name: g.name}
		p.values[g.name] = map[string]*valueInfo{}
		for _, gv := range g.values {
			r, err := gpuRequirements(g.name, gv)
			if err != nil {
				return nil, err
			}
			a.Values = append(a.Values, stack.Value{Name: gv.Name, Requirements: r})
			p.values[g.name][gv.Name] = &valueInfo{optional: gv.Optional, gpu: &gv, env: gpuEnv(g.name, gv, r)}
		}
		axes = append(axes, a)
	}
	for _, l := range c.Axes.Labels {
		a := stack.Axis{Name: l.Name}
		p.values[l.Name] = map[string]*valueInfo{}
		for _, lv := range l.Values {
			r, err := labelRequirements(l.Name, lv)
			if err != nil {
				return nil, err
			}
			a.Values = append(a.Values, stack.Value{Name: lv.Value, Requirements: r})
			p.values[l.Name][lv.Value] = &valueInfo{env: []string{labelVar(l.Name) + "=" + lv.Value}}
		}
		axes = append(axes, a)
	}
	return axes, nil
}

// cpuValue resolves one target: its catalog entry ("host" detected, ""
// this machine's family root), requirements and name.
func (o *options) cpuValue(ctx context.Context, spec TargetSpec) (stack.Value, *valueInfo, error) {
	t, err := o.lookupTarget(ctx, spec.CPU)
	if err != nil {
		return stack.Value{}, nil, fmt.Errorf("%w: target %q: %w", ErrConfig, spec.String(), err)
	}
	r := requirement.Requirements{Target: t.Name(), Source: requirement.SourceShort}
	name := t.Name()
	if spec.CUDA != "" {
		for _, s := range strings.FieldsFunc(spec.CUDA, func(r rune) bool { return r == '+' || r == ',' || r == ' ' }) {
			a, err := requirement.ParseCUDAArch(s)
			if err != nil {
				return stack.Value{}, nil, fmt.Errorf("%w: target %q: %w", ErrConfig, spec.String(), err)
			}
			r.CUDA = append(r.CUDA, a)
		}
		name += "+" + strings.ReplaceAll(spec.CUDA, ",", "+")
	}
	return stack.Value{Name: name, Requirements: r, Arch: t.Architecture()}, &valueInfo{optional: spec.Optional, target: t}, nil
}

func (o *options) lookupTarget(ctx context.Context, name string) (*catalog.Target, error) {
	switch name {
	case "host":
		if o.hostTarget == nil {
			return nil, errors.New("target host needs host detection, which this build was not given")
		}
		n, err := o.hostTarget(ctx)
		if err != nil {
			return nil, fmt.Errorf("detecting the host target: %w", err)
		}
		return catalog.Lookup(n)
	case "":
		fam, _ := catalog.FamilyOf(runtime.GOARCH)
		return catalog.Lookup(fam)
	}
	return catalog.Lookup(name)
}

// rules are c's exclude rules, "host" replaced by the detected target.
func (c *Config) rules(p *Plan) []stack.Rule {
	var out []stack.Rule
	for _, r := range c.Exclude {
		rule := stack.Rule{}
		for k, vals := range r {
			for _, v := range vals {
				if k == stack.AxisCPU && v == "host" {
					v = p.host
				}
				rule[k] = append(rule[k], v)
			}
		}
		out = append(out, rule)
	}
	return out
}
