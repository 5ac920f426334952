package build

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tailor-dev/tailor/internal/english"
	"github.com/tailor-dev/tailor/stack"
)

// planJSON is the -o json form of a Plan.
type planJSON struct {
	Name       string          `json:"name"`
	Axes       []axisJSON      `json:"axes"`
	Components []componentJSON `json:"components"`
	Entries    []entryJSON     `json:"entries"`
	Builds     []buildJSON     `json:"builds"`
	// Layers is entries × components, the layers without sharing.
	Layers   int              `json:"layers"`
	Skipped  []Skipped        `json:"skipped,omitempty"`
	Excluded []stack.Excluded `json:"excluded,omitempty"`
	Pruning  *stack.Pruning   `json:"pruning,omitempty"`
}

type axisJSON struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

type componentJSON struct {
	Name   string   `json:"name"`
	Kind   string   `json:"kind"`
	Varies []string `json:"varies,omitempty"`
	Uses   []string `json:"uses,omitempty"`
}

type entryJSON struct {
	Name         string            `json:"name"`
	Platform     string            `json:"platform"`
	Requirements string            `json:"requirements"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	// Builds maps each component to the build the entry takes.
	Builds map[string]string `json:"builds"`
}

type buildJSON struct {
	Key       string            `json:"key"`
	Component string            `json:"component"`
	Kind      string            `json:"kind"`
	Values    map[string]string `json:"values,omitempty"`
	Arch      string            `json:"arch,omitempty"`
	Entries   []string          `json:"entries"`
}

// MarshalJSON is the plan as `tailor build --plan -o json` prints it.
func (p *Plan) MarshalJSON() ([]byte, error) {
	m := p.Matrix
	out := planJSON{Name: p.Name, Layers: m.Naive(), Skipped: p.Skipped, Excluded: m.Excluded, Pruning: p.Pruning}
	for _, a := range m.Stack.Axes {
		aj := axisJSON{Name: a.Name}
		for _, v := range a.Values {
			aj.Values = append(aj.Values, v.Name)
		}
		out.Axes = append(out.Axes, aj)
	}
	for _, c := range p.Components {
		out.Components = append(out.Components, componentJSON{Name: c.Name, Kind: c.Kind(), Varies: c.Varies, Uses: c.Uses})
	}
	for _, e := range m.Entries {
		ej := entryJSON{Name: e.Name, Platform: platformString(e), Requirements: e.Requirements.String(), Annotations: e.Annotations, Builds: map[string]string{}}
		for i, c := range p.Components {
			ej.Builds[c.Name] = e.Builds[i]
		}
		out.Entries = append(out.Entries, ej)
	}
	for _, b := range m.Builds {
		bj := buildJSON{Key: b.Key, Component: b.Component, Kind: p.Component(b.Component).Kind(), Arch: b.Arch, Entries: b.Entries}
		for k, v := range b.Values {
			if bj.Values == nil {
				bj.Values = map[string]string{}
			}
			bj.Values[k] = v.Name
		}
		out.Builds = append(out.Builds, bj)
	}
	return json.Marshal(out)
}

func platformString(e stack.Entry) string {
	return e.Platform.OS + "/" + e.Platform.Architecture + variantSuffix(e.Platform.Variant)
}

// WriteText prints the plan for people: a summary line, one row per
// entry with the build of each component it takes, one row per build
// with its kind and how many entries share it, then what was skipped,
// excluded and pruned.
func (p *Plan) WriteText(w io.Writer) error {
	m := p.Matrix
	fmt.Fprintf(w, "%s: %s × %s: %s, %s without sharing\n\n", p.Name, english.Count(len(m.Entries), "entry", "entries"),
		english.Count(len(p.Components), "component", "components"), english.Count(len(m.Builds), "build", "builds"), english.Count(m.Naive(), "layer", "layers"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := []string{"ENTRY", "PLATFORM", "REQUIRES"}
	for _, c := range p.Components {
		head = append(head, strings.ToUpper(c.Name))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, e := range m.Entries {
		row := append([]string{e.Name, platformString(e), e.Requirements.String()}, e.Builds...)
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BUILD\tKIND\tENTRIES")
	for _, b := range m.Builds {
		fmt.Fprintf(tw, "%s\t%s\t%d\n", b.Key, p.Component(b.Component).Kind(), len(b.Entries))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	p.writeLeftOut(w)
	return nil
}

// writeLeftOut lists the skipped values, excluded combinations, and the
// fleet's choices and pruned entries.
func (p *Plan) writeLeftOut(w io.Writer) {
	if len(p.Skipped)+len(p.Matrix.Excluded) > 0 || p.Pruning != nil {
		fmt.Fprintln(w)
	}
	for _, s := range p.Skipped {
		fmt.Fprintf(w, "skipped   %s=%s (optional): %s\n", s.Axis, s.Value, s.Reason)
	}
	for _, x := range p.Matrix.Excluded {
		fmt.Fprintf(w, "excluded  %s (rule %s)\n", x.Entry, x.Rule)
	}
	if p.Pruning == nil {
		return
	}
	for _, a := range p.Pruning.Given {
		entry := a.Entry
		if entry == "" {
			entry = "nothing fits"
		}
		fmt.Fprintf(w, "host      %s -> %s\n", a.Host, entry)
	}
	for _, e := range p.Pruning.Pruned {
		fmt.Fprintf(w, "pruned    %s: no host of the fleet would be given it\n", e)
	}
}

// WriteText prints the report for people: entries, layers, and bytes
// stored beside the naive sum.
func (r Report) WriteText(w io.Writer) error {
	ratio := 1.0
	if r.StoredBytes > 0 {
		ratio = float64(r.NaiveBytes) / float64(r.StoredBytes)
	}
	_, err := fmt.Fprintf(w, "%s, %s in all, %d distinct; %s stored, %s as separate images (%.1fx)\n",
		english.Count(len(r.Entries), "entry", "entries"), english.Count(r.Layers, "layer", "layers"), r.UniqueLayers, bytesString(r.StoredBytes), bytesString(r.NaiveBytes), ratio)
	return err
}

func bytesString(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
