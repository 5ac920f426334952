package build

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tailor-dev/tailor/internal/lazyre"
	"github.com/tailor-dev/tailor/stack"
)

// Component kinds.
const (
	KindDir     = "dir"     // a directory copied as is
	KindCommand = "command" // a build step, once per combination of its axes
	KindImage   = "image"   // the layers of an existing image, as the base
)

// ComponentSpec is one component of a stack, in layer order: exactly one
// of dir:, command: or image:.
//
// dir: and image: may name the axis values they vary on as ${AXIS}
// (conf/${phase}, registry.example/cuda:${cuda}). A command: runs with sh
// -c in a copy of context: (default: the build file's directory), once per
// combination of varies:, with each axis in its environment (README
// "Stacks"); the files it leaves in output: (default out, $TAILOR_OUT)
// become the layer, under prefix: (default /). uses: lists earlier
// components whose files the command needs: they are laid out under
// $TAILOR_ROOT as in the image, and must vary on no axis the command does
// not.
type ComponentSpec struct {
	Name    string            `json:"name"`
	Varies  []string          `json:"varies,omitempty"`
	Uses    []string          `json:"uses,omitempty"`
	Dir     string            `json:"dir,omitempty"`
	Image   string            `json:"image,omitempty"`
	Command string            `json:"command,omitempty"`
	Context string            `json:"context,omitempty"`
	Output  string            `json:"output,omitempty"`
	Prefix  string            `json:"prefix,omitempty"`
	Env     map[string]string `json:"env,omitempty"`

	root string // the build file's directory: dir: and context: stay inside it
}

// Kind is dir, command or image.
func (c ComponentSpec) Kind() string {
	switch {
	case c.Image != "":
		return KindImage
	case c.Dir != "":
		return KindDir
	}
	return KindCommand
}

// ExcludeRule removes the combinations it matches: axis (or arch) to a
// value or a list of values, * for any.
type ExcludeRule map[string]stringList

// stringList is a string or a list of strings.
type stringList []string

// UnmarshalJSON accepts a string or a list.
func (s *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("exclude: %s: want a value or a list of values", b)
	}
	*s = many
	return nil
}

var (
	componentName = lazyre.New(`^[a-z0-9][a-z0-9_.-]{0,63}$`)
	substitution  = lazyre.New(`\$\{([^}]*)\}`)
)

// stackDefaults checks a stack's components and fills their defaults.
func (c *Config) stackDefaults() error {
	if len(c.Targets) > 0 || c.Command != "" || c.Base != "" || c.Context != "" || c.Output != "" || c.Prefix != "" {
		return fmt.Errorf("%w: a stack (axes:, components:) takes no targets:, command:, base:, context:, output: or prefix: of its own; put the base image first in components: as {name: base, image: REF}", ErrConfig)
	}
	if c.Axes == nil || len(c.Components) == 0 {
		return fmt.Errorf("%w: a stack needs both axes: and components:", ErrConfig)
	}
	if c.Name == "" {
		c.Name = filepath.Base(c.dir)
	}
	for i := range c.Components {
		if err := c.componentDefaults(i); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) componentDefaults(i int) error {
	comp := &c.Components[i]
	if !componentName.MatchString(comp.Name) {
		return fmt.Errorf("%w: component %d: name %q: want a lower-case word (a-z, 0-9, ., _, -)", ErrConfig, i+1, comp.Name)
	}
	if slices.IndexFunc(c.Components[:i], func(o ComponentSpec) bool { return o.Name == comp.Name }) >= 0 {
		return fmt.Errorf("%w: component %s is listed twice", ErrConfig, comp.Name)
	}
	kinds := 0
	for _, s := range []string{comp.Dir, comp.Image, comp.Command} {
		if strings.TrimSpace(s) != "" {
			kinds++
		}
	}
	if kinds != 1 {
		return fmt.Errorf("%w: component %s: give exactly one of dir:, command: or image:", ErrConfig, comp.Name)
	}
	switch comp.Kind() {
	case KindImage:
		if i != 0 {
			return fmt.Errorf("%w: component %s: an image: component is the base of the others: list it first", ErrConfig, comp.Name)
		}
		if comp.Context != "" || comp.Output != "" || comp.Prefix != "" || len(comp.Uses) > 0 || len(comp.Env) > 0 {
			return fmt.Errorf("%w: component %s: an image: takes only name: and varies:", ErrConfig, comp.Name)
		}
		return c.checkSubstitutions(*comp, comp.Image)
	case KindDir:
		if comp.Context != "" || comp.Output != "" || len(comp.Uses) > 0 || len(comp.Env) > 0 {
			return fmt.Errorf("%w: component %s: a dir: is copied as is: it takes name:, varies: and prefix:", ErrConfig, comp.Name)
		}
		if !filepath.IsAbs(comp.Dir) {
			comp.Dir = filepath.Join(c.dir, comp.Dir)
		}
		comp.root = c.dir
		if err := insideDir(c.dir, comp.Dir); err != nil {
			return fmt.Errorf("component %s: dir: %w", comp.Name, err)
		}
		if comp.Prefix == "" {
			comp.Prefix = "/"
		}
		return c.checkSubstitutions(*comp, comp.Dir)
	}
	if comp.Context == "" {
		comp.Context = c.dir
	} else if !filepath.IsAbs(comp.Context) {
		comp.Context = filepath.Join(c.dir, comp.Context)
	}
	if err := insideDir(c.dir, comp.Context); err != nil {
		return fmt.Errorf("component %s: context: %w", comp.Name, err)
	}
	if comp.Output == "" {
		comp.Output = "out"
	}
	if comp.Prefix == "" {
		comp.Prefix = "/"
	}
	if err := insideOutput(comp.Output); err != nil {
		return fmt.Errorf("component %s: %w", comp.Name, err)
	}
	return c.checkUses(i)
}

// checkSubstitutions: every ${AXIS} of s is an axis comp varies on.
func (c *Config) checkSubstitutions(comp ComponentSpec, s string) error {
	for _, m := range substitution.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(comp.Varies, m[1]) {
			return fmt.Errorf("%w: component %s: ${%s} in %q is no axis it varies on (varies: %v)", ErrConfig, comp.Name, m[1], s, comp.Varies)
		}
	}
	return nil
}

// checkUses: every component comp uses comes earlier, is no image, and
// varies on no axis comp does not, so that each build of comp has one
// build of it to use.
func (c *Config) checkUses(i int) error {
	comp := c.Components[i]
	for _, u := range comp.Uses {
		j := slices.IndexFunc(c.Components[:i], func(o ComponentSpec) bool { return o.Name == u })
		if j < 0 {
			return fmt.Errorf("%w: component %s uses %q, which is no earlier component", ErrConfig, comp.Name, u)
		}
		if c.Components[j].Kind() == KindImage {
			return fmt.Errorf("%w: component %s uses %s, an image: it is the base of every build already", ErrConfig, comp.Name, u)
		}
		for _, v := range c.Components[j].Varies {
			if !slices.Contains(comp.Varies, v) {
				return fmt.Errorf("%w: component %s uses %s, which varies on %s: %s must vary on %s too", ErrConfig, comp.Name, u, v, comp.Name, v)
			}
		}
	}
	return nil
}

// substitute replaces ${AXIS} in s with the build's value names.
func substitute(s string, values map[string]stack.Value) string {
	return substitution.ReplaceAllStringFunc(s, func(m string) string {
		return values[m[2:len(m)-1]].Name
	})
}
