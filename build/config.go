package build

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tailor-dev/tailor/internal/yamlstrict"
)

// ErrConfig is returned (wrapped) for a tailor.yaml that cannot be used.
var ErrConfig = errors.New("invalid build file")

// Config is a tailor.yaml, in one of two forms. A matrix of targets, one
// command:
//
//	name: forces
//	image: registry.example/forces:1.0   # where to push (or --dest)
//	base: scratch                        # or an image reference
//	targets: [x86_64, x86_64_v3, host, {cpu: x86_64_v3, cuda: sm_80}]
//	command: $CC $CFLAGS -O3 -o $TAILOR_OUT/forces forces.c -lm
//	output: out                          # directory packed (default out)
//	entrypoint: [/forces]
//
// Or a stack (README "Stacks"): axes, components in layer order, each
// varying along some axes, and exclude rules:
//
//	axes:
//	  cpu: [x86_64, x86_64_v3, x86_64_v4]
//	  fabric: [{value: tcp, requires: none}, ucx, ofi]
//	components:
//	  - {name: base, dir: base}
//	  - {name: num, varies: [cpu], context: num, command: make install}
//	  - {name: app, varies: [cpu, fabric], uses: [num], context: app, command: make}
//	exclude:
//	  - {cpu: x86_64, fabric: [ucx, ofi]}
//
// A targets: file is the stack with one axis (cpu: the targets) and one
// component (the command, on the base image).
type Config struct {
	// Name names the software; it prefixes bake targets.
	Name string `json:"name,omitempty"`
	// Image is the reference the index is pushed to by default.
	Image string `json:"image,omitempty"`
	// Base is the base image reference, or "scratch" (the default).
	Base string `json:"base,omitempty"`
	// Targets are the builds of the matrix.
	Targets []TargetSpec `json:"targets,omitempty"`
	// Command is run with sh -c in a copy of Context, once per target.
	Command string `json:"command,omitempty"`
	// Context is the directory copied for each build (default: the
	// directory of the build file).
	Context string `json:"context,omitempty"`
	// Output is the directory, relative to the build's copy of Context,
	// that is packed as the image's layer (default "out"). TAILOR_OUT
	// points to it.
	Output string `json:"output,omitempty"`
	// Prefix is where the output's files go in the image (default "/").
	Prefix string `json:"prefix,omitempty"`
	// Entrypoint and Cmd set the image config.
	Entrypoint []string `json:"entrypoint,omitempty"`
	Cmd        []string `json:"cmd,omitempty"`
	// Builder is the image --emit-bake's Dockerfile compiles in
	// (default DefaultBuilder).
	Builder string `json:"builder,omitempty"`
	// Env are extra variables for every build command, KEY: VALUE.
	Env map[string]string `json:"env,omitempty"`

	// Axes, Components and Exclude make the file a stack.
	Axes       *Axes           `json:"axes,omitempty"`
	Components []ComponentSpec `json:"components,omitempty"`
	Exclude    []ExcludeRule   `json:"exclude,omitempty"`

	// dir is the directory of the build file, which relative paths of
	// components start from.
	dir string
}

// IsStack reports whether c is written as a stack (axes and components).
func (c *Config) IsStack() bool { return c.Axes != nil || len(c.Components) > 0 }

// TargetSpec is one entry of targets (or a value of a stack's cpu axis): a
// catalog target name, "host" (the target of the building machine), a
// short requirement string (cpu=x86_64_v3,cuda=sm_80), or a map {cpu:,
// cuda:, optional:}. An optional target the local compilers cannot build
// is skipped, not an error.
type TargetSpec struct {
	CPU      string `json:"cpu,omitempty"`
	CUDA     string `json:"cuda,omitempty"`
	Optional bool   `json:"optional,omitempty"`
}

// UnmarshalJSON accepts a string or a map.
func (t *TargetSpec) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		return t.parseString(s)
	}
	type plain TargetSpec
	var p plain
	if err := strictJSON(b, &p); err != nil {
		return fmt.Errorf("target %s: %w (want a name or {cpu: NAME, cuda: sm_XY, optional: true})", b, err)
	}
	*t = TargetSpec(p)
	return nil
}

func (t *TargetSpec) parseString(s string) error {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "=") {
		t.CPU = s
		return nil
	}
	for _, field := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(field, "=")
		switch k {
		case "cpu":
			t.CPU = v
		case "cuda":
			t.CUDA = v
		default:
			return fmt.Errorf("target %q: unknown key %q (want cpu=, cuda=)", s, k)
		}
	}
	return nil
}

// String is the spec in short form.
func (t TargetSpec) String() string {
	switch {
	case t.CUDA == "":
		return t.CPU
	case t.CPU == "":
		return "cuda=" + t.CUDA
	}
	return "cpu=" + t.CPU + ",cuda=" + t.CUDA
}

// strictJSON decodes b into v, refusing unknown fields.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// Load reads the build file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	c, err := Parse(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse reads a build file whose relative paths are relative to dir.
// Unknown fields are errors, with the line they are on.
func Parse(data []byte, dir string) (*Config, error) {
	var c Config
	if err := yamlstrict.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := c.setDefaults(dir); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) setDefaults(dir string) error {
	c.dir = dir
	if c.IsStack() {
		return c.stackDefaults()
	}
	if strings.TrimSpace(c.Command) == "" {
		return fmt.Errorf("%w: no command: to build with (or axes: and components: for a stack)", ErrConfig)
	}
	if len(c.Targets) == 0 {
		return fmt.Errorf("%w: no targets: to build for", ErrConfig)
	}
	if c.Base == "" {
		c.Base = "scratch"
	}
	if c.Output == "" {
		c.Output = "out"
	}
	if err := insideOutput(c.Output); err != nil {
		return err
	}
	if c.Prefix == "" {
		c.Prefix = "/"
	}
	if c.Context == "" {
		c.Context = dir
	} else if !filepath.IsAbs(c.Context) {
		c.Context = filepath.Join(dir, c.Context)
	}
	if err := insideDir(dir, c.Context); err != nil {
		return fmt.Errorf("context: %w", err)
	}
	if c.Name == "" {
		c.Name = filepath.Base(c.Context)
	}
	return nil
}

// insideOutput checks that output stays inside the build's directory.
func insideOutput(output string) error {
	if filepath.IsAbs(output) || strings.HasPrefix(filepath.Clean(output), "..") {
		return fmt.Errorf("%w: output %q must be a directory inside the build's context", ErrConfig, output)
	}
	return nil
}
